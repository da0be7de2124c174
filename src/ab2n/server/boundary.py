"""The trust boundary for drafts: clients see and send ids, the server keeps paths.

Inside the server a draft is the core's draft, whose music names audio files by path (the BGM's
``src`` and every plan segment's ``src``). Those paths never cross the boundary:

- ``public_draft`` turns a stored draft into what a client sees: a session media id or a catalog
  track id where the core has a path (a path with no id is withheld).
- ``client_draft`` turns a draft a client sent back into a core draft: every reference must be an
  id the server gave out — a video segment's ``mid`` a media id of *this* session, a music ``src``
  an audio media id of this session, a plan segment's ``src`` a catalog track id or such a media
  id. Anything else is refused with 400 before a job exists.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ab2n.errors import InvalidArgument
from ab2n.music.catalog import bundled_tracks
from ab2n.music.compose import COMPOSE
from ab2n.server.bodies import DraftBody
from ab2n.server.storage import Storage
from ab2n.timeline.draft import TT_AUDIO, TT_VIDEO, Draft

#: Stands in for a path that has no id (never expected; never a path).
WITHHELD = "withheld"


@functools.cache
def _bundled() -> tuple[dict[str, Path], dict[str, str]]:
    tracks = bundled_tracks()
    by_id = {t.id: t.path for t in tracks}
    return by_id, {str(p): tid for tid, p in by_id.items()}


@dataclass(frozen=True)
class SessionFiles:
    """The ids a client of one session may name, and the files they stand for.

    Attributes:
        media: Media id -> (path, kind) for the session's uploads.
    """

    media: dict[str, tuple[str, str]]

    @classmethod
    def of(cls, rows: Iterable[Any], storage: Storage) -> SessionFiles:
        """From the session's media rows (``id``, ``path`` (a storage key), ``kind``)."""
        return cls({r.id: (str(storage.local(r.path)), r.kind) for r in rows})

    def id_for_path(self, path: str) -> str:
        """The id a client may see for a music file path."""
        by_path = _bundled()[1]
        if path in by_path:
            return by_path[path]
        for mid, (p, _kind) in self.media.items():
            if p == path:
                return mid
        return WITHHELD

    def audio_path(self, ref: str, *, catalog: bool) -> str:
        """The file behind a music reference (a session audio media id, or a catalog track id)."""
        if ref in self.media and self.media[ref][1] == "audio":
            return self.media[ref][0]
        if catalog and ref in _bundled()[0]:
            return str(_bundled()[0][ref])
        what = "a catalog track id or an audio file of this session" if catalog else "an audio file of this session"
        raise InvalidArgument(f"the draft's music names {ref!r}, which is not {what}")


def public_draft(draft: Draft, files: SessionFiles) -> dict[str, Any]:
    """The draft as a client sees it: ids where the core has paths."""
    data = copy.deepcopy(draft.to_json())  # the plan dict is the draft's own: never rewrite it in place
    for track in data["t"]:
        if track["tt"] != TT_AUDIO:
            continue
        for sg in track["sg"]:
            if sg.get("src") and sg["src"] != COMPOSE:  # "compose" names no file
                sg["src"] = files.id_for_path(str(sg["src"]))
            for seg in (sg.get("plan") or {}).get("segments", []):
                seg["src"] = files.id_for_path(str(seg["src"]))
    return data


def client_draft(body: DraftBody, files: SessionFiles) -> Draft:
    """A client's draft as a core draft, with every reference checked and resolved.

    Raises:
        InvalidArgument: A reference that is not this session's media or the catalog's, a video
            segment past its media's end, or a draft the core cannot read.
    """
    data = body.to_json()
    for track in data["t"]:
        for sg in track["sg"]:
            if track["tt"] == TT_VIDEO:
                _check_video(sg, files)
            elif track["tt"] == TT_AUDIO:
                if sg.get("src") and sg["src"] != COMPOSE:
                    sg["src"] = files.audio_path(sg["src"], catalog=False)
                for seg in (sg.get("plan") or {}).get("segments", []):
                    seg["src"] = files.audio_path(seg["src"], catalog=True)
                    if seg["src_end_s"] <= seg["src_start_s"]:
                        raise InvalidArgument("a music plan segment must end after it starts")
    return Draft.from_json(data)


def _check_video(sg: dict[str, Any], files: SessionFiles) -> None:
    mid = sg.get("mid")
    if not mid:
        raise InvalidArgument('a video segment needs "mid", the media id of one of this session\'s uploads')
    if mid not in files.media:
        raise InvalidArgument(f"the draft names media {mid!r}, which is not an upload of this session")
