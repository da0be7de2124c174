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
from typing import Any, Literal, get_args

from ab2n.media.presets import PRESETS
from ab2n.timeline.migrations import SCHEMA_VERSION, migrate

__all__ = [
    "ASPECTS",
    "AUTO_MOOD",
    "ENDINGS",
    "FITS",
    "SCHEMA_VERSION",
    "Draft",
    "DraftSettings",
    "Ending",
    "MusicSegment",
    "TextSegment",
    "VideoSegment",
    "wished_mood",
]

TT_VIDEO = 0
TT_AUDIO = 1
TT_TEXT = 7

#: Output shapes a draft may ask for: the named sizes of media/presets.py.
ASPECTS: tuple[str, ...] = tuple(PRESETS)
#: How a picture of another shape fills the frame: blurred pad or crop.
FITS: tuple[str, ...] = ("pad", "crop")
#: How composed music may end: with more energy towards the end, or calmer.
Ending = Literal["build", "settle"]
ENDINGS: tuple[str, ...] = get_args(Ending)
#: The mood word that means "from the video", the same as no mood at all.
AUTO_MOOD = "auto"


def wished_mood(mood: str | None) -> str | None:
    """The mood a wish names, or None when the mood is to come from the video (none, or "auto")."""
    return None if not mood or mood == AUTO_MOOD else mood


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
        ending: How composed music ends: "build" (more energy towards the end) or "settle"
            (calmer towards the end); None = as the video's energy goes.
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
    ending: str | None = None


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

    aspect: str = "source"  # one of ASPECTS
    fit: str = "pad"  # one of FITS
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

    def to_json(self) -> dict[str, Any]:
        """The short-key JSON of the cloud protocol (see the module docstring)."""
        tracks: list[dict[str, Any]] = [
            {
                "tt": TT_VIDEO,
                "n": "Video",
                "sg": [
                    {"mid": s.media_id, "s": s.start_ms, "d": s.duration_ms, "in": s.in_ms, "n": s.name}
                    for s in self.video
                ],
            }
        ]
        if self.music is not None:
            m = self.music
            seg: dict[str, Any] = {"s": m.start_ms, "d": m.duration_ms}
            optional = {
                "vol": m.volume,
                "fi": m.fade_in_ms,
                "fo": m.fade_out_ms,
                "mood": m.mood,
                "genre": list(m.genres) or None,
                "inst": list(m.instruments) or None,
                "tempo": m.tempo,
                "src": m.source,
                "tid": m.track_id,
                "tn": m.track_title,
                "plan": m.plan,
                "seed": m.seed or None,
                "tried": list(m.tried) or None,
                "ending": m.ending,
            }
            seg.update({k: v for k, v in optional.items() if v is not None})
            tracks.append({"tt": TT_AUDIO, "n": "BGM", "sg": [seg]})
        if self.texts:
            tracks.append(
                {
                    "tt": TT_TEXT,
                    "n": "Title",
                    "sg": [
                        {
                            "s": t.start_ms,
                            "d": t.duration_ms,
                            "text": t.text,
                            "pos": t.position,
                            "size": t.size,
                        }
                        for t in self.texts
                    ],
                }
            )
        st = self.settings
        return {
            "v": self.version,
            "d": self.duration_ms,
            "m": {
                "aspect": st.aspect,
                "fit": st.fit,
                "audio": st.original_audio,
                "lufs": st.target_lufs,
                "duck": st.duck,
            },
            "t": tracks,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        """Parse (and migrate forward) a serialised draft.

        Raises:
            InvalidArgument: Not a draft this version understands.
        """
        from ab2n.errors import InvalidArgument

        try:
            d = migrate(data)
            m = d.get("m", {})
            video: list[VideoSegment] = []
            music: MusicSegment | None = None
            texts: list[TextSegment] = []
            for track in d.get("t", []):
                tt = int(track["tt"])
                for sg in track.get("sg", []):
                    if tt == TT_VIDEO:
                        video.append(
                            VideoSegment(
                                str(sg["mid"]),
                                int(sg["s"]),
                                int(sg["d"]),
                                int(sg.get("in", 0)),
                                str(sg.get("n", "")),
                            )
                        )
                    elif tt == TT_AUDIO and music is None:
                        music = MusicSegment(
                            start_ms=int(sg["s"]),
                            duration_ms=int(sg["d"]),
                            volume=sg.get("vol"),
                            fade_in_ms=sg.get("fi"),
                            fade_out_ms=sg.get("fo"),
                            mood=sg.get("mood"),
                            genres=tuple(sg.get("genre") or ()),
                            instruments=tuple(sg.get("inst") or ()),
                            tempo=sg.get("tempo"),
                            source=sg.get("src"),
                            track_id=sg.get("tid"),
                            track_title=sg.get("tn"),
                            plan=sg.get("plan"),
                            seed=int(sg.get("seed") or 0),
                            tried=tuple(sg.get("tried") or ()),
                            ending=sg.get("ending"),
                        )
                    elif tt == TT_TEXT:
                        texts.append(
                            TextSegment(
                                str(sg["text"]),
                                int(sg["s"]),
                                int(sg["d"]),
                                sg.get("pos", "center"),
                                sg.get("size", "large"),
                            )
                        )
            settings = DraftSettings(
                aspect=m.get("aspect", "source"),
                fit=m.get("fit", "pad"),
                original_audio=m.get("audio", "keep"),
                target_lufs=float(m.get("lufs", -14.0)),
                duck=m.get("duck", "default"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidArgument(f"not a valid draft: {exc}") from None
        return cls(video=tuple(video), music=music, texts=tuple(texts), settings=settings)
