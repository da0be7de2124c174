"""Smart rendering: a title on a clip re-encodes only the GOPs it touches; every other packet is copied.

The touched spans run between clean cut points (``render.gop``). Each is decoded, titled and encoded
again by one FFmpeg run with libx264 set to match the source: same profile and level, pixel format,
colour tags, no more B-frame delay than the source (so the source's decode timestamps can be kept
for the new packets) and parameter set ids the source does not use, carried in-band at the new
IDR pictures. The source's own parameter sets stay in the MP4 sample entry and are never
overwritten, so a player that seeks anywhere finds the right ones. The join is a remux in PyAV:
source packets as they are, new packets with the source's timestamps, the mixed audio beside.

Anything that cannot be matched (another codec, 10-bit or 4:2:2, interlaced, rotated, trimmed or
scaled, open GOPs around the title, a span that fails its checks) raises :class:`NotSmart` with
the reason, and the caller encodes the whole picture instead.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av

from ab2n.errors import Cancelled
from ab2n.media.container import create_container, open_container
from ab2n.media.ffmpeg import input_args, run_ffmpeg
from ab2n.media.probe import MediaInfo
from ab2n.render.gop import VideoIndex, index_video, reorder_delay, touched_spans
from ab2n.render.h264 import NAL_IDR, Sps, nal_type, parse_avcc, parse_sps, pps_ids, split_lengths, to_length_prefixed
from ab2n.render.overlay import CJK_FONT_NAME, FALLBACK_FONT_NAME, build_ass, filter_path, title_font
from ab2n.timeline.draft import Draft

#: Past this share of re-encoded packets a full encode is as cheap and simpler.
MAX_ENCODED_SHARE = 0.8
#: The span encoder's speed/quality. ultrafast with CABAC and the deblocking filter back on: on the
#: bench's noisy 1080p (10 Mb/s x264 veryfast), 118 frames cost 3.1 s of CPU at SSIM 0.986 against
#: the source, where veryfast took 5.8 s for 0.983 and plain ultrafast 2.5 s for 0.985 at 10 % more bits.
SPAN_PRESET = "ultrafast"
SPAN_X264 = "cabac=1:deblock=1"
SPAN_CRF = "20"
#: The span's peak bitrate as a multiple of the source's average (a title must not stall a stream).
SPAN_MAXRATE_X = 2.0
_PROFILES = {66: "baseline", 77: "main", 100: "high"}


class NotSmart(Exception):
    """This draft can't be smart rendered; ``str(exc)`` says why (shown in ``--json``)."""


@dataclass(frozen=True)
class SmartJob:
    """What smart rendering will do: the source, its packet index and the spans to encode again."""

    info: MediaInfo
    index: VideoIndex
    sps: Sps
    spans: tuple[tuple[int, int], ...]

    @property
    def encoded_packets(self) -> int:
        """Video packets that will be encoded again."""
        return sum(b - a for a, b in self.spans)


@dataclass(frozen=True)
class SmartStats:
    """What a smart render did."""

    copied_packets: int
    encoded_packets: int


def smart_blocker(draft: Draft, media: Mapping[str, MediaInfo]) -> str | None:
    """Why the draft's picture can't be smart rendered (without reading the video), or None."""
    if len(draft.video) != 1:
        return "a montage is encoded whole"
    if draft.settings.aspect != "source":
        return f"the {draft.settings.aspect} preset changes every frame"
    seg = draft.video[0]
    info = media[seg.media_id]
    if info.kind != "video":
        return "a photo is encoded whole"
    if seg.in_ms != 0 or abs(seg.duration_ms / 1000 - info.duration_s) > 1.5 / max(info.fps, 1):
        return "a trimmed clip is encoded whole"
    if info.video_codec != "h264":
        return f"{info.video_codec} video is not matched (H.264 only)"
    if info.pix_fmt not in ("yuv420p", "yuvj420p"):
        return f"pixel format {info.pix_fmt} is not matched (8-bit 4:2:0 only)"
    if info.rotation:
        return "a rotated clip is encoded upright"
    if info.hdr:
        return f"{info.hdr.upper()} HDR video is converted whole"
    if max(info.width, info.height) > 1920 or min(info.width, info.height) > 1080:
        return "the clip is scaled to 1080p"
    if info.fps <= 0:
        return "no frame rate"
    if not draft.texts:
        return "no partial change"  # and yet not copyable: the whole picture changes
    return None


def plan_smart(draft: Draft, media: Mapping[str, MediaInfo]) -> SmartJob:
    """Read the video's packet table and find the spans its titles touch.

    Raises:
        NotSmart: With the reason a full encode is needed.
    """
    why = smart_blocker(draft, media)
    if why:
        raise NotSmart(why)
    info = media[draft.video[0].media_id]
    try:
        index = index_video(info)
        sps = parse_sps(index.avcc.sps[0])
    except (ValueError, IndexError, av.FFmpegError) as exc:
        raise NotSmart(f"the stream's layout can't be read ({exc})") from None
    if sps.profile_idc not in _PROFILES or sps.chroma_format_idc != 1 or sps.bit_depth != 8:
        raise NotSmart(f"H.264 profile {sps.profile_idc} is not matched")
    if not sps.frame_mbs_only:
        raise NotSmart("interlaced video is not matched")
    intervals = [(t.start_ms / 1000, (t.start_ms + t.duration_ms) / 1000) for t in draft.texts]
    try:
        spans = touched_spans(index, intervals, info.fps)
    except ValueError as exc:
        raise NotSmart(str(exc)) from None
    job = SmartJob(info, index, sps, tuple(spans))
    share = job.encoded_packets / max(1, len(index.pts))
    if share > MAX_ENCODED_SHARE:
        raise NotSmart(f"the titles touch {share:.0%} of the video's GOPs")
    return job


def x264_args(job: SmartJob, new_id: int) -> list[str]:
    """libx264 options that make a span's stream match the source's."""
    sps, info = job.sps, job.info
    level = "1b" if sps.level_idc == 9 else f"{sps.level_idc / 10:g}"
    args = [
        "-c:v",
        "libx264",
        "-preset",
        SPAN_PRESET,
        "-crf",
        SPAN_CRF,
        "-profile:v",
        _PROFILES[sps.profile_idc],
        "-level:v",
        level,
        "-bf",
        "0",  # no reordering: the source's decode timestamps then always fit the new pictures
        "-pix_fmt",
        info.pix_fmt or "yuv420p",
        "-x264-params",
        f"{SPAN_X264}:sps-id={new_id}",
    ]
    return args + _rate_args(info) + _colour_args(job)


def _colour_args(job: SmartJob) -> list[str]:
    """The source's colour tags, carried to the new pictures (unset ones stay unset)."""
    out: list[str] = []
    for option, value in job.index.colour:
        unset = value == 0 if option == "-color_range" else value == 2
        if not unset:
            out += [option, str(value)]
    if job.info.pix_fmt == "yuvj420p" and "-color_range" not in out:
        out += ["-color_range", "2"]
    return out


def _rate_args(info: MediaInfo) -> list[str]:
    """A VBV cap from the source's bitrate, so the new pictures' bitrate stays near the source's."""
    kbps = info.video_bit_rate / 1000 or (info.size_bytes * 8 / 1000 / max(info.duration_s, 0.1))
    cap = max(500, round(kbps * SPAN_MAXRATE_X))
    return ["-maxrate", f"{cap}k", "-bufsize", f"{2 * cap}k"]


def unused_id(job: SmartJob) -> int:
    """A parameter set id neither the source's SPS nor its PPS use (x264 gives both the same id)."""
    used = {parse_sps(s).sps_id for s in job.index.avcc.sps} | {pps_ids(p)[0] for p in job.index.avcc.pps}
    return next(i for i in range(1, 32) if i not in used)


def encode_span(
    job: SmartJob,
    span: tuple[int, int],
    draft: Draft,
    out: Path,
    *,
    fonts_dir: Path | None,
    font_name: str,
    new_id: int,
    cancel: threading.Event | None = None,
) -> None:
    """Decode the pictures of ``span``, burn the titles into them and encode them to ``out`` (MP4)."""
    index, info = job.index, job.info
    a, b = span
    tb = index.time_base
    frame_s = 1.0 / info.fps
    first_pts = min(index.pts[a:b])
    # Timestamps stay the source's (-copyts): the titles move by where the stream's clock starts.
    offset_ms = round(float(index.start_pts * tb) * 1000)
    texts = tuple(replace(t, start_ms=t.start_ms + offset_ms) for t in draft.texts)
    ass = out.with_suffix(".ass")
    ass.write_text(build_ass(texts, info.width, info.height, font_name=font_name), encoding="utf-8")
    start_s = float(first_pts * tb) - 0.25 * frame_s
    trim = f"trim=start={start_s:.6f}"
    if b < len(index.pts):
        trim += f":end={float(min(index.pts[b:]) * tb) - 0.25 * frame_s:.6f}"
    fd = f":fontsdir='{filter_path(fonts_dir)}'" if fonts_dir else ""
    vf = f"{trim},subtitles=filename='{filter_path(ass)}'{fd}"
    # Seeking a quarter frame past the cut point lands on it (seeks go to the keyframe at or
    # before); no accurate seek, so nothing is dropped before the trim sees the frames.
    seek = float(first_pts * tb) - index.container_start_s + 0.25 * frame_s
    run_ffmpeg(
        [
            *input_args(info.path, info.demuxer, seek_s=seek, extra=["-noaccurate_seek"]),
            "-copyts",
            "-map",
            "0:v:0",
            "-vf",
            vf,
            "-fps_mode",
            "passthrough",
            "-frames:v",
            str(b - a),
            *x264_args(job, new_id),
            "-an",
            "-sn",
            "-dn",
            "-f",
            "mp4",
            "-y",
            str(out),
        ],
        duration_s=(b - a) * frame_s,
        cancel=cancel,
    )


@dataclass(frozen=True)
class _NewPacket:
    data: bytes
    pts: int
    dts: int
    duration: int
    key: bool


def span_packets(job: SmartJob, span: tuple[int, int], path: Path) -> list[_NewPacket]:
    """The encoded span's packets, re-framed and given the source's timestamps.

    Raises:
        NotSmart: The encode has a different number of pictures, does not start with an IDR
            picture, or reorders more than the source's decode timestamps allow.
    """
    a, b = span
    index = job.index
    want = index.avcc.length_size
    with open_container(path, "mov") as container:
        stream = container.streams.video[0]
        cfg = parse_avcc(bytes(stream.codec_context.extradata or b""))
        headers = [*cfg.sps, *cfg.pps]
        raw = [(bytes(p), int(p.pts or 0)) for p in container.demux(stream) if p.size]
    if len(raw) != b - a:
        raise NotSmart(f"the re-encoded span has {len(raw)} pictures, not {b - a}")
    shown = sorted(index.pts[a:b])
    ranks = {p: r for r, (_, p) in enumerate(sorted(raw, key=lambda x: x[1]))}
    out: list[_NewPacket] = []
    for j, (data, p) in enumerate(raw):
        nals = split_lengths(data, cfg.length_size)
        key = any(nal_type(n) == NAL_IDR for n in nals)
        if j == 0 and not key:
            raise NotSmart("the re-encoded span does not start with an IDR picture")
        if key:  # the new parameter sets, in-band where they are needed (the sample entry keeps the source's)
            nals = [*headers, *(n for n in nals if nal_type(n) not in (7, 8))]
        pts = shown[ranks[p]]
        dts = index.dts[a + j]
        if pts < dts:
            raise NotSmart("the re-encoded span reorders more than the source")
        dur = index.durations[a + j] or round(1 / (job.info.fps * index.time_base))
        out.append(_NewPacket(to_length_prefixed(nals, want), pts, dts, dur, key))
    if reorder_delay([x.pts for x in out]) > index.reorder_delay():
        raise NotSmart("the re-encoded span reorders more than the source")
    return out


Progress = Callable[[float], None]


def join(job: SmartJob, spans: Mapping[int, tuple[int, list[_NewPacket]]], audio: Path | None, out: Path) -> SmartStats:
    """Write the MP4: source packets copied, each span's packets in place of its own, ``audio`` beside.

    Args:
        job: The plan.
        spans: Start decode index -> (end decode index, new packets).
        audio: The mixed programme (AAC in MP4) to mux, or None.
        out: The file to write.
    """
    copied = encoded = 0
    tb = job.index.time_base
    with contextlib.ExitStack() as stack:
        src = stack.enter_context(open_container(job.info.path, job.info.demuxer))
        dst = stack.enter_context(create_container(out, "mp4", options={"movflags": "+faststart"}))
        ist = src.streams.video[0]
        vout = dst.add_stream_from_template(ist)
        vout.time_base = ist.time_base
        sound = _Interleaver(stack, dst, audio)
        i = skip_to = 0
        for packet in src.demux(ist):
            if packet.size == 0:
                continue
            if i in spans:
                skip_to, new = spans[i]
                for p in new:
                    sound.until(float(p.dts * tb))
                    dst.mux(_packet(p, tb, vout))
                encoded += len(new)
            if i >= skip_to:
                sound.until(float((packet.dts or 0) * tb))
                packet.stream = vout
                dst.mux(packet)
                copied += 1
            i += 1
        sound.until(float("inf"))
    return SmartStats(copied, encoded)


class _Interleaver:
    """The audio's packets, muxed up to each video packet's time (so the muxer buffers little)."""

    def __init__(self, stack: contextlib.ExitStack, dst: av.container.OutputContainer, audio: Path | None) -> None:
        self.dst = dst
        self.pending: av.Packet | None = None
        if audio is None:
            return
        src = stack.enter_context(open_container(audio, "mov"))
        ain = src.streams.audio[0]
        self.out = dst.add_stream_from_template(ain)
        self.out.time_base = ain.time_base
        self.packets = (p for p in src.demux(ain) if p.size)
        self.pending = next(self.packets, None)

    def until(self, t_s: float) -> None:
        while self.pending is not None and self.pending.dts is not None and self.pending.time_base is not None:
            if float(self.pending.dts * self.pending.time_base) > t_s:
                return
            self.pending.stream = self.out
            self.dst.mux(self.pending)
            self.pending = next(self.packets, None)


def _packet(new: _NewPacket, tb: Fraction, stream: av.video.stream.VideoStream) -> av.Packet:
    pkt = av.Packet(new.data)
    pkt.pts, pkt.dts, pkt.duration = new.pts, new.dts, new.duration
    pkt.time_base = tb
    pkt.is_keyframe = new.key
    pkt.stream = stream
    return pkt


def encode_spans(
    job: SmartJob,
    draft: Draft,
    tmp: Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> dict[int, tuple[int, list[_NewPacket]]]:
    """Encode the job's spans again (into ``tmp``): start decode index -> (end index, new packets).

    Raises:
        NotSmart: A span's encode did not match the source.
        Cancelled: ``cancel`` was set.
    """
    report = progress or (lambda f: None)
    font = title_font(draft.texts)
    fonts_dir, font_name = (font.parent, CJK_FONT_NAME) if font else (None, FALLBACK_FONT_NAME)
    new_id = unused_id(job)
    total = max(1, job.encoded_packets)
    done = 0
    spans: dict[int, tuple[int, list[_NewPacket]]] = {}
    for k, span in enumerate(job.spans):
        path = tmp / f"span-{k}.mp4"
        encode_span(job, span, draft, path, fonts_dir=fonts_dir, font_name=font_name, new_id=new_id, cancel=cancel)
        spans[span[0]] = (span[1], span_packets(job, span, path))
        done += span[1] - span[0]
        report(done / total)
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled")
    return spans


def render_smart(
    job: SmartJob,
    draft: Draft,
    audio: Path | None,
    out: Path,
    tmp: Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> SmartStats:
    """Encode the job's spans again (into ``tmp``) and write the joined MP4 to ``out``.

    Raises:
        NotSmart: A span's encode did not match the source (nothing is written to ``out``).
        Cancelled: ``cancel`` was set.
    """
    report = progress or (lambda f: None)
    spans = encode_spans(job, draft, tmp, progress=lambda f: report(0.9 * f), cancel=cancel)
    stats = join(job, spans, audio, out)
    report(1.0)
    return stats


class EarlySpans:
    """The smart render's span encodes, started on a thread as soon as the titles are known.

    The encodes need the picture and the titles, not the music: ``ab2n add`` starts them before
    the music is chosen and mixed (stages that keep about one core busy), and the render then only
    joins. ``result()`` is the render's to call; ``close()`` stops an encode nobody will use.
    """

    def __init__(self, draft: Draft, media: Mapping[str, MediaInfo], tmp: Path) -> None:
        self._key = _picture_key(draft)
        self._stop = threading.Event()
        self._job: SmartJob | None = None
        self._spans: dict[int, tuple[int, list[_NewPacket]]] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(draft, media, tmp), name="ab2n-spans", daemon=True)
        self._thread.start()

    def _run(self, draft: Draft, media: Mapping[str, MediaInfo], tmp: Path) -> None:
        try:
            job = plan_smart(draft, media)
            self._spans = encode_spans(job, draft, tmp, cancel=self._stop)
            self._job = job
        except BaseException as exc:  # re-raised in result(), in the render's thread
            self._error = exc

    def fits(self, draft: Draft) -> bool:
        """Whether these spans were encoded for this draft's picture and titles."""
        return _picture_key(draft) == self._key

    def result(self, cancel: threading.Event | None = None) -> tuple[SmartJob, dict[int, tuple[int, list[_NewPacket]]]]:
        """Wait for the encodes: the job and its spans (what ``join`` takes).

        Raises:
            NotSmart, ProcessingError: What planning or encoding raised.
            Cancelled: ``cancel`` was set (the encodes are stopped).
        """
        while self._thread.is_alive():
            self._thread.join(timeout=0.1)
            if cancel is not None and cancel.is_set():
                self.close()
                raise Cancelled("cancelled")
        if self._error is not None:
            raise self._error
        assert self._job is not None
        return self._job, self._spans

    def close(self) -> None:
        """Stop the encodes (if still running) and wait for the thread."""
        self._stop.set()
        self._thread.join()


def _picture_key(draft: Draft) -> tuple[object, ...]:
    return (draft.video, draft.texts, draft.settings.aspect, draft.duration_ms)
