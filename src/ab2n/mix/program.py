"""The mix stage: a draft's programme audio (its own sound + the arranged music) as one AAC file.

    draft ──> timeline audio (montage/trim joins) ─┐
          └─> music bed (MusicPlan) ───────────────┼─> plan_mix ─> render_audio ─> MixedAudio
    profiles ──> speech (ducking) ─────────────────┘

The render stage muxes the result with the picture; nothing here touches video.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ab2n.analyze.profile import VideoProfile
from ab2n.errors import Cancelled
from ab2n.media.ffmpeg import input_args, run_ffmpeg
from ab2n.media.probe import MediaInfo, probe
from ab2n.mix.loudness import LoudnessReport
from ab2n.mix.meter import LoudnessMeter, measure_lufs
from ab2n.mix.mixdown import SAMPLE_RATE, MixPlan, MixSettings, plan_mix, render_audio
from ab2n.mix.stem_duck import duck_stems, pulse_depth_db
from ab2n.music.arrange import MusicPlan
from ab2n.music.bed import render_bed
from ab2n.music.compose.score import is_composed, render_plan_stems
from ab2n.music.compose.synth import write_wav
from ab2n.timeline.draft import Draft
from ab2n.timeline.profile import timeline_profile

Progress = Callable[[float], None]

#: Share of the stage's progress spent before the encode (timeline audio and music bed).
_PREPARE_SHARE = 0.5


@dataclass(frozen=True)
class MixedAudio:
    """The mix stage's result.

    Attributes:
        path: The programme audio: AAC-LC 48 kHz stereo in .m4a, exactly the draft's length.
        plan: The mix that was applied (levels, ducking, fades, loudness target).
        loudness: Measured on ``path``.
    """

    path: Path
    plan: MixPlan
    loudness: LoudnessReport


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


def plan_timeline_audio(draft: Draft, media: Mapping[str, MediaInfo], out_wav: Path) -> list[str] | None:
    """Arguments that write the timeline's own audio (montage/trim) as a WAV; None when the single
    source can be used as it is (one whole clip) or no piece has sound (pure)."""
    segs = sorted(draft.video, key=lambda s: s.start_ms)
    if len(segs) == 1 and segs[0].in_ms == 0:
        return None
    if not any(media[s.media_id].has_audio for s in segs):
        return None
    args: list[str] = []
    chains: list[str] = []
    for i, seg in enumerate(segs):
        info = media[seg.media_id]
        dur = seg.duration_ms / 1000
        if info.has_audio and info.kind != "image":
            args += input_args(info.path, info.demuxer, seek_s=seg.in_ms / 1000 or None, duration_s=dur)
            chains.append(
                f"[{i}:a:0]aresample={SAMPLE_RATE},aformat=channel_layouts=stereo,apad=whole_dur={dur:.6f},atrim=duration={dur:.6f}[a{i}]"
            )
        else:
            args += ["-f", "lavfi", "-t", f"{dur:.6f}", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=stereo"]
            chains.append(f"[{i}:a:0]atrim=duration={dur:.6f}[a{i}]")
    chains.append("".join(f"[a{i}]" for i in range(len(segs))) + f"concat=n={len(segs)}:v=0:a=1[aout]")
    return [*args, "-filter_complex", ";".join(chains), "-map", "[aout]", "-c:a", "pcm_s16le", "-y", str(out_wav)]


def timeline_audio(
    draft: Draft, media: Mapping[str, MediaInfo], work_dir: Path, *, cancel: threading.Event | None = None
) -> MediaInfo | None:
    """The timeline's own sound: the single clip itself, or its pieces joined into a WAV in ``work_dir``."""
    wav = work_dir / "timeline.wav"
    args = plan_timeline_audio(draft, media, wav)
    if args is not None:
        run_ffmpeg(args, cancel=cancel)
        return probe(wav)
    if draft.video:
        src = media[draft.video[0].media_id]
        return src if src.has_audio else None
    return None


def mix_draft(
    draft: Draft,
    media: Mapping[str, MediaInfo],
    profiles: Mapping[str, VideoProfile],
    *,
    work_dir: Path,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    soundfont: Path | None = None,
) -> MixedAudio:
    """Mix the draft's audio: its own sound, ducked music, one loudness (the mix stage).

    Args:
        draft: The timeline; its music, if any, must be arranged (``MusicSegment.plan``).
        media: Media by id.
        profiles: Analysis by media id (speech, for ducking).
        work_dir: Folder for the intermediates and the result (the caller removes it).
        progress: Called with 0..1.
        cancel: Set to stop; raises ``Cancelled``.
        soundfont: A SoundFont to play a composed score on (None: the built-in synthesis).
    """
    report = progress or (lambda f: None)
    original = timeline_audio(draft, media, work_dir, cancel=cancel)
    kept = original is not None and original.has_audio and draft.settings.original_audio == "keep"
    # The original is measured while the bed renders: each is mostly one FFmpeg process, and on two
    # cores the pair takes the longer of them (on the 60 s speech bench input the original's 0.47 s
    # pass runs inside the bed's 0.96 s render).
    duration_s = draft.duration_ms / 1000
    plan = plan_mix(
        timeline_profile(draft, profiles),
        mix_settings_from(draft),
        duration_s=duration_s,
        has_original_audio=original is not None,
    )
    bed_meter = LoudnessMeter(true_peak=False)  # the bed is metered as it is written, not read again
    with ThreadPoolExecutor(max_workers=1) as pool:
        measuring = pool.submit(measure_lufs, original.path, original.demuxer) if kept and original else None
        bed, plan = _render_music(draft, plan, work_dir, cancel, bed_meter.feed, soundfont)
        original_lufs = measuring.result() if measuring else None
    bed_lufs = bed_meter.integrated_lufs() if bed_meter.fed else None
    report(_PREPARE_SHARE)
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled")
    audio = work_dir / "audio.m4a"
    loudness = render_audio(
        original=original,
        bed_wav=bed,
        plan=plan,
        out_path=audio,
        progress=lambda f: report(_PREPARE_SHARE + (1 - _PREPARE_SHARE) * f),
        cancel=cancel,
        work_dir=work_dir,
        original_lufs=original_lufs,
        bed_lufs=bed_lufs,
    )
    report(1.0)
    return MixedAudio(audio, plan, loudness)


def _render_music(
    draft: Draft,
    mix: MixPlan,
    work_dir: Path,
    cancel: threading.Event | None,
    on_block: Callable[[np.ndarray], None],
    soundfont: Path | None = None,
) -> tuple[Path | None, MixPlan]:
    """The draft's music bed as a WAV in ``work_dir`` (composed or arranged), or None without music,
    and the mix as it now stands. The bed's blocks, before any duck, go to ``on_block`` (its
    loudness). A composed bed is ducked here, stem by stem and band by band (``mix.stem_duck``),
    and the mix returned says so (``bed_ducked``: the shaping does not duck it again); an arranged
    bed is a recording, ducked whole when it is shaped."""
    if draft.music is not None and is_composed(draft.music.plan):
        stems = render_plan_stems(draft.music.plan or {}, cancel=cancel, soundfont=soundfont)
        on_block(np.asarray(sum(stems.values()), np.float32))
        pulse_db = pulse_depth_db(draft.settings.duck, mix.duck_depth_db)
        bed = duck_stems(
            stems, SAMPLE_RATE, mix.duck_regions, mix.duck_depth_db, pulse_db=pulse_db, offset_s=mix.music_start_s
        )
        ducked = dataclasses.replace(mix, bed_ducked=True, pulse_duck_db=pulse_db)
        return write_wav(bed, work_dir / "bed.wav"), ducked
    if draft.music is not None and draft.music.plan:
        plan = MusicPlan.from_json(draft.music.plan)
        return render_bed(plan, work_dir / "bed.wav", cancel=cancel, on_block=on_block), mix
    return None, mix
