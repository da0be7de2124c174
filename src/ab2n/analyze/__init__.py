"""Video understanding: analyze(info) -> VideoProfile (cuts, transitions, speech, mood, sections)."""

from __future__ import annotations

import contextlib
import ctypes
import math
import time
from collections.abc import Callable

import numpy as np

from ab2n.analyze import mood as mood_mod
from ab2n.analyze.audio_classes import classify_seconds
from ab2n.analyze.parallel import scan_video_fast
from ab2n.analyze.profile import Cut, Interval, Section, Transition, VideoProfile
from ab2n.analyze.scenes import detect_cuts, detect_transitions, layout_changes, pair_scores
from ab2n.analyze.speech import SAMPLE_RATE, AudioListener, speech_intervals
from ab2n.analyze.visual import FrameScan, frame_features, small_rgb
from ab2n.media.container import open_container
from ab2n.media.decode import iter_audio_blocks
from ab2n.media.probe import MediaInfo

__all__ = ["Cut", "Interval", "Section", "Transition", "VideoProfile", "analyze"]


def analyze(
    info: MediaInfo, *, progress: Callable[[float], None] | None = None, workers: int | None = None
) -> VideoProfile:
    """Understand one input.

    Args:
        info: A probed file (video, audio or image).
        progress: Called with 0..1.
        workers: Processes a long video's picture may be decoded on (None: one a core; 1: this
            process only). The results are the same either way, to within a frame's motion at
            each chunk seam.

    Returns:
        The VideoProfile. Audio-only inputs get speech, audio energy and an audio-only mood; images
        get colour features and a mood; only videos get cuts.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    duration = info.duration_s
    n_sec = max(1, math.ceil(duration)) if duration > 0 else 1
    cuts: list[Cut] = []
    transitions: list[Transition] = []
    listener: AudioListener | None = None
    feats: dict[str, np.ndarray] = {}

    if info.kind == "video":
        scan = scan_video_fast(info, workers=workers, progress=(lambda f: progress(0.9 * f)) if progress else None)
        timings["decode"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        layout = layout_changes(scan)
        score = pair_scores(scan, layout)
        cuts = detect_cuts(scan, fps=info.fps, score=score, layout=layout)
        transitions = detect_transitions(scan, cuts, fps=info.fps, score=score)
        timings["cuts"] = time.perf_counter() - t1
        feats = _per_second_visual(scan, cuts, n_sec)
        listener = scan.audio
        del scan  # ~620 bytes a frame: 200 MB for 3 hours, not needed by the mix that follows
        _return_freed_memory()
    elif info.kind == "image":
        feats = _image_features(info, n_sec)
    if info.kind == "audio" and info.has_audio:
        t1 = time.perf_counter()
        listener = AudioListener()
        for block in iter_audio_blocks(info.path, sample_rate=SAMPLE_RATE, demuxer=info.demuxer):
            listener.feed(block)
        listener.finish()
        timings["decode_audio"] = time.perf_counter() - t1

    t1 = time.perf_counter()
    speech: list[Interval] = []
    if listener is not None and listener.probs:
        speech = speech_intervals(
            np.asarray(listener.probs, np.float32),
            listener.hop_s,
            duration_s=duration,
            energy_db=listener.energy_db,
        )
    classes: list[str] = []
    if listener is not None and listener.probs:
        classes = classify_seconds(listener.classifier, listener.probs, listener.hop_s, n_sec)
    timings["speech"] = time.perf_counter() - t1

    feats["audio_energy"] = _audio_energy(listener.second_energy if listener else [], n_sec)
    for key in ("brightness", "saturation", "colourfulness", "warmth", "motion", "cut_rate"):
        feats.setdefault(key, np.full(n_sec, 0.0 if key in ("motion", "cut_rate") else 0.4))
    speech_fraction = min(1.0, sum(i.duration_s for i in speech) / duration) if duration > 0 else 0.0
    valence, arousal = mood_mod.valence_arousal(feats, speech_fraction=speech_fraction)
    scores = mood_mod.mood_scores(valence, arousal)
    label = mood_mod.label_mood(scores)
    secs = mood_mod.sections(arousal)
    timings["total"] = time.perf_counter() - t0
    if progress:
        progress(1.0)
    return VideoProfile(
        duration_s=duration,
        fps=info.fps,
        cuts=tuple(cuts),
        transitions=tuple(transitions),
        speech=tuple(speech),
        sections=tuple(secs),
        features={k: [float(x) for x in v] for k, v in feats.items()},
        valence=[float(x) for x in valence],
        arousal=[float(x) for x in arousal],
        mood=label,
        mood_scores=scores,
        timings_s=timings,
        audio_classes=tuple(classes),
    )


def _per_second(times: np.ndarray, values: np.ndarray, n_sec: int) -> np.ndarray:
    """Mean of per-frame values within each whole second (carry the previous second if empty)."""
    idx = np.minimum(times.astype(int), n_sec - 1) if len(times) else np.zeros(0, int)
    sums = np.bincount(idx, weights=values, minlength=n_sec)[:n_sec]
    counts = np.bincount(idx, minlength=n_sec)[:n_sec]
    out = np.zeros(n_sec)
    last = float(values[0]) if len(values) else 0.0
    for i in range(n_sec):
        if counts[i]:
            last = sums[i] / counts[i]
        out[i] = last
    return out


def _per_second_visual(scan: FrameScan, cuts: list[Cut], n_sec: int) -> dict[str, np.ndarray]:
    t = scan.times_s
    motion = scan.diffs.copy()
    for c in cuts:  # a cut is not motion
        motion[c.frame] = 0.0
    cut_counts = np.zeros(n_sec)
    for c in cuts:
        cut_counts[min(n_sec - 1, int(c.time_s))] += 1
    # Cut rate: cuts per second over a 10 s window (Hanjalic & Xu's "rhythm" component).
    cut_rate = mood_mod.smooth(cut_counts, 10)
    return {
        "brightness": _per_second(t, scan.brightness, n_sec),
        "saturation": _per_second(t, scan.saturation, n_sec),
        "colourfulness": _per_second(t, scan.colourfulness, n_sec),
        "warmth": _per_second(t, scan.warmth, n_sec),
        "motion": _per_second(t, motion, n_sec),
        "cut_rate": cut_rate,
    }


def _image_features(info: MediaInfo, n_sec: int) -> dict[str, np.ndarray]:
    with open_container(info.path, info.demuxer) as c:
        frame = next(c.decode(video=0))
        small = small_rgb(frame)
    _, b, s, cf, w = frame_features(small)
    return {
        k: np.full(n_sec, v) for k, v in {"brightness": b, "saturation": s, "colourfulness": cf, "warmth": w}.items()
    }


def _audio_energy(mean_squares: list[float], n_sec: int) -> np.ndarray:
    """Per-second RMS level mapped from -60..0 dBFS to 0..1."""
    out = np.zeros(n_sec)
    for i, ms in enumerate(mean_squares[:n_sec]):
        db = 10 * math.log10(ms + 1e-12)
        out[i] = min(1.0, max(0.0, (db + 60) / 60))
    return out


def _return_freed_memory() -> None:
    """Ask glibc to give freed heap pages back to the OS.

    The chunk workers' arrays arrive as thousands of ~200 KB buffers; once freed they stay in the
    heap (glibc's mmap threshold grows past them), so the process would carry the scan's high-water
    mark through the whole mix. Elsewhere than glibc this is a no-op.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
