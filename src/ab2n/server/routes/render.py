"""Render jobs: create (idempotent on the client's id), poll, download.

Two ways to download a done job's MP4:

- ``output_url`` (SPEC.md): ``/api/render/output/<server job id>`` with the owner's bearer token;
- ``download_url``: the same file at ``/api/render/download/<server job id>?exp=..&sig=..``, signed
  with HMAC-SHA256 over the server's job id, its owner and the expiry, with a secret kept in the data
  folder (``download.key``). It needs no token, so a browser can follow it (a link, a ``<video>``);
  only the owner is ever handed one (it is in the job as the owner polls it) and it stops working
  after ``DOWNLOAD_URL_S``. The job id is the server's random one, never the client's.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from ab2n.errors import NotFound
from ab2n.server.bodies import RenderBody
from ab2n.server.boundary import SessionFiles, client_draft
from ab2n.server.deps import AppState, base_url, current_client, ok, owned_session, read_body, state
from ab2n.server.errors import ExportBlocked
from ab2n.server.jobs import create_job, find_job
from ab2n.server.openapi import body_doc, errors
from ab2n.server.settings import Settings
from ab2n.server.store import Job, now
from ab2n.server.work import session_media

router = APIRouter()

#: How long a signed download link works (a page polls the job again for a fresh one).
DOWNLOAD_URL_S = 3600


def download_secret(settings: Settings) -> bytes:
    """The server's signing secret: ``<data>/download.key``, made once (0600) and shared by every
    process on the same data folder, so a link signed by one works on all of them."""
    path = settings.data_dir / "download.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".download.key.{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(32))
    try:
        os.link(tmp, path)  # atomic: if another process won the race, its key is the key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()


def _signature(settings: Settings, job: Job, exp: int) -> str:
    msg = f"{job.id}\n{job.owner_id}\n{exp}".encode()
    return hmac.new(download_secret(settings), msg, hashlib.sha256).hexdigest()


def download_url(request: Request, job: Job) -> str | None:
    """A signed, expiring link to a done job's MP4 that needs no bearer token (for its owner's browser)."""
    if job.status != "done":
        return None
    settings = state(request).settings
    exp = int(time.time()) + DOWNLOAD_URL_S
    return f"{base_url(settings)}/api/render/download/{job.id}?exp={exp}&sig={_signature(settings, job, exp)}"


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
        "download_url": download_url(request, job),
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
            draft = client_draft(body.draft, SessionFiles.of(session_media(db, sid), st.storage)).to_json()
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
    return _output_file(st, job)


@router.get(
    "/api/render/download/{job_id}",
    response_model=None,
    responses={200: {"content": {"video/mp4": {}}, "description": "the MP4"}, **errors(400, 404)},
)
def signed_download(
    job_id: str,
    request: Request,
    exp: int = Query(0, ge=0, le=2**62),
    sig: str = Query("", max_length=64),
) -> FileResponse:
    """The MP4 of a done job by its signed link (``download_url``): no token, until ``exp``."""
    st = state(request)
    with st.maker() as db:
        job = db.get(Job, job_id)
    # One answer for a wrong signature, an expired link and a missing job: a guess learns nothing.
    if job is None or exp < time.time() or job.status != "done":
        raise NotFound("no such output (or the link has expired)")
    if not hmac.compare_digest(sig.encode(), _signature(st.settings, job, exp).encode()):
        raise NotFound("no such output (or the link has expired)")
    return _output_file(st, job)


def _output_file(st: AppState, job: Job) -> FileResponse:
    """The job's MP4 unless it has expired or been swept."""
    days = st.settings.output_days
    if not job.output_path or (job.finished_at and now() - job.finished_at > days * 86400):
        raise NotFound("this output has expired")
    if not st.storage.exists(job.output_path):
        raise NotFound("this output has expired")
    return FileResponse(st.storage.local(job.output_path), media_type="video/mp4", filename=f"{job.client_ref}.mp4")
