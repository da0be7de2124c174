"""The multi-process scan measures the same frames as the one-pass scan."""

from __future__ import annotations

import av
import numpy as np

from ab2n.analyze.parallel import chunk_starts, scan_video_fast
from ab2n.analyze.scenes import detect_cuts
from ab2n.analyze.visual import scan_video
from ab2n.media.probe import probe
from mediagen import clip_with_cuts


def test_chunked_scan_matches_one_pass() -> None:
    times = [1.7, 4.1, 6.9, 9.4, 13.2, 15.0, 18.6]
    clip, truth = clip_with_cuts(
        times, duration_s=20, size=(640, 360), fps=30, audio="noise", extra_video_args=["-g", "30", "-bf", "3"]
    )
    info = probe(clip)
    assert len(chunk_starts(info, 3)) == 3  # the clip has a keyframe a second: three chunks
    one = scan_video(info)
    many = scan_video_fast(info, workers=2, min_pixels=0)
    assert len(many.times_s) == len(one.times_s) == 600
    np.testing.assert_allclose(many.times_s, one.times_s)
    assert np.array_equal(many.signatures, one.signatures)  # bit-exact: each chunk starts at a keyframe
    np.testing.assert_allclose(many.brightness, one.brightness, atol=1e-6)
    assert np.array_equal(many.hists, one.hists)
    assert np.array_equal(many.diffs, one.diffs)  # exact at the seams too: the chunks hand over their edge frames
    assert many.audio is not None and one.audio is not None
    assert abs(len(many.audio.probs) - len(one.audio.probs)) <= 2
    assert [c.frame for c in detect_cuts(many, fps=30)] == truth


def test_chunked_scan_matches_one_pass_with_open_gops() -> None:
    """A chunk's end keyframe opens a GOP whose leading pictures are shown before it: they are the
    chunk's, so the decoder goes on past the keyframe instead of being drained there."""
    clip, _ = clip_with_cuts(
        [1.7, 6.9, 13.2],
        duration_s=12,
        size=(320, 180),
        fps=30,
        audio=None,
        extra_video_args=["-g", "30", "-bf", "3", "-x264-params", "open-gop=1:scenecut=0"],
    )
    info = probe(clip)
    with av.open(str(clip)) as c:
        packets = [(p.pts, p.is_keyframe) for p in c.demux(c.streams.video[0]) if p.size]
    keys = [i for i, (_, key) in enumerate(packets) if key]
    assert any(p < packets[i][0] for i in keys[1:] for p, _ in packets[i + 1 : i + 4])  # leading pictures exist
    one = scan_video(info)
    many = scan_video_fast(info, workers=2, min_pixels=0)
    assert len(many.times_s) == len(one.times_s) == 360
    assert np.array_equal(many.times_s, one.times_s)
    assert np.array_equal(many.signatures, one.signatures)
    assert np.array_equal(many.diffs, one.diffs)
