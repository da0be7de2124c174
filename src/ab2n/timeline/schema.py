"""The published JSON Schema of the draft (docs/draft.schema.json is generated from this)."""

from __future__ import annotations

import json
from typing import Any

from ab2n.timeline.draft import ASPECTS, ENDINGS, FITS
from ab2n.timeline.migrations import SCHEMA_VERSION

_MS = {"type": "integer", "minimum": 0}
_S = {"type": "number", "minimum": 0}
_SECONDS = {"type": "array", "items": _S}
_COUNT = {"type": "integer", "minimum": 0}

_BAR = {"type": "integer", "minimum": 0}
#: A composed bed's score (music.compose.plan.ScorePlan.to_json): what "another one" or "slower"
#: composes again from.
SCORE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "the composed score's plan (times in seconds on the music timeline)",
    "required": ["seed", "style", "tonic", "mode", "duration_s", "beats_s"],
    "properties": {
        "seed": {"type": "integer", "minimum": 0},
        "style": {"type": "string", "description": "lo-fi, acoustic, cinematic, electronic, ambient or piano"},
        "mood": {"type": "string"},
        "tonic": {"type": "integer", "minimum": 0, "maximum": 11, "description": "pitch class, 0 = C"},
        "mode": {"enum": ["major", "minor"]},
        "duration_s": _S,
        "beats_s": {**_SECONDS, "description": "every beat of the tempo map before the end"},
        "phase": {"type": "integer", "minimum": 0, "maximum": 11, "description": "bar position of the first beat"},
        "beats_per_bar": {"type": "integer", "minimum": 1, "maximum": 12},
        "bar_lengths": {
            "type": "array",
            "description": "bars not beats_per_bar long: [bar index, beats] (a 2/4, 3/4 or 5/4 bar; absent: none)",
            "items": {
                "type": "array",
                "prefixItems": [
                    {"type": "integer", "minimum": 0, "description": "bar index"},
                    {"type": "integer", "minimum": 1, "maximum": 12, "description": "beats in that bar"},
                ],
                "items": False,
                "minItems": 2,
            },
        },
        "tempo_bpm": _S,
        "tempo_range": {"type": "array", "items": _S, "maxItems": 2},
        "tempo_map": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"bar_s": _S, "bpm": _S},
                "additionalProperties": False,
            },
        },
        "sections": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "start_bar", "end_bar", "start_s", "end_s", "level"],
                "properties": {
                    "name": {"type": "string"},
                    "start_bar": _BAR,
                    "end_bar": _BAR,
                    "start_s": _S,
                    "end_s": _S,
                    "level": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "additionalProperties": False,
            },
        },
        "accents": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["time_s", "bar", "kind"],
                "properties": {
                    "time_s": _S,
                    "bar": _BAR,
                    "kind": {"enum": ["crash", "hit", "drop"]},
                    "strength": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "additionalProperties": False,
            },
        },
        "speech": {"type": "array", "items": {"type": "array", "items": _S, "minItems": 2, "maxItems": 2}},
        "bar_levels": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}},
        "cuts_on_beat": _COUNT,
        "cuts_on_downbeat": _COUNT,
        "cuts_total": _COUNT,
    },
    "additionalProperties": False,
}

#: The arranged music (music.arrange.MusicPlan.to_json), typed so the snapshot test sees changes.
MUSIC_PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "the arranged MusicPlan (times in seconds on the music timeline, 0 = music start)",
    "required": ["track_id", "duration_s", "segments"],
    "properties": {
        "track_id": {"type": "string"},
        "track_title": {"type": "string"},
        "duration_s": _S,
        "segments": {
            "type": "array",
            "items": {
                "type": "object",
                "description": "a run of a source track placed on the music timeline",
                "required": ["src", "src_start_s", "src_end_s", "dst_start_s"],
                "properties": {
                    "src": {"type": "string", "description": "the source audio"},
                    "src_start_s": _S,
                    "src_end_s": _S,
                    "dst_start_s": _S,
                    "stretch": {"type": "number", "exclusiveMinimum": 0, "description": "tempo ratio, pitch kept"},
                    "crossfade_s": _S,
                    "fade_out_s": _S,
                },
                "additionalProperties": False,
            },
        },
        "fade_out_s": _S,
        "beats_s": _SECONDS,
        "downbeats_s": _SECONDS,
        "cuts_on_beat": _COUNT,
        "cuts_on_downbeat": _COUNT,
        "cuts_total": _COUNT,
        "mood": {"type": ["string", "null"]},
        "tempo_bpm": _S,
        "score": {**SCORE_SCHEMA, "description": "a composed bed (no segments): the score's plan"},
        "songs": {
            "type": "array",
            "description": "a medley's songs: where each starts on the music timeline",
            "items": {
                "type": "object",
                "required": ["start_s", "track_id", "title"],
                "properties": {"start_s": _S, "track_id": {"type": "string"}, "title": {"type": "string"}},
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}

DRAFT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://ab2n.local/draft.schema.json",
    "title": "ab2n draft (timeline)",
    "type": "object",
    "required": ["v", "d", "m", "t"],
    "properties": {
        "v": {"const": SCHEMA_VERSION, "description": "schema version"},
        "d": {**_MS, "description": "duration in ms"},
        "m": {
            "type": "object",
            "properties": {
                "aspect": {"enum": list(ASPECTS)},
                "fit": {"enum": list(FITS)},
                "audio": {"enum": ["keep", "mute"]},
                "lufs": {"type": "number", "minimum": -40, "maximum": -5},
                "duck": {"enum": ["default", "wcag", "off"]},
            },
            "additionalProperties": False,
        },
        "t": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tt", "sg"],
                "properties": {
                    "tt": {"enum": [0, 1, 7], "description": "0 video, 1 audio (BGM), 7 text"},
                    "n": {"type": "string"},
                    "sg": {"type": "array", "items": {"$ref": "#/$defs/segment"}},
                },
            },
        },
    },
    "$defs": {
        "music_plan": MUSIC_PLAN_SCHEMA,
        "segment": {
            "type": "object",
            "required": ["s", "d"],
            "properties": {
                "s": {**_MS, "description": "start on the timeline, ms"},
                "d": {**_MS, "description": "duration, ms"},
                "mid": {"type": "string", "description": "video: media id"},
                "in": {**_MS, "description": "video: start inside the source, ms"},
                "n": {"type": "string"},
                "vol": {"type": "number", "minimum": 0, "maximum": 2, "description": "BGM level, 1.0 = 100%"},
                "fi": _MS,
                "fo": _MS,
                "mood": {"type": "string"},
                "genre": {"type": "array", "items": {"type": "string"}},
                "inst": {"type": "array", "items": {"type": "string"}},
                "tempo": {"type": "string"},
                "ending": {"enum": list(ENDINGS), "description": "composed music: how it ends"},
                "src": {"type": "string"},
                "tid": {"type": "string"},
                "tn": {"type": "string"},
                "plan": {"$ref": "#/$defs/music_plan"},
                "seed": {"type": "integer"},
                "tried": {"type": "array", "items": {"type": "string"}},
                "text": {"type": "string"},
                "pos": {"enum": ["top", "center", "bottom"]},
                "size": {"enum": ["small", "medium", "large"]},
            },
        },
    },
}


def schema_json() -> str:
    """The schema as published (stable key order, 2-space indent, trailing newline)."""
    return json.dumps(DRAFT_SCHEMA, indent=2, sort_keys=True) + "\n"
