"""Run a render: music bed -> mix -> picture (copy or encode) -> one MP4, atomically.

Only this package writes the user's output. Everything goes to temporary names beside the target
and is renamed at the end; on any failure or cancel the temporaries are removed, so no partial
output is ever left behind.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ab2n.analyze.profile import VideoProfile
from ab2n.media.ffmpeg import commit_output, run_ffmpeg, temp_output_path
from ab2n.media.probe import MediaInfo, probe
from ab2n.mix.loudness import LoudnessReport
from ab2n.mix.mixdown import MixSettings, plan_mix, render_audio
from ab2n.music.arrange import MusicPlan
from ab2n.music.bed import render_bed
from ab2n.render.overlay import CJK_FONT_NAME, FALLBACK_FONT_NAME, build_ass, find_cjk_font
from ab2n.render.plan import plan_timeline_audio, plan_video
from ab2n.timeline.draft import Draft
from ab2n.timeline.profile import timeline_profile

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


def mix_settings_from(draft: Draft) -> MixSettings:
    """The mix the draft asks for."""
    m = draft.music
    s = draft.settings
    depth = {"wcag": 12.0, "off": 0.0}.get(s.duck, 12.0)
    if m is None:
        return MixSettings(
            keep_original=s.original_audio == "keep",
            target_lufs=s.target_lufs,
            duck_preset=s.duck,
            duck_depth_db=depth,
        )
    return MixSettings(
        volume=m.volume,
        keep_original=s.original_audio == "keep",
        duck_depth_db=depth,
        duck_preset=s.duck,
        fade_in_s=None if m.fade_in_ms is None else m.fade_in_ms / 1000,
        fade_out_s=None if m.fade_out_ms is None else m.fade_out_ms / 1000,
        music_start_s=m.start_ms / 1000,
        music_end_s=(m.start_ms + m.duration_ms) / 1000,
        target_lufs=s.target_lufs,
    )


def render_draft(
    draft: Draft,
    media: Mapping[str, MediaInfo],
    profiles: Mapping[str, VideoProfile],
    out_path: str | Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    work_dir: Path | None = None,
) -> RenderResult:
    """Render the draft to ``out_path`` (MP4; or M4A when the timeline is audio only).

    Args:
        draft: The timeline (its music must already be arranged: ``MusicSegment.plan``).
        media: Media by id.
        profiles: Analysis by media id (speech for ducking).
        out_path: Target file.
        progress: Called with 0..1.
        cancel: Set to stop; raises ``Cancelled`` and leaves nothing behind.
        work_dir: Folder for intermediates (default: a temporary folder).
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    notes: list[str] = []
    report = progress or (lambda f: None)
    duration_s = draft.duration_ms / 1000
    with tempfile.TemporaryDirectory(prefix="ab2n-", dir=work_dir) as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        # 1. The timeline's own audio.
        original: MediaInfo | None = None
        tl_wav = tmp / "timeline.wav"
        tl_args = plan_timeline_audio(draft, media, tl_wav)
        if tl_args is not None:
            run_ffmpeg(tl_args, cancel=cancel)
            original = probe(tl_wav)
        elif draft.video:
            src = media[draft.video[0].media_id]
            original = src if src.has_audio else None
        # 2. The music bed.
        bed: Path | None = None
        if draft.music is not None and draft.music.plan:
            bed = render_bed(MusicPlan.from_json(draft.music.plan), tmp / "bed.wav")
        timings["music"] = time.perf_counter() - t0
        report(0.2)
        _check(cancel)
        # 3. The mix.
        t1 = time.perf_counter()
        profile = timeline_profile(draft, profiles)
        mix_plan = plan_mix(
            profile, mix_settings_from(draft), duration_s=duration_s, has_original_audio=original is not None
        )
        audio = tmp / "audio.m4a"
        loudness = render_audio(
            original=original,
            bed_wav=bed,
            plan=mix_plan,
            out_path=audio,
            progress=lambda f: report(0.2 + 0.2 * f),
            work_dir=tmp,
        )
        timings["mix"] = time.perf_counter() - t1
        _check(cancel)
        # 4. The picture, muxed with the audio.
        t2 = time.perf_counter()
        visual = [s for s in draft.video if media[s.media_id].has_video]
        target = temp_output_path(out)
        try:
            if not visual:
                commit_output(audio, out)
                timings["video"] = 0.0
                return RenderResult(out, duration_s, False, 0, 0, loudness, timings, tuple(notes))
            ass = fonts_dir = None
            if draft.texts:
                font = find_cjk_font()
                if font is None and any(ord(ch) > 0x2E80 for t in draft.texts for ch in t.text):
                    notes.append("no CJK font found: Chinese titles may show boxes (install fonts-noto-cjk)")
                ass = tmp / "titles.ass"
                fonts_dir = font.parent if font else None
            job = plan_video(draft, media, audio=audio, ass=ass, fonts_dir=fonts_dir)
            if ass is not None:
                name = CJK_FONT_NAME if fonts_dir else FALLBACK_FONT_NAME
                ass.write_text(build_ass(draft.texts, job.width, job.height, font_name=name), encoding="utf-8")
            run_ffmpeg(
                [*job.args, "-movflags", "+faststart", "-f", "mp4", "-y", str(target)],
                duration_s=duration_s,
                progress=lambda f: report(0.4 + 0.6 * f),
                cancel=cancel,
            )
            commit_output(target, out)
        finally:
            target.unlink(missing_ok=True)
        timings["video"] = time.perf_counter() - t2
        report(1.0)
        return RenderResult(out, duration_s, job.copy, job.width, job.height, loudness, timings, tuple(notes))


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        from ab2n.errors import Cancelled

        raise Cancelled("cancelled")
