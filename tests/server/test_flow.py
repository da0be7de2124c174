"""The whole client flow of SPEC.md against a real server, and every error code."""

from __future__ import annotations

import http.server
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from ab2n.media.probe import probe
from mediagen import clip_with_cuts
from server.conftest import auth, sse_events, texts, token


def _poll(base: str, tok: str, job_id: str, timeout: float = 240) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.get(f"{base}/api/render/proxy/lambda/{job_id}", headers=auth(tok))
        job = r.json()["data"]
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError("job did not finish")


@pytest.fixture(scope="module")
def clip() -> Path:
    return clip_with_cuts([2.1, 3.9, 6.5, 8.0], duration_s=10, audio="tone")[0]


def test_whole_flow(make_server, clip: Path, tmp_path: Path) -> None:
    # A local HTTP server for the URL upload (allowed past the SSRF guard for this test only).
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(clip.parent), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    try:
        srv = make_server(AB2N_URL_ALLOW=f'["127.0.0.1:{port}"]')
        base = srv.url
        tok = token(base)
        r = httpx.post(
            base + "/api/tasks/me/with-session/nemo_agent",
            headers=auth(tok),
            json={"task_name": "project", "language": "en"},
        )
        assert r.json()["code"] == 0
        sid = r.json()["data"]["session_id"]
        with clip.open("rb") as fh:
            r = httpx.post(
                f"{base}/api/upload-video/nemo_agent/me/{sid}",
                headers=auth(tok),
                files={"file": ("trip.mp4", fh, "video/mp4")},
                timeout=60,
            )
        assert r.json()["code"] == 0, r.text
        assert r.json()["data"]["kind"] == "video"
        r = httpx.post(
            f"{base}/api/upload-video/nemo_agent/me/{sid}",
            headers=auth(tok),
            json={"url": f"http://127.0.0.1:{port}/{clip.name}"},
            timeout=60,
        )
        assert r.json()["code"] == 0, r.text

        ev = sse_events(base, tok, sid, "add background music that matches the mood of my video")
        assert any("function_call" in p for e in ev for p in e.get("content", {}).get("parts", []))
        assert ev[-1].get("_event") == "end"
        answer = texts(ev)
        assert "Timeline (2 tracks)" in answer and "BGM" in answer
        state = httpx.get(f"{base}/api/state/nemo_agent/me/{sid}/latest", headers=auth(tok)).json()["data"]
        assert any(t["tt"] == 1 for t in state["draft"]["t"])
        assert len(state["video_infos"]) == 2

        ev = sse_events(base, tok, sid, "make it 35%")
        assert "35%" in texts(ev)
        state = httpx.get(f"{base}/api/state/nemo_agent/me/{sid}/latest", headers=auth(tok)).json()["data"]
        bgm = next(t for t in state["draft"]["t"] if t["tt"] == 1)["sg"][0]
        assert bgm["vol"] == pytest.approx(0.35)
        assert "click the export" not in texts(ev).lower()

        before = httpx.get(base + "/api/credits/balance/simple", headers=auth(tok)).json()["data"]
        job_id = f"render_{uuid.uuid4().hex[:8]}"
        body = {
            "id": job_id,
            "sessionId": sid,
            "draft": state["draft"],
            "output": {"format": "mp4", "quality": "high"},
        }
        r1 = httpx.post(base + "/api/render/proxy/lambda", headers=auth(tok), json=body).json()
        r2 = httpx.post(base + "/api/render/proxy/lambda", headers=auth(tok), json=body).json()
        assert r1["code"] == 0, r1
        assert r1["data"]["id"] == r2["data"]["id"] == job_id  # idempotent
        job = _poll(base, tok, job_id)
        assert job["status"] == "done", job
        out = tmp_path / "out.mp4"
        with httpx.stream("GET", job["output_url"], headers=auth(tok)) as resp:
            assert resp.status_code == 200
            out.write_bytes(resp.read())
        info = probe(out)
        assert info.kind == "video" and info.has_audio and abs(info.duration_s - 10) < 0.1
        after = httpx.get(base + "/api/credits/balance/simple", headers=auth(tok)).json()["data"]
        assert before["available"] - after["available"] == 10 and after["frozen"] == 0

        ev = sse_events(base, tok, sid, "credits")
        assert f"{after['available']} available" in texts(ev)
        ev = sse_events(base, tok, sid, "undo")
        assert "Undone" in texts(ev)
        ev = sse_events(base, tok, sid, "what's the weather like")
        assert "I can" in texts(ev)
        ev = sse_events(base, tok, sid, "导出")
        assert "render_" in texts(ev)
    finally:
        httpd.shutdown()


def test_error_codes(make_server, tmp_path: Path) -> None:
    srv = make_server(AB2N_COST_EXPORT="60", AB2N_REQUIRE_ATTRIBUTION="false")
    base = srv.url
    # 400: missing X-Client-Id
    r = httpx.post(base + "/api/auth/anonymous-token")
    assert r.status_code == 400 and r.json()["code"] == 400
    # 429: a second token for the same client id
    cid = str(uuid.uuid4())
    assert httpx.post(base + "/api/auth/anonymous-token", headers={"X-Client-Id": cid}).json()["code"] == 0
    r = httpx.post(base + "/api/auth/anonymous-token", headers={"X-Client-Id": cid})
    assert r.status_code == 429 and r.json()["code"] == 429
    # 1001: bad token
    r = httpx.get(base + "/api/credits/balance/simple", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["code"] == 1001
    tok = token(base)
    # 1002: unknown session, and another client's session
    r = httpx.get(f"{base}/api/state/nemo_agent/me/ses_nope/latest", headers=auth(tok))
    assert r.json()["code"] == 1002
    other = token(base)
    sid_other = httpx.post(base + "/api/tasks/me/with-session/nemo_agent", headers=auth(other), json={}).json()["data"][
        "session_id"
    ]
    r = httpx.get(f"{base}/api/state/nemo_agent/me/{sid_other}/latest", headers=auth(tok))
    assert r.status_code == 404 and r.json()["code"] == 1002
    sid = httpx.post(base + "/api/tasks/me/with-session/nemo_agent", headers=auth(tok), json={}).json()["data"][
        "session_id"
    ]
    # 4001: a text file named .mp4
    r = httpx.post(
        f"{base}/api/upload-video/nemo_agent/me/{sid}",
        headers=auth(tok),
        files={"file": ("x.mp4", b"#EXTM3U\n/etc/passwd\n", "video/mp4")},
    )
    assert r.json()["code"] == 4001 and r.status_code == 415
    assert list((srv.data / "uploads").iterdir()) == []
    # 2001: not enough credits (cost 60, balance 100: the second export is short)
    for i, want in ((1, 0), (2, 2001)):
        r = httpx.post(
            base + "/api/render/proxy/lambda",
            headers=auth(tok),
            json={"id": f"render_{i}", "sessionId": sid, "output": {"format": "mp4"}},
        )
        assert r.json()["code"] == want, r.text
    assert "bind=" in r.json()["data"]["bind_url"]
    # A job of another client is not visible.
    r = httpx.get(base + "/api/render/proxy/lambda/render_1", headers=auth(other))
    assert r.status_code == 404


def test_export_needs_attribution_when_required(make_server) -> None:
    srv = make_server(AB2N_REQUIRE_ATTRIBUTION="true")
    tok = token(srv.url)
    sid = httpx.post(srv.url + "/api/tasks/me/with-session/nemo_agent", headers=auth(tok), json={}).json()["data"][
        "session_id"
    ]
    r = httpx.post(
        srv.url + "/api/render/proxy/lambda",
        headers={"Authorization": f"Bearer {tok}"},
        json={"id": "render_x", "sessionId": sid},
    )
    assert r.status_code == 402 and r.json()["code"] == 402
    r = httpx.post(srv.url + "/api/render/proxy/lambda", headers=auth(tok), json={"id": "render_x", "sessionId": sid})
    assert r.json()["code"] == 0


def test_openapi_snapshot(make_server) -> None:
    srv = make_server()
    spec = httpx.get(srv.url + "/openapi.json").json()
    got = sorted((p, m) for p, ops in spec["paths"].items() for m in ops)
    assert got == sorted(
        [
            ("/api/auth/anonymous-token", "post"),
            ("/api/credits/balance/simple", "get"),
            ("/api/media/nemo_agent/me/{sid}/{mid}/analysis", "get"),
            ("/api/render/download/{job_id}", "get"),
            ("/api/render/output/{job_id}", "get"),
            ("/api/render/proxy/lambda", "post"),
            ("/api/render/proxy/lambda/{job_id}", "get"),
            ("/api/state/nemo_agent/me/{sid}/latest", "get"),
            ("/api/tasks/me/with-session/nemo_agent", "post"),
            ("/api/upload-video/nemo_agent/me/{sid}", "post"),
            ("/run_sse", "post"),
        ]
    )
    assert httpx.get(srv.url + "/docs").status_code == 200
