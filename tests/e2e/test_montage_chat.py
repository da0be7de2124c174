"""Montage cuts land on the music's downbeats; the terminal chat session edits, undoes and exports."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from ab2n.chat_session import ChatSession
from ab2n.media.probe import probe
from ab2n.pipeline import AddOptions, add_music
from media.conftest import ff, lavfi_clip


def _cut_frames(path: Path) -> list[int]:
    prev = None
    out = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            small = f.to_ndarray(width=64, height=36, format="gray").astype(np.int16)
            if prev is not None and np.abs(small - prev).mean() > 25:
                out.append(i)
            prev = small
    return out


def test_montage_three_clips_two_photos_cuts_on_downbeats(tmp_path: Path) -> None:
    clips = [
        lavfi_clip(
            f"mont-{i}",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            src=f"color=c={c}:size=640x360:rate=30",
            seconds=s,
        )
        for i, (c, s) in enumerate((("red", 4.3), ("blue", 3.1), ("green", 5.2)))
    ]
    photos = []
    for i, c in enumerate(("yellow", "white")):
        p = tmp_path / f"p{i}.png"
        ff("-f", "lavfi", "-i", f"color=c={c}:size=400x300", "-frames:v", "1", str(p))
        photos.append(p)
    out = tmp_path / "montage.mp4"
    res = add_music(
        [clips[0], photos[0], clips[1], photos[1], clips[2]],
        out,
        AddOptions(montage=True, image_duration_s=3.0, cache_dir=tmp_path / "cache"),
    )
    info = probe(out)
    assert (info.width, info.height) == (1920, 1080)
    draft = res.draft
    assert draft is not None and draft.music is not None and draft.music.plan
    downbeats = np.asarray(draft.music.plan["downbeats_s"]) + draft.music.start_ms / 1000
    cuts = _cut_frames(out)
    assert len(cuts) == 4, cuts
    for frame in cuts:
        t = frame / 30
        assert np.min(np.abs(downbeats - t)) <= 1 / 30 + 1e-3, (t, downbeats)
    assert abs(info.duration_s - draft.duration_ms / 1000) <= 1 / 30 + 1e-3


def test_chat_session_edit_undo_resume_export(tmp_path: Path) -> None:
    clip = lavfi_clip("chat-src", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", seconds=5)
    sess_file = tmp_path / "s.json"
    s = ChatSession.open(sess_file, [clip], cache_dir=tmp_path / "cache")
    assert "BGM" in s.say("add calm piano music at 35%")
    assert "Title" in s.say("title 'Hello' for 2 seconds")
    assert "Title" not in s.say("undo")
    resumed = ChatSession.open(sess_file, [], cache_dir=tmp_path / "cache")
    assert resumed.summary() == s.summary()
    reply = resumed.say("export", output=tmp_path / "chat.mp4")
    assert "Exported" in reply and probe(tmp_path / "chat.mp4").has_audio
