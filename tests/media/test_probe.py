"""probe(): kinds from content, display size after rotation, awkward sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ab2n.media.probe import probe
from media.conftest import ff, lavfi_clip
from mediagen import cached, rotated_copy, speech_wav, tone_wav


def test_h264_video_with_audio() -> None:
    info = probe(lavfi_clip("p-h264", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"))
    assert info.kind == "video" and info.demuxer == "mov"
    assert (info.width, info.height) == (320, 240)
    assert info.video_codec == "h264" and info.has_audio and info.audio_codec == "aac"
    assert info.fps == pytest.approx(30, abs=0.01)
    assert info.duration_s == pytest.approx(2.0, abs=0.05)


def test_rotation_gives_portrait_display_size() -> None:
    src = lavfi_clip("p-rot-src", "-c:v", "libx264", "-pix_fmt", "yuv420p", src="testsrc2=size=640x360:rate=30")
    rotated, ok = cached("p-rot90", ".mp4", src=str(src))
    if not ok:
        rotated_copy(src, rotated, degrees=90)
    info = probe(rotated)
    assert (info.coded_width, info.coded_height) == (640, 360)
    assert (info.width, info.height) == (360, 640)
    assert info.rotation in (90, 270)


@pytest.mark.parametrize(
    ("name", "args", "suffix", "codec"),
    [
        (
            "p-hevc10",
            ("-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-x265-params", "log-level=none", "-c:a", "aac"),
            ".mp4",
            "hevc",
        ),
        ("p-vp9", ("-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus"), ".webm", "vp9"),
        ("p-odd", ("-vf", "scale=321:241", "-c:v", "libx264", "-pix_fmt", "yuv444p"), ".mkv", "h264"),
        ("p-avi", ("-c:v", "mpeg4", "-c:a", "mp3"), ".avi", "mpeg4"),
    ],
)
def test_awkward_sources(name: str, args: tuple[str, ...], suffix: str, codec: str) -> None:
    info = probe(lavfi_clip(name, *args, suffix=suffix))
    assert info.kind == "video"
    assert info.video_codec == codec
    assert info.duration_s > 1.5


def test_variable_frame_rate_and_no_audio() -> None:
    vfr = lavfi_clip(
        "p-vfr",
        "-vf",
        "setpts='if(lt(N,30),N/30,1+(N-30)/15)/TB'",
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        audio=False,
    )
    info = probe(vfr)
    assert info.kind == "video" and not info.has_audio
    assert info.duration_s > 1.5


def test_sub_second_clip() -> None:
    info = probe(lavfi_clip("p-short", "-c:v", "libx264", "-c:a", "aac", seconds=0.4))
    assert info.kind == "video" and 0.3 < info.duration_s < 0.6


def test_audio_kinds(tmp_path: Path) -> None:
    wav = tone_wav(duration_s=1.0)
    assert probe(wav).kind == "audio"
    for codec, suffix in (("libmp3lame", ".mp3"), ("aac", ".m4a"), ("aac", ".aac")):
        out = tmp_path / f"a{suffix}"
        ff("-i", str(wav), "-c:a", codec, str(out))
        info = probe(out)
        assert info.kind == "audio", suffix
        assert info.duration_s == pytest.approx(1.0, abs=0.1)


def test_image_kinds_and_names_do_not_matter(tmp_path: Path) -> None:
    for fmt in ("png", "jpg", "webp", "gif"):
        out = tmp_path / f"i.{fmt}"
        ff("-f", "lavfi", "-i", "testsrc2=size=200x100", "-frames:v", "1", str(out))
        lying = tmp_path / f"i-{fmt}.mp4"  # the name lies; the content decides
        shutil.copy(out, lying)
        info = probe(lying)
        assert info.kind == "image", fmt
        assert (info.width, info.height) == (200, 100)


def test_speech_wav_is_audio() -> None:
    path, spans = speech_wav(["Testing one two three."], pauses_s=[])
    info = probe(path)
    assert info.kind == "audio" and info.duration_s > spans[-1][1]
