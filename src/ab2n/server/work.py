"""The service's use of the core: media and profiles of a session, edits, renders.

Everything here is synchronous and runs in worker threads (never on the event loop).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ab2n.analyze import analyze
from ab2n.analyze.profile import VideoProfile
from ab2n.media.probe import MediaInfo, probe
from ab2n.pipeline import initial_draft, resolve_music
from ab2n.pipeline import render as render_draft
from ab2n.server.housekeeping import work_dir
from ab2n.server.settings import Settings
from ab2n.server.store import DraftRow, EditSession, Job, MediaRow
from ab2n.timeline.draft import Draft


def session_media(db: Session, session_id: str) -> list[MediaRow]:
    """The session's media rows in upload order."""
    return list(
        db.execute(select(MediaRow).where(MediaRow.session_id == session_id).order_by(MediaRow.created_at)).scalars()
    )


def media_and_profiles(
    maker: sessionmaker[Session], session_id: str
) -> tuple[dict[str, MediaInfo], dict[str, VideoProfile]]:
    """Probe the session's files and analyse them (profiles are cached on the media rows)."""
    with maker() as db:
        rows = session_media(db, session_id)
    media: dict[str, MediaInfo] = {}
    profiles: dict[str, VideoProfile] = {}
    for row in rows:
        info = probe(row.path)
        media[row.id] = info
        if row.profile:
            profiles[row.id] = VideoProfile.from_json(row.profile)
        else:
            prof = analyze(info)
            profiles[row.id] = prof
            with maker.begin() as db:
                r = db.get(MediaRow, row.id)
                if r is not None:
                    r.profile = prof.to_json()
    return media, profiles


def current_draft(db: Session, sess: EditSession) -> Draft | None:
    """The draft at the session's cursor."""
    if sess.cursor < 0:
        return None
    row = db.execute(
        select(DraftRow).where(DraftRow.session_id == sess.id, DraftRow.seq == sess.cursor)
    ).scalar_one_or_none()
    return Draft.from_json(row.draft) if row else None


def push_draft(db: Session, sess: EditSession, draft: Draft) -> None:
    """Record a new draft state (drops redo history beyond the cursor)."""
    for row in db.execute(select(DraftRow).where(DraftRow.session_id == sess.id, DraftRow.seq > sess.cursor)).scalars():
        db.delete(row)
    sess.cursor += 1
    db.add(DraftRow(session_id=sess.id, seq=sess.cursor, draft=draft.to_json()))


def base_draft(media: dict[str, MediaInfo], profiles: dict[str, VideoProfile]) -> Draft:
    """A draft for the session's media: the latest upload on the video track, no music yet."""
    if not media:
        return Draft()
    last_id = list(media)[-1]
    d = initial_draft({last_id: media[last_id]}, {last_id: profiles[last_id]})
    return dataclasses.replace(d, music=None)


def arrange(draft: Draft, media: dict[str, MediaInfo], profiles: dict[str, VideoProfile], settings: Settings) -> Draft:
    """Choose/arrange music where needed (cached track analysis under the data dir)."""
    return resolve_music(draft, media, profiles, cache_dir=settings.data_dir / "cache")


def make_renderer(
    maker: sessionmaker[Session], settings: Settings
) -> Callable[[Job, Path, Callable[[float], None]], None]:
    """The job runner's render function."""

    def render(job: Job, out: Path, progress: Callable[[float], None]) -> None:
        media, profiles = media_and_profiles(maker, job.session_id)
        with maker() as db:
            sess = db.get(EditSession, job.session_id)
            draft = Draft.from_json(job.draft) if job.draft else (current_draft(db, sess) if sess else None)
        if draft is None or not draft.video:
            draft = base_draft(media, profiles)
        draft = arrange(draft, media, profiles, settings)
        if settings.test_render_delay_s > 0:  # tests: keep the job running long enough to kill the server
            end = time.monotonic() + settings.test_render_delay_s
            while time.monotonic() < end:
                progress(0.01)
                time.sleep(0.1)
        tmp = work_dir(settings, job.id)
        tmp.mkdir(parents=True, exist_ok=True)
        render_draft(draft, media, profiles, out, progress=progress, work_dir=tmp)

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
