"""Animated GIF/WebP play as clips (their own timing and length, looped to a duration when asked);
a one-frame GIF/WebP stays a still. Animated WebP goes through a lossless APNG copy (media/animation.py):
neither Debian's FFmpeg 5.1 nor PyAV's libraries decode it."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from ab2n.media.probe import probe
from ab2n.media.sniff import webp_frame_delays
from ab2n.pipeline import AddOptions, add_music, load_media
from media.conftest import ff
from media.pixels import frame_change
from mediagen import cached

# testsrc2 moves every frame: any two frames 1 s apart differ by far more than codec noise (~1).
MOVING = "testsrc2=size=160x120:rate=10"
CHANGED, SAME = 5.0, 2.5


def gif(name: str, *, seconds: float | None) -> Path:
    """An animated GIF of ``seconds`` at 10 fps (0.1 s delays), or a one-frame GIF (None)."""
    path, ok = cached(name, ".gif", s=seconds)
    if not ok:
        span = ["-t", str(seconds), "-loop", "0"] if seconds else ["-frames:v", "1"]
        ff("-f", "lavfi", "-i", MOVING, *span, str(path))
    return path


def test_animated_gif_probes_as_a_clip_and_a_still_gif_as_an_image() -> None:
    info = probe(gif("anim-gif4", seconds=4))
    assert info.kind == "video" and info.animated and info.demuxer == "gif"
    assert info.duration_s == pytest.approx(4.0, abs=0.1) and info.fps == pytest.approx(10, abs=0.5)
    still = probe(gif("still-gif", seconds=None))
    assert still.kind == "image" and not still.animated and still.duration_s == 0


def test_animated_gif_plays_at_its_own_timing_and_length(tmp_path: Path, cache: Path, music: Path) -> None:
    out = tmp_path / "anim.mp4"
    res = add_music([gif("anim-gif4", seconds=4)], out, AddOptions(cache_dir=cache, music=music))
    info = probe(out)
    assert info.duration_s == pytest.approx(4.0, abs=1 / 30 + 1e-3)
    assert frame_change(out, 0.5, 1.5) > CHANGED  # it moves (the bug: a still of its first frame)
    assert any("animation" in n and "own timing" in n and "looped" not in n for n in res.notes)


def test_animated_gif_loops_to_the_duration_asked(tmp_path: Path, cache: Path, music: Path) -> None:
    out = tmp_path / "loop.mp4"
    res = add_music([gif("anim-gif4", seconds=4)], out, AddOptions(cache_dir=cache, music=music, animation_s=6))
    assert probe(out).duration_s == pytest.approx(6.0, abs=1 / 30 + 1e-3)
    assert frame_change(out, 0.5, 1.5) > CHANGED
    assert frame_change(out, 0.5, 4.5) < SAME and frame_change(out, 1.2, 5.2) < SAME  # one period is 4 s
    assert any("looped to 6.00 s" in n for n in res.notes)


def test_still_gif_stays_a_still(tmp_path: Path, cache: Path, music: Path) -> None:
    out = tmp_path / "still.mp4"
    add_music([gif("still-gif", seconds=None)], out, AddOptions(cache_dir=cache, music=music, image_duration_s=3))
    assert probe(out).duration_s == pytest.approx(3.0, abs=1 / 30 + 1e-3)
    assert frame_change(out, 0.5, 2.5) < SAME


def webp(name: str, *, seconds: float | None, vf: str = "") -> Path:
    """An animated WebP (libwebp_anim) of ``seconds``, or a one-frame WebP (None)."""
    path, ok = cached(name, ".webp", s=seconds, vf=vf)
    if not ok:
        if seconds:
            span = ["-t", str(seconds), *(["-vf", vf, "-fps_mode", "vfr"] if vf else [])]
            ff("-f", "lavfi", "-i", MOVING, *span, "-c:v", "libwebp_anim", "-loop", "0", str(path))
        else:
            ff("-f", "lavfi", "-i", MOVING, "-frames:v", "1", "-c:v", "libwebp", str(path))
    return path


def test_animated_webp_is_converted_with_its_own_delays(tmp_path: Path) -> None:
    # 10 frames of 0.1 s, then frames of 0.2 s: the converted copy keeps the uneven timing.
    src = webp("anim-webp-var", seconds=3, vf="setpts='if(lt(N,10),N*0.1,1+(N-10)*0.2)/TB'")
    delays = webp_frame_delays(src.read_bytes())
    assert len(set(delays)) > 1  # the fixture is uneven
    info = probe(src)
    assert info.animated and info.convert_to == "apng" and info.duration_s == pytest.approx(sum(delays) / 1000)
    copy = load_media([src], work_dir=tmp_path)["m1"]
    assert copy.demuxer == "apng" and copy.source == src and copy.kind == "video" and copy.animated
    assert copy.duration_s == pytest.approx(sum(delays) / 1000, abs=1e-3)
    with av.open(str(copy.path), format="apng") as c:
        times = [float(f.time) for f in c.decode(video=0)]
    assert np.allclose(np.diff(times), np.array(delays[:-1]) / 1000, atol=1e-3)
    assert probe(webp("still-webp", seconds=None)).kind == "image"


def test_animated_webp_plays_and_loops(tmp_path: Path, cache: Path, music: Path) -> None:
    out = tmp_path / "sticker.mp4"
    res = add_music([webp("anim-webp4", seconds=4)], out, AddOptions(cache_dir=cache, music=music, animation_s=6))
    assert probe(out).duration_s == pytest.approx(6.0, abs=1 / 30 + 1e-3)
    assert frame_change(out, 0.5, 1.5) > CHANGED and frame_change(out, 0.5, 4.5) < SAME
    assert any(n.startswith("anim-webp4") and "looped to 6.00 s" in n for n in res.notes)


def test_animated_png_is_a_clip_and_a_png_a_still() -> None:
    apng, ok = cached("anim-apng", ".png")
    if not ok:
        ff("-f", "lavfi", "-i", MOVING, "-t", "2", "-f", "apng", "-plays", "0", str(apng))
    info = probe(apng)
    assert info.demuxer == "apng" and info.kind == "video" and info.animated
    assert info.duration_s == pytest.approx(2.0, abs=0.11)
    png, ok = cached("still-png", ".png")
    if not ok:
        ff("-f", "lavfi", "-i", MOVING, "-frames:v", "1", str(png))
    assert probe(png).kind == "image"
