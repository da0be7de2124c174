"""probe(path) -> MediaInfo: what a file is, decided from its content, within limits.

The container is sniffed first (``media.sniff``) and forced on every later open, so a file's name
never chooses its parser. Display size accounts for rotation metadata (a phone's portrait clip is
portrait here even when its coded frames are landscape).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import av

from ab2n.errors import MediaTooLarge, NotFound, UnsupportedMedia
from ab2n.media.container import open_container
from ab2n.media.ffmpeg import input_args, last_error_line, run_ffmpeg
from ab2n.media.sniff import Sniffed, image_header_size, is_animated_webp, sniff, webp_frame_delays

MediaKind = Literal["video", "audio", "image"]
HdrKind = Literal["hlg", "pq"]

#: HDR transfer characteristics (FFmpeg names) and what they are.
HDR_TRANSFERS: dict[str, HdrKind] = {"arib-std-b67": "hlg", "smpte2084": "pq"}

# FFmpeg's enum values (libavutil/pixfmt.h, stable ABI) -> the names its options take. Only the
# values cameras and phones write; anything else reads as untagged.
_PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020", 11: "smpte431", 12: "smpte432"}
_TRANSFERS = {
    1: "bt709",
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    13: "iec61966-2-1",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "smpte2084",
    18: "arib-std-b67",
}
_MATRICES = {0: "gbr", 1: "bt709", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020nc", 10: "bt2020c"}
_RANGES = {1: "tv", 2: "pc"}


@dataclass(frozen=True)
class MediaLimits:
    """Limits applied while probing (settings; the service and CLI pass their own)."""

    max_bytes: int = 500 * 1024 * 1024
    max_duration_s: float = 3 * 3600.0
    max_pixels: int = 7680 * 4320


@dataclass(frozen=True)
class MediaInfo:
    """What a media file is.

    Attributes:
        path: The file.
        kind: "video", "audio" or "image" (decided from content).
        demuxer: The sniffed FFmpeg demuxer name; pass it to ``ffmpeg.input_args``.
        size_bytes: File size.
        duration_s: Playable duration (0 for a still image).
        width, height: Display size after rotation (0 for audio).
        coded_width, coded_height: Size of the coded frames.
        rotation: Clockwise display rotation in degrees (0, 90, 180, 270).
        fps: Average frame rate (0 if unknown/still).
        peak_fps: The rate every frame has a slot at: ``fps`` for constant rate; for variable frame
            rate (phones slow down in the dark) the stream's base rate, up to 60.
        video_codec: e.g. "h264", "hevc", "vp9", "png"; None without video.
        pix_fmt: e.g. "yuv420p", "yuv420p10le".
        video_bit_rate: bits/s or 0.
        has_audio: Whether there is an audio stream.
        audio_codec, sample_rate, channels: Of the first audio stream.
        frame_count: Frames in the video stream if known, else 0.
        video_stream: The video stream's index in the container (cover art and extra tracks skipped).
        convert_to: "apng" for an animated WebP: play it through ``media.animation.playable``'s copy.
        source: The user's file when ``path`` is such a copy.
        animated: An animated GIF/WebP (kind "video": it plays at its own frame timing).
        color_primaries, color_trc, color_space, color_range: The video's colour tags as FFmpeg
            names ("bt709", "bt2020", "arib-std-b67", "smpte2084", "tv", ...), None if untagged.
        tags: Container metadata.
    """

    path: Path
    kind: MediaKind
    demuxer: str
    size_bytes: int
    duration_s: float
    width: int = 0
    height: int = 0
    coded_width: int = 0
    coded_height: int = 0
    rotation: int = 0
    fps: float = 0.0
    peak_fps: float = 0.0
    video_codec: str | None = None
    pix_fmt: str | None = None
    video_bit_rate: int = 0
    has_audio: bool = False
    audio_codec: str | None = None
    sample_rate: int = 0
    channels: int = 0
    frame_count: int = 0
    video_stream: int = 0
    animated: bool = False
    convert_to: str | None = None
    source: Path | None = None
    color_primaries: str | None = None
    color_trc: str | None = None
    color_space: str | None = None
    color_range: str | None = None
    tags: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def has_video(self) -> bool:
        """True for video and image kinds."""
        return self.kind in ("video", "image")

    @property
    def hdr(self) -> HdrKind | None:
        """ "hlg" or "pq" when the video's transfer is an HDR one (what phones record), else None."""
        return HDR_TRANSFERS.get(self.color_trc or "")

    def to_json(self) -> dict[str, object]:
        """A JSON-ready description (paths as strings)."""
        return {
            "path": str(self.path),
            "kind": self.kind,
            "format": self.demuxer,
            "size_bytes": self.size_bytes,
            "duration_s": round(self.duration_s, 3),
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "fps": round(self.fps, 3),
            "video_codec": self.video_codec,
            "pix_fmt": self.pix_fmt,
            "has_audio": self.has_audio,
            "audio_codec": self.audio_codec,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "animated": self.animated,
            "hdr": self.hdr,
            "color": {
                "primaries": self.color_primaries,
                "transfer": self.color_trc,
                "matrix": self.color_space,
                "range": self.color_range,
            },
        }


def probe(path: str | Path, *, limits: MediaLimits | None = None) -> MediaInfo:
    """Describe a media file, refusing what ab2n does not accept.

    Args:
        path: Local file path.
        limits: Size/duration/pixel limits (defaults: 500 MB, 3 h, 8K).

    Raises:
        NotFound: No such file.
        UnsupportedMedia: Not an accepted format (code 4001), including HLS/ffconcat posing as MP4.
        MediaTooLarge: Over a limit (code 4002).
    """
    p = Path(path)
    lim = limits or MediaLimits()
    if not p.is_file():
        raise NotFound(f"no such file: {p}")
    size = p.stat().st_size
    if size > lim.max_bytes:
        raise MediaTooLarge(f"{p.name} is {size / 1e6:.0f} MB; the limit is {lim.max_bytes / 1e6:.0f} MB")
    sniffed = sniff(p)
    if sniffed.kind_hint == "image":
        with p.open("rb") as fh:
            head = fh.read(1 << 16)
        claimed = image_header_size(head)
        if claimed and claimed[0] * claimed[1] > lim.max_pixels:
            raise MediaTooLarge(f"{p.name} claims {claimed[0]}x{claimed[1]}; the limit is {lim.max_pixels} pixels (8K)")
        if sniffed.demuxer == "webp_pipe" and is_animated_webp(head):
            return _animated_webp(p, size, lim)
    with contextlib.ExitStack() as stack:
        try:
            container = stack.enter_context(open_container(p, sniffed.demuxer, max_pixels=lim.max_pixels))
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise UnsupportedMedia(
                f"{p.name} could not be read as {sniffed.label}: {_short(exc)}{_hint(sniffed)}"
            ) from None
        info = _describe(p, size, sniffed, container, lim)
    if sniffed.label in ("AVIF", "HEIC"):
        _check_cli_decodes(info, sniffed)
    return info


def _demuxed_span(container: av.container.InputContainer, v: av.stream.Stream) -> float:
    """Seconds from the stream's start to its last packet's end (the packets left: nothing decoded)."""
    end = 0.0
    for pkt in container.demux(v):
        if pkt.pts is not None and pkt.time_base is not None:
            end = max(end, float((pkt.pts + (pkt.duration or 0)) * pkt.time_base))
    start = float(v.start_time * v.time_base) if v.start_time is not None and v.time_base else 0.0
    return end - start


def _animated_webp(p: Path, size: int, lim: MediaLimits) -> MediaInfo:
    """An animated WebP, described from its chunks (neither PyAV nor FFmpeg 5.1 decode it).

    Its ``convert_to`` is "apng": ``media.animation.playable`` makes the copy that is analysed and
    rendered.
    """
    data = p.read_bytes()
    w = int.from_bytes(data[24:27], "little") + 1
    h = int.from_bytes(data[27:30], "little") + 1
    delays = webp_frame_delays(data)
    if not delays:
        raise UnsupportedMedia(f"{p.name} declares an animation but holds no frames")
    duration = sum(delays) / 1000
    if duration > lim.max_duration_s + 1.0:
        raise MediaTooLarge(f"{p.name} lasts {duration / 60:.0f} min; the limit is {lim.max_duration_s / 60:.0f} min")
    fps = len(delays) / duration
    return MediaInfo(
        path=p,
        kind="video",
        demuxer="webp_pipe",
        size_bytes=size,
        duration_s=duration,
        width=w,
        height=h,
        coded_width=w,
        coded_height=h,
        fps=fps,
        peak_fps=fps,
        video_codec="webp",
        pix_fmt="rgba",
        frame_count=len(delays),
        animated=True,
        convert_to="apng",
    )


def _hint(sniffed: Sniffed) -> str:
    if sniffed.label in ("AVIF", "HEIC"):
        return f"; if it is a real {sniffed.label} photo, this FFmpeg can't decode it: save it as JPEG or PNG"
    return ""


def _check_cli_decodes(info: MediaInfo, sniffed: Sniffed) -> None:
    """Refuse (4001) a HEIF still that PyAV read but the FFmpeg binary that renders can't decode.

    PyAV brings its own FFmpeg libraries; the render runs the FFmpeg binary in use (Debian's 5.1
    reads AVIF but not HEIC's tiled images), so both must agree before the file is accepted.
    """
    args = [*input_args(info.path, info.demuxer), "-map", f"0:{info.video_stream}", "-frames:v", "1", "-f", "null", "-"]
    res = run_ffmpeg(["-v", "error", *args], capture_stdout=True, check=False, timeout_s=60)
    if res.returncode != 0:
        why = last_error_line(res.stderr_tail)
        raise UnsupportedMedia(f"{info.path.name} could not be decoded as {sniffed.label} ({why}){_hint(sniffed)}")


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160]


def _describe(
    p: Path, size: int, sniffed: Sniffed, container: av.container.InputContainer, lim: MediaLimits
) -> MediaInfo:
    """Fill a MediaInfo from an open container, enforcing the limits before decoding anything."""
    videos = [
        s
        for s in container.streams.video
        # Cover art in audio files is a "video" stream with the attached-picture disposition.
        if not (int(s.disposition) & int(av.stream.Disposition.attached_pic))
    ]
    audios = list(container.streams.audio)
    if not videos and not audios:
        raise UnsupportedMedia(f"{p.name} has no audio or video streams")

    container_s = container.duration / 1e6 if container.duration else 0.0

    def stream_s(s: av.stream.Stream) -> float:
        if s.duration and s.time_base:
            return float(s.duration * s.time_base)
        return 0.0

    duration = max([container_s] + [stream_s(s) for s in (*videos, *audios)])
    # One second of slack: a "3-hour" file is often 3:00:00.3 (AAC priming, container rounding).
    if duration > lim.max_duration_s + 1.0:
        raise MediaTooLarge(f"{p.name} lasts {duration / 60:.0f} min; the limit is {lim.max_duration_s / 60:.0f} min")

    is_image = sniffed.kind_hint == "image"
    info: dict[str, object] = {}
    kind: MediaKind
    if videos:
        main = _main_video(videos)
        info = _video_fields(container, main, p, still_format=is_image)
        animated = bool(info["animated"])
        kind = "video" if animated else "image" if is_image else "video"
        if not is_image and int(main.frames or 0) <= 1 and duration <= 0.05 and not audios:
            kind = "image"
        if kind == "image":
            duration = 0.0
        elif animated and duration <= 0:
            duration = _demuxed_span(container, main)  # APNG: no duration in the header
            if duration <= 0:
                raise UnsupportedMedia(f"{p.name} is an animation with no timing")
    else:
        kind = "audio"
    if audios:
        a = audios[0].codec_context
        info.update(
            has_audio=True,
            audio_codec=a.name,
            sample_rate=int(a.sample_rate or 0),
            channels=int(a.layout.nb_channels if a.layout else 0),
        )
    if kind in ("video", "audio") and duration <= 0:
        raise UnsupportedMedia(f"{p.name} has no playable duration (truncated or empty?)")
    return MediaInfo(
        path=p,
        kind=kind,
        demuxer=sniffed.demuxer,
        size_bytes=size,
        duration_s=duration,
        tags={str(k): str(val) for k, val in container.metadata.items()},
        **info,  # type: ignore[arg-type]
    )


#: Picture codecs: a stream of one of them beside a real video is cover art or a thumbnail
#: (Matroska stores cover art as an ordinary video track, often the first).
_STILL_CODECS = {"png", "mjpeg", "bmp", "webp", "gif", "tiff"}


def _main_video(videos: list[av.video.stream.VideoStream]) -> av.video.stream.VideoStream:
    """The video stream that is the clip: not a picture codec if another exists; the default one first."""
    moving = [s for s in videos if s.codec_context.name not in _STILL_CODECS] or videos
    default = [s for s in moving if int(s.disposition) & int(av.stream.Disposition.default)]
    return (default or moving)[0]


def _video_fields(
    container: av.container.InputContainer, v: av.video.stream.VideoStream, p: Path, *, still_format: bool
) -> dict[str, object]:
    """The MediaInfo fields of the video stream ``v`` (size, rotation, rate, codec, colour tags).

    ``still_format``: the container is an image format (GIF, WebP, PNG, JPEG); it is an animation
    when it holds a second frame.
    """
    cc = v.codec_context
    w, h = int(cc.width or 0), int(cc.height or 0)
    if w <= 0 or h <= 0:
        raise UnsupportedMedia(f"{p.name}: the video stream has no picture size")
    # Over max_pixels was refused by open_container, before anything was decoded.
    if cc.name is None or av.codec.Codec(cc.name, "r") is None:  # pragma: no cover - defensive
        raise UnsupportedMedia(f"{p.name}: unsupported video codec")
    rotation, frames = _first_frames(container, v, p, want=2 if still_format else 1)
    animated = still_format and frames > 1
    disp_w, disp_h = (h, w) if rotation in (90, 270) else (w, h)
    fps = float(v.average_rate or v.guessed_rate or 0) if animated or not still_format else 0.0
    base = float(v.guessed_rate or 0)
    # A base rate well over the average is variable frame rate; a huge one is only a time base.
    peak = base if fps > 0 and fps * 1.05 < base <= 60.5 and not animated else fps
    return {
        "width": disp_w,
        "height": disp_h,
        "coded_width": w,
        "coded_height": h,
        "rotation": rotation,
        "fps": fps,
        "peak_fps": peak,
        "video_codec": cc.name,
        "pix_fmt": cc.format.name if cc.format else None,
        "video_bit_rate": int(cc.bit_rate or 0),
        "frame_count": int(v.frames or 0),
        "video_stream": int(v.index),
        "animated": animated,
        # Read after a frame was decoded: some decoders fill the tags from the bitstream only then.
        "color_primaries": _PRIMARIES.get(int(cc.color_primaries or 2)),
        "color_trc": _TRANSFERS.get(int(cc.color_trc or 2)),
        "color_space": _MATRICES.get(int(cc.colorspace if cc.colorspace is not None else 2)),
        "color_range": _RANGES.get(int(cc.color_range or 0)),
    }


def _first_frames(
    container: av.container.InputContainer, v: av.stream.Stream, p: Path, *, want: int
) -> tuple[int, int]:
    """(rotation, frames decoded): the first frame's display rotation, clockwise degrees, and how
    many of up to ``want`` frames decode.

    Decoding a frame also proves the codec is decodable: a stream FFmpeg can't decode is refused
    here (4001) rather than deep inside a render.
    """
    rotation, n = 0, 0
    try:
        for frame in container.decode(v):
            if n == 0:
                # FFmpeg's display matrix angle is counter-clockwise; players rotate clockwise by -angle.
                rotation = round(-float(getattr(frame, "rotation", 0) or 0)) % 360
            n += 1
            if n >= want:
                break
    except av.FFmpegError as exc:
        if n == 0:
            raise UnsupportedMedia(f"{p.name}: the video could not be decoded ({_short(exc)})") from None
    if n == 0:
        raise UnsupportedMedia(f"{p.name}: the video stream has no decodable frame (truncated?)")
    return rotation, n
