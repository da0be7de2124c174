"""Hard cuts and gradual transitions from a FrameScan.

Two measures per frame pair, as in PySceneDetect's content/histogram detectors: the mean absolute
difference of 16x9 colour thumbnails (catches cuts between shots of similar colour) and the L1
distance of hue/saturation histograms (robust to motion and camera shake). A frame is a cut when
its score stands out from its neighbours (adaptive, like AdaptiveDetector) AND is large in itself.
A flash (a few bright frames that return to the same shot) is rejected by comparing the frames
after the spike with the frame before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from ab2n.analyze.profile import Cut, Transition
from ab2n.analyze.visual import FrameScan

MIN_SCORE = 0.10  # absolute floor: below this nothing is a cut, however still the neighbours are
RATIO = 2.5  # a cut's score must be this many times its neighbourhood's
WINDOW = 8  # frames each side for the neighbourhood
MIN_SHOT_S = 0.25  # two cuts closer than this: keep the stronger
# A cut changes the picture's layout, not only its colour statistics: an I-frame's fresh grain moves
# the histogram of a pale, grainy shot by ~0.12 but its 16x9 thumbnail by only ~0.02; a cut between
# two similar blue gradients still moves the thumbnail by ~0.07.
MIN_LAYOUT_CHANGE = 0.04


# Frame-to-frame differences are taken this many frames at a time: on a 3-hour video the
# thumbnails as float32 were ~560 MB, and the difference of two shifted copies twice that.
BLOCK_FRAMES = 2048


def _blocked_steps(rows: np.ndarray, step: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``step(rows[a-1:b])`` (one value per consecutive pair) over blocks, as one float32 array."""
    n = len(rows)
    out = np.zeros(max(0, n - 1), np.float32)
    for a in range(1, n, BLOCK_FRAMES):
        b = min(n, a + BLOCK_FRAMES)
        out[a - 1 : b - 1] = step(rows[a - 1 : b])
    return out


def _thumbnail_steps(sig: np.ndarray) -> np.ndarray:
    s = sig.astype(np.int16)  # exact differences of uint8 in 2 bytes, not 4
    return np.abs(s[1:] - s[:-1]).mean(axis=(1, 2, 3)) / 255.0


def _histogram_steps(hists: np.ndarray) -> np.ndarray:
    soft = _soften(hists)
    return 0.5 * np.abs(soft[1:] - soft[:-1]).sum(axis=1)


def layout_changes(scan: FrameScan) -> np.ndarray:
    """Mean absolute difference of each frame's 16x9 thumbnail to the previous one's (0..1, 0 first)."""
    n = len(scan.times_s)
    if n < 2:
        return np.zeros(n, np.float32)
    return np.concatenate([[0.0], _blocked_steps(scan.signatures, _thumbnail_steps)]).astype(np.float32)


def pair_scores(scan: FrameScan, layout: np.ndarray | None = None) -> np.ndarray:
    """Score of each frame against the previous one (0 for the first), roughly 0..1.

    ``layout`` is :func:`layout_changes` of ``scan`` when the caller already has it.
    """
    n = len(scan.times_s)
    if n < 2:
        return np.zeros(n, np.float32)
    d_sig = (layout if layout is not None else layout_changes(scan))[1:]
    d_hist = _blocked_steps(scan.hists, _histogram_steps)
    # Thumbnail difference saturates around 0.3 for unrelated shots; rescale to share the hist's 0..1.
    score = 0.5 * np.minimum(1.0, d_sig / 0.3) + 0.5 * d_hist
    return np.concatenate([[0.0], score]).astype(np.float32)


def _soften(hists: np.ndarray) -> np.ndarray:
    """Spread each hue bin half into its neighbours (circularly), so a colour sitting on a bin
    boundary doesn't flip the whole histogram when coding noise nudges it."""
    from ab2n.analyze.visual import GREY_BINS, HUE_BINS, SAT_BINS

    n = len(hists)
    hue = hists[:, : HUE_BINS * SAT_BINS].reshape(n, HUE_BINS, SAT_BINS)
    soft = 0.5 * hue + 0.25 * np.roll(hue, 1, axis=1) + 0.25 * np.roll(hue, -1, axis=1)
    grey = hists[:, HUE_BINS * SAT_BINS :]
    grey_soft = grey.copy()
    if GREY_BINS > 1:
        grey_soft = (
            0.5 * grey
            + 0.25 * np.pad(grey, ((0, 0), (1, 0)), mode="edge")[:, :-1]
            + 0.25 * np.pad(grey, ((0, 0), (0, 1)), mode="edge")[:, 1:]
        )
    return np.concatenate([soft.reshape(n, -1), grey_soft], axis=1)


def _sig_distance(scan: FrameScan, i: int, j: int) -> float:
    a = scan.signatures[i].astype(np.float32)
    b = scan.signatures[j].astype(np.float32)
    return float(np.abs(a - b).mean() / 255.0 / 0.3)


def detect_cuts(
    scan: FrameScan, *, fps: float, score: np.ndarray | None = None, layout: np.ndarray | None = None
) -> list[Cut]:
    """Hard cuts: the first frame of each new shot, frame-accurate.

    Args:
        scan: The frame measurements.
        fps: Nominal frame rate (for the minimum shot length).
        score, layout: :func:`pair_scores` and :func:`layout_changes` of ``scan`` when the caller
            has them (shared with :func:`detect_transitions`; on a 3-hour video each computation
            reads 200 MB of rows).
    """
    if layout is None:
        layout = layout_changes(scan)
    if score is None:
        score = pair_scores(scan, layout)
    n = len(score)
    cuts: list[Cut] = []
    min_gap = max(1, round(MIN_SHOT_S * (fps or 30)))
    for i in range(1, n):
        s = float(score[i])
        if s < MIN_SCORE or layout[i] < MIN_LAYOUT_CHANGE:
            continue
        lo, hi = max(1, i - WINDOW), min(n, i + WINDOW + 1)
        neigh = np.concatenate([score[lo:i], score[i + 1 : hi]])
        base = float(np.mean(neigh)) if len(neigh) else 0.0
        if s < RATIO * base + 0.02:
            continue
        if _is_flash(scan, score, i):
            continue
        if s < 0.3 and i >= WINDOW and float(score[i - WINDOW : i].min()) >= 0.03:
            continue  # the last step of a dissolve: a run of steady change ending in a slightly larger one
        strength = float(min(1.0, s))
        if cuts and i - cuts[-1].frame < min_gap:
            if strength > cuts[-1].strength:
                cuts[-1] = Cut(float(scan.times_s[i]), i, strength)
            continue
        cuts.append(Cut(float(scan.times_s[i]), i, strength))
    return cuts


def _is_flash(scan: FrameScan, score: np.ndarray, i: int) -> bool:
    """True if frames shortly after ``i`` look like the frame before it (a flash, not a new shot)."""
    n = len(score)
    before = _sig_distance(scan, i - 1, i)
    for k in range(1, 5):
        j = i + k
        if j >= n:
            break
        if _sig_distance(scan, i - 1, j) < 0.35 * before:
            return True  # the shot comes back after the spike
    for k in range(2, 6):
        j = i - k
        if j < 0:
            break
        if _sig_distance(scan, j, i) < 0.35 * before and score[j + 1] >= MIN_SCORE:
            return True  # this is the return edge of a spike that started a few frames ago
    return False


def detect_transitions(
    scan: FrameScan, cuts: list[Cut], *, fps: float, score: np.ndarray | None = None
) -> list[Transition]:
    """Fades and dissolves: a steady run of moderate change that adds up to a shot change.

    A run of at least ~0.4 s where every frame changes a little (above the still-shot noise, below a
    cut) and the frames at its ends differ like two shots; fades to/from black are told apart by the
    brightness at the ends. ``score`` is :func:`pair_scores` of ``scan`` when the caller has it.
    """
    if score is None:
        score = pair_scores(scan)
    n = len(score)
    if n < 4:
        return []
    cut_frames = {c.frame for c in cuts}
    min_len = max(4, round(0.4 * (fps or 30)))
    out: list[Transition] = []
    i = 2
    while i < n:
        # Baseline: the typical change of the frames just before (a pan or a zoom changes steadily too).
        base = float(np.median(score[max(1, i - 15) : i]))
        if i in cut_frames or not (max(0.02, 1.8 * base + 0.01) <= score[i] < 0.5):
            i += 1
            continue
        j = i
        keep = 1.3 * base + 0.005  # hysteresis: a dissolve's change fades as it ends
        while j + 1 < n and keep <= score[j + 1] < 0.5 and (j + 1) not in cut_frames:
            j += 1
        # A run that fills a shot from a cut is a moving shot (a zoom), not a transition.
        bounded_by_cuts = (i - 1) in cut_frames or (j + 1) in cut_frames
        if j - i + 1 >= min_len and not bounded_by_cuts:
            total = _sig_distance(scan, i - 1, j)
            if total > 0.5:
                b0, b1 = float(scan.brightness[i - 1]), float(scan.brightness[j])
                kind: Literal["fade_in", "fade_out", "dissolve"] = (
                    "fade_out" if b1 < 0.06 else "fade_in" if b0 < 0.06 else "dissolve"
                )
                out.append(Transition(float(scan.times_s[i - 1]), float(scan.times_s[j]), kind))
        i = j + 1
    return out
