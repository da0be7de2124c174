"""Request-scoped helpers: the app state, authentication, rate limits, envelopes."""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ab2n.errors import InvalidArgument
from ab2n.server.bodies import M, parse_body
from ab2n.server.errors import BadToken, RateLimited, SessionNotFound
from ab2n.server.queue import WorkQueue
from ab2n.server.settings import Settings
from ab2n.server.storage import Storage
from ab2n.server.store import Client, EditSession, RateHit, now


@dataclass
class AppState:
    """What every route needs."""

    settings: Settings
    maker: sessionmaker[Session]
    limiter: RateLimiter
    fetch_pool: ThreadPoolExecutor  # URL downloads: slow by nature, kept apart
    probe_pool: ThreadPoolExecutor  # probing uploads: short CPU work
    fetch_slots: PerClientSlots
    queue: WorkQueue  # embedded threads or Celery workers
    storage: Storage  # uploads and outputs (the data folder, shared on N machines)


def ok(data: Any = None, message: str = "ok") -> JSONResponse:
    """The success envelope."""
    return JSONResponse({"code": 0, "message": message, "data": data})


def state(request: Request) -> AppState:
    """The app state."""
    st: AppState = request.app.state.ab2n
    return st


def token_hash(token: str) -> str:
    """Tokens are stored hashed."""
    return hashlib.sha256(token.encode()).hexdigest()


def base_url(settings: Settings) -> str:
    """Public base URL for links we hand out: ``public_url`` (set by ``ab2n serve`` to its own
    address, or by the deployment behind a proxy), never the request's Host header."""
    return settings.public_url.rstrip("/") or "http://127.0.0.1:8000"


def current_client(request: Request) -> Client:
    """The client of the bearer token, or 1001."""
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        raise BadToken("missing bearer token")
    st = state(request)
    with st.maker() as db:
        client = db.query(Client).filter(Client.token_hash == token_hash(auth[7:].strip())).one_or_none()
    if client is None or client.expires_at < now():
        raise BadToken("bad or expired token")
    request.state.owner_id = client.id
    return client


def owned_session(db: Session, session_id: str, owner_id: str) -> EditSession:
    """The session if it is the caller's, else 1002."""
    sess = db.get(EditSession, session_id)
    if sess is None or sess.owner_id != owner_id:
        raise SessionNotFound("session not found")
    return sess


class RateLimiter:
    """Sliding one-minute windows per (client, action), kept in the database (a restart resets nothing)."""

    def __init__(self, maker: sessionmaker[Session]) -> None:
        self.maker = maker

    def check(self, key: str, action: str, per_minute: int) -> None:
        """Count a hit or raise 429."""
        t = now()
        with self.maker.begin() as db:
            db.execute(delete(RateHit).where(RateHit.key == key, RateHit.action == action, RateHit.at < t - 60))
            hits = db.execute(
                select(func.count()).select_from(RateHit).where(RateHit.key == key, RateHit.action == action)
            ).scalar_one()
            if hits >= per_minute:
                raise RateLimited(f"too many {action} requests; try again in a minute")
            db.add(RateHit(key=key, action=action, at=t))


class PerClientSlots:
    """At most ``limit`` concurrent pieces of one kind of work per client (429 beyond).

    Used with a bounded thread pool of its own, so one client's slow URLs can hold only its own
    slots, never the threads other clients' requests need.
    """

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self._busy: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Take a slot for ``key`` for the duration of the block."""
        with self._lock:
            if self._busy[key] >= self.limit:
                raise RateLimited(f"{self.limit} {self.what} already running for you; wait for one to finish")
            self._busy[key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy[key] -= 1
                if not self._busy[key]:
                    del self._busy[key]


async def read_body(request: Request, model: type[M]) -> M:
    """The request's JSON body as ``model``: size capped (from the header, then while reading),
    depth capped, every field validated; any failure is a 400 envelope."""
    limit = state(request).settings.max_json_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InvalidArgument(f"the request body is over {limit // 1024} KB")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise InvalidArgument(f"the request body is over {limit // 1024} KB")
    return parse_body(bytes(raw), model)
