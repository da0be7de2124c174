"""The published JSON Schema of the draft (docs/draft.schema.json is generated from this)."""

from __future__ import annotations

import json
from typing import Any

from ab2n.timeline.draft import SCHEMA_VERSION

_MS = {"type": "integer", "minimum": 0}

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
                "aspect": {"enum": ["source", "1080p", "vertical", "square", "portrait"]},
                "fit": {"enum": ["pad", "crop"]},
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
                "src": {"type": "string"},
                "tid": {"type": "string"},
                "tn": {"type": "string"},
                "plan": {"type": "object", "description": "the arranged MusicPlan"},
                "seed": {"type": "integer"},
                "tried": {"type": "array", "items": {"type": "string"}},
                "text": {"type": "string"},
                "pos": {"enum": ["top", "center", "bottom"]},
                "size": {"enum": ["small", "medium", "large"]},
            },
        }
    },
}


def schema_json() -> str:
    """The schema as published (stable key order, 2-space indent, trailing newline)."""
    return json.dumps(DRAFT_SCHEMA, indent=2, sort_keys=True) + "\n"
