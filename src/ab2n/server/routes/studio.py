"""The studio: the web page at ``/`` (files shipped in ``server/web/``), and the read-only
analysis of a session's media that its timeline picture draws (cuts, speech, duck regions).

The page is a plain client of the protocol: it holds a token like any other client and names
things only by the ids the server gave it. Its files are served from a fixed list read at start
(a request names a file of that list, never a path), under a Content-Security-Policy that allows
nothing from outside this origin.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from ab2n.analyze.profile import VideoProfile
from ab2n.errors import NotFound
from ab2n.mix.duck import duck_regions
from ab2n.server.deps import current_client, ok, owned_session, state
from ab2n.server.openapi import errors
from ab2n.server.store import MediaRow
from ab2n.server.work import media_and_profiles

router = APIRouter()

WEB = Path(__file__).resolve().parent.parent / "web"
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
#: The page's assets, by name: nothing else under any path is ever served from here.
ASSETS = {
    p.name: p for p in sorted(WEB.glob("*")) if p.suffix in _TYPES and re.fullmatch(r"[a-z0-9_-]+\.[a-z]+", p.name)
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def _asset(name: str) -> FileResponse:
    path = ASSETS.get(name)
    if path is None:
        raise NotFound("no such page")
    media_type = _TYPES[path.suffix] + ("; charset=utf-8" if path.suffix != ".svg" else "")
    return FileResponse(path, media_type=media_type, headers=HEADERS)


@router.get("/", include_in_schema=False, response_model=None)
def page() -> FileResponse:
    """The studio page."""
    return _asset("index.html")


@router.get("/studio/{name}", include_in_schema=False, response_model=None)
def asset(name: str) -> FileResponse:
    """One of the page's scripts or stylesheets."""
    return _asset(name)


@router.get("/api/media/nemo_agent/me/{sid}/{mid}/analysis", responses=errors(401, 404))
async def media_analysis(sid: str, mid: str, request: Request) -> JSONResponse:
    """What the analysis saw in one of the session's files: cuts, speech, where music ducks (read-only).

    The analysis is the one the edits use (cached on the media row); a file not analysed yet is
    analysed now, on the probe pool (with a broker a worker analyses it; this waits for its result).
    """
    client = current_client(request)
    st = state(request)
    with st.maker() as db:
        owned_session(db, sid, client.id)
        row = db.get(MediaRow, mid)
        if row is None or row.session_id != sid or row.owner_id != client.id:
            raise NotFound("no such media in this session")
        cached = row.profile
    if cached:
        profile = VideoProfile.from_json(cached)
    else:
        loop = asyncio.get_running_loop()
        wait_s = st.settings.analysis_wait_s if st.settings.broker_url else None  # a worker analyses it
        _, profiles = await loop.run_in_executor(
            st.probe_pool, lambda: media_and_profiles(st.maker, st.storage, sid, only={mid}, wait_s=wait_s)
        )
        profile = profiles[mid]
    return ok(analysis_json(mid, profile))


def analysis_json(mid: str, profile: VideoProfile) -> dict[str, Any]:
    """The public part of a profile: times in seconds, no paths, no per-second feature dumps."""
    return {
        "media_id": mid,
        "duration": round(profile.duration_s, 3),
        "cuts": [{"t": round(c.time_s, 3), "strength": round(c.strength, 3)} for c in profile.cuts],
        "speech": [[round(i.start_s, 3), round(i.end_s, 3)] for i in profile.speech],
        "duck": [[round(a, 3), round(b, 3)] for a, b in duck_regions(profile.speech)],
        "mood": profile.mood,
    }
