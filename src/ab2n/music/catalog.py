"""The music catalog: bundled tracks (immich-memories-music, MIT) plus user folders plus a given file."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ab2n.errors import NotFound, UnsupportedMedia

AUDIO_SUFFIXES = {".mp3", ".wav", ".m4a", ".aac", ".opus", ".ogg", ".flac"}
KNOWN_TAGS = (
    "acoustic",
    "electronic",
    "piano",
    "guitar",
    "lofi",
    "lo-fi",
    "orchestral",
    "ambient",
    "rock",
    "jazz",
)
CATALOG_MOOD_WORDS = (
    "calm",
    "happy",
    "energetic",
    "tender",
    "nostalgic",
    "epic",
    "dark",
    "sad",
    "romantic",
    "playful",
)


@dataclass(frozen=True)
class Track:
    """One piece of music ab2n can use.

    Attributes:
        id: Stable id ("bundled:happy_acoustic_1" or "user:<content-hash-prefix>").
        path: The audio file.
        title: A human name ("Happy acoustic 1").
        mood: Mood tag (folder of the bundled library, or a mood word in a user file's path), or None.
        tags: Genre/instrument words from the name (e.g. "acoustic", "electronic").
        source: "bundled", "user" (a --music folder) or "given" (a --music file).
    """

    id: str
    path: Path
    title: str
    mood: str | None = None
    tags: tuple[str, ...] = ()
    source: Literal["bundled", "user", "given"] = "bundled"


def _title(stem: str) -> str:
    words = stem.replace("_", " ").replace("-", " ").split()
    # Bundled names end in generator seeds like "s411": not part of a title a person wants to read.
    words = [w for w in words if not (w.startswith("s") and w[1:].isdigit())]
    return " ".join(words).capitalize() or stem


def _words(path: Path) -> list[str]:
    return [w for part in path.parts[-3:] for w in part.lower().replace("-", "_").replace(" ", "_").split("_")]


def _track_from(path: Path, source: Literal["bundled", "user", "given"], *, mood: str | None = None) -> Track:
    words = _words(path.with_suffix(""))
    tags = tuple(sorted({("lo-fi" if t == "lofi" else t) for t in KNOWN_TAGS if t in words}))
    if mood is None:
        mood = next((w for w in words if w in CATALOG_MOOD_WORDS), None)
    if source == "bundled":
        tid = f"bundled:{path.stem}"
    else:
        h = hashlib.sha1()
        with path.open("rb") as fh:
            h.update(fh.read(1 << 20))
        h.update(str(path.stat().st_size).encode())
        tid = f"user:{h.hexdigest()[:12]}"
    return Track(id=tid, path=path, title=_title(path.stem), mood=mood, tags=tags, source=source)


def bundled_tracks() -> list[Track]:
    """The bundled library: ``<mood>/<name>.opus`` files of immich-memories-music."""
    import immich_memories_music

    root = Path(immich_memories_music.tracks_dir())
    return [
        _track_from(p, "bundled", mood=p.parent.name)
        for p in sorted(root.rglob("*"))
        if p.suffix.lower() in AUDIO_SUFFIXES
    ]


def given_track(path: str | Path) -> Track:
    """A single file the user named with ``--music``."""
    p = Path(path)
    if not p.is_file():
        raise NotFound(f"no such music file: {p}")
    if p.suffix.lower() not in AUDIO_SUFFIXES:
        raise UnsupportedMedia(
            f"{p.name} is not an audio file ab2n can use as music ({', '.join(sorted(AUDIO_SUFFIXES))})"
        )
    return _track_from(p, "given")


def load_catalog(extra: Sequence[Path] = ()) -> list[Track]:
    """Bundled tracks plus every audio file in the given folders (recursively) and given files."""
    tracks = bundled_tracks()
    for item in extra:
        p = Path(item)
        if p.is_dir():
            tracks += [_track_from(f, "user") for f in sorted(p.rglob("*")) if f.suffix.lower() in AUDIO_SUFFIXES]
        else:
            tracks.append(given_track(p))
    return tracks
