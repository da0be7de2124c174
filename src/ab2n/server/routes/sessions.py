"""Sessions, uploads and state."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ab2n.chat.engine import MONTAGE
from ab2n.errors import Ab2nError, MediaTooLarge
from ab2n.media.animation import playable
from ab2n.media.probe import MediaInfo, MediaLimits, probe
from ab2n.server.bodies import NewSessionBody, UrlUploadBody
from ab2n.server.boundary import SessionFiles, public_draft
from ab2n.server.deps import AppState, current_client, ok, owned_session, read_body, state
from ab2n.server.drafts import cursor, file_draft
from ab2n.server.multipart import client_file_name, receive_multipart
from ab2n.server.openapi import body_doc, errors
from ab2n.server.routes.render import output_url
from ab2n.server.ssrf import fetch
from ab2n.server.store import EditSession, Job, MediaRow, new_id
from ab2n.server.work import media_json, session_media
from ab2n.timeline.summary import summarize

router = APIRouter()

#: Audio uploads keep a suffix the music catalog accepts (they can be the music of a draft).
AUDIO_SUFFIX = {"mov": ".m4a", "wav": ".wav", "ogg": ".ogg", "flac": ".flac", "mp3": ".mp3", "aac": ".aac"}
#: Multipart framing around the file part, allowed on top of the upload limit in Content-Length.
MULTIPART_SLACK = 64 * 1024


@router.post(
    "/api/tasks/me/with-session/nemo_agent",
    openapi_extra=body_doc(NewSessionBody, optional=True),
    responses=errors(400, 401),
)
async def new_session(request: Request) -> JSONResponse:
    """Start an editing session."""
    client = current_client(request)
    body = await read_body(request, NewSessionBody)
    st = state(request)
    with st.maker.begin() as db:
        sess = EditSession(id=new_id("ses"), owner_id=client.id, language=body.language, task_name=body.task_name)
        db.add(sess)
    return ok({"session_id": sess.id})


@router.post(
    "/api/upload-video/nemo_agent/me/{sid}",
    openapi_extra=body_doc(UrlUploadBody, multipart=True),
    responses=errors(400, 401, 404, 413, 415, 429),
)
async def upload(sid: str, request: Request) -> JSONResponse:
    """Add a file (multipart ``file``) or a URL (JSON ``{"url"}``) to the session."""
    client = current_client(request)
    st = state(request)
    with st.maker() as db:
        owned_session(db, sid, client.id)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > st.settings.max_upload_bytes + MULTIPART_SLACK:
        raise MediaTooLarge(f"the file is larger than {st.settings.max_upload_bytes // (1024 * 1024)} MB")
    st.limiter.check(client.id, "upload", st.settings.rate_upload_per_min)
    dest = st.storage.receiving_path()
    loop = asyncio.get_running_loop()
    ctype = request.headers.get("content-type", "")
    try:
        if ctype.startswith("application/json"):
            body = await read_body(request, UrlUploadBody)
            with st.fetch_slots.hold(client.id):
                _, name = await loop.run_in_executor(st.fetch_pool, _fetch, st, body.url, dest)
        else:
            name = await receive_multipart(request.stream(), ctype, dest, max_bytes=st.settings.max_upload_bytes)
        name = client_file_name(name)
        info = await loop.run_in_executor(st.probe_pool, _probe, st, dest, name)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    key = st.storage.keep_upload(dest, AUDIO_SUFFIX.get(info.demuxer, ".bin") if info.kind == "audio" else ".bin")
    with st.maker.begin() as db:
        row = MediaRow(
            id=new_id("med"),
            session_id=sid,
            owner_id=client.id,
            path=key,
            name=name,
            kind=info.kind,
            info=info.to_json(),
        )
        db.add(row)
        sess = db.get(EditSession, sid)
        if sess is not None:  # the latest upload is the one "add music" means now
            sess.active_key = row.id
    st.queue.analyze(row.id)  # on a broker a worker analyses it now; embedded: on first use
    return ok(media_json(row))


def _fetch(st: AppState, url: str, dest: Path) -> tuple[Path, str]:
    s = st.settings
    return fetch(url, dest, max_bytes=s.max_upload_bytes, timeout_s=s.url_fetch_timeout_s, allow=s.url_allow)


def _probe(st: AppState, path: Path, name: str) -> MediaInfo:
    """Probe an upload; errors name the client's file, never the server's path."""
    try:
        limits = MediaLimits(max_bytes=st.settings.max_upload_bytes)
        info = probe(path, limits=limits)
        if info.convert_to:  # an animated WebP: keep its APNG copy as the upload (media.animation)
            copy = playable(info, path.with_name(path.name + ".png"), limits=limits)
            copy.path.replace(path)
            info = dataclasses.replace(copy, path=path, source=None)
        return info
    except Ab2nError as exc:
        exc.message = exc.message.replace(str(path), name).replace(path.name, name)
        exc.args = (exc.message,)
        raise


@router.get("/api/state/nemo_agent/me/{sid}/latest", responses=errors(401, 404))
def latest_state(sid: str, request: Request) -> JSONResponse:
    """The session's draft (ids, never paths), its media, and what has been produced."""
    client = current_client(request)
    st = state(request)
    with st.maker() as db:
        sess = owned_session(db, sid, client.id)
        rows = session_media(db, sid)
        files = SessionFiles.of(rows, st.storage)
        keys = [r.id for r in rows] + ([MONTAGE] if cursor(sess, MONTAGE) >= 0 else [])
        drafts = {k: file_draft(db, sess, k) for k in keys}
        active = sess.active_key if sess.active_key in drafts else ""
        draft = drafts.get(active) if active else file_draft(db, sess, "")
        jobs = db.query(Job).filter(Job.session_id == sid).order_by(Job.created_at).all()
    names = {r.id: r.name for r in rows}
    produced = [{"id": j.client_ref, "status": j.status, "output_url": output_url(request, j)} for j in jobs]
    per_file = [
        {
            "media_id": k,
            "name": names.get(k, "montage"),
            "active": k == active,
            "summary": summarize(d) if d else None,
            "draft": public_draft(d, files) if d else None,
        }
        for k, d in drafts.items()
    ]
    return ok(
        {
            "draft": public_draft(draft, files) if draft else None,
            "video_infos": [media_json(m) for m in rows],
            "generated_media": produced,
            "files": per_file,
        }
    )
