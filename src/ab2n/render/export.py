"""The render stage: the draft's picture (copied or encoded) muxed with the mixed audio, one file, atomically.

Only this package writes the user's output. The picture is copied (nothing visual changes), smart
rendered (a title on one matched H.264 clip: only the GOPs it touches are encoded, ``render.smart``)
or encoded whole (``render.plan``), and ``RenderResult.mode`` says which and why. It renders; it
does not mix (``mix.program`` makes the audio it muxes). Everything goes to a temporary name beside
the target and is renamed at the end; on any failure or cancel the temporaries are removed, so no
partial output is ever left behind.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import av

from ab2n.errors import Cancelled, InvalidArgument, ProcessingError, ProcessTimeout, UnsupportedMedia
from ab2n.media.ffmpeg import commit_output, ffmpeg_exe, missing_features, run_ffmpeg, temp_output_path
from ab2n.media.probe import MediaInfo
from ab2n.mix.loudness import LoudnessReport
from ab2n.mix.program import MixedAudio
from ab2n.render.colour import HDR_MODES, ColourTarget, HdrMode, colour_needs
from ab2n.render.overlay import CJK_FONT_NAME, FALLBACK_FONT_NAME, build_ass, title_font
from ab2n.render.plan import VideoJob, can_copy_video, plan_video
from ab2n.render.smart import EarlySpans, NotSmart, join, plan_smart, render_smart
from ab2n.timeline.draft import Draft

Progress = Callable[[float], None]


@dataclass(frozen=True)
class RenderResult:
    """What a render produced."""

    out_path: Path
    duration_s: float
    video_copied: bool
    width: int
    height: int
    loudness: LoudnessReport | None
    timings_s: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    hdr_out: str | None = None
    tone_mapped: tuple[str, ...] = ()
    #: "copy" (video packets copied), "smart" (only the GOPs a title touches encoded) or "full".
    mode: str = "copy"
    #: Why the picture was not copied or smart rendered ("" when it was).
    mode_reason: str = ""
    #: Video packets copied from the source / encoded (smart renders only).
    packets: dict[str, int] = field(default_factory=dict)


def render_output(
    draft: Draft,
    media: Mapping[str, MediaInfo],
    audio: MixedAudio,
    out_path: str | Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    work_dir: Path | None = None,
    hdr: HdrMode = "sdr",
    smart: bool = True,
    early: EarlySpans | None = None,
) -> RenderResult:
    """Write the draft to ``out_path``: MP4, or the audio alone (M4A) when the timeline has no picture.

    Args:
        draft: The timeline.
        media: Media by id.
        audio: The mix stage's result (its file is muxed as it is).
        out_path: Target file.
        progress: Called with 0..1.
        cancel: Set to stop; raises ``Cancelled`` and leaves nothing behind.
        work_dir: Folder for intermediates (titles; default: a temporary folder).
        hdr: "sdr" (tone-map HDR inputs when the video is encoded) or "keep" (10-bit HEVC, HDR tags).

    Raises:
        UnsupportedMedia: An HDR input needs a filter this FFmpeg lacks (code 4001).
        InvalidArgument: ``hdr`` is not one of ``HDR_MODES``, or "keep" and this FFmpeg has no libx265.
        smart: Encode only the GOPs a title touches when the stream can be matched (else, or with
            False, the whole picture is encoded).
        early: The smart render's span encodes, started before the mix (used when they were
            made for this draft's picture and titles).
    """
    if hdr not in HDR_MODES:
        raise InvalidArgument(f"unknown HDR mode {hdr!r}; use one of {', '.join(HDR_MODES)}")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda f: None)
    duration_s = draft.duration_ms / 1000
    t0 = time.perf_counter()
    _check(cancel)
    target = temp_output_path(out)
    try:
        if not any(media[s.media_id].has_video for s in draft.video):
            shutil.copyfile(audio.path, target)
            commit_output(target, out)
            report(1.0)
            return RenderResult(out, duration_s, False, 0, 0, audio.loudness, {"video": 0.0}, ())
        with tempfile.TemporaryDirectory(prefix="ab2n-", dir=work_dir) as tmp:
            usable = early if early is not None and early.fits(draft) else None
            done = _try_smart(draft, media, audio.path, target, Path(tmp), report, cancel, usable) if smart else None
            if isinstance(done, RenderResult):
                _check(cancel)
                commit_output(target, out)
                return replace(
                    done, out_path=out, loudness=audio.loudness, timings_s={"video": time.perf_counter() - t0}
                )
            job, notes = _picture_job(draft, media, audio.path, Path(tmp), hdr)
            _check_features(job, media, hdr)
            run_ffmpeg(
                # -write_tmcd 0: a camera's timecode would come back as a data track; the output has two streams.
                [*job.args, "-movflags", "+faststart", "-write_tmcd", "0", "-f", "mp4", "-y", str(target)],
                duration_s=duration_s,
                progress=report,
                cancel=cancel,
            )
        _check(cancel)  # a run that finished as it was cancelled is not kept either
        commit_output(target, out)
    finally:
        target.unlink(missing_ok=True)
    report(1.0)
    timings = {"video": time.perf_counter() - t0}
    mode = "copy" if job.copy else "full"
    reason = "" if job.copy else (done or "smart rendering is off")
    return RenderResult(
        out,
        duration_s,
        job.copy,
        job.width,
        job.height,
        audio.loudness,
        timings,
        notes,
        job.hdr_out,
        job.tone_mapped,
        mode=mode,
        mode_reason=reason,
    )


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled")


def check_colour_support(media: Mapping[str, MediaInfo], hdr: HdrMode) -> None:
    """Refuse early (before analysis) inputs whose colours this FFmpeg can't convert for ``hdr``.

    Raises:
        UnsupportedMedia: HDR input, and no zscale/tonemap in this FFmpeg (code 4001).
        InvalidArgument: ``hdr`` is "keep" with an HDR input, and this FFmpeg has no libx265.
    """
    infos = [i for i in media.values() if i.has_video]
    target = ColourTarget(next((i.hdr for i in infos if i.hdr), None) if hdr == "keep" else None)
    _refuse_missing(missing_features(colour_needs(infos, target)), media, hdr)


def _check_features(job: VideoJob, media: Mapping[str, MediaInfo], hdr: HdrMode) -> None:
    """Refuse, before FFmpeg starts, a job whose filters or encoder this FFmpeg build lacks."""
    _refuse_missing(missing_features(job.needs), media, hdr)


def _refuse_missing(missing: list[str], media: Mapping[str, MediaInfo], hdr: HdrMode) -> None:
    if not missing:
        return
    names = ", ".join(m.split(":", 1)[1] for m in missing)
    if any(m.startswith("encoder:") for m in missing):
        raise InvalidArgument(f"--hdr {hdr} encodes HEVC, and {ffmpeg_exe()} has no {names}; use --hdr sdr")
    kinds = "/".join(k.upper() for k in sorted({i.hdr for i in media.values() if i.hdr}))
    raise UnsupportedMedia(
        f"the video is HDR ({kinds}) and converting its colours needs FFmpeg's {names}, which {ffmpeg_exe()} lacks; "
        "point AB2N_FFMPEG at a build with zimg (Debian's ffmpeg and the bundled one have it)"
    )


def _try_smart(
    draft: Draft,
    media: Mapping[str, MediaInfo],
    audio: Path,
    target: Path,
    tmp: Path,
    report: Progress,
    cancel: threading.Event | None,
    early: EarlySpans | None = None,
) -> RenderResult | str | None:
    """Smart render into ``target`` if the draft allows it: the result, or why not (None: nothing to do)."""
    if can_copy_video(draft, media):
        return None
    try:
        if early is not None:
            job, spans = early.result(cancel)
            stats = join(job, spans, audio, target)
        else:
            job = plan_smart(draft, media)
            stats = render_smart(job, draft, audio, target, tmp, progress=report, cancel=cancel)
    except NotSmart as exc:
        target.unlink(missing_ok=True)
        return str(exc)
    except (ProcessingError, av.FFmpegError) as exc:
        if isinstance(exc, ProcessTimeout):
            raise
        # An FFmpeg that refuses the matched encode (or a file that won't remux) still gets a render.
        target.unlink(missing_ok=True)
        return f"the partial encode failed ({str(exc).splitlines()[0][:120]})"
    info = job.info
    packets = {"copied": stats.copied_packets, "encoded": stats.encoded_packets}
    return RenderResult(
        target,
        draft.duration_ms / 1000,
        False,
        info.width,
        info.height,
        None,
        mode="smart",
        packets=packets,
        hdr_out=info.hdr,  # the copied GOPs keep the source's colours and tags
    )


def _picture_job(
    draft: Draft, media: Mapping[str, MediaInfo], audio: Path, tmp: Path, hdr: HdrMode
) -> tuple[VideoJob, tuple[str, ...]]:
    """The FFmpeg job for the picture muxed with ``audio``, with its titles file written into ``tmp``."""
    notes: list[str] = []
    ass = fonts_dir = None
    if draft.texts:
        font = title_font(draft.texts)  # a CJK title with no CJK font is an error, not boxes
        ass = tmp / "titles.ass"
        fonts_dir = font.parent if font else None
    job = plan_video(draft, media, audio=audio, ass=ass, fonts_dir=fonts_dir, hdr=hdr)
    notes += _colour_notes(job)
    if ass is not None:
        name = CJK_FONT_NAME if fonts_dir else FALLBACK_FONT_NAME
        ass.write_text(build_ass(draft.texts, job.width, job.height, font_name=name), encoding="utf-8")
    return job, tuple(notes)


def _colour_notes(job: VideoJob) -> list[str]:
    """What happened to HDR, for the user (--json notes)."""
    if job.copy and job.hdr_out:
        return [f"the video is {job.hdr_out.upper()} HDR and was copied with its colour tags"]
    notes = [f"{k.upper()} HDR tone-mapped to SDR BT.709 (zscale, tonemap mobius)" for k in job.tone_mapped]
    if job.hdr_out:
        notes = [f"{k.upper()} converted to {job.hdr_out.upper()}" for k in job.tone_mapped]
    if job.hdr_out and not job.copy:
        notes.append(f"HDR kept: 10-bit HEVC tagged BT.2020/{job.hdr_out.upper()}")
    return notes
