"""Request-scoped helpers: the app state, authentication, rate limits, envelopes."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker

from ab2n.server.errors import BadToken, RateLimited, SessionNotFound
from ab2n.server.settings import Settings
from ab2n.server.store import Client, EditSession, now


@dataclass
class AppState:
    """What every route needs."""

    settings: Settings
    maker: sessionmaker[Session]
    limiter: RateLimiter


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


def base_url(request: Request, settings: Settings) -> str:
    """Public base URL for links we hand out."""
    return settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")


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
    """Sliding one-minute windows per (token, action), in memory (per server process)."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str, action: str, per_minute: int) -> None:
        """Count a hit or raise 429."""
        t = time.monotonic()
        with self._lock:
            q = self._hits[(key, action)]
            while q and t - q[0] > 60:
                q.popleft()
            if len(q) >= per_minute:
                raise RateLimited(f"too many {action} requests; try again in a minute")
            q.append(t)
