"""open_container(): the one way ab2n opens a file with PyAV, under the limits FFmpeg runs get.

Every PyAV open of untrusted input goes through here (DESIGN.md "FFmpeg, safely"), so each gets
what ``media.ffmpeg.input_args`` gives an FFmpeg process:

- the sniffed demuxer forced (the file's name never picks the parser);
- ``protocol_whitelist=file,pipe`` and a ``format_whitelist`` of the accepted containers, so a
  container can't make FFmpeg open URLs or other files;
- bounded ``probesize``/``analyzeduration``;
- ``max_pixels`` on every video decoder, and a check of each stream's declared size before any
  decoding, so a 20000x20000 picture is refused on its word and one that grows mid-stream is
  refused by the decoder before it allocates the frame.

Both refusals raise :class:`~ab2n.errors.MediaTooLarge` (code 4002).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import av

from ab2n.errors import MediaTooLarge, UnsupportedMedia
from ab2n.media.ffmpeg import ACCEPTED_DEMUXERS, ANALYZEDURATION_US, MAX_PIXELS, PROBESIZE_BYTES

#: Demuxer options of every open.
CONTAINER_OPTIONS: dict[str, str] = {
    "protocol_whitelist": "file,pipe",
    "format_whitelist": ",".join(ACCEPTED_DEMUXERS),
    "probesize": str(PROBESIZE_BYTES),
    "analyzeduration": str(ANALYZEDURATION_US),
}


@contextlib.contextmanager
def open_container(
    path: str | Path,
    demuxer: str,
    *,
    max_pixels: int = MAX_PIXELS,
    decoder_options: Mapping[str, str] | None = None,
) -> Iterator[av.container.InputContainer]:
    """Open ``path`` for reading with every limit applied; close it when the block ends.

    Args:
        path: A local file.
        demuxer: Its sniffed FFmpeg demuxer (``media.sniff``), forced.
        max_pixels: Largest picture (width x height) any video stream may declare or decode.
        decoder_options: More options for every video decoder (e.g. ``skip_loop_filter``).

    Yields:
        The open container.

    Raises:
        UnsupportedMedia: ``demuxer`` is not an accepted container.
        MediaTooLarge: A video stream declares, or while decoding in the block turns out to
            have, pictures over ``max_pixels``.
        av.FFmpegError, OSError: The file could not be opened (callers word the refusal).
    """
    if demuxer not in ACCEPTED_DEMUXERS:
        raise UnsupportedMedia(f"refusing to open {Path(path).name} as {demuxer!r}")
    name = Path(path).name
    with av.open(str(path), format=demuxer, container_options=CONTAINER_OPTIONS) as container:
        for stream in container.streams.video:
            cc = stream.codec_context
            # Cover art is never decoded; its size says nothing about the video.
            if not _is_cover_art(stream) and (cc.width or 0) * (cc.height or 0) > max_pixels:
                raise _too_large(name, cc.width, cc.height, max_pixels)
            cc.options = {**(decoder_options or {}), "max_pixels": str(max_pixels)}
        try:
            yield container
        except av.FFmpegError:
            # The decoder refuses a picture over max_pixels with a generic error, but it has
            # already taken the new size: that tells this refusal from damaged data.
            for stream in container.streams.video:
                cc = stream.codec_context
                if (cc.width or 0) * (cc.height or 0) > max_pixels:
                    raise _too_large(name, cc.width, cc.height, max_pixels) from None
            raise


def _is_cover_art(stream: av.stream.Stream) -> bool:
    return bool(int(stream.disposition) & int(av.stream.Disposition.attached_pic))


def _too_large(name: str, width: int, height: int, max_pixels: int) -> MediaTooLarge:
    eight_k = " (8K)" if max_pixels == MAX_PIXELS else ""
    return MediaTooLarge(f"{name} is {width}x{height}; the limit is {max_pixels} pixels{eight_k}")


@contextlib.contextmanager
def create_container(
    path: str | Path, fmt: str, *, options: Mapping[str, str] | None = None
) -> Iterator[av.container.OutputContainer]:
    """Open ``path`` for writing as ``fmt`` (an FFmpeg muxer name); close (and finish) it when the block ends.

    Only ab2n's own files are written here (render's temporary names); nothing is read.
    """
    with av.open(str(path), mode="w", format=fmt, options=dict(options or {})) as container:
        yield container
