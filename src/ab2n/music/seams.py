"""How audible an edit of the music is, from the track's analysis (no audio needed).

An edit leaves the source at one beat and enters it at another (a loop back to an earlier bar,
the entry into the ending phrase). The listener hears the sound just before the beat it leaves
next to the sound just after the beat it enters. The music itself changes at every beat (a note,
a drum hit, a new chord at the bar line), so what makes a seam heard is how far it departs from
what the music does there anyway: the sound before the seam against the sound the music has
before the beat it enters, and the sound after the seam against what would have followed the
beat it leaves. Both are 0 for a jump between two repeats of a bar. The sum's half is divided by
the track's median change at its own beats, so 1 means the seam departs from the music as much
as one of its beats changes the sound.

The distance is the bench's ``seam_audibility`` one (mean absolute log-magnitude difference
plus level difference / 10 dB, windows 46 ms apart), read from per-beat band spectra
(``TrackAnalysis.sound_before_beat`` / ``sound_after_beat``) so the arrangement can compare
candidate seams before choosing one. The plain change across the seam (the sound before the
beat left against the sound after the beat entered) was tried first: it made the jumps quieter
by the bench's measure, but it did so by preferring downbeats where the music changes little,
weakening the bar lines a listener (and ab2n's analyser run blind) hears (issue 17 in
docs/music-engine.md).
"""

from __future__ import annotations

import numpy as np

from ab2n.music.beats import TrackAnalysis

#: What a seam of unknown audibility costs (an analysis without beat edges): as much as a beat.
UNKNOWN = 1.0


class SeamCosts:
    """Audibility of the seams between beats of one analysed track."""

    def __init__(self, analysis: TrackAnalysis) -> None:
        """Read the per-beat edges and the track's own change at its beats (the reference)."""
        n = len(analysis.beats_s)
        ok = len(analysis.sound_before_beat) == n and len(analysis.sound_after_beat) == n and n > 0
        self._before = np.asarray(analysis.sound_before_beat, float) if ok else None
        self._after = np.asarray(analysis.sound_after_beat, float) if ok else None
        self._ref = 1.0
        if self._before is not None and self._after is not None:
            own = float(np.median(_distance(self._before, self._after)))
            self._ref = own if own > 0 else 1.0

    def __call__(self, leave: int, enter: int) -> float:
        """Audibility of leaving the source at beat ``leave`` (the beat that would have played next:
        the sound up to its start is kept) and entering it at beat ``enter``. 0 when ``leave`` is
        ``enter`` (no seam: the source runs on); beats past the analysis count as unknown."""
        if leave == enter:
            return 0.0
        if self._before is None or self._after is None:
            return UNKNOWN
        n = len(self._before)
        if not (0 <= leave < n and 0 <= enter < n):
            return UNKNOWN
        # What the seam puts before the entered beat against what the music itself has there, and
        # what follows it against what would have followed the beat left.
        unlike = _distance(self._before[leave], self._before[enter]) + _distance(self._after[leave], self._after[enter])
        return float(unlike) / 2 / self._ref


def _distance(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The bench's change between two sounds: mean |band difference| + |level difference| (dB/10)."""
    return np.abs(before[..., 1:] - after[..., 1:]).mean(axis=-1) + np.abs(before[..., 0] - after[..., 0])
