"""Animated WebP -> APNG, so every decoder ab2n uses can play it (Pillow reads, zlib writes).

Why: FFmpeg decodes animated WebP only from 7.1 on; Debian's 5.1, and the libraries inside PyAV
that the analysis decodes with, can't. APNG is read by all of them (FFmpeg's ``apng`` demuxer
predates 5.1), is lossless and keeps each frame's own delay, so the converted file plays like the
WebP. Frames are written as Pillow composites them, one in memory at a time, each a full frame.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from pathlib import Path

import numpy as np

from ab2n.errors import MediaTooLarge, UnsupportedMedia
from ab2n.media.probe import MediaInfo, MediaLimits, probe
from ab2n.media.sniff import webp_frame_delays

#: The most pixels over all frames one conversion decodes (a 512x512 sticker is 0.26 M a frame).
MAX_TOTAL_PIXELS = 1_000_000_000


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _fctl(seq: int, w: int, h: int, delay_ms: int) -> bytes:
    # sequence, size, offset 0,0, delay as ms/1000, dispose none, blend source (frames are full canvases)
    return _chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, w, h, 0, 0, max(1, delay_ms), 1000, 0, 0))


def webp_to_apng(src: Path, out: Path, *, max_pixels: int) -> Path:
    """Write ``src``, an animated WebP, to ``out`` as an APNG with the same frames and delays.

    Raises:
        MediaTooLarge: The canvas over ``max_pixels``, or all frames together over ``MAX_TOTAL_PIXELS``.
        UnsupportedMedia: Pillow can't read it as an animated WebP.
    """
    from PIL import Image, ImageSequence  # local: only animated WebP needs Pillow

    try:
        with Image.open(src, formats=["WEBP"]) as im:
            w, h, n = im.width, im.height, int(getattr(im, "n_frames", 1))
            # Pillow doesn't report every frame's delay: read them from the chunks.
            delays = webp_frame_delays(src.read_bytes())
            if w * h > max_pixels:
                raise MediaTooLarge(f"{src.name} is {w}x{h}; the limit is {max_pixels} pixels")
            if w * h * n > MAX_TOTAL_PIXELS:
                raise MediaTooLarge(f"{src.name} has {n} frames of {w}x{h}: too many pixels to convert")
            with out.open("wb") as fh:
                fh.write(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)))
                fh.write(_chunk(b"acTL", struct.pack(">II", n, 0)))
                seq = 0
                for i, frame in enumerate(ImageSequence.Iterator(im)):
                    rows = np.frombuffer(frame.convert("RGBA").tobytes(), np.uint8).reshape(h, w * 4)
                    # Each scanline starts with its filter type (0: none); level 1: a temporary file.
                    data = zlib.compress(np.hstack([np.zeros((h, 1), np.uint8), rows]).tobytes(), 1)
                    fh.write(_fctl(seq, w, h, delays[i] if i < len(delays) else 100))
                    seq += 1
                    if i == 0:
                        fh.write(_chunk(b"IDAT", data))
                    else:
                        fh.write(_chunk(b"fdAT", struct.pack(">I", seq) + data))
                        seq += 1
                fh.write(_chunk(b"IEND", b""))
    except (OSError, ValueError, SyntaxError) as exc:
        out.unlink(missing_ok=True)
        raise UnsupportedMedia(f"{src.name} could not be read as an animated WebP: {exc}") from None
    return out


def playable(info: MediaInfo, out: Path, *, limits: MediaLimits | None = None) -> MediaInfo:
    """``info`` itself, or, for an animated WebP, its APNG copy written to ``out`` and probed.

    The copy's ``source`` is the original file (for messages and notes).
    """
    if info.convert_to != "apng":
        return info
    lim = limits or MediaLimits()
    webp_to_apng(info.path, out, max_pixels=lim.max_pixels)
    return dataclasses.replace(probe(out, limits=lim), source=info.source or info.path)
