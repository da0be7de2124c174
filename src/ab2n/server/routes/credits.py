"""GET /api/credits/balance/simple."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ab2n.server import ledger
from ab2n.server.deps import current_client, ok, state
from ab2n.server.openapi import errors

router = APIRouter()


@router.get("/api/credits/balance/simple", responses=errors(401))
def balance(request: Request) -> JSONResponse:
    """available / frozen / total from the ledger."""
    client = current_client(request)
    with state(request).maker() as db:
        return ok(ledger.balance(db, client.id).to_json())
