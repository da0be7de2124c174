"""Every bad input of the matrix gets its protocol code, via the API and the CLI, and leaves no file."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from ab2n.errors import Ab2nError, MediaTooLarge, UnsupportedMedia
from ab2n.media.probe import probe
from media.conftest import ff, lavfi_clip


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def _make(kind: str, d: Path) -> Path:
    good = lavfi_clip("bad-src", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    p = d / f"{kind}.mp4"
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "text":
        p.write_text("this is not a video\n" * 20)
    elif kind == "truncated":
        data = good.read_bytes()
        p.write_bytes(data[: len(data) // 3] if data[4:8] == b"ftyp" else data[:2000])
        # Without the index (moov at the end for a normal mux), the file can't be played.
        raw = p.read_bytes()
        if b"moov" in raw:
            p.write_bytes(raw[: raw.index(b"moov") - 4])
    elif kind == "hls":
        seg = d / "secret.ts"
        ff("-i", str(good), "-c", "copy", "-f", "mpegts", str(seg))
        p.write_text(f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{seg}\n#EXT-X-ENDLIST\n")
    elif kind == "ffconcat":
        p.write_text(f"ffconcat version 1.0\nfile '{good}'\n")
    elif kind == "huge_png":
        p = d / "huge.png"
        p.write_bytes(_png_header(20000, 20000) + b"\x00" * 64)
    elif kind == "long_mkv":
        # An MKV that claims 3 h 1 min but holds 1 s: the claimed duration counts against the limit.
        p = d / "long.mkv"
        ff(
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10",
            "-t",
            "1",
            "-c:v",
            "libx264",
            "-metadata",
            "DURATION=03:01:00.000000000",
            str(p),
        )
        raw = bytearray(p.read_bytes())
        # Patch the Segment Info Duration element (ID 0x4489, 8-byte float, in ms at the default scale).
        i = raw.find(b"\x44\x89\x88")
        assert i > 0, "no Duration element"
        raw[i + 3 : i + 11] = struct.pack(">d", 3 * 3600 * 1000.0 + 60_000.0)
        p.write_bytes(bytes(raw))
    elif kind == "bad_codec":
        # A stream whose codec the decoder doesn't have: an MKV with an unknown codec id.
        p = d / "odd.mkv"
        ff("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "1", "-c:v", "libx264", str(p))
        raw = p.read_bytes().replace(b"V_MPEG4/ISO/AVC", b"V_XYZZ/ISO/ABC")
        p.write_bytes(raw)
    return p


MATRIX = [
    ("empty", UnsupportedMedia),
    ("text", UnsupportedMedia),
    ("truncated", UnsupportedMedia),
    ("hls", UnsupportedMedia),
    ("ffconcat", UnsupportedMedia),
    ("huge_png", MediaTooLarge),
    ("long_mkv", MediaTooLarge),
    ("bad_codec", UnsupportedMedia),
]


@pytest.mark.parametrize(("kind", "error"), MATRIX)
def test_probe_refuses(kind: str, error: type[Ab2nError], tmp_path: Path) -> None:
    bad = _make(kind, tmp_path)
    with pytest.raises(error):
        probe(bad)


@pytest.mark.parametrize(("kind", "error"), MATRIX)
def test_cli_one_line_error_and_no_output(kind: str, error: type[Ab2nError], tmp_path: Path) -> None:
    bad = _make(kind, tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    res = subprocess.run(
        [sys.executable, "-m", "ab2n.cli", "add", str(bad), "-o", str(out_dir / "x.mp4")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == error.exit_code, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert lines and lines[0].startswith(f"error {error.code}:"), res.stderr
    assert "Traceback" not in res.stderr
    assert list(out_dir.iterdir()) == []


def test_hls_segment_is_never_opened(tmp_path: Path) -> None:
    """The playlist names a real file; refusing must happen before FFmpeg could follow it."""
    bad = _make("hls", tmp_path)
    with pytest.raises(UnsupportedMedia, match="playlist"):
        probe(bad)
