"""Deterministic benchmark inputs, generated with FFmpeg (cached in bench/.cache).

Phone-like 1080p30 H.264 at ~10 Mb/s with B-frames and irregular cuts (gaps 1.5-8 s, seeded);
long inputs are built by concatenating distinct encoded shots with ``-c copy`` (cheap to make).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ab2n.media.ffmpeg import ffmpeg_exe

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / ".cache"
sys.path.insert(0, str(ROOT.parent / "tests"))

SOURCES = (
    "testsrc2=size={w}x{h}:rate=30",
    "mandelbrot=size={w}x{h}:rate=30",
    "gradients=size={w}x{h}:rate=30:speed=0.03:seed=4",
    "life=size={w}x{h}:rate=30:mold=10:ratio=0.3:death_color=#402010:life_color=#ffd040",
    "smptehdbars=size={w}x{h}:rate=30",
    "cellauto=size={w}x{h}:rate=30:rule=30",
    "gradients=size={w}x{h}:rate=30:speed=0.06:seed=9:c0=0x103060:c1=0x60c0ff",
    "testsrc=size={w}x{h}:rate=30",
)


@dataclass(frozen=True)
class BenchInput:
    """One generated input and its truth."""

    name: str
    path: Path
    duration_s: float
    cuts_s: list[float]
    speech: bool = False


def _ff(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def _shot(i: int, seconds: float, size: tuple[int, int], codec: list[str]) -> Path:
    w, h = size
    out = CACHE / f"shot-{i % len(SOURCES)}-{seconds:.3f}-{w}x{h}-{'_'.join(codec)}.mp4"
    if not out.exists():
        src = SOURCES[i % len(SOURCES)].format(w=w, h=h)
        # Noise on top makes the bitrate phone-like (flat test patterns compress to nothing).
        _ff(
            "-f",
            "lavfi",
            "-i",
            src,
            "-t",
            f"{seconds:.3f}",
            "-vf",
            "noise=alls=12:allf=t,format=yuv420p",
            *codec,
            "-an",
            str(out),
        )
    return out


def make_input(
    name: str,
    duration_s: float,
    *,
    size: tuple[int, int] = (1920, 1080),
    seed: int = 1,
    speech: bool = False,
    hevc: bool = False,
    rotate: int = 0,
    kbps: int = 10_000,
) -> BenchInput:
    """Build (or reuse) one input of ``duration_s`` with irregular cuts."""
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / f"{name}.mp4"
    meta = out.with_suffix(".json")
    if out.exists() and meta.exists():
        m = json.loads(meta.read_text())
        return BenchInput(name, out, m["duration_s"], m["cuts_s"], speech)
    rng = np.random.default_rng(seed)
    gaps: list[float] = []
    # Eight distinct shot lengths (1.5-8 s, whole frames), in a seeded irregular order: the cuts are
    # irregular, and a 20-minute input is built from at most 8 x 8 encoded shots.
    lengths = [
        round(x * 30) / 30 for x in np.linspace(1.5, 8.0, 8) + np.array([0, 0.13, 0.27, 0.05, 0.31, 0.19, 0.07, 0.23])
    ]
    while sum(gaps) < duration_s:
        gaps.append(float(rng.choice(lengths)))
    gaps[-1] -= sum(gaps) - duration_s
    if gaps[-1] < 0.5:
        gaps[-2] += gaps.pop()
    codec = (
        ["-c:v", "libx265", "-x265-params", "log-level=none", "-b:v", "12M", "-pix_fmt", "yuv420p10le"]
        if hevc
        else [
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-b:v",
            f"{kbps}k",
            "-maxrate",
            f"{kbps * 6 // 5}k",
            "-bufsize",
            f"{kbps * 2}k",
            "-bf",
            "3",
            "-g",
            "60",
        ]
    )
    # Reuse a small set of distinct shot lengths so long inputs stay cheap to make.
    shots = [_shot(i, g, size, codec) for i, g in enumerate(gaps)]
    listing = CACHE / f"{name}.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in shots))
    video_only = CACHE / f"{name}.v.mp4"
    _ff("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(video_only))
    audio_args: list[str]
    if speech:
        from mediagen import speech_wav

        sentences = [
            "Welcome back to the channel.",
            "Today we are walking through the old town.",
            "The light here in the evening is something else.",
            "Let's go and find some food.",
        ]
        # Long inputs loop a minute of speech (espeak-ng for hours of text would dominate the setup).
        reps = max(1, int(min(duration_s, 60.0) // 20))
        wav, _ = speech_wav(sentences * reps, pauses_s=[0.4, 2.5, 0.8, 3.0] * 50)
        loop = ["-stream_loop", "-1"] if duration_s > 120 else []
        audio_args = [*loop, "-i", str(wav), "-af", f"apad=whole_dur={duration_s}", "-c:a", "aac", "-b:a", "128k"]
    else:
        audio_args = [
            "-f",
            "lavfi",
            "-i",
            f"anoisesrc=color=brown:amplitude=0.05:seed=3:duration={duration_s}",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
        ]
    pre = ["-display_rotation", str(rotate)] if rotate else []
    _ff(
        *pre,
        "-i",
        str(video_only),
        *audio_args,
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-c:v",
        "copy",
        "-t",
        f"{duration_s}",
        "-movflags",
        "+faststart",
        str(out),
    )
    video_only.unlink()
    cuts = [float(x) for x in np.cumsum(gaps)[:-1]]
    meta.write_text(json.dumps({"duration_s": duration_s, "cuts_s": cuts}))
    return BenchInput(name, out, duration_s, cuts, speech)


def music_file() -> Path:
    """A track for the naive recipes (the first calm bundled track)."""
    import immich_memories_music

    return sorted(Path(immich_memories_music.tracks_dir()).rglob("*.opus"))[0]
