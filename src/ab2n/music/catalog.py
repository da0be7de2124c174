"""The music catalog: bundled tracks (immich-memories-music) plus user folders plus a given file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class Track:
    """One piece of music ab2n can use.

    Attributes:
        id: Stable id ("bundled:happy_acoustic_1" or "user:<content-hash-prefix>").
        path: The audio file.
        title: A human name ("Happy acoustic 1").
        mood: Mood tag from the catalog (folder of the bundled library), or None if unknown.
        tags: Genre/instrument words from metadata or names (e.g. "acoustic", "electronic").
        source: "bundled", "user" (a --music folder) or "given" (a --music file).
    """

    id: str
    path: Path
    title: str
    mood: str | None = None
    tags: tuple[str, ...] = ()
    source: Literal["bundled", "user", "given"] = "bundled"
