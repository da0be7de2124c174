"""Media fixtures made with the real FFmpeg (cached in tests/.cache)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ab2n.media.ffmpeg import ffmpeg_exe
from mediagen import cached


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
