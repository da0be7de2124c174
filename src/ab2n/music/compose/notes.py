"""Notes and the clock that turns score positions (beats) into seconds on the tempo map (pure)."""

from __future__ import annotations

from dataclasses import dataclass

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
        self.bars = max(0, (len(plan.beats_s) - self.offset) // self.meter)

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
        return (i - self.offset) // self.meter if i >= self.offset else -1

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


def note(clock: Clock, pos: float, dur_beats: float, pitch: int, vel: float, voice: str, pan: float = 0.0) -> Note:
    """A note at a beat position lasting ``dur_beats`` (cut at the end of the music)."""
    t0 = clock.at(pos)
    t1 = min(clock.at(pos + dur_beats), clock.plan.duration_s)
    return Note(t0, max(0.01, t1 - t0), pitch, float(np.clip(vel, 0.0, 1.0)), voice, pan)
