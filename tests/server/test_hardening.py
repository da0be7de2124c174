"""The service under load and crash: slow URLs, kill -9 mid-encode, expiry, random bodies, the OpenAPI contract."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediagen import clip_with_cuts
from server.conftest import Server, auth, sse_events, token
from server.test_security import _render, _session, _upload, _wait


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Promises 10 MB and sends one byte every 0.3 s: a URL that holds its fetch for a long time."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(10 * 1024 * 1024))
        self.end_headers()
        try:
            for _ in range(200):
                self.wfile.write(b"\0")
                self.wfile.flush()
                time.sleep(0.3)
        except OSError:
            pass

    def log_message(self, *_: object) -> None:
        pass


def test_slow_urls_of_some_clients_dont_delay_the_others(make_server) -> None:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    try:
        srv = make_server(AB2N_URL_ALLOW=f'["127.0.0.1:{port}"]', AB2N_URL_FETCH_TIMEOUT_S="8")
        slow = f"http://127.0.0.1:{port}/slow.mp4"
        holders = [token(srv.url) for _ in range(3)]
        sessions = [_session(srv.url, t) for t in holders]

        def hold(i: int) -> int:
            tok, sid = holders[i // 2], sessions[i // 2]
            up = f"{srv.url}/api/upload-video/nemo_agent/me/{sid}"
            return httpx.post(up, headers=auth(tok), json={"url": slow}, timeout=60).status_code

        pool = ThreadPoolExecutor(6)
        pending = [pool.submit(hold, i) for i in range(6)]  # six slow fetches, two per client
        time.sleep(1.5)
        # A client's third concurrent fetch is refused at once rather than queued behind its others.
        extra = httpx.post(
            f"{srv.url}/api/upload-video/nemo_agent/me/{sessions[0]}",
            headers=auth(holders[0]),
            json={"url": slow},
            timeout=60,
        )
        assert extra.status_code == 429, extra.text
        clip, _ = clip_with_cuts([1.0], duration_s=2, audio="tone")
        b = token(srv.url)
        answer = _upload(srv.url, b, _session(srv.url, b), clip)
        still_held = sum(not f.done() for f in pending)
        assert answer["code"] == 0, answer
        assert still_held == 6, "B was answered only after the slow fetches ended"
        pool.shutdown(wait=True)
        assert all(f.result() == 400 for f in pending)  # each ends as 'took too long', never a 500
    finally:
        httpd.shutdown()


def _descendants(pid: int) -> dict[int, str]:
    """Live descendants of ``pid``: {pid: command name}."""
    parent: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            continue
        parent[int(entry.name)], names[int(entry.name)] = int(fields[1]), name
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        for child, ppid in parent.items():
            if ppid == p and child not in found:
                found[child] = names[child]
                frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_kill_9_mid_encode_leaves_no_ffmpeg_and_no_leftovers(make_server) -> None:
    clip, _ = clip_with_cuts([3.0, 7.0, 12.0], duration_s=20, size=(1280, 720), audio="tone")
    srv = make_server(AB2N_WORKERS="1", AB2N_LEASE_S="3", AB2N_HEARTBEAT_S="0.5")
    tok = token(srv.url)
    sid = _session(srv.url, tok)
    assert _upload(srv.url, tok, sid, clip)["code"] == 0
    sse_events(srv.url, tok, sid, "add calm music and a title 'Lisbon'")  # a title: the video is encoded
    assert _render(srv.url, tok, {"id": "render_crash", "sessionId": sid}).json()["code"] == 0
    assert srv.proc is not None
    deadline = time.monotonic() + 120
    ffmpegs: dict[int, str] = {}
    while not ffmpegs:
        assert time.monotonic() < deadline, "no FFmpeg ever ran under the server"
        ffmpegs = {p: n for p, n in _descendants(srv.proc.pid).items() if "ffmpeg" in n}
        time.sleep(0.05)
    srv.kill()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in ffmpegs) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [p for p in ffmpegs if _alive(p)]
    for p in survivors:
        os.kill(p, 9)
    assert not survivors, f"FFmpeg outlived the server: {ffmpegs}"

    srv.start()
    job = _wait(srv.url, tok, "render_crash", timeout_s=300)
    assert job["status"] == "done", job
    time.sleep(0.5)
    leftovers = [
        p
        for p in srv.data.rglob("*")
        if "partial" in p.name or (p.parent == srv.data / "work") or (p.parent.name == "uploads" and p.name[0] == ".")
    ]
    assert not leftovers, leftovers


def test_outputs_past_their_days_are_deleted(make_server) -> None:
    srv = make_server(AB2N_OUTPUT_DAYS=str(2 / 86400), AB2N_SWEEP_EVERY_S="0.5")
    tok = token(srv.url)
    sid = _session(srv.url, tok)
    clip, _ = clip_with_cuts([1.0], duration_s=3, audio="tone")
    assert _upload(srv.url, tok, sid, clip)["code"] == 0
    assert _render(srv.url, tok, {"id": "short_lived", "sessionId": sid}).json()["code"] == 0
    job = _wait(srv.url, tok, "short_lived")
    assert job["status"] == "done", job
    outputs = lambda: [p for p in (srv.data / "outputs").rglob("*.mp4")]  # noqa: E731
    assert outputs()
    deadline = time.monotonic() + 15
    while outputs() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not outputs(), "an expired output is still on disk"
    r = httpx.get(job["output_url"], headers=auth(tok))
    assert r.status_code == 404 and "expired" in r.json()["message"]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("fuzz")
    srv = Server(
        data,
        {
            "AB2N_RATE_UPLOAD_PER_MIN": "100000",
            "AB2N_RATE_CHAT_PER_MIN": "100000",
            "AB2N_TOKENS_PER_ADDRESS_PER_DAY": "100000",
            "AB2N_WORKERS": "0",  # jobs stay queued: this is about the front door
        },
    ).start()
    tok = token(srv.url)
    yield srv, tok, _session(srv.url, tok)
    srv.stop()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
KEYS = ("id", "sessionId", "session_id", "draft", "output", "url", "new_message", "language", "task_name", "t", "m")
BODIES = JSON | st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6)
ENDPOINTS = [
    "/api/tasks/me/with-session/nemo_agent",
    "/run_sse",
    "/api/upload-video/nemo_agent/me/SID",
    "/api/render/proxy/lambda",
]


@pytest.mark.parametrize("path", ENDPOINTS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
def test_random_json_gets_an_envelope_below_500(fuzz_server, path: str, body: object) -> None:
    srv, tok, sid = fuzz_server
    if isinstance(body, dict) and "session_id" in body and path == "/run_sse":
        body["session_id"] = sid
    r = httpx.post(
        srv.url + path.replace("SID", sid),
        headers={**auth(tok), "Content-Type": "application/json"},
        content=json.dumps(body),
        timeout=30,
    )
    assert r.status_code < 500, r.text
    if r.headers.get("content-type", "").startswith("application/json"):
        assert set(r.json()) == {"code", "message", "data"}


def test_schemathesis_finds_no_5xx_and_the_document_matches(fuzz_server, tmp_path: Path) -> None:
    """The OpenAPI document lists the real answers; fuzzing it yields no 5xx.

    ``positive_data_acceptance`` is left out: a schema-valid URL can still be one the SSRF guard
    refuses, and a schema-valid draft one naming media this session doesn't have (both 400s).
    """
    exe = shutil.which("schemathesis") or shutil.which("st")
    if exe is None:
        pytest.fail("schemathesis is part of the test extra: pip install -e '.[test]'")
    srv, tok, sid = fuzz_server
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'headers = {{ Authorization = "Bearer {tok}" }}\n[parameters]\n"sid" = "{sid}"\n')
    run = subprocess.run(
        [
            exe,
            "--config-file",
            str(config),
            "run",
            f"{srv.url}/openapi.json",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "25",
            "--seed",
            "20261201",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # schemathesis keeps a cache folder in its working directory
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    doc = httpx.get(srv.url + "/openapi.json").json()
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert "422" not in op["responses"], path
