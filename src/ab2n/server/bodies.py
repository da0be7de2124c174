"""Every request body the service accepts, as Pydantic models: types, lengths, counts, ranges.

A client is a stranger: nothing it sends reaches the core before it has passed one of these
models. The models are also what the OpenAPI document shows, so schemathesis and people read the
same contract. The draft a client may send is typed to the leaf (no free-form objects), which also
bounds its nesting depth; references inside it are ids only (see ``server/boundary.py``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from ab2n.errors import InvalidArgument
from ab2n.media.presets import PRESETS
from ab2n.timeline.draft import Ending

#: Deepest JSON nesting any body may have (the typed draft needs 6).
MAX_JSON_DEPTH = 12
#: Longest media, in milliseconds (the probe refuses inputs over 3 h).
MAX_MS = 3 * 3600 * 1000 + 60_000

#: A server-given id (session, media, catalog track) or a client job id: short, no path characters.
Id = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")]
ShortText = Annotated[str, StringConstraints(max_length=64)]
Name = Annotated[str, StringConstraints(max_length=255)]
Ms = Annotated[int, Field(ge=0, le=MAX_MS)]
Seconds = Annotated[float, Field(ge=0, le=MAX_MS / 1000)]


class Body(BaseModel):
    """Base of the request models: unknown keys are dropped, NaN and infinities refused."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, populate_by_name=True)


class NewSessionBody(Body):
    """``POST /api/tasks/me/with-session/nemo_agent``."""

    task_name: ShortText = "project"
    language: Annotated[str, StringConstraints(max_length=16)] = "en"


#: What a person says: at most 4000 characters, not blank.
Words = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=r"\S")]


class MessagePart(Body):
    """One part of a chat message."""

    text: Words


class Message(Body):
    """``{"role": "user", "parts": [{"text": ...}]}``."""

    role: ShortText = "user"
    parts: Annotated[list[MessagePart], Field(min_length=1, max_length=16)]

    def text(self) -> str:
        """The parts' text joined."""
        return " ".join(p.text for p in self.parts).strip()


class ChatBody(Body):
    """``POST /run_sse``."""

    app_name: ShortText = "nemo_agent"
    session_id: Id
    new_message: Message | Words

    def text(self) -> str:
        """The user's words."""
        return self.new_message.strip() if isinstance(self.new_message, str) else self.new_message.text()


class UrlUploadBody(Body):
    """``POST /api/upload-video/...`` with a JSON body: fetch this URL."""

    url: Annotated[str, StringConstraints(min_length=8, max_length=2048, pattern=r"^[hH][tT][tT][pP][sS]?://")]


class PlanSegment(Body):
    """A run of a catalog track on the music timeline. ``src`` is a catalog track id."""

    src: Id
    src_start_s: Seconds
    src_end_s: Seconds
    dst_start_s: Seconds
    stretch: Annotated[float, Field(ge=0.5, le=2.0)] = 1.0
    crossfade_s: Annotated[float, Field(ge=0, le=10)] = 0.0
    fade_out_s: Annotated[float, Field(ge=0, le=60)] | None = None


class PlanSong(Body):
    """One song of a medley."""

    start_s: Seconds
    track_id: Id
    title: Name = ""


class ScoreSectionBody(Body):
    """A section of a composed score."""

    name: ShortText
    start_bar: Annotated[int, Field(ge=0, le=100_000)]
    end_bar: Annotated[int, Field(ge=0, le=100_000)]
    start_s: Seconds
    end_s: Seconds
    level: Annotated[float, Field(ge=0, le=1)]


class ScoreAccentBody(Body):
    """An accent of a composed score."""

    time_s: Seconds
    bar: Annotated[int, Field(ge=0, le=100_000)]
    kind: Literal["crash", "hit", "drop"]
    strength: Annotated[float, Field(ge=0, le=1)] = 1.0


class ScoreBody(Body):
    """A composed bed's score (what composing again starts from); the tempo map is derived."""

    seed: Annotated[int, Field(ge=0, le=2**31)]
    style: Literal["lo-fi", "acoustic", "cinematic", "electronic", "ambient", "piano"]
    mood: ShortText = ""
    tonic: Annotated[int, Field(ge=0, le=11)]
    mode: Literal["major", "minor"]
    duration_s: Seconds
    beats_s: Annotated[list[Seconds], Field(max_length=50_000)]
    phase: Annotated[int, Field(ge=0, le=11)] = 0
    beats_per_bar: Annotated[int, Field(ge=1, le=12)] = 4
    tempo_bpm: Annotated[float, Field(ge=0, le=400)] = 0.0
    tempo_range: Annotated[list[Annotated[float, Field(ge=0, le=400)]], Field(max_length=2)] = []
    sections: Annotated[list[ScoreSectionBody], Field(max_length=10_000)] = []
    accents: Annotated[list[ScoreAccentBody], Field(max_length=10_000)] = []
    speech: Annotated[list[Annotated[list[Seconds], Field(min_length=2, max_length=2)]], Field(max_length=10_000)] = []
    bar_levels: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(max_length=20_000)] = []
    # The bars that are not beats_per_bar long, as [bar index, beats]; left out (None), the score
    # reads them back from its accents and sections (ScorePlan.from_json).
    bar_lengths: (
        Annotated[
            list[Annotated[list[Annotated[int, Field(ge=0, le=100_000)]], Field(min_length=2, max_length=2)]],
            Field(max_length=20_000),
        ]
        | None
    ) = None
    cuts_on_beat: Annotated[int, Field(ge=0, le=100_000)] = 0
    cuts_on_downbeat: Annotated[int, Field(ge=0, le=100_000)] = 0
    cuts_total: Annotated[int, Field(ge=0, le=100_000)] = 0


class MusicPlanBody(Body):
    """An arranged music plan (as the state endpoint hands it out)."""

    track_id: Id
    track_title: Name = ""
    duration_s: Seconds
    segments: Annotated[list[PlanSegment], Field(max_length=4000)]
    fade_out_s: Annotated[float, Field(ge=0, le=60)] = 0.0
    beats_s: Annotated[list[Seconds], Field(max_length=50_000)] = []
    downbeats_s: Annotated[list[Seconds], Field(max_length=20_000)] = []
    cuts_on_beat: Annotated[int, Field(ge=0, le=100_000)] = 0
    cuts_on_downbeat: Annotated[int, Field(ge=0, le=100_000)] = 0
    cuts_total: Annotated[int, Field(ge=0, le=100_000)] = 0
    mood: ShortText | None = None
    tempo_bpm: Annotated[float, Field(ge=0, le=400)] = 0.0
    songs: Annotated[list[PlanSong], Field(max_length=64)] | None = None
    score: ScoreBody | None = None


class Segment(Body):
    """A segment of any track: the fields its track type uses (video, BGM or text)."""

    s: Ms
    d: Annotated[int, Field(ge=1, le=MAX_MS)]
    # video
    mid: Id | None = None
    in_: Annotated[Ms, Field(alias="in")] = 0
    n: Name | None = None
    # music (BGM)
    vol: Annotated[float, Field(ge=0, le=4)] | None = None
    fi: Ms | None = None
    fo: Ms | None = None
    mood: ShortText | None = None
    genre: Annotated[list[ShortText], Field(max_length=16)] | None = None
    inst: Annotated[list[ShortText], Field(max_length=16)] | None = None
    tempo: ShortText | None = None
    ending: Ending | None = None  # composed music: how it ends
    src: Id | None = None
    tid: Id | None = None
    tn: Name | None = None
    plan: MusicPlanBody | None = None
    seed: Annotated[int, Field(ge=0, le=2**31)] | None = None
    tried: Annotated[list[Id], Field(max_length=200)] | None = None
    # text
    text: Annotated[str, StringConstraints(max_length=500)] | None = None
    pos: Literal["top", "center", "bottom"] | None = None
    size: Literal["small", "medium", "large"] | None = None


class Track(Body):
    """A track of the draft: ``tt`` 0 video, 1 audio (BGM), 7 text."""

    tt: Literal[0, 1, 7]
    n: ShortText | None = None
    sg: Annotated[list[Segment], Field(max_length=500)] = []


class DraftMeta(Body):
    """The draft's ``m``: output shape, original audio, loudness, ducking."""

    aspect: Annotated[str, Field(description="an output preset", json_schema_extra={"enum": list(PRESETS)})] = "source"
    fit: Literal["pad", "crop"] = "pad"
    audio: Literal["keep", "mute"] = "keep"
    lufs: Annotated[float, Field(ge=-40, le=-5)] = -14.0
    duck: Literal["default", "wcag", "off"] = "default"

    @field_validator("aspect")
    @classmethod
    def _known_preset(cls, v: str) -> str:
        if v not in PRESETS:
            raise ValueError(f"unknown preset; use one of {', '.join(PRESETS)}")
        return v


class DraftBody(Body):
    """A draft (timeline) sent by a client: media by session media id, music by catalog track id."""

    v: Annotated[int, Field(ge=1, le=99)] = 1
    d: Ms | None = None
    m: DraftMeta = DraftMeta()
    t: Annotated[list[Track], Field(max_length=16)] = []

    def to_json(self) -> dict[str, Any]:
        """The draft JSON with only the keys the models know (``in`` by its alias)."""
        return self.model_dump(by_alias=True, exclude_none=True)


class OutputOptions(Body):
    """``output`` of a render request."""

    format: Literal["mp4"] = "mp4"
    quality: Literal["low", "medium", "high"] = "high"


class RenderBody(Body):
    """``POST /api/render/proxy/lambda``. ``id`` is the client's own job id (scoped to the client)."""

    id: Id
    sessionId: Id = Field(validation_alias=AliasChoices("sessionId", "session_id"))  # the protocol's spelling
    draft: DraftBody | None = None
    output: OutputOptions = OutputOptions()


M = TypeVar("M", bound=BaseModel)


def json_depth(value: Any) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            items: Any = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in items)
    return deepest


def parse_body(raw: bytes, model: type[M]) -> M:
    """Parse a JSON body into ``model``, or raise ``InvalidArgument`` naming the first problem.

    An empty body is the model's defaults (where it has them).
    """
    try:
        data: Any = json.loads(raw) if raw.strip() else {}
    except (ValueError, RecursionError):
        raise InvalidArgument("the body is not valid JSON (or is nested too deeply)") from None
    if not isinstance(data, dict):
        raise InvalidArgument("the body must be a JSON object")
    if json_depth(data) > MAX_JSON_DEPTH:
        raise InvalidArgument(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidArgument(f"invalid body: {_first_problem(exc)}") from None


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "body"
    return f"{where}: {err.get('msg', 'invalid')}"[:300]
