"""Draft -> FFmpeg arguments (pure: no processes, no files written).

Two video paths:
- **copy**: nothing visual changes (one whole H.264 8-bit clip <= 1080p, aspect "source", no
  titles, no trim): the output's video packets are the input's (``-c:v copy``), only audio is new.
- **encode**: a filter graph per segment (CFR, fit to the frame by blurred pad or crop, photos held
  with a gentle zoom, animations at their own timing and looped when asked, HDR tone-mapped by
  ``render.colour``), concatenated, titles burned by libass, H.264 yuv420p BT.709 (or, with
  ``hdr="keep"``, 10-bit HEVC with the HDR tags).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ab2n.media.ffmpeg import input_args
from ab2n.media.presets import output_size
from ab2n.media.probe import MediaInfo
from ab2n.render.colour import ColourTarget, HdrMode, colour_chain, colour_needs, colour_target, encoder_args
from ab2n.render.overlay import filter_path
from ab2n.timeline.draft import Draft, VideoSegment

MAX_FPS = 60.0
DEFAULT_FPS = 30.0
COPY_CODECS = {"h264"}
COPY_PIX_FMTS = {"yuv420p", "yuvj420p"}


@dataclass(frozen=True)
class VideoJob:
    """What render will run for the picture.

    Attributes:
        args: FFmpeg arguments up to (not including) the output path.
        copy: True when the video stream is copied.
        width, height: Output display size.
        fps: Output frame rate.
        duration_s: Output duration.
        needs: FFmpeg features the job uses that not every build has ("filter:zscale", "encoder:libx265").
        hdr_out: "hlg"/"pq" when the output is HDR (kept or copied), None for SDR.
        tone_mapped: The HDR kinds that were tone-mapped to the output's colours.
    """

    args: list[str]
    copy: bool
    width: int
    height: int
    fps: float
    duration_s: float
    needs: tuple[str, ...] = ()
    hdr_out: str | None = None
    tone_mapped: tuple[str, ...] = ()


def frame_size(draft: Draft, media: Mapping[str, MediaInfo]) -> tuple[int, int]:
    """Output size of the draft: the preset's, or the first visual input's fitted size."""
    aspect = draft.settings.aspect
    if aspect == "source" and len(draft.video) > 1:
        aspect = "1080p"  # a montage of mixed shapes is delivered as 1080p (issue: "one 1080p video")
    first = next((media[s.media_id] for s in draft.video if media[s.media_id].has_video), None)
    return output_size(aspect, first.width if first else 0, first.height if first else 0)


def output_fps(draft: Draft, media: Mapping[str, MediaInfo]) -> float:
    """Constant output frame rate: the first video's rate, capped at 60, else 30.

    Variable frame rate plays at its peak rate, so its fastest stretch keeps every frame (the
    average would drop frames there and repeat them where it slows).

    An animation's rate is at least 30: GIF and WebP frame delays vary frame to frame, so their
    average rate would misplace frames; at 30 fps each lands within 17 ms of its own time.
    """
    first = next((media[s.media_id] for s in draft.video if media[s.media_id].kind == "video"), None)
    if first is None or first.fps <= 0:
        return DEFAULT_FPS
    return min(MAX_FPS, max(DEFAULT_FPS, first.fps) if first.animated else max(first.fps, first.peak_fps))


def can_copy_video(draft: Draft, media: Mapping[str, MediaInfo], hdr: HdrMode = "sdr") -> bool:
    """Whether the video stream can be copied bit for bit.

    With ``hdr="keep"``, 10-bit HEVC HDR (what phones record) is copied too: it is already what
    "keep" would encode, and the copy loses nothing.
    """
    if len(draft.video) != 1 or draft.texts or draft.settings.aspect != "source":
        return False
    seg = draft.video[0]
    info = media[seg.media_id]
    if info.kind != "video" or seg.in_ms != 0:
        return False
    if abs(seg.duration_ms / 1000 - info.duration_s) > 1.5 / max(info.fps, 1):
        return False
    big, small = max(info.width, info.height), min(info.width, info.height)
    if big > 1920 or small > 1080:
        return False
    if hdr == "keep" and info.hdr and info.video_codec == "hevc" and info.pix_fmt == "yuv420p10le":
        return True
    return info.video_codec in COPY_CODECS and (info.pix_fmt or "") in COPY_PIX_FMTS


def _fit_chain(fit: str, w: int, h: int, zoom: bool, fps: float, dur_s: float) -> str:
    """Filters taking one input picture to exactly w x h."""
    if zoom:
        # A gentle push-in (Ken Burns): 1.0 -> ~1.08 over the still's duration, on a 2x canvas so
        # the zoom doesn't jitter on whole pixels.
        frames = max(1, round(dur_s * fps))
        inc = 0.08 / frames
        pre = (
            f"scale={w * 2}:{h * 2}:force_original_aspect_ratio=increase,crop={w * 2}:{h * 2},"
            f"zoompan=z='min(1+{inc:.6f}*on,1.08)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:"
            f"s={w}x{h}:fps={fps:g}"
        )
        if fit == "crop":
            return pre
    if fit == "crop":
        return f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h}"
    fg = f"scale={w}:{h}:force_original_aspect_ratio=decrease,scale=trunc(iw/2)*2:trunc(ih/2)*2"
    # Blur at 1/8 size: same look, ~60x cheaper than boxblur at full size.
    bg = (
        f"scale={max(2, w // 8)}:{max(2, h // 8)}:force_original_aspect_ratio=increase,"
        f"crop={max(2, w // 8)}:{max(2, h // 8)},boxblur=4:2,eq=brightness=-0.12:saturation=0.8,scale={w}:{h}"
    )
    if zoom:
        return f"{pre}"
    return f"split=2[fgs][bgs];[bgs]{bg}[bgo];[fgs]{fg}[fgo];[bgo][fgo]overlay=(W-w)/2:(H-h)/2"


def plan_video(
    draft: Draft,
    media: Mapping[str, MediaInfo],
    *,
    audio: Path | None,
    ass: Path | None = None,
    fonts_dir: Path | None = None,
    hdr: HdrMode = "sdr",
) -> VideoJob:
    """The FFmpeg arguments that produce the picture (and mux ``audio``, an AAC .m4a, if given).

    Args:
        draft: The timeline.
        media: Media by id.
        audio: The finished programme audio to mux (copied, not re-encoded).
        ass: Titles file to burn in.
        fonts_dir: Folder with the title font for libass.
        hdr: "sdr" tone-maps HDR inputs to SDR BT.709 H.264 when the video is encoded; "keep"
            encodes 10-bit HEVC with the HDR tags of the first HDR input (as "sdr" without one).
            A copied video keeps its stream and tags either way.
    """
    duration_s = draft.duration_ms / 1000
    segs = sorted(draft.video, key=lambda s: s.start_ms)
    if can_copy_video(draft, media, hdr):
        info = media[segs[0].media_id]
        copy_args = [*input_args(info.path, info.demuxer)]
        copy_maps = ["-map", f"0:{info.video_stream}"]
        if audio is not None:
            copy_args += input_args(audio, "mov")
            copy_maps += ["-map", "1:a:0"]
        copy_args += [*copy_maps, "-c", "copy", "-t", f"{duration_s:.6f}"]
        return VideoJob(copy_args, True, info.width, info.height, info.fps, duration_s, hdr_out=info.hdr)

    w, h = frame_size(draft, media)
    fps = output_fps(draft, media)
    target = colour_target(segs, media, hdr)
    args: list[str] = []
    chains: list[str] = []
    for i, seg in enumerate(segs):
        info = media[seg.media_id]
        args += _segment_input(seg, info)
        chains.append(_segment_chain(i, seg, info, draft, w, h, fps, montage=len(segs) > 1, target=target))
    if len(segs) > 1:
        chains.append("".join(f"[v{i}]" for i in range(len(segs))) + f"concat=n={len(segs)}:v=1:a=0[vcat]")
        last = "[vcat]"
    else:
        last = "[v0]"
    if ass is not None:
        fd = f":fontsdir='{filter_path(fonts_dir)}'" if fonts_dir else ""
        chains.append(f"{last}subtitles=filename='{filter_path(ass)}'{fd}[vsub]")
        last = "[vsub]"
    maps = ["-map", last]
    if audio is not None:
        args += input_args(audio, "mov")
        maps += ["-map", f"{len(segs)}:a:0", "-c:a", "copy"]
    infos = [media[s.media_id] for s in segs]
    mapped = tuple(sorted({k for i in infos if (k := i.hdr) and k != target.hdr}))
    args += ["-filter_complex", ";".join(chains), *maps, *encoder_args(target, tag_bt709=bool(mapped))]
    args += ["-r", f"{fps:g}", "-t", f"{duration_s:.6f}"]
    needs = colour_needs(infos, target)
    return VideoJob(args, False, w, h, fps, duration_s, needs=needs, hdr_out=target.hdr, tone_mapped=mapped)


def _segment_chain(
    i: int,
    seg: VideoSegment,
    info: MediaInfo,
    draft: Draft,
    w: int,
    h: int,
    fps: float,
    *,
    montage: bool,
    target: ColourTarget,
) -> str:
    """The filter chain taking input ``i`` to segment ``[v{i}]``: w x h at ``fps``, in the output's colours."""
    dur = seg.duration_ms / 1000
    still = info.kind == "image"
    head = f"[{i}:{info.video_stream}]"
    if still:
        head += f"loop=loop=-1:size=1:start=0,setpts=N/({fps:g}*TB),"
    chain = _fit_chain(
        draft.settings.fit if draft.settings.aspect != "source" or montage else "crop",
        w,
        h,
        still and montage,
        fps,
        dur,
    )
    if draft.settings.aspect == "source" and not montage:
        chain = f"scale={w}:{h}"
    colour = colour_chain(info, target, w, h)
    return (
        f"{head}fps={fps:g},{colour}{chain},setsar=1,format={target.pix_fmt},"
        f"trim=duration={dur:.6f},setpts=PTS-STARTPTS[v{i}]"
    )


def _segment_input(seg: VideoSegment, info: MediaInfo) -> list[str]:
    if info.kind == "image":
        return input_args(info.path, info.demuxer)
    dur = seg.duration_ms / 1000
    # An animation plays at its own timing; a segment longer than it loops it (GIF/WebP loop too).
    loop = ["-stream_loop", "-1"] if info.animated and seg.in_ms / 1000 + dur > info.duration_s + 1e-3 else []
    return input_args(info.path, info.demuxer, seek_s=seg.in_ms / 1000 or None, duration_s=dur + 0.5, extra=loop)
