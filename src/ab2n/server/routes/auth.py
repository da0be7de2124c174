"""POST /api/auth/anonymous-token."""

from __future__ import annotations

import secrets
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from ab2n.server import ledger
from ab2n.server.deps import ok, state, token_hash
from ab2n.server.errors import MissingClientId, RateLimited
from ab2n.server.openapi import CLIENT_ID_HEADER, errors
from ab2n.server.store import Client, new_id, now

router = APIRouter()


def normalise_client_id(raw: str) -> str:
    """The canonical spelling of a client id (any case, braces, ``urn:uuid:``), or 400.

    One client id written another way is still one client: it must not get a second grant.
    """
    text = raw.strip()
    if not text:
        raise MissingClientId("missing X-Client-Id header: generate a UUID and retry")
    try:
        return str(uuid.UUID(text[:64]))
    except ValueError:
        raise MissingClientId("X-Client-Id must be a UUID") from None


@router.post("/api/auth/anonymous-token", openapi_extra=CLIENT_ID_HEADER, responses=errors(400, 429))
def anonymous_token(request: Request) -> JSONResponse:
    """A token with the anonymous grant; one per client id per token lifetime, a few per address per day."""
    client_id = normalise_client_id(request.headers.get("x-client-id", ""))
    address = (request.client.host if request.client else "")[:64]
    st = state(request)
    lifetime = st.settings.token_days * 86400
    token = "ab2n_" + secrets.token_urlsafe(32)
    with st.maker.begin() as db:
        recent = db.execute(
            select(Client).where(Client.client_id == client_id, Client.created_at > now() - lifetime)
        ).first()
        if recent is not None:
            raise RateLimited("one anonymous token per client per 7 days; reuse the one you have")
        from_address = db.execute(
            select(func.count()).select_from(Client).where(Client.address == address, Client.created_at > now() - 86400)
        ).scalar_one()
        if from_address >= st.settings.tokens_per_address_per_day:
            raise RateLimited("too many new tokens from this address today; reuse the one you have")
        client = Client(
            id=new_id("cli"),
            client_id=client_id,
            token_hash=token_hash(token),
            expires_at=now() + lifetime,
            address=address,
        )
        db.add(client)
        db.flush()
        ledger.grant(db, client.id, st.settings.anonymous_credits, ref="anonymous")
    return ok({"token": token, "expires_in": int(lifetime), "credits": st.settings.anonymous_credits})
