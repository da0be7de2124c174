"""Decide a file's container from its first bytes (never from its name).

Why: a file named ``.mp4`` may be an HLS playlist or an ffconcat script that makes FFmpeg open
other files on disk or on the network. We read the magic bytes, map them to one FFmpeg demuxer,
and force that demuxer on every later open. Text formats are refused outright.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ab2n.errors import NotFound, UnsupportedMedia

SUPPORTED_TEXT = (
    "mp4, mov, avi, webm, mkv (video); jpg, png, gif, webp, avif, heic where FFmpeg decodes it (image); "
    "mp3, wav, m4a, aac, ogg, flac (audio)"
)

KindHint = Literal["video", "audio", "image", "av"]


@dataclass(frozen=True)
class Sniffed:
    """The sniffed container.

    Attributes:
        demuxer: FFmpeg demuxer name to force with ``-f``.
        kind_hint: "image", "audio", or "av" (a container that may hold video and/or audio).
        label: Human name of the format ("MP4/MOV", "Matroska/WebM", ...).
    """

    demuxer: str
    kind_hint: KindHint
    label: str


_HEAD_BYTES = 4096

# ISO-BMFF brands that mean audio-only MPEG-4 (still demuxed by "mov").
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}


def sniff(path: str | Path) -> Sniffed:
    """Identify ``path``'s container from its content.

    Raises:
        NotFound: The file does not exist.
        UnsupportedMedia: Empty, text (playlist, concat script, SDP), or an unknown format.
    """
    p = Path(path)
    if not p.is_file():
        raise NotFound(f"no such file: {p}")
    with p.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    return sniff_bytes(head, name=p.name)


def sniff_bytes(head: bytes, *, name: str = "file") -> Sniffed:
    """Identify a container from its first bytes (at least 64 are needed; 4096 is plenty)."""
    if not head:
        raise UnsupportedMedia(f"{name} is empty; supported: {SUPPORTED_TEXT}")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:7].upper() == b"#EXTM3U" or stripped[:10] == b"ffconcat v" or stripped[:2] == b"v=":
        raise UnsupportedMedia(f"{name} is a playlist or script, not a media file; supported: {SUPPORTED_TEXT}")

    # ISO base media (mp4, mov, m4a, 3gp): a box size then "ftyp" (or an old "moov"/"mdat"/"wide" first box).
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        brand = head[8:12] if head[4:8] == b"ftyp" else b""
        if brand in _AUDIO_BRANDS:
            return Sniffed("mov", "audio", "M4A")
        # HEIF stills (AVIF, HEIC): FFmpeg's mov demuxer reads their primary image; whether this
        # FFmpeg decodes it is probe's question (HEIC needs FFmpeg 7.1+, AVIF a dav1d/aom decoder).
        if brand in (b"avif",):
            return Sniffed("mov", "image", "AVIF")
        if brand in (b"heic", b"heix", b"mif1", b"heim", b"heis"):
            return Sniffed("mov", "image", "HEIC")
        return Sniffed("mov", "av", "MP4/MOV")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return Sniffed("matroska", "av", "Matroska/WebM")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return Sniffed("avi", "av", "AVI")
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return Sniffed("wav", "audio", "WAV")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("webp_pipe", "image", "WebP")
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        # An APNG has its acTL chunk before the first IDAT, so within the first chunks.
        idat = head.find(b"IDAT")
        if b"acTL" in head[: idat if idat >= 0 else len(head)]:
            return Sniffed("apng", "image", "APNG")
        return Sniffed("png_pipe", "image", "PNG")
    if head[:3] == b"\xff\xd8\xff":
        return Sniffed("jpeg_pipe", "image", "JPEG")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("gif", "image", "GIF")
    if head[:4] == b"OggS":
        return Sniffed("ogg", "audio", "Ogg (Opus/Vorbis)")
    if head[:4] == b"fLaC":
        return Sniffed("flac", "audio", "FLAC")
    if head[:3] == b"ID3":
        return Sniffed("mp3", "audio", "MP3")
    if len(head) >= 2 and head[0] == 0xFF:
        b1 = head[1]
        if b1 & 0xF6 == 0xF0:  # ADTS sync: 1111 1111 1111 x00x (layer bits 00)
            return Sniffed("aac", "audio", "AAC (ADTS)")
        if b1 & 0xE0 == 0xE0 and (b1 >> 1) & 0x3 != 0:  # MPEG audio frame sync with a layer set
            return Sniffed("mp3", "audio", "MP3")
    raise UnsupportedMedia(f"{name} is not a supported media file; supported: {SUPPORTED_TEXT}")


def is_animated_webp(head: bytes) -> bool:
    """Whether a WebP's first bytes declare an animation (a VP8X chunk with the animation flag)."""
    return len(head) > 20 and head[:4] == b"RIFF" and head[8:16] == b"WEBPVP8X" and bool(head[20] & 0x02)


def webp_frame_delays(data: bytes) -> list[int]:
    """Each frame's delay in ms, from an animated WebP's ANMF chunks (0 is read as 100, as browsers do)."""
    delays: list[int] = []
    pos = 12
    while pos + 8 <= len(data):
        kind, n = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if kind == b"ANMF" and n >= 16:
            # ANMF payload: X, Y, width-1, height-1, duration: 24-bit little-endian each.
            delays.append(int.from_bytes(data[pos + 20 : pos + 23], "little") or 100)
        pos += 8 + n + (n & 1)
    return delays


def image_header_size(head: bytes) -> tuple[int, int] | None:
    """Width and height an image *claims* in its header (PNG, GIF, JPEG, WebP), or None.

    Read before any decoder runs, so a 20000x20000 "decompression bomb" is refused on its word.
    A header cut short claims nothing (None); the decoder then refuses the file.
    """
    import struct

    try:
        return _claimed_size(head)
    except struct.error:
        return None


def _claimed_size(head: bytes) -> tuple[int, int] | None:
    import struct

    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":  # PNG and APNG
        w, h = struct.unpack(">II", head[16:24])
        return int(w), int(h)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        w, h = struct.unpack("<HH", head[6:10])
        return int(w), int(h)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        chunk = head[12:16]
        if chunk == b"VP8X":
            w = int.from_bytes(head[24:27], "little") + 1
            h = int.from_bytes(head[27:30], "little") + 1
            return w, h
        if chunk == b"VP8 " and len(head) >= 30:
            w, h = struct.unpack("<HH", head[26:30])
            return int(w & 0x3FFF), int(h & 0x3FFF)
        if chunk == b"VP8L" and len(head) >= 25:
            b = head[21:25]
            w = 1 + (((b[1] & 0x3F) << 8) | b[0])
            h = 1 + (((b[3] & 0xF) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
            return w, h
    if head[:3] == b"\xff\xd8\xff":
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                i += 1
                continue
            marker = head[i + 1]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", head[i + 5 : i + 9])
                return int(w), int(h)
            seg_len = struct.unpack(">H", head[i + 2 : i + 4])[0]
            i += 2 + seg_len
    return None
