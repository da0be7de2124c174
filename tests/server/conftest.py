"""A real uvicorn on 127.0.0.1 with a real SQLite file, started as a subprocess per test module."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running ``ab2n serve``."""

    def __init__(self, data: Path, env: dict[str, str]) -> None:
        self.data = data
        self.env = env
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = {**os.environ, **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ab2n.cli", "serve", "--port", str(self.port), "--data", str(self.data)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.data / "server.log", "ab"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/openapi.json", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not start: " + (self.data / "server.log").read_text()[-2000:])

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kb(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator:
    servers: list[Server] = []

    def factory(**env: str) -> Server:
        data = tmp_path / f"data{len(servers)}"
        data.mkdir(exist_ok=True)
        base = {
            "AB2N_SSE_HEARTBEAT_S": "0.2",
            "AB2N_TOKENS_PER_ADDRESS_PER_DAY": "1000",
            "AB2N_WORKERS": "2",
            "AB2N_COST_EXPORT": "10",
            "XDG_CACHE_HOME": str(tmp_path),
        }
        s = Server(data, {**base, **env}).start()
        servers.append(s)
        return s

    yield factory
    for s in servers:
        s.stop()


def token(base: str) -> str:
    r = httpx.post(base + "/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())})
    assert r.status_code == 200, r.text
    return str(r.json()["data"]["token"])


def auth(tok: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {tok}",
        "X-Skill-Source": "tests",
        "X-Skill-Version": "1",
        "X-Skill-Platform": "unknown",
    }


def sse_events(base: str, tok: str, sid: str, text: str, timeout: float = 300) -> list[dict]:
    """POST /run_sse and parse the stream event by event."""
    import json

    events: list[dict] = []
    with httpx.stream(
        "POST",
        base + "/run_sse",
        headers={**auth(tok), "Accept": "text/event-stream"},
        json={
            "app_name": "nemo_agent",
            "session_id": sid,
            "new_message": {"role": "user", "parts": [{"text": text}]},
        },
        timeout=timeout,
    ) as r:
        assert r.status_code == 200, r.read()
        kind = None
        for line in r.iter_lines():
            if line.startswith(":"):
                events.append({"heartbeat": True})
            elif line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                payload = json.loads(line[5:])
                if kind:
                    payload["_event"] = kind
                events.append(payload)
                kind = None
    return events


def texts(events: list[dict]) -> str:
    return "\n".join(p["text"] for e in events for p in e.get("content", {}).get("parts", []) if "text" in p)
