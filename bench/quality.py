"""Quality of an output: cuts on beats/downbeats (blind analysis of the output audio), BAS score,
loudness and true peak (FFmpeg ebur128), whether the music ends with the video."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ab2n.media.decode import decode_audio
from ab2n.media.probe import MediaLimits, probe
from ab2n.mix.loudness import measure
from ab2n.music.beats import analyze_track
from bench.inputs import BenchInput

SIGMA_S = 0.05


def quality(path: Path, inp: BenchInput) -> dict[str, Any]:
    """Measure one output file against its input's known cuts."""
    an = analyze_track(path)
    beats = np.asarray(an.beats_s)
    downs = np.asarray(an.downbeats_s)
    cuts = np.asarray(inp.cuts_s)

    def near(grid: np.ndarray, tol: float) -> float:
        if not len(cuts) or not len(grid):
            return 0.0
        return float(np.mean([np.min(np.abs(grid - c)) <= tol for c in cuts]))

    bas = (
        float(np.mean([math.exp(-(np.min(np.abs(beats - c)) ** 2) / (2 * SIGMA_S**2)) for c in cuts]))
        if len(beats) and len(cuts)
        else 0.0
    )
    rep = measure(path, "mov")
    y = decode_audio(path, sample_rate=16000)
    dur = probe(path, limits=MediaLimits(max_bytes=1 << 40)).duration_s
    tail = y[int(max(0.0, dur - 1.0) * 16000) :]
    body = y[: int(max(1.0, dur - 1.0) * 16000)]
    # "Ends with the video": the last second is quieter than the body (a fade or the track's ending)
    # and there is no silence gap before the end longer than 0.5 s.
    tail_db = 10 * math.log10(float(np.mean(tail.astype(np.float64) ** 2)) + 1e-12)
    body_db = 10 * math.log10(float(np.mean(body.astype(np.float64) ** 2)) + 1e-12)
    return {
        "librosa_beat_rate": _librosa_beat_rate(path, cuts),
        "beat_rate": round(near(beats, 0.05), 3),
        "downbeat_rate": round(near(downs, 0.05), 3),
        "bas": round(bas, 3),
        "lufs": rep.integrated_lufs,
        "true_peak": rep.true_peak_dbtp,
        "ends_with_video": bool(tail_db < body_db - 1.0 and tail_db > -70),
    }


def librosa_beats(path: Path) -> np.ndarray:
    """Beat times by librosa's beat tracker, a tracker that shares no code with ab2n's.

    Raises:
        ImportError: librosa (bench and test extras) is not installed.
    """
    import librosa

    sr = 22050
    y = decode_audio(path, sample_rate=sr)
    if y.ndim > 1:
        y = y.mean(axis=1)
    _, frames = librosa.beat.beat_track(y=y, sr=sr, hop_length=256)
    return np.asarray(librosa.frames_to_time(frames, sr=sr, hop_length=256))


def _librosa_beat_rate(path: Path, cuts: np.ndarray) -> float | None:
    """Share of cuts with a librosa beat within ±50 ms (None without librosa)."""
    try:
        beats = librosa_beats(path)
    except ImportError:
        return None
    if not len(cuts) or not len(beats):
        return 0.0
    return round(float(np.mean([np.min(np.abs(beats - c)) <= 0.05 for c in cuts])), 3)
