"""Sessions, uploads and state."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ab2n.errors import InvalidArgument
from ab2n.media.probe import MediaLimits, probe
from ab2n.server.deps import current_client, ok, owned_session, state
from ab2n.server.ssrf import fetch
from ab2n.server.storage import random_name, receive_multipart
from ab2n.server.store import EditSession, Job, MediaRow, new_id
from ab2n.server.work import current_draft, media_json, session_media

router = APIRouter()


@router.post("/api/tasks/me/with-session/nemo_agent")
async def new_session(request: Request) -> JSONResponse:
    """Start an editing session."""
    client = current_client(request)
    body = await _json(request)
    st = state(request)
    with st.maker.begin() as db:
        sess = EditSession(
            id=new_id("ses"),
            owner_id=client.id,
            language=str(body.get("language") or "en")[:16],
            task_name=str(body.get("task_name") or "project")[:64],
        )
        db.add(sess)
    return ok({"session_id": sess.id})


async def _json(request: Request) -> dict[str, Any]:
    st = state(request)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > st.settings.max_json_bytes:
            raise InvalidArgument("request body too large")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidArgument("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidArgument("the body must be a JSON object")
    return data


@router.post("/api/upload-video/nemo_agent/me/{sid}")
async def upload(sid: str, request: Request) -> JSONResponse:
    """Add a file (multipart ``file``) or a URL (JSON ``{"url"}``) to the session."""
    client = current_client(request)
    st = state(request)
    st.limiter.check(client.id, "upload", st.settings.rate_upload_per_min)
    with st.maker() as db:
        owned_session(db, sid, client.id)
    dest = st.settings.data_dir / "uploads" / random_name(".bin")
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        body = await _json(request)
        url = body.get("url")
        if not isinstance(url, str):
            raise InvalidArgument('send {"url": "https://..."} or a multipart file')
        _, name = await asyncio.to_thread(
            fetch,
            url,
            dest,
            max_bytes=st.settings.max_upload_bytes,
            timeout_s=st.settings.url_fetch_timeout_s,
            allow=st.settings.url_allow,
        )
    else:
        name = await receive_multipart(request.stream(), ctype, dest, max_bytes=st.settings.max_upload_bytes)
    try:
        info = await asyncio.to_thread(probe, dest, limits=MediaLimits(max_bytes=st.settings.max_upload_bytes))
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    with st.maker.begin() as db:
        row = MediaRow(
            id=new_id("med"),
            session_id=sid,
            owner_id=client.id,
            path=str(dest),
            name=name[:255],
            kind=info.kind,
            info=info.to_json(),
        )
        db.add(row)
    return ok(media_json(row))


@router.get("/api/state/nemo_agent/me/{sid}/latest")
def latest_state(sid: str, request: Request) -> JSONResponse:
    """The session's draft, its media, and what has been produced."""
    client = current_client(request)
    st = state(request)
    with st.maker() as db:
        sess = owned_session(db, sid, client.id)
        draft = current_draft(db, sess)
        media = [media_json(m) for m in session_media(db, sid)]
        jobs = db.query(Job).filter(Job.session_id == sid).order_by(Job.created_at).all()
    produced = [
        {
            "id": j.id,
            "status": j.status,
            "output_url": _output_url(request, j) if j.status == "done" else None,
        }
        for j in jobs
    ]
    return ok({"draft": draft.to_json() if draft else None, "video_infos": media, "generated_media": produced})


def _output_url(request: Request, job: Job) -> str:
    from ab2n.server.deps import base_url

    return f"{base_url(request, state(request).settings)}/api/render/output/{job.id}"
