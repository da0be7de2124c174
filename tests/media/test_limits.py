"""A picture over max_pixels is refused with code 4002 by every PyAV open path, and no open skips
the limits (DESIGN.md "FFmpeg, safely")."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from ab2n.analyze import analyze
from ab2n.analyze.parallel import chunk_starts, scan_video_fast
from ab2n.analyze.visual import scan_video
from ab2n.errors import MediaTooLarge, UnsupportedMedia
from ab2n.media.container import open_container
from ab2n.media.ffmpeg import MAX_PIXELS
from ab2n.media.probe import MediaInfo, probe
from media.conftest import ff, lavfi_clip
from mediagen import cached

BIG = (7744, 4400)  # just over 8K's 7680x4320 pixels
assert BIG[0] * BIG[1] > MAX_PIXELS


def _h264(name: str, size: tuple[int, int], frames: int) -> Path:
    path, ok = cached(name, ".h264", size=list(size), frames=frames)
    if not ok:
        src = (
            f"testsrc2=size={size[0]}x{size[1]}:rate=10"
            if size[0] < 1000
            else f"color=c=red:size={size[0]}x{size[1]}:rate=10"
        )
        ff(
            "-f",
            "lavfi",
            "-i",
            src,
            "-frames:v",
            str(frames),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-f",
            "h264",
            str(path),
        )
    return path


@pytest.fixture(scope="module")
def big_video() -> Path:
    """One 7744x4400 frame: its header already says it is too big."""
    path, ok = cached("limits-big", ".mkv", size=list(BIG))
    if not ok:
        ff(
            "-f",
            "h264",
            "-i",
            str(_h264("limits-big-raw", BIG, 2)),
            "-c",
            "copy",
            "-bsf:v",
            "setts=ts=N/(10*TB)",
            str(path),
        )
    return path


@pytest.fixture(scope="module")
def growing_video() -> Path:
    """A second of 320x240 whose stream then switches to 7744x4400: the header says 320x240."""
    path, ok = cached("limits-grows", ".mkv", size=list(BIG))
    if not ok:
        joined = path.with_suffix(".h264")
        joined.write_bytes(
            _h264("limits-small-raw", (320, 240), 10).read_bytes() + _h264("limits-big-raw", BIG, 2).read_bytes()
        )
        ff("-f", "h264", "-i", str(joined), "-c", "copy", "-bsf:v", "setts=ts=N/(10*TB)", str(path))
        joined.unlink()
    return path


@pytest.fixture(scope="module")
def big_png() -> Path:
    path, ok = cached("limits-big", ".png", size=list(BIG))
    if not ok:
        ff("-f", "lavfi", "-i", f"color=c=blue:size={BIG[0]}x{BIG[1]}", "-frames:v", "1", str(path))
    return path


def _as(info: MediaInfo, path: Path, **changes: object) -> MediaInfo:
    """A small file's MediaInfo pointed at ``path``, as if probing had let it through."""
    return dataclasses.replace(info, path=path, **changes)


@pytest.fixture(scope="module")
def small_info() -> MediaInfo:
    return probe(
        lavfi_clip("limits-small", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10", audio=False, suffix=".mkv")
    )


def _refused(call: Callable[[], object]) -> MediaTooLarge:
    with pytest.raises(MediaTooLarge) as err:
        call()
    assert err.value.code == 4002
    return err.value


def test_the_fixtures_are_what_they_claim(growing_video: Path, big_video: Path) -> None:
    sizes = []
    with av.open(str(growing_video)) as c:
        for frame in c.decode(video=0):
            sizes.append((frame.width, frame.height))
    assert sizes[0] == (320, 240) and sizes[-1] == BIG
    with av.open(str(big_video)) as c:
        assert (c.streams.video[0].codec_context.width, c.streams.video[0].codec_context.height) == BIG


def test_declared_size_is_refused_on_every_open(big_video: Path, big_png: Path, small_info: MediaInfo) -> None:
    info = _as(small_info, big_video, width=BIG[0], height=BIG[1])
    _refused(lambda: probe(big_video))
    _refused(lambda: open_container(big_video, "matroska").__enter__())
    _refused(lambda: scan_video(info))
    _refused(lambda: scan_video_fast(info, workers=2, min_pixels=0))
    _refused(lambda: chunk_starts(info, 2))
    _refused(lambda: analyze(info, workers=1))
    image = _as(small_info, big_png, kind="image", demuxer="png_pipe", duration_s=0.0)
    _refused(lambda: analyze(image))
    _refused(lambda: probe(big_png))


def test_a_picture_that_grows_mid_stream_is_refused_by_the_decoder(growing_video: Path) -> None:
    info = probe(growing_video)  # the header and the first frame are small
    assert (info.width, info.height) == (320, 240)
    _refused(lambda: scan_video(info))
    _refused(lambda: scan_video_fast(info, workers=2, min_pixels=0))  # the workers refuse, then the plain pass
    _refused(lambda: analyze(info))


def test_a_lower_limit_is_honoured(small_info: MediaInfo) -> None:
    err = _refused(lambda: open_container(small_info.path, small_info.demuxer, max_pixels=320 * 240 - 1).__enter__())
    assert "320x240" in err.message
    with open_container(small_info.path, small_info.demuxer, max_pixels=320 * 240) as c:
        assert next(c.decode(video=0)).width == 320


def test_only_accepted_containers_are_opened(small_info: MediaInfo) -> None:
    with pytest.raises(UnsupportedMedia):
        open_container(small_info.path, "hls").__enter__()


def test_cli_refuses_a_growing_picture_with_4002(growing_video: Path, tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "ab2n.cli", "add", str(growing_video), "-o", str(tmp_path / "x.mp4")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == MediaTooLarge.exit_code, res.stderr
    assert res.stderr.startswith("error 4002:"), res.stderr
    assert not (tmp_path / "x.mp4").exists()
