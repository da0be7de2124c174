"""Uploads as they arrive: a multipart body streamed into a local file, and the client's file name.

Multipart bodies are parsed as they arrive (python-multipart's streaming parser), written straight
to a temporary file, and the size limit is enforced while receiving: a 500 MB upload never sits in
memory, and an over-size one is cut off with 4002 and its partial file removed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from ab2n.errors import InvalidArgument, MediaTooLarge

DRAIN_BYTES = 64 * 1024 * 1024


def client_file_name(name: str) -> str:
    """The client's file name as metadata: its last path part, printable, at most 255 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(ch for ch in base if ch.isprintable()).strip()
    return clean[:255] or "upload"


async def receive_multipart(
    stream: AsyncIterator[bytes], content_type: str, dest: Path, *, max_bytes: int, field: str = "file"
) -> str:
    """Stream the ``field`` part of a multipart body into ``dest``; returns the client's file name.

    Raises:
        InvalidArgument: Not multipart, or no such field.
        MediaTooLarge: The file part exceeds ``max_bytes`` (``dest`` is removed).
    """
    ctype, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise InvalidArgument("send the file as multipart/form-data with a 'file' field, or JSON {\"url\": ...}")
    state: dict[str, Any] = {
        "headers": {},
        "name": None,
        "filename": "",
        "in_file": False,
        "size": 0,
        "seen": False,
    }
    fh = dest.open("wb")
    header_field = bytearray()
    header_value = bytearray()

    def on_part_begin() -> None:
        state["headers"] = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        state["headers"][bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        disp = state["headers"].get(b"content-disposition", b"")
        _, p = parse_options_header(disp)
        state["name"] = p.get(b"name", b"").decode("utf-8", "replace")
        state["filename"] = p.get(b"filename", b"").decode("utf-8", "replace")
        state["in_file"] = state["name"] == field
        if state["in_file"]:
            state["seen"] = True

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if not state["in_file"]:
            return
        state["size"] += end - start
        if state["size"] > max_bytes:
            raise MediaTooLarge(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
        fh.write(data[start:end])

    def on_part_end() -> None:
        state["in_file"] = False

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        try:
            async for chunk in stream:
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError:
            raise InvalidArgument(
                "the multipart body is malformed (a part header over 4 KB, or a broken boundary)"
            ) from None
        except MediaTooLarge:
            # Read (and drop) a bounded rest of the body so the client, still sending, gets our
            # answer instead of a reset connection; past the bound the connection is simply closed.
            drained = 0
            async for chunk in stream:
                drained += len(chunk)
                if drained > DRAIN_BYTES:
                    break
            raise
        fh.close()
        if not state["seen"]:
            raise InvalidArgument(f"no '{field}' field in the upload")
    except BaseException:
        fh.close()
        dest.unlink(missing_ok=True)
        raise
    return str(state["filename"])
