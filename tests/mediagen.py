"""Generated test media: small, deterministic, cached. No binary media lives in git.

Every generator writes with the real FFmpeg (lavfi sources) or numpy, into a cache folder keyed by
its parameters, so a second call is free. Used by tests/ and bench/.

    clip_with_cuts(...)   video whose hard cuts happen at known frames (different scene per shot)
    rotated_copy(...)     the same clip with a display rotation in its container (as phones write)
    speech_wav(...)       espeak-ng utterances separated by known pauses; returns the speech spans
    tone_wav(...), noise_wav(...), click_track_wav(...)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import wave
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from ab2n.media.ffmpeg import ffmpeg_exe

CACHE = Path(os.environ.get("AB2N_TEST_CACHE", Path(__file__).resolve().parent / ".cache"))

# One lavfi source per shot, chosen to differ in colour, texture and motion. Several are moving,
# so a detector can't just threshold on "anything changed".
SHOT_SOURCES: tuple[str, ...] = (
    "testsrc2=size={w}x{h}:rate={fps}",
    "mandelbrot=size={w}x{h}:rate={fps}",
    "smptebars=size={w}x{h}:rate={fps}",
    "cellauto=size={w}x{h}:rate={fps}:rule=110",
    "gradients=size={w}x{h}:rate={fps}:speed=0.05:seed=3",
    "life=size={w}x{h}:rate={fps}:mold=10:ratio=0.3:death_color=#402010:life_color=#ffd040",
    "rgbtestsrc=size={w}x{h}:rate={fps}",
    "gradients=size={w}x{h}:rate={fps}:speed=0.02:seed=11:c0=0x103060:c1=0x60c0ff",
    "testsrc=size={w}x{h}:rate={fps}",
    "pal75bars=size={w}x{h}:rate={fps}",
    "yuvtestsrc=size={w}x{h}:rate={fps}",
    "gradients=size={w}x{h}:rate={fps}:speed=0.08:seed=7:c0=0x802000:c1=0xffe0a0",
)


def _key(kind: str, params: dict[str, object]) -> str:
    return kind + "-" + hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _run(args: Sequence[str]) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def cached(kind: str, suffix: str, **params: object) -> tuple[Path, bool]:
    """Path in the cache for these parameters, and whether it already exists.

    The FFmpeg binary is part of the key: a run with another FFmpeg (``AB2N_FFMPEG``) makes its
    own fixtures instead of reusing files another build wrote.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    p = CACHE / f"{_key(kind, {**params, '_ffmpeg': ffmpeg_exe()})}{suffix}"
    return p, p.exists()


def clip_with_cuts(
    cut_times_s: Sequence[float],
    *,
    duration_s: float,
    size: tuple[int, int] = (640, 360),
    fps: int = 30,
    audio: str | Path | None = None,
    codec: str = "libx264",
    extra_video_args: Sequence[str] = (),
    suffix: str = ".mp4",
) -> tuple[Path, list[int]]:
    """A video with hard cuts at known times.

    Args:
        cut_times_s: Wanted cut times; each is snapped to a frame (``round(t * fps)``).
        duration_s: Total duration.
        size: Width, height.
        fps: Constant frame rate.
        audio: None (no audio track), "tone", "noise", or a path to an audio file to mux.
        codec: Video encoder.
        extra_video_args: More output options (e.g. ``["-b:v", "10M", "-bf", "3"]``).
        suffix: Container by extension.

    Returns:
        (path, cut_frames): the file and the frame index of the first frame of each new shot.
    """
    w, h = size
    frames_total = round(duration_s * fps)
    cut_frames = sorted({round(t * fps) for t in cut_times_s if 0 < round(t * fps) < frames_total})
    out, ok = cached(
        "cuts",
        suffix,
        cuts=cut_frames,
        n=frames_total,
        size=size,
        fps=fps,
        audio=str(audio),
        codec=codec,
        extra=list(extra_video_args),
    )
    if ok:
        return out, cut_frames
    bounds = [0, *cut_frames, frames_total]
    parts = []
    for i in range(len(bounds) - 1):
        n = bounds[i + 1] - bounds[i]
        src = SHOT_SOURCES[i % len(SHOT_SOURCES)].format(w=w, h=h, fps=fps)
        parts.append(f"{src},format=yuv420p,trim=start_frame=0:end_frame={n},setpts=PTS-STARTPTS[v{i}]")
    graph = ";".join(parts) + ";" + "".join(f"[v{i}]" for i in range(len(parts)))
    graph += f"concat=n={len(parts)}:v=1:a=0,settb=1/{fps},setpts=N[vout]"
    args: list[str] = ["-filter_complex", graph]
    amap: list[str] = []
    if audio == "tone":
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={duration_s}"]
        amap = ["-map", "0:a", "-c:a", "aac"]
    elif audio == "noise":
        args += ["-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.2:duration={duration_s}:seed=1"]
        amap = ["-map", "0:a", "-c:a", "aac"]
    elif audio is not None:
        args += ["-i", str(audio)]
        amap = ["-map", "0:a", "-c:a", "aac", "-af", f"apad=whole_dur={duration_s}"]
    tmp = out.with_name(out.stem + ".tmp" + suffix)
    _run(
        [
            *args,
            "-map",
            "[vout]",
            *amap,
            "-r",
            str(fps),
            "-c:v",
            codec,
            "-pix_fmt",
            "yuv420p",
            *extra_video_args,
            "-t",
            f"{duration_s}",
            str(tmp),
        ]
    )
    tmp.replace(out)
    return out, cut_frames


@lru_cache(maxsize=4)
def _has_display_rotation(exe: str) -> bool:
    """Whether this FFmpeg has the ``-display_rotation`` input option (FFmpeg 6 and later)."""
    out = subprocess.run([exe, "-hide_banner", "-h", "long"], capture_output=True, text=True, check=False).stdout
    return "-display_rotation" in out


def rotated_copy(src: Path, out: Path, *, degrees: int = 90) -> Path:
    """Stream-copy ``src`` to ``out`` (MP4/MOV) with a display rotation in the container.

    The MP4 muxer writes the rotation as the track's display matrix, which is what phones do. FFmpeg
    5.1 takes it as the stream's ``rotate`` metadata; FFmpeg 6 and later ignore that tag when muxing
    and take ``-display_rotation`` on the input instead. The same ``degrees`` writes the same matrix
    through either (probe reads 270 for 90 from both).
    """
    exe = ffmpeg_exe()
    if _has_display_rotation(exe):
        _run(["-display_rotation", str(degrees), "-i", str(src), "-c", "copy", str(out)])
    else:
        _run(["-i", str(src), "-metadata:s:v:0", f"rotate={degrees}", "-c", "copy", str(out)])
    return out


def espeak_available() -> bool:
    """Whether the espeak-ng binary is installed (Debian package ``espeak-ng``)."""
    return shutil.which("espeak-ng") is not None


def speech_wav(
    sentences: Sequence[str],
    *,
    pauses_s: Sequence[float],
    lead_s: float = 1.0,
    tail_s: float = 1.0,
    sample_rate: int = 48000,
    voice: str = "en",
) -> tuple[Path, list[tuple[float, float]]]:
    """espeak-ng utterances with known pauses between them.

    Returns:
        (path, spans): a mono WAV and the (start_s, end_s) of each utterance's voiced part
        (leading/trailing silence that espeak-ng adds is trimmed before placement).
    """
    out, ok = cached(
        "speech",
        ".wav",
        s=list(sentences),
        p=list(pauses_s),
        lead=lead_s,
        tail=tail_s,
        sr=sample_rate,
        voice=voice,
    )
    spans_file = out.with_suffix(".json")
    if ok and spans_file.exists():
        return out, [tuple(x) for x in json.loads(spans_file.read_text())]  # type: ignore[misc]
    if not espeak_available():
        raise RuntimeError("espeak-ng is not installed: run `bash .ci/deps` (Debian package espeak-ng)")
    pieces: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    t = lead_s
    pieces.append(np.zeros(int(lead_s * sample_rate), np.float32))
    for i, text in enumerate(sentences):
        raw = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], check=True, capture_output=True).stdout
        tmp = out.with_name(f"{out.stem}.u{i}.wav")
        tmp.write_bytes(raw)
        y = _read_any(tmp, sample_rate)
        tmp.unlink()
        voiced = np.flatnonzero(np.abs(y) > 0.01)
        y = y[voiced[0] : voiced[-1] + 1] if len(voiced) else y
        pieces.append(y)
        spans.append((t, t + len(y) / sample_rate))
        t += len(y) / sample_rate
        gap = pauses_s[i] if i < len(pauses_s) else tail_s
        pieces.append(np.zeros(int(gap * sample_rate), np.float32))
        t += int(gap * sample_rate) / sample_rate
    write_wav(out, np.concatenate(pieces), sample_rate)
    spans_file.write_text(json.dumps(spans))
    return out, spans


def _read_any(path: Path, sample_rate: int) -> np.ndarray:
    raw = subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-ac",
            "1",
            "-ar",
            str(sample_rate),
            "-f",
            "f32le",
            "pipe:1",
        ],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, "<f4").copy()


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write float samples (mono ``(n,)`` or ``(n, ch)``) as 16-bit PCM WAV."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    pcm = (np.clip(x, -1, 1) * 32767).round().astype("<i2")
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(pcm.shape[1])
        wf.setsampwidth(2)
        wf.setframerate(sample_rate)
        wf.writeframes(pcm.tobytes())
    return path


def tone_wav(freq_hz: float = 440.0, *, duration_s: float, amplitude: float = 0.3, sample_rate: int = 48000) -> Path:
    """A pure sine tone."""
    out, ok = cached("tone", ".wav", f=freq_hz, d=duration_s, a=amplitude, sr=sample_rate)
    if not ok:
        t = np.arange(int(duration_s * sample_rate)) / sample_rate
        write_wav(out, amplitude * np.sin(2 * np.pi * freq_hz * t), sample_rate)
    return out


def noise_wav(*, duration_s: float, amplitude: float = 0.2, seed: int = 0, sample_rate: int = 48000) -> Path:
    """White noise."""
    out, ok = cached("noise", ".wav", d=duration_s, a=amplitude, seed=seed, sr=sample_rate)
    if not ok:
        rng = np.random.default_rng(seed)
        write_wav(out, amplitude * rng.standard_normal(int(duration_s * sample_rate)).clip(-3, 3) / 3, sample_rate)
    return out


def click_track_wav(
    bpm: float,
    *,
    duration_s: float,
    beats_per_bar: int = 4,
    drift: float = 0.0,
    sample_rate: int = 44100,
    with_music: bool = True,
) -> tuple[Path, list[float], list[float]]:
    """A rhythmic track with known beats: accented downbeats, optional chords, optional tempo drift.

    Args:
        bpm: Starting tempo.
        duration_s: Length.
        beats_per_bar: Meter.
        drift: Relative tempo change over the whole track (0.03 = ends 3 % faster).
        with_music: Add a simple chord pad and bass that change on downbeats.

    Returns:
        (path, beats_s, downbeats_s).
    """
    out, ok = cached(
        "clicks",
        ".wav",
        bpm=bpm,
        d=duration_s,
        m=beats_per_bar,
        drift=drift,
        sr=sample_rate,
        music=with_music,
    )
    meta = out.with_suffix(".json")
    if ok and meta.exists():
        b, d = json.loads(meta.read_text())
        return out, b, d
    beats: list[float] = []
    t = 0.25
    while t < duration_s - 0.1:
        beats.append(t)
        frac = t / duration_s
        t += 60.0 / (bpm * (1 + drift * frac))
    downbeats = beats[::beats_per_bar]
    n = int(duration_s * sample_rate)
    y = np.zeros(n)
    rng = np.random.default_rng(1)
    click_n = int(0.03 * sample_rate)
    env = np.exp(-np.arange(click_n) / (0.005 * sample_rate))
    for i, b in enumerate(beats):
        s = int(b * sample_rate)
        amp = 0.8 if i % beats_per_bar == 0 else 0.4
        seg = amp * env * rng.standard_normal(click_n)
        y[s : s + click_n] += seg[: max(0, min(click_n, n - s))]
    if with_music:
        chords = [(220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6), (164.8, 207.7, 246.9)]
        for j, d0 in enumerate(downbeats):
            d1 = downbeats[j + 1] if j + 1 < len(downbeats) else duration_s
            s0, s1 = int(d0 * sample_rate), int(d1 * sample_rate)
            tt = np.arange(s1 - s0) / sample_rate
            pad = sum(np.sin(2 * np.pi * f * tt) for f in chords[j % 4]) * 0.05
            bass = 0.12 * np.sin(2 * np.pi * chords[j % 4][0] / 2 * tt) * np.exp(-tt * 3)
            y[s0:s1] += pad + bass
    write_wav(out, y / max(1.0, np.abs(y).max() / 0.9), sample_rate)
    meta.write_text(json.dumps([beats, downbeats]))
    return out, beats, downbeats
