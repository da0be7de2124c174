"""The trust boundary, tried as an attacker would against a real server: two clients A and B.

Each test here failed before the boundary was made explicit (ids as paths, client drafts naming
server files, global job ids, 500s on malformed bodies, UUID spellings, one shared thread pool).
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from pathlib import Path

import httpx
import pytest

from ab2n.media.probe import probe
from mediagen import clip_with_cuts, tone_wav
from server.conftest import auth, token


def _session(base: str, tok: str) -> str:
    r = httpx.post(base + "/api/tasks/me/with-session/nemo_agent", headers=auth(tok), json={})
    return str(r.json()["data"]["session_id"])


def _upload(base: str, tok: str, sid: str, path: Path, name: str | None = None) -> dict:
    with path.open("rb") as fh:
        r = httpx.post(
            f"{base}/api/upload-video/nemo_agent/me/{sid}",
            headers=auth(tok),
            files={"file": (name or path.name, fh, "application/octet-stream")},
            timeout=120,
        )
    return r.json()


def _render(base: str, tok: str, body: dict) -> httpx.Response:
    return httpx.post(base + "/api/render/proxy/lambda", headers=auth(tok), json=body, timeout=60)


def _wait(base: str, tok: str, job_id: str, timeout_s: float = 240) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = httpx.get(f"{base}/api/render/proxy/lambda/{job_id}", headers=auth(tok)).json()["data"]
        if job["status"] in ("done", "failed"):
            return dict(job)
        assert time.monotonic() < deadline, job
        time.sleep(0.3)


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def _envelope(r: httpx.Response) -> dict:
    assert r.status_code < 500, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"code", "message", "data"}, body
    assert "Traceback" not in r.text
    return dict(body)


TRAVERSAL_IDS = ["../../x", "/tmp/ab2n-owned", "..%2F..%2Fx", "..\\..\\x", "a/../../b", ".hidden", "x" * 81, ""]


def test_job_ids_are_not_paths_and_are_scoped_per_client(make_server, tmp_path: Path) -> None:
    srv = make_server()
    a, b = token(srv.url), token(srv.url)
    clip_a, _ = clip_with_cuts([1.5], duration_s=4, audio="tone")
    clip_b, _ = clip_with_cuts([2.0, 4.0], duration_s=6, audio="tone")
    sa, sb = _session(srv.url, a), _session(srv.url, b)
    assert _upload(srv.url, a, sa, clip_a)["code"] == 0
    assert _upload(srv.url, b, sb, clip_b)["code"] == 0

    for bad in TRAVERSAL_IDS:
        r = _render(srv.url, a, {"id": bad, "sessionId": sa})
        assert r.status_code == 400 and _envelope(r)["code"] == 400, (bad, r.text)
    for escaped in (Path("/tmp/ab2n-owned.mp4"), srv.data.parent / "x.mp4", srv.data / "x.mp4"):
        assert not escaped.exists(), escaped

    # The same id from two clients: two jobs, each rendering its own session.
    for tok, sid in ((a, sa), (b, sb)):
        r = _render(srv.url, tok, {"id": "render_1", "sessionId": sid})
        assert _envelope(r)["code"] == 0, r.text
    ja, jb = _wait(srv.url, a, "render_1"), _wait(srv.url, b, "render_1")
    assert ja["status"] == jb["status"] == "done", (ja, jb)
    assert ja["output_url"] != jb["output_url"]
    durations = []
    for tok, job in ((a, ja), (b, jb)):
        out = tmp_path / f"{tok[-6:]}.mp4"
        out.write_bytes(httpx.get(job["output_url"], headers=auth(tok), timeout=60).content)
        durations.append(probe(out).duration_s)
    assert durations[0] == pytest.approx(4.0, abs=0.1) and durations[1] == pytest.approx(6.0, abs=0.1), durations
    # B can neither see nor download A's job; the same id again is the same job (idempotent).
    assert httpx.get(ja["output_url"], headers=auth(b)).status_code == 404
    again = _render(srv.url, a, {"id": "render_1", "sessionId": sa}).json()["data"]
    assert again["output_url"] == ja["output_url"]
    bal = httpx.get(srv.url + "/api/credits/balance/simple", headers=auth(a)).json()["data"]
    assert bal["available"] == 90  # charged once


def test_client_drafts_name_ids_never_server_files(make_server, tmp_path: Path) -> None:
    srv = make_server()
    a, b = token(srv.url), token(srv.url)
    private = tone_wav(523.25, duration_s=8)  # a file on the server that no client uploaded
    clip, _ = clip_with_cuts([2.0], duration_s=5, audio="tone")
    sa, sb = _session(srv.url, a), _session(srv.url, b)
    media_a = _upload(srv.url, a, sa, clip)["data"]["media_id"]
    media_b = _upload(srv.url, b, sb, clip)["data"]["media_id"]

    # The seed flow: music on the timeline, then the state's draft comes back to render.
    from server.conftest import sse_events

    sse_events(srv.url, a, sa, "add calm music")
    state = httpx.get(f"{srv.url}/api/state/nemo_agent/me/{sa}/latest", headers=auth(a)).json()["data"]
    text = json.dumps(state)
    assert str(srv.data) not in text and str(srv.data.resolve()) not in text
    assert ".opus" not in text and "site-packages" not in text, "a server path leaked into the state"
    draft = state["draft"]
    bgm = next(t for t in draft["t"] if t["tt"] == 1)["sg"][0]
    assert all(seg["src"].startswith("bundled:") for seg in bgm["plan"]["segments"])

    def with_music_src(value: str, where: str) -> dict:
        d = json.loads(json.dumps(draft))
        seg = next(t for t in d["t"] if t["tt"] == 1)["sg"][0]
        if where == "src":
            seg["src"] = value
        else:
            seg["plan"]["segments"][0]["src"] = value
        return d

    attempts = [
        with_music_src(str(private), "src"),
        with_music_src(str(private), "plan"),
        with_music_src(str(tmp_path / "missing.wav"), "plan"),
        with_music_src(media_b, "plan"),  # B's media, named in A's draft
        with_music_src("bundled:no_such_track", "plan"),
    ]
    other_video = json.loads(json.dumps(draft))
    other_video["t"][0]["sg"][0]["mid"] = media_b
    attempts.append(other_video)
    messages = []
    for i, d in enumerate(attempts):
        r = _render(srv.url, a, {"id": f"evil_{i}", "sessionId": sa, "draft": d})
        body = _envelope(r)
        assert r.status_code == 400 and body["code"] == 400, (i, r.text)
        assert str(tmp_path) not in body["message"]
        messages.append(body["message"])
    # A path that exists and one that doesn't get the same answer: nothing to learn about the disk.
    assert messages[1] == messages[2]
    assert httpx.get(f"{srv.url}/api/render/proxy/lambda/evil_0", headers=auth(a)).status_code == 404

    r = _render(srv.url, a, {"id": "seed_flow", "sessionId": sa, "draft": draft})
    assert _envelope(r)["code"] == 0, r.text
    job = _wait(srv.url, a, "seed_flow")
    assert job["status"] == "done", job
    assert media_a in json.dumps(draft)


DEEP = "[" * 100_000 + "]" * 100_000

MALFORMED = [
    ("/api/tasks/me/with-session/nemo_agent", DEEP),
    ("/run_sse", DEEP),
    ("/api/render/proxy/lambda", DEEP),
    ("/api/render/proxy/lambda", '{"id": "x", "sessionId": "s", "draft": ' + "{" * 5000 + "}" * 5000 + "}"),
    ("/api/render/proxy/lambda", '{"id": "x", "sessionId": "SID", "output": "mp4"}'),
    ("/api/render/proxy/lambda", '{"id": "x", "sessionId": "SID", "output": ["mp4"]}'),
    ("/api/render/proxy/lambda", '{"id": "x", "sessionId": "SID", "draft": {"t": "x"}}'),
    ("/api/render/proxy/lambda", '{"id": "x", "sessionId": "SID", "draft": {"t": [null]}}'),
    ("/api/render/proxy/lambda", '{"id": "x", "sessionId": "SID", "draft": {"d": NaN}}'),
    ("/api/render/proxy/lambda", '{"id": ["x"], "sessionId": "SID"}'),
    ("/api/upload-video/nemo_agent/me/SID", DEEP),
    ("/api/upload-video/nemo_agent/me/SID", '{"url": "http://example.com:99999/a.mp4"}'),
    ("/api/upload-video/nemo_agent/me/SID", '{"url": "http://[::1/a.mp4"}'),
    ("/run_sse", '{"session_id": "SID", "new_message": {"parts": [{"text": 5}]}}'),
    ("/run_sse", '{"session_id": "SID", "new_message": null}'),
]


@pytest.mark.parametrize(
    ("path", "body"), MALFORMED, ids=[f"{p.split('/')[-1] or p}-{i}" for i, (p, _) in enumerate(MALFORMED)]
)
def test_malformed_bodies_get_a_4xx_envelope(make_server_once, path: str, body: str) -> None:
    srv, tok, sid = make_server_once
    r = httpx.post(
        srv.url + path.replace("SID", sid),
        headers={**auth(tok), "Content-Type": "application/json"},
        content=body.replace("SID", sid),
        timeout=30,
    )
    assert 400 <= r.status_code < 500 and _envelope(r)["code"] >= 400, r.text


@pytest.fixture(scope="module")
def make_server_once(tmp_path_factory: pytest.TempPathFactory):
    from server.conftest import Server

    data = tmp_path_factory.mktemp("once")
    srv = Server(data, {"AB2N_RATE_UPLOAD_PER_MIN": "1000", "AB2N_RATE_CHAT_PER_MIN": "1000"}).start()
    tok = token(srv.url)
    yield srv, tok, _session(srv.url, tok)
    srv.stop()


def test_hostile_uploads_get_a_4xx_envelope_without_paths(make_server_once, tmp_path: Path) -> None:
    srv, tok, sid = make_server_once
    url = f"{srv.url}/api/upload-video/nemo_agent/me/{sid}"
    gif = tmp_path / "tiny.gif"
    gif.write_bytes(b"GIF89a")
    clip, _ = clip_with_cuts([1.0], duration_s=3, audio="tone")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    named = _upload(srv.url, tok, sid, clip, name="../../" + "n" * 1000 + ".mp4")
    assert named["code"] == 0 and named["data"]["name"] == ("n" * 1000 + ".mp4")[:255], named
    for path, name in ((gif, "tiny.gif"), (cut, "cut.mp4"), (clip, "n" * 5000 + ".mp4")):
        with path.open("rb") as fh:
            r = httpx.post(url, headers=auth(tok), files={"file": (name, fh, "video/mp4")}, timeout=60)
        body = _envelope(r)
        if path is clip:  # a part header over the parser's limit: refused as malformed, not a 500
            assert r.status_code == 400 and "multipart" in body["message"], r.text
            continue
        assert r.status_code in (400, 415) and body["code"] in (400, 4001), r.text
        assert str(srv.data) not in body["message"] and "/uploads/" not in body["message"], body
    leftovers = [p for p in (srv.data / "uploads").iterdir() if p.name.startswith(".")]
    assert not leftovers, leftovers


def test_declared_content_length_over_the_limit_is_refused_unread(make_server) -> None:
    srv = make_server(AB2N_MAX_UPLOAD_BYTES=str(1024 * 1024))
    tok = token(srv.url)
    sid = _session(srv.url, tok)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(
            (
                f"POST /api/upload-video/nemo_agent/me/{sid} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {tok}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {500 * 1024 * 1024}\r\n\r\n--b\r\n"
            ).encode()
        )
        head = ""  # answered at once, though no body was sent
        while '"data"' not in head:
            chunk = s.recv(4096).decode(errors="replace")
            if not chunk:
                break
            head += chunk
    assert head.startswith("HTTP/1.1 413"), head[:200]
    assert '"code":4002' in head.replace(" ", "")


@pytest.mark.parametrize(
    "spelling",
    [str.upper, lambda u: "{" + u + "}", lambda u: "urn:uuid:" + u, lambda u: u.replace("-", "")],
)
def test_one_client_id_in_any_spelling_gets_one_token(make_server_once, spelling) -> None:
    srv, _, _ = make_server_once
    cid = str(uuid.uuid4())
    first = httpx.post(srv.url + "/api/auth/anonymous-token", headers={"X-Client-Id": cid})
    assert first.json()["code"] == 0
    again = httpx.post(srv.url + "/api/auth/anonymous-token", headers={"X-Client-Id": spelling(cid)})
    assert again.status_code == 429 and again.json()["code"] == 429, again.text


def test_new_tokens_per_address_and_rate_limits_survive_a_restart(make_server) -> None:
    srv = make_server(AB2N_TOKENS_PER_ADDRESS_PER_DAY="3", AB2N_RATE_UPLOAD_PER_MIN="2")
    codes = [
        httpx.post(srv.url + "/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())}).json()["code"]
        for _ in range(4)
    ]
    assert codes == [0, 0, 0, 429], codes
    r = httpx.post(srv.url + "/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())})
    tok_data = None
    assert r.status_code == 429
    # Rate limits are rows in the database: a restart doesn't reset them.
    from server.conftest import Server

    srv.stop()
    srv2 = Server(srv.data, {**srv.env, "AB2N_TOKENS_PER_ADDRESS_PER_DAY": "10"}).start()
    try:
        tok = token(srv2.url)
        sid = _session(srv2.url, tok)
        bad = {"url": "http://127.0.0.1:9/x.mp4"}  # refused by the SSRF guard, but counted
        up = f"{srv2.url}/api/upload-video/nemo_agent/me/{sid}"
        assert [httpx.post(up, headers=auth(tok), json=bad).json()["code"] for _ in range(2)] == [400, 400]
        srv2.stop()
        srv2.start()
        third = httpx.post(up, headers=auth(tok), json=bad)
        assert third.status_code == 429, third.text
        tok_data = httpx.post(srv2.url + "/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())})
    finally:
        srv2.stop()
    assert tok_data is not None and tok_data.json()["code"] == 0  # 5 of 10 used
