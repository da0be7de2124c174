"""Several files in one session: each its own timeline, history and render, addressed the way people talk."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from ab2n.media.probe import probe
from mediagen import clip_with_cuts
from server.conftest import auth, sse_events, texts, token
from server.test_security import _session, _upload, _wait


def _state(base: str, tok: str, sid: str) -> dict:
    return dict(httpx.get(f"{base}/api/state/nemo_agent/me/{sid}/latest", headers=auth(tok)).json()["data"])


def _bgm(draft: dict | None) -> dict | None:
    if not draft:
        return None
    return next((t["sg"][0] for t in draft["t"] if t["tt"] == 1), None)


def _by_name(state: dict) -> dict[str, dict]:
    return {f["name"]: f for f in state["files"]}


def _job_ids(answer: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"render_[0-9a-f]{20}", answer)))


def test_three_uploads_each_get_their_own_timeline_and_render(make_server, tmp_path: Path) -> None:
    srv = make_server()
    tok = token(srv.url)
    sid = _session(srv.url, tok)
    sources = {
        "intro.mp4": clip_with_cuts([1.5], duration_s=4, audio="tone")[0],
        "beach.mp4": clip_with_cuts([2.0, 5.0], duration_s=7, audio="noise")[0],
        "city walk.mp4": clip_with_cuts([2.5], duration_s=5, size=(480, 270), audio="tone")[0],
    }
    ids = {name: _upload(srv.url, tok, sid, path, name=name)["data"]["media_id"] for name, path in sources.items()}

    answer = texts(sse_events(srv.url, tok, sid, "add calm music to the second video only"))
    assert "beach.mp4" in answer and "Video: beach.mp4 (0-7s)" in answer, answer
    st = _state(srv.url, tok, sid)
    files = _by_name(st)
    assert files["beach.mp4"]["active"] and files["beach.mp4"]["summary"].startswith("Timeline (2 tracks)")
    assert files["intro.mp4"]["draft"] is None and files["city walk.mp4"]["draft"] is None
    assert st["draft"] == files["beach.mp4"]["draft"]  # the state's draft is the active file's
    assert str(srv.data) not in str(st) and "/uploads/" not in str(st)

    texts(sse_events(srv.url, tok, sid, "back to the first video, add energetic music"))
    texts(sse_events(srv.url, tok, sid, "the city walk clip: epic music at 30%"))
    texts(sse_events(srv.url, tok, sid, "the beach clip: make the music 40%"))
    files = _by_name(_state(srv.url, tok, sid))
    assert _bgm(files["intro.mp4"]["draft"])["mood"] == "energetic"
    assert _bgm(files["beach.mp4"]["draft"])["mood"] == "calm"
    assert _bgm(files["beach.mp4"]["draft"])["vol"] == pytest.approx(0.4)
    assert _bgm(files["city walk.mp4"]["draft"])["vol"] == pytest.approx(0.3)

    # Undo on the active file (beach) leaves the others alone.
    undo = texts(sse_events(srv.url, tok, sid, "undo"))
    assert "beach.mp4" in undo, undo
    files = _by_name(_state(srv.url, tok, sid))
    assert _bgm(files["beach.mp4"]["draft"]).get("vol") is None
    assert _bgm(files["city walk.mp4"]["draft"])["vol"] == pytest.approx(0.3)
    assert _bgm(files["intro.mp4"]["draft"])["mood"] == "energetic"

    # Summaries say the uploaded names, never a storage hash or a path.
    status = texts(sse_events(srv.url, tok, sid, "status"))
    for name in sources:
        assert f"Video: {name}" in status, status
    assert all(mid not in status for mid in ids.values())

    one = _job_ids(texts(sse_events(srv.url, tok, sid, "export")))
    assert len(one) == 1
    every = _job_ids(texts(sse_events(srv.url, tok, sid, "export all")))
    assert len(every) == 3, every
    expected = [4.0, 7.0, 5.0]  # upload order
    for job_id, want in zip(every, expected, strict=True):
        job = _wait(srv.url, tok, job_id, timeout_s=300)
        assert job["status"] == "done", job
        out = tmp_path / f"{job_id}.mp4"
        out.write_bytes(httpx.get(job["output_url"], headers=auth(tok), timeout=60).content)
        assert probe(out).duration_s == pytest.approx(want, abs=0.1)
    job = _wait(srv.url, tok, one[0])
    out = tmp_path / "one.mp4"
    out.write_bytes(httpx.get(job["output_url"], headers=auth(tok), timeout=60).content)
    assert probe(out).duration_s == pytest.approx(7.0, abs=0.1)  # export renders the active file: beach
    # Rows name files by storage key, not by this machine's path (another machine mounts the folder).
    engine = sa.create_engine(srv.database_url)
    with engine.connect() as db:
        uploads = db.execute(sa.text("SELECT path FROM media")).scalars().all()
        outputs = db.execute(sa.text("SELECT output_path FROM jobs WHERE status = 'done'")).scalars().all()
    engine.dispose()
    assert len(uploads) == 3 and all(k.startswith("uploads/") for k in uploads), uploads
    assert len(outputs) == 4 and all(re.fullmatch(r"outputs/cli_\w+/job_\w+\.mp4", k) for k in outputs), outputs
    assert all((srv.data / k).is_file() for k in uploads + outputs)


def test_one_file_sessions_are_unchanged_and_a_montage_joins_them(make_server) -> None:
    srv = make_server()
    tok = token(srv.url)
    sid = _session(srv.url, tok)
    a, _ = clip_with_cuts([1.0], duration_s=3, audio="tone")
    b, _ = clip_with_cuts([1.5], duration_s=4, size=(480, 270), audio="tone")
    _upload(srv.url, tok, sid, a, name="first.mp4")
    answer = texts(sse_events(srv.url, tok, sid, "add happy music"))
    assert "Video: first.mp4 (0-3s)" in answer
    assert "first.mp4:" not in answer  # with one file nothing is prefixed
    _upload(srv.url, tok, sid, b, name="second.mp4")
    texts(sse_events(srv.url, tok, sid, "add calm music"))  # the latest upload is active
    files = _by_name(_state(srv.url, tok, sid))
    assert _bgm(files["first.mp4"]["draft"])["mood"] == "happy"
    assert _bgm(files["second.mp4"]["draft"])["mood"] == "calm"

    answer = texts(sse_events(srv.url, tok, sid, "make a montage of all my clips"))
    st = _state(srv.url, tok, sid)
    montage = _by_name(st)["montage"]
    assert montage["active"] and [s["mid"] for s in montage["draft"]["t"][0]["sg"]] == [
        f["media_id"] for f in st["video_infos"]
    ]
    assert _bgm(montage["draft"]) is not None, answer


SCRIPT = [
    "add calm music to the second video only",
    "back to the first video, add energetic music",
    "the beach clip: make the music 40%",
    "title 'Day one' for 2 seconds",
    "undo",
    "first video: vertical",
]


def _essence(draft: dict | None) -> dict | None:
    """What a person asked for and got, without the ids each face gives its media."""
    if draft is None:
        return None
    bgm = _bgm(draft) or {}
    return {
        "d": draft["d"],
        "m": draft["m"],
        "names": [s["n"] for s in draft["t"][0]["sg"]],
        "music": {k: bgm.get(k) for k in ("mood", "vol", "tid", "s", "d")},
        "texts": [t["sg"] for t in draft["t"] if t["tt"] == 7],
    }


def test_the_terminal_chat_gives_the_same_drafts(make_server, tmp_path: Path) -> None:
    from ab2n.chat_session import ChatSession

    clips = {}
    for name, (cuts, dur) in {"intro.mp4": ([1.5], 4), "beach.mp4": ([2.0, 5.0], 7)}.items():
        clips[name] = tmp_path / name
        clips[name].write_bytes(clip_with_cuts(cuts, duration_s=dur, audio="tone")[0].read_bytes())
    srv = make_server()
    tok = token(srv.url)
    sid = _session(srv.url, tok)
    for name, path in clips.items():
        _upload(srv.url, tok, sid, path, name=name)
    local = ChatSession.open(tmp_path / "chat.json", list(clips.values()), cache_dir=tmp_path / "cache")
    for line in SCRIPT:
        texts(sse_events(srv.url, tok, sid, line))
        local.say(line)
    served = _by_name(_state(srv.url, tok, sid))
    resumed = ChatSession.open(tmp_path / "chat.json", [], cache_dir=tmp_path / "cache")
    for key, name in resumed.files().items():
        mine = resumed.draft(key)
        assert _essence(mine.to_json() if mine else None) == _essence(served[name]["draft"]), name
    assert _essence(served["intro.mp4"]["draft"])["m"]["aspect"] == "vertical"
    assert served["beach.mp4"]["draft"] is not None and not _essence(served["beach.mp4"]["draft"])["texts"]


def test_an_animated_webp_upload_is_kept_as_its_playable_copy(make_server) -> None:
    from media.test_animation import webp  # the generated sticker the media tests use

    srv = make_server()
    tok = token(srv.url)
    sid = _session(srv.url, tok)
    data = _upload(srv.url, tok, sid, webp("anim-webp4", seconds=4), name="sticker.webp")["data"]
    assert data["kind"] == "video" and abs(data["duration"] - 4.0) < 0.01 and data["width"] == 160
    stored = [p for p in (srv.data / "uploads").rglob("*") if p.is_file()] if (srv.data / "uploads").exists() else []
    assert stored and all(probe(p).demuxer == "apng" for p in stored if p.stat().st_size > 1000)
