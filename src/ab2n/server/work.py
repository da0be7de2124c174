"""The service's use of the core: media and profiles of a session, edits, renders.

Everything here is synchronous and runs in worker threads (never on the event loop).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ab2n.analyze import analyze
from ab2n.analyze.profile import VideoProfile
from ab2n.chat.engine import MONTAGE, file_base_draft
from ab2n.errors import ProcessingError
from ab2n.media.probe import MediaInfo, probe
from ab2n.music.compose.soundfont import resolve as resolve_soundfont
from ab2n.pipeline import render as render_draft
from ab2n.pipeline import resolve_music
from ab2n.server.drafts import active_draft
from ab2n.server.housekeeping import work_dir
from ab2n.server.settings import Settings
from ab2n.server.storage import Storage
from ab2n.server.store import EditSession, Job, MediaRow
from ab2n.timeline.draft import Draft


def session_media(db: Session, session_id: str) -> list[MediaRow]:
    """The session's media rows in upload order."""
    return list(
        db.execute(select(MediaRow).where(MediaRow.session_id == session_id).order_by(MediaRow.created_at)).scalars()
    )


def media_and_profiles(
    maker: sessionmaker[Session],
    storage: Storage,
    session_id: str,
    *,
    only: set[str] | None = None,
    wait_s: float | None = None,
) -> tuple[dict[str, MediaInfo], dict[str, VideoProfile]]:
    """Probe the session's files (or ``only`` those ids) and their analysis (cached on the media rows).

    Args:
        wait_s: None: analyse what isn't cached yet, here. A number: another process (a worker)
            analyses it; wait up to this long for its result.

    Raises:
        ProcessingError: ``wait_s`` passed without the analysis arriving.
    """
    with maker() as db:
        rows = [r for r in session_media(db, session_id) if only is None or r.id in only]
    media: dict[str, MediaInfo] = {}
    profiles: dict[str, VideoProfile] = {}
    for row in rows:
        media[row.id] = probe(storage.local(row.path))
        profiles[row.id] = (
            analysed(maker, storage, row.id, media[row.id])
            if wait_s is None
            else _wait_for_profile(maker, row.id, wait_s)
        )
    return media, profiles


def analysed(
    maker: sessionmaker[Session], storage: Storage, media_id: str, info: MediaInfo | None = None
) -> VideoProfile:
    """The media's analysis: cached on its row, or computed now and cached."""
    with maker() as db:
        row = db.get(MediaRow, media_id)
        if row is None:
            raise ProcessingError("the upload is gone")
        if row.profile:
            return VideoProfile.from_json(row.profile)
        key = row.path
    prof = analyze(info or probe(storage.local(key)))
    with maker.begin() as db:
        r = db.get(MediaRow, media_id)
        if r is not None:
            r.profile = prof.to_json()
    return prof


def _wait_for_profile(maker: sessionmaker[Session], media_id: str, wait_s: float) -> VideoProfile:
    deadline = time.monotonic() + wait_s
    while True:
        with maker() as db:
            row = db.get(MediaRow, media_id)
            if row is not None and row.profile:
                return VideoProfile.from_json(row.profile)
        if time.monotonic() > deadline:
            raise ProcessingError("the video's analysis is taking too long; try again in a minute")
        time.sleep(0.5)


def media_names(maker: sessionmaker[Session], session_id: str) -> dict[str, str]:
    """Media id -> the name the file was uploaded with, in upload order."""
    with maker() as db:
        return {r.id: r.name for r in session_media(db, session_id)}


def draft_media(draft: Draft) -> set[str]:
    """The media ids a draft's video track uses."""
    return {s.media_id for s in draft.video}


def arrange(draft: Draft, media: dict[str, MediaInfo], profiles: dict[str, VideoProfile], settings: Settings) -> Draft:
    """Choose/arrange music where needed (cached track analysis under the data dir)."""
    return resolve_music(draft, media, profiles, cache_dir=settings.data_dir / "cache")


def make_renderer(
    maker: sessionmaker[Session], settings: Settings, storage: Storage
) -> Callable[[Job, Path, Callable[[float], None]], None]:
    """The job runner's render function.

    Raises:
        InvalidArgument: The operator's SoundFont setting (``AB2N_SOUNDFONT``) names a file that
            isn't one, or tinysoundfont is missing: said when the service or worker starts, not
            at every render.
    """
    soundfont = resolve_soundfont(settings.soundfont)  # the operator's, never a client's path

    def render(job: Job, out: Path, progress: Callable[[float], None]) -> None:
        with maker() as db:
            sess = db.get(EditSession, job.session_id)
            draft = Draft.from_json(job.draft) if job.draft else (active_draft(db, sess) if sess else None)
            key = sess.active_key if sess else ""
        if draft is None or not draft.video:  # nothing edited yet: the active file as uploaded
            media, profiles = media_and_profiles(
                maker, storage, job.session_id, only=None if key in ("", MONTAGE) else {key}
            )
            draft = file_base_draft(key, media, media_names(maker, job.session_id))
        else:  # only the files this render shows are probed and analysed
            media, profiles = media_and_profiles(maker, storage, job.session_id, only=draft_media(draft))
        draft = arrange(draft, media, profiles, settings)
        if settings.test_render_delay_s > 0:  # tests: keep the job running long enough to kill the server
            end = time.monotonic() + settings.test_render_delay_s
            while time.monotonic() < end:
                progress(0.01)
                time.sleep(0.1)
        tmp = work_dir(settings, job.id)
        tmp.mkdir(parents=True, exist_ok=True)
        render_draft(draft, media, profiles, out, progress=progress, work_dir=tmp, soundfont=soundfont)

    return render


def media_json(row: MediaRow) -> dict[str, Any]:
    """How a media item is described to clients."""
    info = row.info
    return {
        "media_id": row.id,
        "name": row.name,
        "kind": row.kind,
        "duration": info.get("duration_s"),
        "width": info.get("width"),
        "height": info.get("height"),
        "size": info.get("size_bytes"),
        "has_audio": info.get("has_audio"),
    }
