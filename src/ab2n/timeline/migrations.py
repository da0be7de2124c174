"""Draft schema migrations: old serialised drafts are brought forward one version at a time.

Version 0 (the first drafts, before the ``v`` key existed) stored the music volume in percent
(``"vol": 35``) and had no ``m`` block (settings lived on the video track as ``"aspect"``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


def _v0_to_v1(d: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(d)
    m: dict[str, Any] = {"aspect": "source", "fit": "pad", "audio": "keep", "lufs": -14.0, "duck": "default"}
    for track in d.get("t", []):
        if track.get("tt") == 0 and "aspect" in track:
            m["aspect"] = track.pop("aspect")
        if track.get("tt") == 1:
            for sg in track.get("sg", []):
                if isinstance(sg.get("vol"), int | float) and sg["vol"] > 2:
                    sg["vol"] = sg["vol"] / 100.0
    d["m"] = {**m, **d.get("m", {})}
    d["v"] = 1
    return d


#: Version n -> n + 1, for every version before the current one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1}
#: The version this ab2n writes: the one the last migration leads to.
SCHEMA_VERSION = max(MIGRATIONS) + 1


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` at the current schema version (input is not modified)."""
    version = int(data.get("v", 0))
    if version > SCHEMA_VERSION:
        raise ValueError(f"draft version {version} is newer than this ab2n understands ({SCHEMA_VERSION})")
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version = int(data["v"])
    return data
