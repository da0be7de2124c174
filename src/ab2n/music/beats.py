"""Track analysis: tempo, beats, downbeats, key, loudness, sections, ending, mood estimates."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, eq=False)
class TrackAnalysis:
    """What ab2n knows about a piece of music, from the audio alone.

    Attributes:
        duration_s: Length of the audio.
        tempo_bpm: Main tempo.
        beats_s: Beat times.
        downbeats_s: Bar starts (a subset of ``beats_s``).
        beats_per_bar: Meter numerator (3 or 4 usually).
        key: Tonic name ("C", "F#", ...); mode "major" or "minor".
        loudness_lufs: Integrated loudness.
        bar_energy: RMS energy per bar (0..1 normalised), aligned with ``downbeats_s``.
        section_starts_s: Section boundaries (on downbeats).
        ending_s: Where the music's natural ending begins (the last phrase), and ``end_s`` where
            its sound stops (after trimming trailing silence).
        valence, arousal: Mood estimates in [-1, 1].
        version: Analyser version (part of the cache key).
    """

    duration_s: float
    tempo_bpm: float
    beats_s: list[float]
    downbeats_s: list[float]
    beats_per_bar: int = 4
    key: str = "C"
    mode: str = "major"
    loudness_lufs: float = -14.0
    bar_energy: list[float] = field(default_factory=list)
    section_starts_s: list[float] = field(default_factory=list)
    ending_s: float = 0.0
    end_s: float = 0.0
    valence: float = 0.0
    arousal: float = 0.0
    version: str = "0"
