"""The draft (timeline): what the chat edits and what render renders.

Serialised with the short keys of the cloud protocol (shared/SPEC.md):

    {"v": 1, "d": 10000,                          # schema version, duration in ms
     "m": {"aspect": "source", "fit": "pad", "audio": "keep", "lufs": -14.0, "duck": "default"},
     "t": [{"tt": 0, "n": "Video", "sg": [{"mid": "m1", "s": 0, "d": 10000, "in": 0, "n": "city"}]},
           {"tt": 1, "n": "BGM",   "sg": [{"s": 0, "d": 10000, "vol": 0.35, "fi": 0, "fo": 2000,
                                            "mood": "calm", "tid": "bundled:calm_acoustic_1", ...}]},
           {"tt": 7, "n": "Title", "sg": [{"s": 0, "d": 3000, "text": "Urban Dreams", "pos": "center"}]}]}

In Python the draft is a frozen dataclass; edits (timeline/edits.py) are pure Draft -> Draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 1

TT_VIDEO = 0
TT_AUDIO = 1
TT_TEXT = 7

Aspect = Literal["source", "1080p", "vertical", "square", "portrait"]
Fit = Literal["pad", "crop"]


@dataclass(frozen=True)
class VideoSegment:
    """A piece of an input on the main track.

    Attributes:
        media_id: Id of the media (a key of the media table handed to render).
        start_ms: Where it starts on the timeline.
        duration_ms: How long it plays.
        in_ms: Where it starts inside the source.
        name: Human label ("city timelapse").
    """

    media_id: str
    start_ms: int
    duration_ms: int
    in_ms: int = 0
    name: str = ""


@dataclass(frozen=True)
class MusicSegment:
    """The background music (BGM) and the wishes that chose it.

    Attributes:
        start_ms, duration_ms: Span of the music on the timeline.
        volume: Level relative to a full-level bed (1.0 = 100 %); None = automatic.
        fade_in_ms, fade_out_ms: Fades (None = automatic).
        mood, genres, instruments, tempo: The user's wishes ("auto"/None = from the video).
        source: A user-given file or folder, if any.
        track_id, track_title: The chosen track once chosen.
        plan: The MusicPlan JSON once arranged (music.arrange.MusicPlan.to_json()).
        seed: Selection seed; tried: track ids already used (for "try another track").
    """

    start_ms: int
    duration_ms: int
    volume: float | None = None
    fade_in_ms: int | None = None
    fade_out_ms: int | None = None
    mood: str | None = None
    genres: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    tempo: str | None = None
    source: str | None = None
    track_id: str | None = None
    track_title: str | None = None
    plan: dict[str, Any] | None = field(default=None, compare=True, hash=False)
    seed: int = 0
    tried: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextSegment:
    """A title or caption burned into the picture."""

    text: str
    start_ms: int
    duration_ms: int
    position: Literal["top", "center", "bottom"] = "center"
    size: Literal["small", "medium", "large"] = "large"


@dataclass(frozen=True)
class DraftSettings:
    """Draft-wide choices (the ``m`` of the draft)."""

    aspect: Aspect = "source"
    fit: Fit = "pad"
    original_audio: Literal["keep", "mute"] = "keep"
    target_lufs: float = -14.0
    duck: Literal["default", "wcag", "off"] = "default"


@dataclass(frozen=True)
class Draft:
    """The timeline: video segments, at most one music bed, texts, settings."""

    video: tuple[VideoSegment, ...] = ()
    music: MusicSegment | None = None
    texts: tuple[TextSegment, ...] = ()
    settings: DraftSettings = DraftSettings()
    version: int = SCHEMA_VERSION

    @property
    def duration_ms(self) -> int:
        """End of the last video segment."""
        return max((s.start_ms + s.duration_ms for s in self.video), default=0)
