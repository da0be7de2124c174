"""POST /api/auth/anonymous-token."""

from __future__ import annotations

import secrets
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from ab2n.server import ledger
from ab2n.server.deps import ok, state, token_hash
from ab2n.server.errors import MissingClientId, RateLimited
from ab2n.server.store import Client, new_id, now

router = APIRouter()


@router.post("/api/auth/anonymous-token")
def anonymous_token(request: Request) -> JSONResponse:
    """A token with the anonymous grant; one per client id per token lifetime (429 after)."""
    client_id = request.headers.get("x-client-id", "").strip()
    if not client_id:
        raise MissingClientId("missing X-Client-Id header: generate a UUID and retry")
    try:
        uuid.UUID(client_id)
    except ValueError:
        raise MissingClientId("X-Client-Id must be a UUID") from None
    st = state(request)
    lifetime = st.settings.token_days * 86400
    token = "ab2n_" + secrets.token_urlsafe(32)
    with st.maker.begin() as db:
        recent = db.execute(
            select(Client).where(Client.client_id == client_id, Client.created_at > now() - lifetime)
        ).first()
        if recent is not None:
            raise RateLimited("one anonymous token per client per 7 days; reuse the one you have")
        client = Client(
            id=new_id("cli"), client_id=client_id, token_hash=token_hash(token), expires_at=now() + lifetime
        )
        db.add(client)
        db.flush()
        ledger.grant(db, client.id, st.settings.anonymous_credits, ref="anonymous")
    return ok({"token": token, "expires_in": int(lifetime), "credits": st.settings.anonymous_credits})
