"""Where a video can be cut without decoding it again: its packets, clean cut points, and the spans
a partial change (a title) touches.

A clean cut point is an IDR picture whose GOP is closed: no packet before it in decode order is
shown after it, and none after it is shown before it. Cutting there, the packets on each side decode
alone, so the pictures between two cut points can be replaced by freshly encoded ones while every
other packet is copied bit for bit (smart rendering, ``render.smart``).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from ab2n.media.container import open_container
from ab2n.media.probe import MediaInfo
from ab2n.render.h264 import NAL_IDR, AvcConfig, nal_type, parse_avcc, split_lengths


@dataclass(frozen=True)
class VideoIndex:
    """The first video stream's packets in decode order (no pictures decoded).

    Attributes:
        time_base: Of ``pts``/``dts``.
        pts, dts, durations: Per packet, in ``time_base`` units.
        cuts: Decode indices of the clean cut points, ascending (0 is one when the stream starts clean).
        avcc: The stream's decoder configuration.
        extradata: The avcC record as stored.
        colour: The stream's colour tags as FFmpeg option -> value (primaries, trc, matrix, range).
        container_start_s: Where the container's clock starts (what FFmpeg's ``-ss`` counts from).
    """

    time_base: Fraction
    pts: tuple[int, ...]
    dts: tuple[int, ...]
    durations: tuple[int, ...]
    cuts: tuple[int, ...]
    avcc: AvcConfig
    extradata: bytes
    colour: tuple[tuple[str, int], ...] = ()
    container_start_s: float = 0.0

    @property
    def start_pts(self) -> int:
        """The pts of the first picture shown."""
        return min(self.pts)

    def time_s(self, pts: int) -> float:
        """Seconds from the first picture shown to the picture with this pts."""
        return float((pts - self.start_pts) * self.time_base)

    def reorder_delay(self, lo: int = 0, hi: int | None = None) -> int:
        """How many packets decoding runs ahead of display in ``[lo, hi)`` (0 without B-frames)."""
        return reorder_delay(self.pts[lo:hi])


def reorder_delay(pts: Sequence[int]) -> int:
    """The largest lead of decode position over display position, for packets in decode order."""
    ranks = {p: r for r, p in enumerate(sorted(pts))}
    return max((i - ranks[p] for i, p in enumerate(pts)), default=0)


def index_video(info: MediaInfo) -> VideoIndex:
    """Read the packet table of ``info``'s first video stream (H.264 in MP4/MOV/MKV with avcC).

    Raises:
        ValueError: The stream has no avcC record, or packets without timestamps.
    """
    pts: list[int] = []
    dts: list[int] = []
    durs: list[int] = []
    idr: list[int] = []
    with open_container(info.path, info.demuxer) as container:
        stream = container.streams.video[0]
        avcc = parse_avcc(bytes(stream.codec_context.extradata or b""))
        tb = stream.time_base
        if tb is None:
            raise ValueError("the video stream has no time base")
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.pts is None or packet.dts is None:
                raise ValueError("packets without timestamps")
            if packet.is_keyframe and any(
                nal_type(n) == NAL_IDR for n in split_lengths(bytes(packet), avcc.length_size)
            ):
                idr.append(len(pts))
            pts.append(int(packet.pts))
            dts.append(int(packet.dts))
            durs.append(int(packet.duration or 0))
        extradata = bytes(stream.codec_context.extradata or b"")
        cc = stream.codec_context
        colour = (
            ("-color_primaries", int(cc.color_primaries or 2)),
            ("-color_trc", int(cc.color_trc or 2)),
            ("-colorspace", int(cc.colorspace or 2)),
            ("-color_range", int(cc.color_range or 0)),
        )
        start = container.start_time
    return VideoIndex(
        Fraction(tb),
        tuple(pts),
        tuple(dts),
        tuple(durs),
        _clean(pts, idr),
        avcc,
        extradata,
        colour,
        float(start) / 1e6 if start is not None else 0.0,
    )


def _clean(pts: Sequence[int], idr: Sequence[int]) -> tuple[int, ...]:
    """The IDR packets that close their GOP (nothing shown across them)."""
    n = len(pts)
    before_max = [0] * n  # largest pts of packets [0, i)
    run = -(1 << 62)
    for i in range(n):
        before_max[i] = run
        run = max(run, pts[i])
    after_min = [0] * (n + 1)  # smallest pts of packets [i, n)
    run = 1 << 62
    for i in range(n - 1, -1, -1):
        run = min(run, pts[i])
        after_min[i] = run
    return tuple(i for i in idr if before_max[i] < pts[i] <= after_min[i])


def touched_spans(index: VideoIndex, intervals_s: Sequence[tuple[float, float]], fps: float) -> list[tuple[int, int]]:
    """The decode-index ranges ``[a, b)`` between clean cut points that hold every picture shown
    during one of ``intervals_s`` (seconds from the first picture; half a frame of margin each side),
    merged where they meet.

    Raises:
        ValueError: A touched picture comes before the first clean cut point.
    """
    half = 0.5 / max(fps, 1.0)
    cuts = list(index.cuts)
    n = len(index.pts)
    spans: list[tuple[int, int]] = []
    for lo_s, hi_s in intervals_s:
        hit = [i for i, p in enumerate(index.pts) if lo_s - half <= index.time_s(p) < hi_s + half]
        if not hit:
            continue
        first = min(hit, key=lambda i: index.pts[i])
        last = max(hit, key=lambda i: index.pts[i])
        k = bisect.bisect_right([index.pts[c] for c in cuts], index.pts[first]) - 1
        if k < 0:
            raise ValueError("the change starts before the first clean cut point")
        a = cuts[k]
        later = [c for c in cuts if index.pts[c] > index.pts[last]]
        b = later[0] if later else n
        spans.append((a, b))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged
