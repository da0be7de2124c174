"""Render jobs: create (idempotent on id), poll, download."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from ab2n.errors import InvalidArgument, NotFound
from ab2n.server.deps import base_url, current_client, ok, owned_session, state
from ab2n.server.errors import ExportBlocked
from ab2n.server.jobs import create_job
from ab2n.server.routes.sessions import _json
from ab2n.server.store import Job, now
from ab2n.timeline.draft import Draft

router = APIRouter()


def job_json(request: Request, job: Job) -> dict[str, object]:
    """SPEC.md job shape."""
    url = f"{base_url(request, state(request).settings)}/api/render/output/{job.id}" if job.status == "done" else None
    err = {"code": job.error_code, "message": job.error} if job.status == "failed" else None
    return {
        "id": job.id,
        "status": job.status,
        "progress": round(job.progress, 3),
        "output_url": url,
        "error": err,
    }


@router.post("/api/render/proxy/lambda")
async def start_render(request: Request) -> JSONResponse:
    """Start an export; the same id again returns the same job."""
    client = current_client(request)
    st = state(request)
    if st.settings.require_attribution and not request.headers.get("x-skill-source"):
        raise ExportBlocked("export needs the X-Skill-Source/Version/Platform headers on this plan")
    body = await _json(request)
    job_id = str(body.get("id") or "")
    sid = str(body.get("sessionId") or body.get("session_id") or "")
    if not job_id or len(job_id) > 80:
        raise InvalidArgument('the body needs "id" (e.g. "render_<timestamp>")')
    draft = body.get("draft")
    if draft is not None:
        if not isinstance(draft, dict):
            raise InvalidArgument("draft must be an object")
        draft = Draft.from_json(draft).to_json()  # validates (and migrates) before queueing
    fmt = (body.get("output") or {}).get("format", "mp4")
    if fmt != "mp4":
        raise InvalidArgument("MP4 is the export format")
    with st.maker.begin() as db:
        existing = db.get(Job, job_id)
        if existing is not None and existing.owner_id != client.id:
            raise NotFound("no such job")
        owned_session(db, sid, client.id)
        job, _ = create_job(db, st.settings, job_id=job_id, owner_id=client.id, session_id=sid, draft=draft or None)
    return ok(job_json(request, job))


@router.get("/api/render/proxy/lambda/{job_id}")
def get_render(job_id: str, request: Request) -> JSONResponse:
    """Poll a job."""
    client = current_client(request)
    with state(request).maker() as db:
        job = db.get(Job, job_id)
    if job is None or job.owner_id != client.id:
        raise NotFound("no such job")
    return ok(job_json(request, job))


@router.get("/api/render/output/{job_id}", response_model=None)
def download(job_id: str, request: Request) -> FileResponse:
    """The MP4 of a done job, for its owner only, until it expires."""
    client = current_client(request)
    st = state(request)
    with st.maker() as db:
        job = db.get(Job, job_id)
    if job is None or job.owner_id != client.id or job.status != "done" or not job.output_path:
        raise NotFound("no such output")
    if job.finished_at and now() - job.finished_at > st.settings.output_days * 86400:
        raise NotFound("this output has expired")
    path = Path(job.output_path)
    if not path.exists():
        raise NotFound("no such output")
    return FileResponse(path, media_type="video/mp4", filename=f"{job.id}.mp4")
