"""Speech-aware ducking: a gain envelope for the music, computed ahead of time.

Because the whole file is known, the envelope looks ahead: the music is already down when the
first syllable starts (a raised-cosine ramp that ends at the speech start), stays down through
short pauses (no pumping between words or sentences), comes only halfway back in pauses under
1.6 s (half the depth in dB: the music breathes without pumping to full level and down again
within a second), and all the way back after longer ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from ab2n.analyze.profile import Interval

ATTACK_S = 0.15
RELEASE_S = 0.5
HOLD_GAP_S = 0.8  # pauses shorter than this stay ducked
PARTIAL_GAP_S = 1.6  # pauses shorter than this (and longer than HOLD_GAP_S) come back halfway
PARTIAL_AMOUNT = 0.5  # of the depth in dB


def duck_regions(speech: Sequence[Interval], *, hold_gap_s: float = HOLD_GAP_S) -> list[tuple[float, float]]:
    """Speech intervals merged across pauses shorter than ``hold_gap_s``."""
    out: list[list[float]] = []
    for iv in sorted(speech, key=lambda i: i.start_s):
        if out and iv.start_s - out[-1][1] < hold_gap_s:
            out[-1][1] = max(out[-1][1], iv.end_s)
        else:
            out.append([iv.start_s, iv.end_s])
    return [(a, b) for a, b in out]


def duck_gain_db(
    times_s: np.ndarray,
    regions: Sequence[tuple[float, float]],
    depth_db: float,
    *,
    attack_s: float = ATTACK_S,
    release_s: float = RELEASE_S,
    partial_gap_s: float = PARTIAL_GAP_S,
) -> np.ndarray:
    """Gain in dB (0 or negative) at each time: ``-depth_db`` inside regions, raised-cosine ramps outside.

    Args:
        times_s: Times to evaluate (any shape), seconds on the music's timeline.
        regions: Ducked spans (from :func:`duck_regions`).
        depth_db: How far down (positive number).
        attack_s, release_s: Ramp lengths.
        partial_gap_s: Gaps between regions shorter than this stay at least half ducked
            (0 turns it off).
    """
    t = np.asarray(times_s, np.float64)
    amount = np.zeros_like(t)  # 0 = full level, 1 = fully ducked
    if t.size == 0:
        return amount
    lo, hi = float(t.min()) - release_s, float(t.max()) + attack_s
    ordered = sorted(regions)
    for (_, b0), (a1, _) in itertools.pairwise(ordered):
        if 0 < a1 - b0 < partial_gap_s and b0 <= hi and a1 >= lo:
            mid = (t > b0) & (t < a1)
            amount[mid] = PARTIAL_AMOUNT
    for a, b in ordered:
        # The mix asks block by block: only regions whose ramps reach this block matter (a 3-hour
        # talk has thousands of regions, and testing each against every block was quadratic).
        if b <= a or b < lo or a > hi:
            continue
        inside = (t >= a) & (t <= b)
        amount[inside] = 1.0
        pre = (t >= a - attack_s) & (t < a)
        x = (t[pre] - (a - attack_s)) / attack_s
        amount[pre] = np.maximum(amount[pre], 0.5 - 0.5 * np.cos(np.pi * x))
        post = (t > b) & (t <= b + release_s)
        x = (t[post] - b) / release_s
        amount[post] = np.maximum(amount[post], 0.5 + 0.5 * np.cos(np.pi * x))
    return -depth_db * amount
