"""The ab2n error tree.

Every error carries a protocol ``code`` (see the error table of shared/SPEC.md), a one-line
``message`` for people, and an ``exit_code`` for the CLI. Nothing else in ab2n raises bare
exceptions at the user: the CLI prints ``error <code>: <message>`` and exits with ``exit_code``.

    Ab2nError                      code  exit
    ├── InvalidArgument            400   2    bad option or instruction
    ├── NotFound                   404   3    a path, media id or track that does not exist
    ├── UnsupportedMedia           4001  4    not a format we accept (decided from content)
    ├── MediaTooLarge              4002  5    over a size, duration or pixel limit
    ├── MediaLimit (alias)               5
    ├── ProcessingError            500   6    FFmpeg or a stage failed on valid-looking input
    │   └── ProcessTimeout         500   7    a process exceeded its wall clock or stalled
    └── Cancelled                  499   8    the caller cancelled the work
"""

from __future__ import annotations


class Ab2nError(Exception):
    """Base of every error ab2n raises on purpose.

    Args:
        message: One line, for a person; no traceback, no multi-line FFmpeg dump.
        detail: Optional longer text (for example an FFmpeg stderr tail) kept for logs/--debug.
    """

    code: int = 500
    exit_code: int = 1

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        # Keep the message to one line whatever the caller passed.
        one_line = " ".join(message.split())
        super().__init__(one_line)
        self.message = one_line
        self.detail = detail

    def to_dict(self) -> dict[str, object]:
        """The protocol envelope fields for this error."""
        return {"code": self.code, "message": self.message, "data": None}


class InvalidArgument(Ab2nError):
    """An option, parameter or instruction that cannot be honoured."""

    code = 400
    exit_code = 2


class NotFound(Ab2nError):
    """A path, media id, session or track that does not exist."""

    code = 404
    exit_code = 3


class UnsupportedMedia(Ab2nError):
    """A file that is not one of the accepted formats (SPEC.md code 4001)."""

    code = 4001
    exit_code = 4


class MediaTooLarge(Ab2nError):
    """A file over the size, duration or pixel limits (SPEC.md code 4002)."""

    code = 4002
    exit_code = 5


class ProcessingError(Ab2nError):
    """FFmpeg or an analysis stage failed on input that passed validation."""

    code = 500
    exit_code = 6


class ProcessTimeout(ProcessingError):
    """A process ran past its wall-clock limit or stopped making progress."""

    exit_code = 7


class Cancelled(Ab2nError):
    """The caller cancelled the work (Ctrl-C, a cancelled job)."""

    code = 499
    exit_code = 8


__all__ = [
    "Ab2nError",
    "Cancelled",
    "InvalidArgument",
    "MediaTooLarge",
    "NotFound",
    "ProcessTimeout",
    "ProcessingError",
    "UnsupportedMedia",
]
