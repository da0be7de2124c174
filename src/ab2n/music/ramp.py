"""Tempo ramps: a change of stretch between two runs of a plan spread over several beats.

The arrangement lands each cut by playing a whole number of beats between landed cuts at one
stretch per run (up to ±10 %). Two runs side by side may differ by up to 20 % in tempo, and a
step that size is heard as a stumble. :func:`ramp_tempo` rewrites every segment whose stretch
differs from the tempo that precedes it by more than ``max_step`` into per-beat pieces: the
first beats ramp linearly from the previous tempo, at most ``max_step`` per beat, to a held
tempo chosen so the segment still ends exactly where it did. Every landing of the plan stays
where it was, to the sample; the pieces start on source beats and join with a short equal-power
crossfade (the bed renders each piece at its own constant stretch).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ab2n.music.arrange import BarSegment

#: Largest tempo change from one beat to the next inside a ramp (2 %: 8 % over a 4/4 bar).
RAMP_STEP = 0.02
#: How far past the arrangement's stretch limit a ramp's held tempo may go to keep its end.
RAMP_OVERSHOOT = 0.02
#: Crossfade between the pieces of a ramp (one beat to the next of the same source).
RAMP_XFADE_S = 0.012


def ramp_tempo(
    segments: Sequence[BarSegment],
    beats_s: Sequence[float],
    *,
    max_stretch: float,
    max_step: float = RAMP_STEP,
) -> tuple[BarSegment, ...]:
    """Spread each large tempo change over a ramp of beats; segment ends stay where they are.

    Args:
        segments: The plan's segments in output order (each at one stretch).
        beats_s: The source track's beat times (pieces are cut at these).
        max_stretch: The arrangement's stretch limit (0.10 = ±10 %).
        max_step: Largest change of stretch from one beat to the next.

    Returns:
        The segments, the ramped ones replaced by their pieces. Where no ramp at ``max_step`` per
        beat fits, the steps grow (up to 3x); a segment too short to ramp at all is left as it is
        (a step; :func:`largest_step` reports it).
    """
    beats = np.asarray(beats_s, float)
    out: list[BarSegment] = []
    prev: float | None = None
    for seg in segments:
        pieces = None
        if prev is not None and abs(seg.stretch - prev) > max_step + 1e-9 and not seg.fade_out_s:
            # The gentlest ramp that fits: a long change in a short segment needs steeper steps.
            for steep in (1.0, 1.5, 2.0, 3.0):
                pieces = _ramped(seg, prev, beats, max_stretch + RAMP_OVERSHOOT, max_step * steep)
                if pieces:
                    break
        out.extend(pieces or [seg])
        prev = out[-1].stretch
    return tuple(out)


def _ramped(seg: BarSegment, prev: float, beats: np.ndarray, limit: float, max_step: float) -> list[BarSegment] | None:
    """``seg`` as per-beat pieces ramping from ``prev``; None when no ramp fits."""
    inner = beats[(beats > seg.src_start_s + 1e-3) & (beats < seg.src_end_s - 1e-3)]
    bounds = np.concatenate([[seg.src_start_s], inner, [seg.src_end_s]])
    lens = np.diff(bounds)
    if len(lens) < 2:
        return None
    target = (seg.src_end_s - seg.src_start_s) / seg.stretch
    ramp_n = min(len(lens) - 1, max(2, math.ceil(abs(seg.stretch - prev) / max_step)))

    def shape(held: float) -> np.ndarray:
        k = np.minimum(1.0, (np.arange(len(lens)) + 1) / ramp_n)
        return prev + (held - prev) * k

    def out_len(held: float) -> float:
        return float((lens / shape(held)).sum())

    lo, hi = 1 - limit, 1 + limit
    if not out_len(hi) <= target <= out_len(lo):
        return None
    for _ in range(60):  # bisection: the output length falls as the held tempo rises
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if out_len(mid) > target else (lo, mid)
    held = 0.5 * (lo + hi)
    stretches = shape(held)
    if abs(stretches[0] - prev) > max_step * 1.5 or np.any(np.abs(np.diff(stretches)) > max_step * 1.5):
        return None
    pieces, t = [], seg.dst_start_s
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        xf = seg.crossfade_s if i == 0 else RAMP_XFADE_S
        pieces.append(
            replace(
                seg,
                src_start_s=float(a),
                src_end_s=float(b),
                dst_start_s=t,
                stretch=float(stretches[i]),
                crossfade_s=xf,
            )
        )
        t += (b - a) / stretches[i]
    return pieces


def largest_step(segments: Sequence[BarSegment]) -> float:
    """The largest change of stretch between consecutive segments (a tempo step, as a ratio)."""
    steps = [abs(b.stretch - a.stretch) for a, b in itertools.pairwise(segments)]
    return max(steps, default=0.0)


def output_grid(
    segments: Sequence[BarSegment], beats_s: Sequence[float], downbeats_s: Sequence[float]
) -> tuple[list[float], list[float]]:
    """Where the source's beats and downbeats fall on the output timeline, segment by segment."""
    beats = np.asarray(beats_s, float)
    down = np.asarray(downbeats_s, float)
    out_b: list[float] = []
    out_d: list[float] = []
    for seg in segments:
        for src, dst in ((beats, out_b), (down, out_d)):
            sel = src[(src >= seg.src_start_s - 1e-6) & (src < seg.src_end_s - 1e-6)]
            dst.extend(float(seg.dst_start_s + (b - seg.src_start_s) / seg.stretch) for b in sel)
    return out_b, out_d
