"""Server-sent events for /run_sse, in the shape Google-ADK-style clients parse.

Each event is one ``data: {json}`` line (then a blank line):
    text:          {"author": "nemo_agent", "content": {"role": "model", "parts": [{"text": "..."}]}}
    tool call:     {"author": "nemo_agent", "content": {"role": "model", "parts": [{"function_call": {...}}]}}
    tool result:   {"author": "nemo_agent", "content": {"role": "user", "parts": [{"function_response": {...}}]}}
    end:           event: end / data: {"done": true}
Heartbeats are SSE comment lines (``: heartbeat``), which every SSE parser ignores.
"""

from __future__ import annotations

import json
from typing import Any


def frame(payload: dict[str, Any], *, event: str | None = None) -> str:
    """One SSE frame."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def part_event(part: dict[str, Any], *, invocation_id: str) -> str:
    """Wrap a content part (text / function_call / function_response) as an ADK-style event."""
    role = "user" if "function_response" in part else "model"
    return frame({"author": "nemo_agent", "invocation_id": invocation_id, "content": {"role": role, "parts": [part]}})


HEARTBEAT = ": heartbeat\n\n"
END = frame({"done": True}, event="end")
