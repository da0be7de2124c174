"""Protocol errors of the service (SPEC.md error table), beside the core's Ab2nError codes."""

from __future__ import annotations

import re

from ab2n.errors import Ab2nError


class ApiError(Ab2nError):
    """An error with its protocol code and HTTP status."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.data = data


class BadToken(ApiError):
    """1001: bad or expired token."""

    code, status = 1001, 401


class SessionNotFound(ApiError):
    """1002: session not found (or not yours)."""

    code, status = 1002, 404


class NotEnoughCredits(ApiError):
    """2001: not enough credits."""

    code, status = 2001, 402


class MissingClientId(ApiError):
    """400: missing X-Client-Id."""

    code, status = 400, 400


class ExportBlocked(ApiError):
    """402: export blocked for this plan (attribution required)."""

    code, status = 402, 402


class RateLimited(ApiError):
    """429: rate limit."""

    code, status = 429, 429


# HTTP status for the core's error codes.
STATUS_FOR_CODE: dict[int, int] = {400: 400, 404: 404, 4001: 415, 4002: 413, 499: 499, 500: 500}


# An absolute file path of two or more parts (the API's own /api/... routes are not files).
_PATH = re.compile(r"(?<![\w:/.])/(?!api/|run_sse)(?:[^\s'\"/:]+/)+[^\s'\":,;)]*")


def public_message(message: str) -> str:
    """A message fit for a client: any server file path in it becomes "a file".

    The core's errors name paths for the person at the terminal; a stranger must not learn the
    server's layout, or which files exist, from them.
    """
    return _PATH.sub("a file", message)
