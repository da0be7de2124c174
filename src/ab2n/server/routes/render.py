"""Render jobs: create (idempotent on the client's id), poll, download."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from ab2n.errors import NotFound
from ab2n.server.bodies import RenderBody
from ab2n.server.boundary import SessionFiles, client_draft
from ab2n.server.deps import base_url, current_client, ok, owned_session, read_body, state
from ab2n.server.errors import ExportBlocked
from ab2n.server.jobs import create_job, find_job
from ab2n.server.openapi import body_doc, errors
from ab2n.server.store import Job, now
from ab2n.server.work import session_media

router = APIRouter()


def output_url(request: Request, job: Job) -> str | None:
    """The download link of a done job (by the server's job id, for its owner only)."""
    if job.status != "done":
        return None
    return f"{base_url(state(request).settings)}/api/render/output/{job.id}"


def job_json(request: Request, job: Job) -> dict[str, object]:
    """SPEC.md job shape (``id`` is the client's own id)."""
    err = {"code": job.error_code, "message": job.error} if job.status == "failed" else None
    return {
        "id": job.client_ref,
        "status": job.status,
        "progress": round(job.progress, 3),
        "output_url": output_url(request, job),
        "error": err,
    }


@router.post(
    "/api/render/proxy/lambda",
    openapi_extra=body_doc(RenderBody),
    responses=errors(400, 401, 402, 404, 429),
)
async def start_render(request: Request) -> JSONResponse:
    """Start an export; the same id from the same client again returns the same job."""
    client = current_client(request)
    st = state(request)
    if st.settings.require_attribution and not request.headers.get("x-skill-source"):
        raise ExportBlocked("export needs the X-Skill-Source/Version/Platform headers on this plan")
    body = await read_body(request, RenderBody)
    sid = body.sessionId
    with st.maker.begin() as db:
        owned_session(db, sid, client.id)
        existing = find_job(db, client.id, body.id)
        if existing is not None:
            return ok(job_json(request, existing))
        draft = None
        if body.draft is not None:
            draft = client_draft(body.draft, SessionFiles.of(session_media(db, sid))).to_json()
        job, _ = create_job(db, st.settings, client_ref=body.id, owner_id=client.id, session_id=sid, draft=draft)
    st.queue.render(job.id)
    return ok(job_json(request, job))


@router.get("/api/render/proxy/lambda/{job_id}", responses=errors(401, 404))
def get_render(job_id: str, request: Request) -> JSONResponse:
    """Poll one of the caller's jobs by the id it chose."""
    client = current_client(request)
    with state(request).maker() as db:
        job = find_job(db, client.id, job_id)
    if job is None:
        raise NotFound("no such job")
    return ok(job_json(request, job))


@router.get(
    "/api/render/output/{job_id}",
    response_model=None,
    responses={200: {"content": {"video/mp4": {}}, "description": "the MP4"}, **errors(401, 404)},
)
def download(job_id: str, request: Request) -> FileResponse:
    """The MP4 of a done job, for its owner only, until it expires."""
    client = current_client(request)
    st = state(request)
    with st.maker() as db:
        job = db.get(Job, job_id)
    if job is None or job.owner_id != client.id or job.status != "done":
        raise NotFound("no such output")
    if not job.output_path or (job.finished_at and now() - job.finished_at > st.settings.output_days * 86400):
        raise NotFound("this output has expired")
    path = Path(job.output_path)
    if not path.is_file():
        raise NotFound("this output has expired")
    return FileResponse(path, media_type="video/mp4", filename=f"{job.client_ref}.mp4")
