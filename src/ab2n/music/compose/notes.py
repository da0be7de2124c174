"""Notes and the clock that turns score positions (beats) into seconds on the tempo map (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ab2n.music.compose.plan import ScorePlan


@dataclass(frozen=True)
class Note:
    """One sounding event of a stem.

    Attributes:
        start_s, dur_s: When and how long it is held (seconds, music time).
        pitch: MIDI note number (drums: 0, ``voice`` names the drum).
        vel: 0..1.
        voice: synth.py voice ("piano", "kick", ...).
        pan: -1 (left) .. 1 (right).
    """

    start_s: float
    dur_s: float
    pitch: int
    vel: float
    voice: str
    pan: float = 0.0


class Clock:
    """Beat positions -> seconds. Position 0 is the first downbeat; the pickup beats before it are
    negative; a fraction of a beat follows that beat's own length (the map is smooth, so it is
    locally even)."""

    def __init__(self, plan: ScorePlan) -> None:
        self.plan = plan
        self.meter = plan.beats_per_bar
        self.offset = plan.first_bar_beat  # index in beats_s of position 0
        self.grid = np.asarray([*plan.beats_s, plan.duration_s], float)
        starts = plan.bar_starts  # beat indices; a changed bar (plan.bar_lengths) is shorter or longer
        self.starts = [i - self.offset for i in starts] + [len(plan.beats_s) - self.offset]
        self.bars = len(starts)

    def bar_pos(self, bar: int) -> float:
        """Beat position of a bar's first beat (bars past the end continue in whole bars)."""
        if bar < 0:
            return float(bar * self.meter)
        if bar < len(self.starts):
            return float(self.starts[bar])
        return float(self.starts[-1] + (bar - len(self.starts) + 1) * self.meter)

    def bar_len(self, bar: int) -> int:
        """Beats in a bar (``meter`` but for the plan's changed bars)."""
        if 0 <= bar < self.bars:
            return self.starts[bar + 1] - self.starts[bar]
        return self.meter

    def at(self, pos: float) -> float:
        """Seconds at a beat position (clamped to the music)."""
        x = pos + self.offset
        i = int(np.clip(np.floor(x), 0, len(self.grid) - 2))
        frac = x - i
        return float(self.grid[i] + frac * (self.grid[i + 1] - self.grid[i]))

    def beat_s(self, pos: float) -> float:
        """Length of the beat at a position."""
        i = int(np.clip(np.floor(pos + self.offset), 0, len(self.grid) - 2))
        return float(self.grid[i + 1] - self.grid[i])

    def bar_of(self, t: float) -> int:
        """The bar a time falls in (-1 for the pickup)."""
        i = int(np.searchsorted(self.grid, t, side="right")) - 1
        if i < self.offset:
            return -1
        return min(self.bars - 1, int(np.searchsorted(self.starts, i - self.offset, side="right")) - 1)

    def level(self, bar: int) -> float:
        """Dynamics (0..1) of a bar."""
        lv = self.plan.bar_levels
        return float(lv[min(max(bar, 0), len(lv) - 1)]) if lv else 0.6

    def section(self, bar: int) -> str:
        """Name of the section a bar is in ("intro" for the pickup)."""
        for s in self.plan.sections:
            if s.start_bar <= bar < s.end_bar:
                return s.name
        return "intro" if bar < 0 else "outro"

    def speech_at(self, t0: float, t1: float) -> bool:
        """Whether someone speaks during any of [t0, t1)."""
        return any(a < t1 and b > t0 for a, b in self.plan.speech)


def fit_bar(events: Sequence[tuple[Any, ...]], beats: int, meter: int = 4) -> list[tuple[Any, ...]]:
    """A one-bar rhythm of ``(position, length, ...)`` in ``meter`` beats fitted to a bar of
    ``beats``: events past the bar dropped, lengths cut at its end; a longer bar repeats the last
    beat's events on its extra beats."""
    out = [(pos, min(dur, beats - pos), *rest) for pos, dur, *rest in events if pos < beats]
    for extra in range(meter, beats):
        out += [(pos + extra - meter + 1, dur, *rest) for pos, dur, *rest in events if meter - 1 <= pos < meter]
    return out


def note(clock: Clock, pos: float, dur_beats: float, pitch: int, vel: float, voice: str, pan: float = 0.0) -> Note:
    """A note at a beat position lasting ``dur_beats`` (cut at the end of the music)."""
    t0 = clock.at(pos)
    t1 = min(clock.at(pos + dur_beats), clock.plan.duration_s)
    return Note(t0, max(0.01, t1 - t0), pitch, float(np.clip(vel, 0.0, 1.0)), voice, pan)
