"""Remix one track (or several of one mood and tempo) into a MusicPlan that fits the video."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BarSegment:
    """A run of whole bars of a source track placed on the output timeline.

    Attributes:
        src_path: Source audio file.
        src_start_s, src_end_s: Span in the source (both on the beat grid).
        dst_start_s: Where it starts in the output (music timeline, 0 = music start).
        stretch: Tempo ratio applied (1.0 = none; 1.02 = 2 % faster), pitch kept; within 0.96..1.04.
        crossfade_s: Equal-power crossfade with the previous segment (0 for the first).
    """

    src_path: Path
    src_start_s: float
    src_end_s: float
    dst_start_s: float
    stretch: float = 1.0
    crossfade_s: float = 0.0

    @property
    def dst_end_s(self) -> float:
        """End on the output timeline."""
        return self.dst_start_s + (self.src_end_s - self.src_start_s) / self.stretch


@dataclass(frozen=True, eq=False)
class MusicPlan:
    """How the music is built for one video.

    Attributes:
        track_id: The (main) track's id; track_title for people.
        duration_s: Length of the music (equals the span it covers on the video, to the frame).
        segments: Bar segments in output order.
        fade_out_s: Fade on the last tail only (the track's real ending carries the rest).
        beats_s, downbeats_s: The beat grid on the output timeline (for plots and checks).
        cuts_on_beat, cuts_on_downbeat: How many video cuts land within 50 ms of a beat/downbeat.
        cuts_total: Cuts considered.
        mood, tempo_bpm: Of the chosen music.
    """

    track_id: str
    track_title: str
    duration_s: float
    segments: tuple[BarSegment, ...]
    fade_out_s: float = 0.0
    beats_s: list[float] = field(default_factory=list)
    downbeats_s: list[float] = field(default_factory=list)
    cuts_on_beat: int = 0
    cuts_on_downbeat: int = 0
    cuts_total: int = 0
    mood: str | None = None
    tempo_bpm: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (stored in the draft's BGM segment)."""
        return {
            "track_id": self.track_id,
            "track_title": self.track_title,
            "duration_s": round(self.duration_s, 4),
            "segments": [
                {
                    "src": str(s.src_path),
                    "src_start_s": round(s.src_start_s, 4),
                    "src_end_s": round(s.src_end_s, 4),
                    "dst_start_s": round(s.dst_start_s, 4),
                    "stretch": round(s.stretch, 5),
                    "crossfade_s": round(s.crossfade_s, 4),
                }
                for s in self.segments
            ],
            "fade_out_s": round(self.fade_out_s, 3),
            "beats_s": [round(b, 4) for b in self.beats_s],
            "downbeats_s": [round(b, 4) for b in self.downbeats_s],
            "cuts_on_beat": self.cuts_on_beat,
            "cuts_on_downbeat": self.cuts_on_downbeat,
            "cuts_total": self.cuts_total,
            "mood": self.mood,
            "tempo_bpm": round(self.tempo_bpm, 2),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MusicPlan:
        """Inverse of :meth:`to_json`."""
        return cls(
            track_id=d["track_id"],
            track_title=d.get("track_title", d["track_id"]),
            duration_s=float(d["duration_s"]),
            segments=tuple(
                BarSegment(
                    src_path=Path(s["src"]),
                    src_start_s=float(s["src_start_s"]),
                    src_end_s=float(s["src_end_s"]),
                    dst_start_s=float(s["dst_start_s"]),
                    stretch=float(s.get("stretch", 1.0)),
                    crossfade_s=float(s.get("crossfade_s", 0.0)),
                )
                for s in d["segments"]
            ),
            fade_out_s=float(d.get("fade_out_s", 0.0)),
            beats_s=list(d.get("beats_s", [])),
            downbeats_s=list(d.get("downbeats_s", [])),
            cuts_on_beat=int(d.get("cuts_on_beat", 0)),
            cuts_on_downbeat=int(d.get("cuts_on_downbeat", 0)),
            cuts_total=int(d.get("cuts_total", 0)),
            mood=d.get("mood"),
            tempo_bpm=float(d.get("tempo_bpm", 0.0)),
        )
