"""Durable jobs, credit races, SSRF, and upload limits against a real server process."""

from __future__ import annotations

import http.server
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ab2n.server.ssrf import BlockedAddress, is_public, resolve_checked
from mediagen import clip_with_cuts
from server.conftest import auth, token


def _session(base: str, tok: str) -> str:
    return httpx.post(base + "/api/tasks/me/with-session/nemo_agent", headers=auth(tok), json={}).json()["data"][
        "session_id"
    ]


def _upload(base: str, tok: str, sid: str, path: Path) -> None:
    with path.open("rb") as fh:
        r = httpx.post(
            f"{base}/api/upload-video/nemo_agent/me/{sid}",
            headers=auth(tok),
            files={"file": (path.name, fh, "video/mp4")},
            timeout=60,
        )
    assert r.json()["code"] == 0, r.text


def test_sigkill_mid_render_then_restart(make_server, tmp_path: Path) -> None:
    clip, _ = clip_with_cuts([2.0, 4.5], duration_s=6, audio="tone")
    env = {
        "AB2N_TEST_RENDER_DELAY_S": "4",
        "AB2N_WORKERS": "1",
        "AB2N_LEASE_S": "3",
        "AB2N_HEARTBEAT_S": "0.5",
    }
    srv = make_server(**env)
    tok = token(srv.url)
    sid = _session(srv.url, tok)
    _upload(srv.url, tok, sid, clip)
    r = httpx.post(
        srv.url + "/api/render/proxy/lambda", headers=auth(tok), json={"id": "render_kill", "sessionId": sid}
    )
    assert r.json()["code"] == 0
    deadline = time.monotonic() + 60
    while (
        httpx.get(srv.url + "/api/render/proxy/lambda/render_kill", headers=auth(tok)).json()["data"]["status"]
        != "running"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(1.0)
    srv.kill()
    # Same data folder, new process.
    srv.port = srv.port + 0
    srv.start()
    deadline = time.monotonic() + 180
    while True:
        job = httpx.get(srv.url + "/api/render/proxy/lambda/render_kill", headers=auth(tok)).json()["data"]
        if job["status"] in ("done", "failed"):
            break
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["status"] == "done", job
    outputs = [p for p in (srv.data / "outputs").rglob("*") if p.is_file()]
    assert len(outputs) == 1 and outputs[0].suffix == ".mp4", outputs  # once, and no partial file
    assert "render_kill" not in outputs[0].name  # the server names its files, not the client
    bal = httpx.get(srv.url + "/api/credits/balance/simple", headers=auth(tok)).json()["data"]
    assert bal == {"available": 90, "frozen": 0, "total": 90}  # captured exactly once


def test_forty_concurrent_exports_on_a_balance_for_ten(make_server) -> None:
    srv = make_server(AB2N_WORKERS="0", AB2N_COST_EXPORT="10")  # no rendering: just the money
    tok = token(srv.url)
    sid = _session(srv.url, tok)

    def export(i: int) -> int:
        r = httpx.post(
            srv.url + "/api/render/proxy/lambda",
            headers=auth(tok),
            json={"id": f"render_c{i}", "sessionId": sid},
            timeout=60,
        )
        return int(r.json()["code"])

    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(export, range(40)))
    assert codes.count(0) == 10 and codes.count(2001) == 30, codes
    bal = httpx.get(srv.url + "/api/credits/balance/simple", headers=auth(tok)).json()["data"]
    spent = 100 - bal["total"]
    assert bal["available"] == 0 and bal["frozen"] == 100 and bal["available"] + bal["frozen"] + spent == 100


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.mp4",
        "http://[::1]/x.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/x.mp4",
        "http://[::ffff:127.0.0.1]/x.mp4",
        "http://localhost/x.mp4",
        "http://100.64.0.1/x.mp4",
        "http://[2002:7f00:1::1]/x.mp4",
        "http://[64:ff9b::a00:1]/x.mp4",
        "http://[fd00:ec2::254]/",
        "file:///etc/passwd",
        "ftp://example.com/x",
    ],
)
def test_ssrf_guard_refuses_before_connecting(url: str) -> None:
    with pytest.raises(BlockedAddress):
        resolve_checked(url, allow=[])


def test_ssrf_redirect_to_loopback_refused(make_server) -> None:
    """An allowed test server redirects to another loopback port: the redirect is re-checked and refused."""

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.2:9/secret.mp4")
            self.end_headers()

        def log_message(self, *a: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    try:
        srv = make_server(AB2N_URL_ALLOW=f'["127.0.0.1:{port}"]')
        tok = token(srv.url)
        sid = _session(srv.url, tok)
        r = httpx.post(
            f"{srv.url}/api/upload-video/nemo_agent/me/{sid}",
            headers=auth(tok),
            json={"url": f"http://127.0.0.1:{port}/a.mp4"},
            timeout=30,
        )
        assert r.status_code == 400 and "non-public" in r.json()["message"]
        assert list((srv.data / "uploads").iterdir()) == []
    finally:
        httpd.shutdown()


def test_public_address_rules() -> None:
    import ipaddress

    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert not is_public(ipaddress.ip_address("::ffff:10.1.2.3"))
    assert not is_public(ipaddress.ip_address("2001:0:4136:e378:8000:63bf:3fff:fdd2"))  # Teredo
    assert not is_public(ipaddress.ip_address("224.0.0.1"))


MB = 1024 * 1024


def _big_mp4_stream(total: int, head: bytes, boundary: str):
    """A multipart body with a valid MP4 padded by a 'free' box to exactly ``total`` file bytes."""
    pad = total - len(head)
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        f"Content-Type: video/mp4\r\n\r\n"
    ).encode()
    yield head
    yield pad.to_bytes(4, "big") + b"free"
    left = pad - 8
    chunk = b"\0" * MB
    while left > 0:
        n = min(left, MB)
        yield chunk[:n]
        left -= n
    yield f"\r\n--{boundary}--\r\n".encode()


def test_500_mb_upload_streams_flat_and_501_is_refused(make_server) -> None:
    clip, _ = clip_with_cuts([1.0], duration_s=2, audio="tone")
    head = clip.read_bytes()
    srv = make_server()
    tok = token(srv.url)
    sid = _session(srv.url, tok)
    boundary = uuid.uuid4().hex
    headers = {**auth(tok), "Content-Type": f"multipart/form-data; boundary={boundary}"}
    rss0 = srv.rss_kb()
    peak = [rss0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], srv.rss_kb())

    threading.Thread(target=watch, daemon=True).start()
    r = httpx.post(
        f"{srv.url}/api/upload-video/nemo_agent/me/{sid}",
        headers=headers,
        content=_big_mp4_stream(500 * MB, head, boundary),
        timeout=300,
    )
    done.set()
    assert r.json()["code"] == 0, r.text
    assert (peak[0] - rss0) / 1024 < 50, f"RSS grew by {(peak[0] - rss0) / 1024:.1f} MB"
    n_files = len(list((srv.data / "uploads").iterdir()))
    r = httpx.post(
        f"{srv.url}/api/upload-video/nemo_agent/me/{sid}",
        headers=headers,
        content=_big_mp4_stream(501 * MB, head, boundary),
        timeout=300,
    )
    assert r.json()["code"] == 4002 and r.status_code == 413
    assert len(list((srv.data / "uploads").iterdir())) == n_files  # no partial file left


def test_socket_helper_not_used_for_other_hosts() -> None:
    # The guard resolves once and hands back the address to connect to.
    _, host, port, ip = resolve_checked("http://127.0.0.1:8123/x", allow=["127.0.0.1:8123"])
    assert (host, port, str(ip)) == ("127.0.0.1", 8123, "127.0.0.1")
    assert socket.AF_INET
