"""One message read the one way every face reads it: which file it is about, then what it asks.

``ab2n intent``, the terminal chat and the service's chat all call :func:`read_message`, so the
same words (and the same previous turn) give the same parse everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from ab2n.intent.address import Address, parse_address
from ab2n.intent.parse import ParseResult, detect_lang, parse

__all__ = ["read_message"]


def read_message(text: str, *, names: Sequence[str] = (), after: str | None = None) -> tuple[Address, ParseResult]:
    """(the files the message addresses, its meaning with the addressing words taken out).

    Args:
        text: What the person said.
        names: The session's files as uploaded, in upload order (none for ``ab2n intent``).
        after: What the previous turn changed on the file ("music", "title" or None).
    """
    address = parse_address(text, list(names), lang=detect_lang(text))
    # "this one" / "that clip" name the active file, which is the target anyway; kept in the
    # sentence they stay its object ("i don't like this one", "remove that one").
    words = text if address.kind == "active" else (address.text or text)
    return address, parse(words, after=after)
