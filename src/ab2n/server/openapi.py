"""The OpenAPI document says what the service really answers: the envelope and its codes.

Bodies are read by ``deps.read_body`` (size and depth caps first), not by FastAPI, so their models
are attached here as ``openapi_extra``; FastAPI's default 422 answers, which this service never
gives (a bad body is a 400 envelope), are removed from the document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ab2n.server.bodies import ChatBody, NewSessionBody, RenderBody, UrlUploadBody

_REF = "#/components/schemas/{model}"
_BODY_MODELS: tuple[type[BaseModel], ...] = (ChatBody, NewSessionBody, RenderBody, UrlUploadBody)

_WHY = {
    400: "bad request: invalid body or parameter, missing X-Client-Id (code 400)",
    401: "bad or expired token (code 1001)",
    402: "not enough credits (code 2001) or export blocked for this plan (code 402)",
    404: "session (code 1002), job or output not found",
    413: "file too large (code 4002)",
    415: "unsupported file (code 4001)",
    429: "rate limit (code 429)",
}


class Envelope(BaseModel):
    """Every JSON answer: ``code`` 0 is success; otherwise the protocol error code."""

    code: int
    message: str
    data: dict[str, Any] | None = None


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route: the envelope for success and for each error status it can give."""
    out: dict[int | str, dict[str, Any]] = {200: {"model": Envelope, "description": "success (code 0)"}}
    out.update({s: {"model": Envelope, "description": _WHY[s]} for s in statuses})
    return out


def body_doc(model: type[BaseModel], *, multipart: bool = False, optional: bool = False) -> dict[str, Any]:
    """``openapi_extra`` declaring a JSON body of ``model`` (or multipart ``file`` too; ``optional``:
    the body may be left out)."""
    content: dict[str, Any] = {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}}
    if multipart:
        content["multipart/form-data"] = {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    return {"requestBody": {"required": not (multipart or optional), "content": content}}


#: ``openapi_extra`` of the anonymous-token route: its one input is a header.
CLIENT_ID_HEADER: dict[str, Any] = {
    "parameters": [
        {
            "name": "X-Client-Id",
            "in": "header",
            "required": True,
            "description": "the client's UUID (any spelling: case, braces, urn:uuid: are one id)",
            "schema": {"type": "string", "format": "uuid"},
        }
    ]
}


def install(app: FastAPI) -> None:
    """Replace the app's OpenAPI generator with one that has the body models and no 422s."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _, defs = models_json_schema([(m, "validation") for m in _BODY_MODELS], ref_template=_REF)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(defs.get("$defs", {}))
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for path in doc.get("paths", {}).values():
            for op in path.values():
                op.get("responses", {}).pop("422", None)
        app.openapi_schema = doc
        return doc

    app.openapi = build  # type: ignore[method-assign]
