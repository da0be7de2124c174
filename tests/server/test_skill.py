"""The skill file's calls, followed step by step against a real `ab2n serve`."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import httpx

from ab2n.media.probe import probe
from mediagen import clip_with_cuts
from server.conftest import sse_events, texts

SKILL = Path(__file__).resolve().parents[2] / "skills" / "music-ab2n" / "SKILL.md"


def _calls(text: str) -> list[tuple[str, str]]:
    """(method, path) of every call the skill shows, in order."""
    return re.findall(r"^\s+(POST|GET)\s+(\S+)", text, flags=re.M)


def test_the_front_matter_names_the_skill() -> None:
    text = SKILL.read_text()
    head = text.split("---")[1]
    fields = dict(line.split(":", 1) for line in head.strip().splitlines())
    assert fields["name"].strip() == "music-ab2n"
    assert fields["description"].strip() and re.match(r"\d+\.\d+\.\d+", fields["version"].strip())
    assert "http://127.0.0.1:8000" in text and "click" not in text.lower().replace("never tell the user to click", "")


def test_following_the_skill_gets_an_mp4(make_server, tmp_path: Path) -> None:
    text = SKILL.read_text()
    assert _calls(text) == [
        ("POST", "/api/auth/anonymous-token"),
        ("POST", "/api/tasks/me/with-session/nemo_agent"),
        ("POST", "/api/upload-video/nemo_agent/me/<session_id>"),
        ("POST", "/run_sse"),
        ("GET", "/api/state/nemo_agent/me/<session_id>/latest"),
        ("POST", "/api/render/proxy/lambda"),
        ("GET", "/api/render/proxy/lambda/<id>"),
        ("GET", "<data.output_url>"),
    ], "the skill's calls changed: update this walk-through with them"
    srv = make_server()
    base = srv.url
    said = re.search(r'"parts": \[\{"text": "([^"]+)"\}\]', text)
    assert said is not None
    # 1. token
    tok = httpx.post(base + "/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())}).json()["data"][
        "token"
    ]
    h = {"Authorization": f"Bearer {tok}"}
    # 2. session
    sid = httpx.post(
        base + "/api/tasks/me/with-session/nemo_agent", headers=h, json={"task_name": "project", "language": "en"}
    ).json()["data"]["session_id"]
    # 3. upload
    clip, _ = clip_with_cuts([2.0, 4.0], duration_s=6, audio="tone")
    with clip.open("rb") as fh:
        up = httpx.post(
            f"{base}/api/upload-video/nemo_agent/me/{sid}", headers=h, files={"file": ("trip.mp4", fh)}, timeout=60
        ).json()
    assert up["code"] == 0 and up["data"]["media_id"]
    # 4. say what the skill says
    answer = texts(sse_events(base, tok, sid, said.group(1)))
    assert "Timeline (3 tracks)" in answer and "40%" in answer and 'Title: "Lisbon"' in answer, answer
    # 5. state, then export with its draft
    draft = httpx.get(f"{base}/api/state/nemo_agent/me/{sid}/latest", headers=h).json()["data"]["draft"]
    job_id = f"render_{int(time.time() * 1000)}"
    body = {"id": job_id, "sessionId": sid, "draft": draft, "output": {"format": "mp4", "quality": "high"}}
    assert httpx.post(base + "/api/render/proxy/lambda", headers=h, json=body).json()["code"] == 0
    # 6. poll, download
    deadline = time.monotonic() + 240
    while (job := httpx.get(f"{base}/api/render/proxy/lambda/{job_id}", headers=h).json()["data"])["status"] not in (
        "done",
        "failed",
    ):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["status"] == "done", job
    out = tmp_path / "out.mp4"
    out.write_bytes(httpx.get(job["output_url"], headers=h, timeout=60).content)
    info = probe(out)
    assert info.has_audio and abs(info.duration_s - 6.0) < 0.1
    assert json.dumps(draft).count("bundled:") >= 1  # the draft names music by id, as the skill says
