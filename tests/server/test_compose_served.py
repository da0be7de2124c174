"""Composed music through the service: "compose music for it" in the chat, the render job, the
finished file's music on the cuts; the operator's SoundFont setting checked when the service starts
(a client never names one)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest

from ab2n.errors import InvalidArgument
from ab2n.media.probe import probe
from ab2n.music.beats import analyze_track
from ab2n.server.app import create_app
from ab2n.server.settings import Settings
from mediagen import clip_with_cuts
from server.conftest import auth, sse_events, texts, token
from server.test_flow import _poll
from server.test_security import _session, _upload

CUTS = [2.2, 4.9, 7.3]


def test_compose_in_the_chat_then_render(make_server, tmp_path: Path) -> None:
    clip = clip_with_cuts(CUTS, duration_s=10, audio="tone")[0]
    srv = make_server()  # AB2N_SOUNDFONT unset: auto, the system's font where tinysoundfont is installed
    tok = token(srv.url)
    sid = _session(srv.url, tok)
    assert _upload(srv.url, tok, sid, clip, name="walk.mp4")["code"] == 0
    answer = texts(sse_events(srv.url, tok, sid, "compose music for it"))
    assert "Composed" in answer, answer
    state = httpx.get(f"{srv.url}/api/state/nemo_agent/me/{sid}/latest", headers=auth(tok)).json()["data"]
    job_id = f"render_{uuid.uuid4().hex[:8]}"
    body = {"id": job_id, "sessionId": sid, "draft": state["draft"], "output": {"format": "mp4", "quality": "high"}}
    r = httpx.post(srv.url + "/api/render/proxy/lambda", headers=auth(tok), json=body, timeout=60).json()
    assert r["code"] == 0, r
    job = _poll(srv.url, tok, job_id)
    assert job["status"] == "done", job
    out = tmp_path / "out.mp4"
    with httpx.stream("GET", job["output_url"], headers=auth(tok)) as resp:
        out.write_bytes(resp.read())
    assert abs(probe(out).duration_s - 10.0) < 0.1
    beats = np.asarray(analyze_track(out).beats_s)  # the finished file, heard blind
    assert np.mean([np.min(np.abs(beats - c)) <= 0.05 for c in CUTS]) >= 2 / 3


def test_a_wrong_soundfont_setting_stops_the_service_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sf2"
    with pytest.raises(InvalidArgument, match="not found"):
        create_app(Settings(data_dir=tmp_path / "data", soundfont=str(missing)))
    create_app(Settings(data_dir=tmp_path / "data2", soundfont="none"))  # the built-in synthesis
