"""A real uvicorn on 127.0.0.1 with a real SQLite file, started as a subprocess per test module.

``AB2N_TEST_DATABASE_URL=postgresql+psycopg://user@host:port/postgres`` runs the same service tests
on PostgreSQL instead: every server a test starts gets a fresh database of its own on that server
(created from the URL's maintenance database, dropped when the test session ends). A restart of
the same server (``Server(srv.data, srv.env)``) keeps its database, as it keeps its data folder.
"""

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


#: Set to run the service tests on PostgreSQL (see the module docstring).
TEST_DATABASE_URL = os.environ.get("AB2N_TEST_DATABASE_URL", "")
#: This test session's databases share a prefix: test modules import this file again under
#: another name (``server.conftest``), so a list kept here would not see all of them.
_PREFIX = f"ab2n_t_{os.getpid()}_"


def on_postgresql() -> bool:
    """The service tests run on PostgreSQL (``AB2N_TEST_DATABASE_URL``)."""
    return TEST_DATABASE_URL.startswith("postgresql")


def _admin_dsn() -> str:
    """A psycopg connection string for the maintenance database of ``AB2N_TEST_DATABASE_URL``."""
    return TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://", 1)


def fresh_database() -> str:
    """A new, empty PostgreSQL database's SQLAlchemy URL (dropped at the end of the session)."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = _PREFIX + uuid.uuid4().hex[:10]
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


def drop_databases() -> None:
    """Drop every database ``fresh_database`` made in this session."""
    if not on_postgresql():
        return
    import psycopg

    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        names = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (_PREFIX,)).fetchall()
        for (name,) in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # a server left running too


@pytest.fixture(scope="session", autouse=True)
def _test_databases() -> Iterator[None]:
    yield
    drop_databases()


class Server:
    """A running ``ab2n serve``."""

    def __init__(self, data: Path, env: dict[str, str]) -> None:
        self.data = data
        if on_postgresql() and "AB2N_DATABASE_URL" not in env:
            env = {**env, "AB2N_DATABASE_URL": fresh_database()}
        self.env = env
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of this server's database (to read rows a test checks)."""
        return self.env.get("AB2N_DATABASE_URL") or f"sqlite:///{self.data / 'ab2n.db'}"

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
