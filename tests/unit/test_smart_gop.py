"""Smart rendering's pure parts: clean cut points, touched spans, reorder delay, why a draft is not smart."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from ab2n.media.probe import MediaInfo
from ab2n.render.gop import VideoIndex, _clean, reorder_delay, touched_spans
from ab2n.render.h264 import AvcConfig, parse_avcc, pps_ids, split_lengths, to_length_prefixed
from ab2n.render.smart import smart_blocker
from ab2n.timeline.draft import Draft, DraftSettings, TextSegment, VideoSegment

# Two closed GOPs of four pictures with one B-frame each, in decode order: I P B B | I P B B.
CLOSED = [0, 3, 1, 2, 4, 7, 5, 6]


def _index(pts: list[int], idr: list[int]) -> VideoIndex:
    n = len(pts)
    cfg = AvcConfig(100, 40, 4, (), ())
    return VideoIndex(Fraction(1, 10), tuple(pts), tuple(range(-1, n - 1)), (1,) * n, _clean(pts, idr), cfg, b"")


def test_clean_cut_points_skip_open_gops() -> None:
    assert _clean(CLOSED, [0, 4]) == (0, 4)
    # The second I-picture is shown after two B-frames decoded after it: cutting there would
    # orphan them (an open GOP), so it is no cut point.
    assert _clean([0, 3, 1, 2, 6, 4, 5, 7], [0, 4]) == (0,)


def test_reorder_delay() -> None:
    assert reorder_delay([0, 1, 2, 3]) == 0
    assert reorder_delay(CLOSED) == 1
    assert reorder_delay([0, 4, 2, 1, 3]) == 2  # a B-pyramid


def test_touched_spans_cover_whole_gops_and_merge() -> None:
    pts = CLOSED + [p + 8 for p in CLOSED]  # four GOPs at 0, 0.4, 0.8, 1.2 s (10 fps)
    index = _index(pts, [0, 4, 8, 12])
    assert touched_spans(index, [(0.45, 0.5)], fps=10) == [(4, 8)]
    assert touched_spans(index, [(0.45, 0.85)], fps=10) == [(4, 12)]
    assert touched_spans(index, [(0.1, 0.2), (1.3, 9.0)], fps=10) == [(0, 4), (12, 16)]
    assert touched_spans(index, [(0.1, 0.2), (0.4, 0.5)], fps=10) == [(0, 8)]  # GOPs that meet merge
    with pytest.raises(ValueError):
        touched_spans(_index(pts, [4, 8, 12]), [(0.0, 0.1)], fps=10)


def test_nal_framing_round_trips() -> None:
    nals = [b"\x67\x64\x00\x28", b"\x68\xee", b"\x65" + bytes(range(200))]
    assert split_lengths(to_length_prefixed(nals, 4), 4) == nals
    assert split_lengths(to_length_prefixed([b"\x09\xf0", *nals], 2), 2) == nals  # AUDs dropped
    record = bytes([1, 100, 0, 40, 0xFF, 0xE1, 0, 4]) + nals[0] + bytes([1, 0, 2]) + nals[1]
    cfg = parse_avcc(record)
    assert (cfg.profile_idc, cfg.level_idc, cfg.length_size, cfg.sps, cfg.pps) == (100, 40, 4, (nals[0],), (nals[1],))
    assert pps_ids(b"\x68\xce") == (0, 0)  # bits 1 1: ue 0, ue 0


def _clip(**kw: object) -> MediaInfo:
    base = MediaInfo(
        path=Path("clip.mp4"),
        kind="video",
        demuxer="mov",
        size_bytes=1,
        duration_s=10.0,
        width=640,
        height=360,
        fps=30.0,
        video_codec="h264",
        pix_fmt="yuv420p",
        has_audio=True,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _draft(**settings: str) -> Draft:
    return Draft(
        video=(VideoSegment("a", 0, 10_000),),
        texts=(TextSegment("Hi", 1000, 2000),),
        settings=DraftSettings(**settings),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("info", "settings", "words"),
    [
        (_clip(), {"aspect": "vertical"}, "vertical preset"),
        (_clip(video_codec="hevc"), {}, "hevc video"),
        (_clip(pix_fmt="yuv422p"), {}, "yuv422p"),
        (_clip(rotation=90), {}, "rotated"),
        (_clip(width=3840, height=2160), {}, "scaled to 1080p"),
        (_clip(duration_s=20.0), {}, "trimmed"),
    ],
)
def test_reasons_for_a_full_encode(info: MediaInfo, settings: dict[str, str], words: str) -> None:
    why = smart_blocker(_draft(**settings), {"a": info})
    assert why is not None and words in why


def test_an_eligible_draft_has_no_reason() -> None:
    assert smart_blocker(_draft(), {"a": _clip()}) is None
    montage = replace(_draft(), video=(VideoSegment("a", 0, 5000), VideoSegment("a", 5000, 5000)))
    assert "montage" in (smart_blocker(montage, {"a": _clip()}) or "")
