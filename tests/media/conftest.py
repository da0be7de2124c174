"""Media fixtures made with the real FFmpeg (cached in tests/.cache)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ab2n.media.ffmpeg import ffmpeg_exe
from mediagen import cached, click_track_wav


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A track-analysis cache shared by the media tests that run ``add_music``."""
    return tmp_path_factory.mktemp("analysis-cache")


@pytest.fixture(scope="session")
def music() -> Path:
    """A short music file to give ``add_music``: only it is analysed, not the bundled library."""
    return click_track_wav(120.0, duration_s=8.0)[0]


def ff(*args: str) -> None:
    """Run FFmpeg quietly (test fixture generation only)."""
    subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def lavfi_clip(
    name: str,
    *out_args: str,
    src: str = "testsrc2=size=320x240:rate=30",
    seconds: float = 2.0,
    audio: bool = True,
    suffix: str = ".mp4",
    pre: tuple[str, ...] = (),
) -> Path:
    """A small generated clip, cached by its arguments."""
    path, ok = cached(name, suffix, args=list(out_args), src=src, s=seconds, a=audio, pre=list(pre))
    if ok:
        return path
    a_in = ["-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={seconds}"] if audio else []
    ff(*pre, "-f", "lavfi", "-i", f"{src}", *a_in, "-t", str(seconds), *out_args, str(path))
    return path
