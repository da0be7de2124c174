"""Reading rendered pictures back for tests: a frame at a time, patch colours, colour tags.

Colours are computed here from the decoded Y'CbCr with the BT.709 equations (numpy), not with
FFmpeg's own conversion, so a wrong matrix or range in the render can't cancel out in the check.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from ab2n.media.ffmpeg import ffmpeg_exe


def _grab(path: Path, t_s: float, *out: str) -> bytes:
    """One frame at ``t_s`` as raw video on stdout."""
    args = [ffmpeg_exe(), "-v", "error", "-ss", f"{t_s}", "-i", str(path), "-frames:v", "1", "-f", "rawvideo", *out]
    return subprocess.run([*args, "pipe:1"], capture_output=True, check=True).stdout


def gray_frame(path: Path, t_s: float, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    """The frame shown at ``t_s``, as a small grey picture (float, 0..255)."""
    w, h = size
    raw = _grab(path, t_s, "-pix_fmt", "gray", "-s", f"{w}x{h}")
    return np.frombuffer(raw, np.uint8).astype(float).reshape(h, w)


def frame_change(path: Path, a_s: float, b_s: float) -> float:
    """Mean absolute difference (0..255) between the frames at ``a_s`` and ``b_s``."""
    return float(np.abs(gray_frame(path, a_s) - gray_frame(path, b_s)).mean())


def yuv_planes(path: Path, t_s: float = 0.5, *, ten_bit: bool = False) -> np.ndarray:
    """The frame at ``t_s`` as full-resolution Y, Cb, Cr planes (codes: 0..255, or 0..1023)."""
    info = stream_info(path)  # the coded size: the clips these tests render carry no rotation
    w, h = int(info["width"]), int(info["height"])
    fmt, dtype = ("yuv444p10le", "<u2") if ten_bit else ("yuv444p", np.uint8)
    raw = _grab(path, t_s, "-pix_fmt", fmt)
    return np.frombuffer(raw, dtype).astype(float).reshape(3, h, w)


def patch_rgb(planes: np.ndarray, box: tuple[float, float, float, float]) -> tuple[float, float, float]:
    """Mean R'G'B' (0..255) of a patch of 8-bit limited-range BT.709 planes.

    ``box``: (x0, y0, x1, y1) as fractions of the frame, so a patch is found at any output size.
    """
    _, h, w = planes.shape
    x0, y0, x1, y1 = box
    y, cb, cr = (planes[i, int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)].mean() for i in range(3))
    luma, pb, pr = (y - 16) / 219, (cb - 128) / 224, (cr - 128) / 224
    r = luma + 1.5748 * pr
    g = luma - 0.1873 * pb - 0.4681 * pr
    b = luma + 1.8556 * pb
    return (float(r * 255), float(g * 255), float(b * 255))


def _ffprobe() -> str:
    """The ffprobe beside the FFmpeg in use (the bundled build has none: Debian's then, as CI has)."""
    exe = Path(ffmpeg_exe())
    beside = exe.with_name(exe.name.replace("ffmpeg", "ffprobe"))
    return str(beside if beside.exists() and beside != exe else "/usr/bin/ffprobe")


def all_streams(path: Path) -> list[dict[str, Any]]:
    """Every stream of ``path`` as ffprobe reports it (codec_type, codec_name, pix_fmt, color_*, disposition)."""
    out = subprocess.run(
        [_ffprobe(), "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return list(json.loads(out)["streams"])


def stream_info(path: Path) -> dict[str, Any]:
    """The first video stream's facts (ffprobe's names), or {} without one."""
    return next((s for s in all_streams(path) if s["codec_type"] == "video"), {})
