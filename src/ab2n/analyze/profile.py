"""The result of video understanding: VideoProfile and its parts (data only, no logic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Interval:
    """A span of time in seconds, ``start_s < end_s``."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        """Length of the span."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Cut:
    """A hard cut: the first frame of the new shot.

    Attributes:
        time_s: Presentation time of the first frame after the cut.
        frame: Index of that frame (0-based).
        strength: 0..1, how different the shots are (1 = completely different).
    """

    time_s: float
    frame: int
    strength: float


@dataclass(frozen=True)
class Transition:
    """A gradual transition (fade or dissolve) from ``start_s`` to ``end_s``."""

    start_s: float
    end_s: float
    kind: Literal["fade_in", "fade_out", "dissolve"]


@dataclass(frozen=True)
class Section:
    """A stretch of similar energy, so the music can change with it."""

    start_s: float
    end_s: float
    energy: float  # 0..1 relative arousal of the stretch


@dataclass(frozen=True, eq=False)
class VideoProfile:
    """What ab2n understands of one input.

    Attributes:
        duration_s: Duration analysed.
        fps: Frame rate used for frame indices (0 for audio-only).
        cuts: Hard cuts, in time order.
        transitions: Fades and dissolves.
        speech: Speech intervals, padded for ducking, in time order, non-overlapping.
        sections: Stretches of similar energy covering [0, duration_s].
        features: Per-second features, each a list of ``ceil(duration_s)`` floats: "brightness",
            "saturation", "colourfulness", "warmth", "motion", "cut_rate", "audio_energy"
            (all roughly 0..1).
        valence: Per-second valence in [-1, 1].
        arousal: Per-second arousal in [-1, 1].
        mood: Global mood label from the catalog vocabulary ("calm", "happy", "energetic", "tender",
            "nostalgic", "epic", "dark", "sad", "romantic", "playful").
        mood_scores: Score per label (higher fits better).
        timings_s: Seconds spent per analysis step.
        audio_classes: What the original sound is in each whole second: "speech", "music",
            "noise" or "silence" (empty without audio, and in profiles cached before it existed).
    """

    duration_s: float
    fps: float = 0.0
    cuts: tuple[Cut, ...] = ()
    transitions: tuple[Transition, ...] = ()
    speech: tuple[Interval, ...] = ()
    sections: tuple[Section, ...] = ()
    features: dict[str, list[float]] = field(default_factory=dict)
    valence: list[float] = field(default_factory=list)
    arousal: list[float] = field(default_factory=list)
    mood: str = "calm"
    mood_scores: dict[str, float] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    audio_classes: tuple[str, ...] = ()

    @property
    def speech_fraction(self) -> float:
        """Share of the duration covered by speech."""
        if self.duration_s <= 0:
            return 0.0
        return min(1.0, sum(iv.duration_s for iv in self.speech) / self.duration_s)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times rounded to the millisecond)."""
        r = lambda x: round(float(x), 3)  # noqa: E731
        return {
            "duration_s": r(self.duration_s),
            "fps": r(self.fps),
            "cuts": [{"time_s": r(c.time_s), "frame": c.frame, "strength": r(c.strength)} for c in self.cuts],
            "transitions": [{"start_s": r(t.start_s), "end_s": r(t.end_s), "kind": t.kind} for t in self.transitions],
            "speech": [{"start_s": r(i.start_s), "end_s": r(i.end_s)} for i in self.speech],
            "sections": [{"start_s": r(s.start_s), "end_s": r(s.end_s), "energy": r(s.energy)} for s in self.sections],
            "features": {k: [r(v) for v in vs] for k, vs in self.features.items()},
            "valence": [r(v) for v in self.valence],
            "arousal": [r(v) for v in self.arousal],
            "mood": self.mood,
            "mood_scores": {k: r(v) for k, v in self.mood_scores.items()},
            "timings_s": {k: r(v) for k, v in self.timings_s.items()},
            "audio_classes": list(self.audio_classes),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> VideoProfile:
        """Inverse of :meth:`to_json` (for caches and the service)."""
        return cls(
            duration_s=float(d["duration_s"]),
            fps=float(d.get("fps", 0.0)),
            cuts=tuple(Cut(float(c["time_s"]), int(c["frame"]), float(c["strength"])) for c in d.get("cuts", [])),
            transitions=tuple(
                Transition(float(t["start_s"]), float(t["end_s"]), t["kind"]) for t in d.get("transitions", [])
            ),
            speech=tuple(Interval(float(i["start_s"]), float(i["end_s"])) for i in d.get("speech", [])),
            sections=tuple(
                Section(float(s["start_s"]), float(s["end_s"]), float(s["energy"])) for s in d.get("sections", [])
            ),
            features={k: [float(x) for x in v] for k, v in d.get("features", {}).items()},
            valence=[float(x) for x in d.get("valence", [])],
            arousal=[float(x) for x in d.get("arousal", [])],
            mood=str(d.get("mood", "calm")),
            mood_scores={k: float(v) for k, v in d.get("mood_scores", {}).items()},
            timings_s={k: float(v) for k, v in d.get("timings_s", {}).items()},
            audio_classes=tuple(str(c) for c in d.get("audio_classes", [])),
        )
