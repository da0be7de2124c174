"""Levels and the final audio: original audio + ducked music bed -> loudness-normalised AAC.

Signal flow (all streaming: FFmpeg filter graphs, and numpy over the bed in 10 s blocks):

    original ──volume(orig_gain)──────────────────────────┐
                                                           ├─ amix ─ volume(G) ─ limiter ─ AAC
    bed.wav ──(numpy: base gain × duck × fades)── adelay ──┘

Levels are set from measurements: an original with speech is brought to the target loudness (an
original without speech is ambience: it may come down to the target, never up), the music to
the target plus ``20·log10(volume)`` (100 % = as loud as the programme), ducked under speech so
the bed sits at least 15 dB (WCAG preset: 20 dB) below the speech. The speech itself only gets an
overall gain. The sum's gain G comes from a model of the limiter over one pass of the unlimited
mix (``mix.gain``), and the encoded file is checked against the target.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ab2n.analyze.profile import VideoProfile
from ab2n.errors import Cancelled
from ab2n.media.ffmpeg import (
    commit_output,
    input_args,
    run_ffmpeg_pipeline,
    temp_output_path,
)
from ab2n.media.probe import MediaInfo
from ab2n.mix.aside import ASIDE_DB, ASIDE_RAMP_S, aside_regions
from ab2n.mix.duck import duck_gain_db, duck_regions
from ab2n.mix.gain import OVERSAMPLE, GainModel, MixStats, block_samples
from ab2n.mix.loudness import LoudnessReport, measure
from ab2n.mix.meter import SAMPLE_RATE, feed_pcm, measure_lufs

SPEECH_BED_VOLUME = 0.5  # default music level under a video with speech (-6 dB)
# The voice over a whole utterance (its pauses between words included) sits under the programme's
# loudness, most for one-word utterances: with a 4 dB margin the worst of 12 utterances had the
# music 13.9 dB under it, with 6 dB 16.0 dB (bench/mix_quality.py, voice and bed subtracted).
VOICE_MARGIN_DB = 6.0
MIN_SPEECH_TO_MUSIC_DB = {"default": 15.0, "wcag": 20.0, "off": 0.0}
# AAC-LC at 192 kb/s puts the true peak above the limited PCM's: measured on 9 bundled tracks,
# espeak speech and two click tracks limited at -2.5 dBFS, by +0.0 to +0.8 dB (median +0.4), and
# one track (tender_electronic_1) by +2.5. The limiter's ceiling sits this far under the target
# true peak, so the first encode meets it; the rare outlier costs a second encode.
AAC_MARGIN_DB = 1.0
# The programme fades in over its first 50 ms. FFmpeg's AAC encoder codes its first frames coarsely
# (its rate control starts from nothing), and a programme that starts at full level came out of it
# +3.4 dB over the limited PCM in its first 30 ms, the rest within +0.5 (a composed piano piece
# starting on a chord: -0.6 dBTP after four encodes, the loop lowering the level to -15.0 LUFS as
# it chased the peak). With this fade the same piece meets -14 LUFS / -1 dBTP in one encode
# (-1.5 dBTP); 10 ms left the overshoot (-0.7 dBTP), a 16 kHz low-pass before the limiter made it
# worse (+2.1): the start, not the treble, is what the encoder overshoots on.
START_FADE_S = 0.05
ACCEPT_LU = 0.4  # an encode within this of the target is kept (the promise is +-0.5)
AAC_BITRATE = "192k"

__all__ = [
    "LevelledInput",
    "LoudnessReport",
    "MixGraph",
    "MixPlan",
    "MixSettings",
    "build_mix_graph",
    "original_gain_db",
    "plan_mix",
    "render_audio",
]


@dataclass(frozen=True)
class MixSettings:
    """What the user asked of the mix (all optional; defaults are what a pro would pick).

    Attributes:
        volume: Music level relative to a full-level bed (1.0 = 100 %); None = automatic
            (no speech: 1.0; video with speech: 0.5).
        keep_original: Keep the input's own audio under the music.
        duck_depth_db: How much lower the music sits under speech (at least enough for the preset).
        duck_preset: "default" (speech >= 15 dB above the bed), "wcag" (20 dB, WCAG G56) or "off".
        fade_in_s, fade_out_s: Music fades (None = automatic).
        music_start_s, music_end_s: Span of the music on the video (None = whole video).
        target_lufs: Integrated loudness of the programme (-14 default, -16 apple/podcast, -23 ebu).
        true_peak_db: Ceiling after AAC encoding.
    """

    volume: float | None = None
    keep_original: bool = True
    duck_depth_db: float = 12.0
    duck_preset: str = "default"
    fade_in_s: float | None = None
    fade_out_s: float | None = None
    music_start_s: float | None = None
    music_end_s: float | None = None
    target_lufs: float = -14.0
    true_peak_db: float = -1.0


@dataclass(frozen=True)
class MixPlan:
    """The mix, decided before any audio is touched (pure data, JSON-able).

    Attributes:
        duration_s: Length of the programme.
        music_start_s, music_end_s: Where the bed plays on the programme.
        music_volume: Relative level (1.0 = full bed); music_volume_db its dB.
        keep_original: Whether the original audio is in the mix.
        original_speech: Whether the kept original has speech (only then is it raised to the target).
        duck_regions: Spans (programme time) where the music is ducked.
        duck_depth_db: Depth under speech.
        fade_in_s, fade_out_s: Music fades.
        target_lufs, true_peak_db: Loudness targets.
        original_music: Spans (programme time) where the kept original is music: the bed steps
            aside there by ``aside_db``.
        aside_db: How far down the bed goes under the original's music.
        bed_ducked: The bed comes ducked already (a composed bed, stem by stem and band by band:
            ``mix.stem_duck``); shaping applies its level, fades and ``original_music`` only.
        pulse_duck_db: With ``bed_ducked``, how far its drums and bass went down outside the
            voice's band under speech (the rest went down ``duck_depth_db``).
    """

    duration_s: float
    music_start_s: float
    music_end_s: float
    music_volume: float
    keep_original: bool
    original_speech: bool = False
    duck_regions: list[tuple[float, float]] = field(default_factory=list)
    duck_depth_db: float = 12.0
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0
    target_lufs: float = -14.0
    true_peak_db: float = -1.0
    original_music: list[tuple[float, float]] = field(default_factory=list)
    aside_db: float = ASIDE_DB
    bed_ducked: bool = False
    pulse_duck_db: float | None = None

    @property
    def music_volume_db(self) -> float:
        """The music's level change in dB (0.35 -> -9.1 dB)."""
        return 20 * math.log10(max(self.music_volume, 1e-4))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def plan_mix(profile: VideoProfile, settings: MixSettings, *, duration_s: float, has_original_audio: bool) -> MixPlan:
    """Decide levels, ducking and fades for one programme (pure).

    Args:
        profile: The video's profile (speech intervals are used for ducking).
        settings: The user's wishes.
        duration_s: Programme length.
        has_original_audio: Whether the input has audio at all.
    """
    keep = settings.keep_original and has_original_audio
    speech = list(profile.speech) if keep else []
    start = max(0.0, settings.music_start_s or 0.0)
    end = min(duration_s, settings.music_end_s if settings.music_end_s is not None else duration_s)
    if settings.volume is not None:
        volume = max(0.0, float(settings.volume))
    else:
        volume = SPEECH_BED_VOLUME if speech else 1.0
    vol_db = 20 * math.log10(max(volume, 1e-4))
    need = MIN_SPEECH_TO_MUSIC_DB.get(settings.duck_preset, 15.0)
    # Music under speech = target + vol_db - depth; speech ~ target. Duck at least enough for `need`.
    depth = 0.0 if settings.duck_preset == "off" else max(settings.duck_depth_db, need + vol_db + VOICE_MARGIN_DB)
    regions = [(max(start, a), min(end, b)) for a, b in duck_regions(speech) if b > start and a < end]
    aside = aside_regions(profile.audio_classes, start_s=start, end_s=end) if keep else []
    span = max(0.0, end - start)
    fade_in = settings.fade_in_s if settings.fade_in_s is not None else (0.0 if start <= 0 else min(1.0, span / 8))
    fade_out = (
        settings.fade_out_s if settings.fade_out_s is not None else (0.0 if end >= duration_s else min(2.0, span / 6))
    )
    return MixPlan(
        duration_s=duration_s,
        music_start_s=start,
        music_end_s=end,
        music_volume=volume,
        keep_original=keep,
        original_speech=bool(speech),
        duck_regions=regions,
        duck_depth_db=round(depth, 2),
        fade_in_s=fade_in,
        fade_out_s=fade_out,
        target_lufs=settings.target_lufs,
        true_peak_db=settings.true_peak_db,
        original_music=aside,
    )


def _shape_bed(bed_wav: Path, out_wav: Path, plan: MixPlan, gain_db: float) -> None:
    """Apply base gain, duck envelope and fades to the bed, block by block (music timeline)."""
    block = SAMPLE_RATE * 10
    span = plan.music_end_s - plan.music_start_s
    with wave.open(str(bed_wav), "rb") as src, wave.open(str(out_wav), "wb") as dst:
        ch, width, sr = src.getnchannels(), src.getsampwidth(), src.getframerate()
        dst.setnchannels(ch)
        dst.setsampwidth(4)
        dst.setframerate(sr)
        dtype = {2: "<i2", 4: "<i4"}[width]
        scale = float(2 ** (8 * width - 1))
        limit = round(span * sr)
        pos = 0
        base = 10 ** (gain_db / 20)
        while pos < limit:
            raw = src.readframes(min(block, limit - pos))
            if not raw:
                break
            x = np.frombuffer(raw, dtype).astype(np.float64).reshape(-1, ch) / scale
            t_music = (pos + np.arange(len(x))) / sr
            t_prog = t_music + plan.music_start_s
            if plan.bed_ducked:
                duck = np.zeros_like(t_prog)
            else:
                duck = duck_gain_db(t_prog, plan.duck_regions, plan.duck_depth_db)
            if plan.original_music:
                ramp = ASIDE_RAMP_S
                aside = duck_gain_db(
                    t_prog, plan.original_music, plan.aside_db, attack_s=ramp, release_s=ramp, partial_gap_s=0
                )
                duck = np.minimum(duck, aside)
            g = 10 ** (duck / 20) * base
            if plan.fade_in_s > 0:
                g *= np.clip(t_music / plan.fade_in_s, 0, 1) ** 2
            if plan.fade_out_s > 0:
                g *= np.clip((span - t_music) / plan.fade_out_s, 0, 1) ** 2
            y = np.clip(x * g[:, None], -1.0, 1.0)
            dst.writeframes((y * 2147483647.0).astype("<i4").tobytes())
            pos += len(x)


def _level_chain(gain_db: float, ceiling_db: float) -> str:
    """The programme's start fade (``START_FADE_S``), gain and true-peak limiter (4x oversampled),
    applied to the ``[mix]`` pad."""
    return (
        f"[mix]afade=t=in:st=0:d={START_FADE_S}:curve=hsin,volume={gain_db:.3f}dB,aresample={SAMPLE_RATE * OVERSAMPLE},"
        f"alimiter=limit={10 ** (ceiling_db / 20):.5f}:level=0:attack=2:release=60:asc=1:latency=1,"
        f"aresample={SAMPLE_RATE}"
    )


def _gain_model(mix: MixGraph, cancel: threading.Event | None) -> GainModel:
    """One pass over the unlimited mix (the ``[mix]`` pad resampled as the limiter gets it) into the
    limiter's model."""
    stats = MixStats(block=block_samples(mix.duration_s))
    rate = SAMPLE_RATE * OVERSAMPLE
    graph = f"{mix.graph};[mix]aresample={rate}[up]"
    args = [*mix.inputs, "-filter_complex", graph, "-map", "[up]", "-t", f"{mix.duration_s:.6f}"]
    feed_pcm([*args, "-ac", "2", "-f", "f32le", "pipe:1"], stats.feed, rate=rate, cancel=cancel)
    return GainModel.of(stats)


@dataclass(frozen=True)
class LevelledInput:
    """One input of the mix, measured and set to its level.

    Attributes:
        path, demuxer: The audio to read (for the bed: the shaped bed, already at its level).
        gain_db: Gain the graph applies to it (0 for the shaped bed).
        level_lufs: Its loudness as mixed (None for a silent input, which adds nothing).
        delay_s: Where it starts on the programme.
    """

    path: Path
    demuxer: str
    gain_db: float
    level_lufs: float | None
    delay_s: float | None = None


@dataclass(frozen=True)
class MixGraph:
    """The FFmpeg side of a mix, before any gain search (pure data).

    Attributes:
        inputs: FFmpeg input arguments.
        graph: Filter graph from the inputs to the ``[mix]`` pad (the programme, exactly its length).
        gain_db: First guess of the programme gain: the inputs' power sum brought to the target.
        silent: Nothing to mix: the graph is a silent track of the right length.
        duration_s: The programme's length (every run of the graph is cut there too).
    """

    inputs: tuple[str, ...]
    graph: str
    gain_db: float
    silent: bool
    duration_s: float


def original_gain_db(plan: MixPlan, original_lufs: float) -> float:
    """Gain that brings the kept original to the programme's loudness (pure).

    Ambience (wind, room tone, a street) is not raised to programme loudness: a -40 LUFS hiss lifted
    26 dB sat level with the music and masked its beats. A silent original is left alone.
    """
    gain = 0.0 if original_lufs < -60 else plan.target_lufs - original_lufs
    # An original that is music is the programme too (a concert clip), not ambience.
    return gain if plan.original_speech or plan.original_music else min(0.0, gain)


def build_mix_graph(plan: MixPlan, *, original: LevelledInput | None, bed: LevelledInput | None) -> MixGraph:
    """The filter graph that sums the levelled inputs into ``[mix]`` (pure: no processes, no files).

    Args:
        plan: The mix.
        original: The kept original audio, or None.
        bed: The shaped music bed, or None.
    """
    inputs: list[str] = []
    chains: list[str] = []
    labels: list[str] = []
    if original is not None:
        inputs += input_args(original.path, original.demuxer)
        chains.append(
            f"[{len(labels)}:a:0]aresample={SAMPLE_RATE},aformat=channel_layouts=stereo,"
            f"volume={original.gain_db:.3f}dB[a{len(labels)}]"
        )
        labels.append(f"[a{len(labels)}]")
    if bed is not None:
        inputs += input_args(bed.path, bed.demuxer)
        chains.append(
            f"[{len(labels)}:a:0]aresample={SAMPLE_RATE},aformat=channel_layouts=stereo,"
            f"adelay={round((bed.delay_s or 0.0) * 1000)}:all=1[a{len(labels)}]"
        )
        labels.append(f"[a{len(labels)}]")
    if not labels:  # nothing to mix: a silent track of the right length
        inputs += ["-f", "lavfi", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=stereo"]
        chains.append("[0:a]anull[a0]")
        labels.append("[a0]")
    mixed = "".join(labels) + (
        f"amix=inputs={len(labels)}:normalize=0:duration=longest" if len(labels) > 1 else "anull"
    )
    # apad stops at the programme's length by itself (whole_dur), not only by the atrim after it:
    # with FFmpeg 9.0.2, a Matroska clip whose audio starts at 0.067 s mixed with a 2.088 s bed
    # made atrim miss its end, and the infinite apad wrote 50 MB of silence a second, unbounded.
    d = f"{plan.duration_s:.6f}"
    graph = ";".join(chains) + f";{mixed},apad=whole_dur={d},atrim=end={d}[mix]"
    present = [i for i in (original, bed) if i is not None]
    # Each input was set to its own level, so their sum is louder than the target by the power sum
    # of those levels (ducking aside). Starting there saves a second encode.
    levels = [i.level_lufs for i in present if i.level_lufs is not None]
    summed = 10 * math.log10(sum(10 ** (lv / 10) for lv in levels)) if levels else plan.target_lufs
    gain_db = plan.target_lufs - summed
    return MixGraph(tuple(inputs), graph, gain_db, silent=not present, duration_s=plan.duration_s)


def _level_original(original: MediaInfo, plan: MixPlan, lufs: float | None = None) -> LevelledInput:
    lufs = measure_lufs(original.path, original.demuxer) if lufs is None else lufs
    gain = original_gain_db(plan, lufs)
    level = None if lufs < -60 else lufs + gain
    return LevelledInput(original.path, original.demuxer, gain, level)


def _level_bed(bed_wav: Path, plan: MixPlan, shaped: Path, lufs: float | None = None) -> LevelledInput:
    """Measure the bed (unless ``lufs`` has it), write it shaped (level, ducking, fades) to ``shaped``."""
    lufs = measure_lufs(bed_wav, "wav") if lufs is None else lufs
    gain = (plan.target_lufs - lufs + plan.music_volume_db) if lufs > -60 else 0.0
    _shape_bed(bed_wav, shaped, plan, gain)
    level = plan.target_lufs + plan.music_volume_db
    return LevelledInput(shaped, "wav", 0.0, level, delay_s=plan.music_start_s)


def _encode_args(mix: MixGraph, gain_db: float, ceiling_db: float, out: Path) -> tuple[list[str], list[str]]:
    """The encode as two FFmpegs: the graph and its limiter writing float PCM, the AAC encoder
    reading it (run piped: before FFmpeg 7 one process runs both on one core)."""
    graph = [
        *mix.inputs,
        "-filter_complex",
        f"{mix.graph};{_level_chain(gain_db, ceiling_db)}[out]",
        "-map",
        "[out]",
        "-t",
        f"{mix.duration_s:.6f}",
        *("-loglevel", "error", "-ac", "2", "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:1"),
    ]
    encoder = [
        *("-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "2", "-i", "pipe:0"),
        *("-c:a", "aac", "-b:a", AAC_BITRATE, "-t", f"{mix.duration_s:.6f}"),
        *("-f", "ipod", "-movflags", "+faststart", "-y", str(out)),
    ]
    return graph, encoder


def _encode_to_target(
    mix: MixGraph,
    plan: MixPlan,
    out_path: Path,
    *,
    model: GainModel | None,
    progress: Callable[[float], None] | None,
    cancel: threading.Event | None,
) -> LoudnessReport:
    """Encode at the gain the model gives for the target, measure the file; on a miss correct the
    ceiling or the model's target by what was measured and encode again."""
    report: LoudnessReport | None = None
    attempts = 4
    ceiling = plan.true_peak_db - AAC_MARGIN_DB
    aim = plan.target_lufs  # what the model is asked for: the target, plus what the encodes showed it misses by
    gain_db = model.solve(aim, ceiling, mix.gain_db) if model else mix.gain_db
    gain_cap = math.inf  # a gain that overshot the peak twice is not passed again
    for attempt in range(attempts):
        _check(cancel)
        tmp = temp_output_path(out_path)
        try:
            run_ffmpeg_pipeline(
                *_encode_args(mix, gain_db, ceiling, tmp),
                duration_s=plan.duration_s,
                progress=progress,
                cancel=cancel,
            )
            report = dataclasses.replace(measure(tmp, "mov"), encodes=attempt + 1)
            off = plan.target_lufs - report.integrated_lufs
            over = report.true_peak_dbtp - plan.true_peak_db
            done = mix.silent or report.integrated_lufs < -69 or (abs(off) <= ACCEPT_LU + 1e-6 and over <= 0)
            # The last try is kept whatever it measured: a file that misses by a little beats none.
            if done or attempt == attempts - 1:
                commit_output(tmp, out_path)
                return report
            if over > 0 and attempt == 0:
                # The codec overshot the margin (one track in a dozen), or the limiter let a transient
                # through: lower the ceiling by the miss and ask the model again.
                ceiling -= over + 0.2
            elif over > 0:
                # Again over: the overshoot grows with the limiting (white noise under AAC did
                # +3 dB, then +7 dB at a lower ceiling, while the gain chased the loudness).
                # The peak is a must, the loudness a target: give up level, not the ceiling.
                gain_cap = gain_db = gain_db - over - 0.2
                continue
            else:
                aim += off
            assert model is not None  # only a silent mix has none, and it is done after one encode
            gain_db = min(gain_cap, model.solve(aim, ceiling, gain_db))
        finally:
            tmp.unlink(missing_ok=True)
    assert report is not None
    return report


def render_audio(
    *,
    original: MediaInfo | None,
    bed_wav: Path | None,
    plan: MixPlan,
    out_path: Path,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    work_dir: Path | None = None,
    original_lufs: float | None = None,
    bed_lufs: float | None = None,
) -> LoudnessReport:
    """Mix and encode the programme audio: AAC-LC 48 kHz stereo 192 kb/s in .m4a, exactly ``plan.duration_s``.

    The inputs are measured and levelled, summed by :func:`build_mix_graph`, and encoded; the
    loudness is measured on the encoded file, and if it misses the target by more than 0.3 LU or
    the true peak is above the ceiling, the gain/ceiling is corrected and the file encoded again.

    Args:
        original: The programme's own audio (used when the plan keeps it).
        bed_wav: The music bed (music timeline), or None.
        plan: The mix.
        out_path: Target .m4a (written to a temporary name, then renamed).
        progress: Called with 0..1 during each encode.
        cancel: Set to stop; raises ``Cancelled`` and leaves nothing behind.
        work_dir: Folder for the shaped bed (default: beside ``out_path``).
        original_lufs: The original's loudness as ``mix.meter.measure_lufs`` reads it, when the
            caller measured it already (while the bed rendered); measured here otherwise.
        bed_lufs: The same for the bed (metered as it was rendered).

    Returns:
        The loudness of the written file.
    """
    out_path = Path(out_path)
    work = Path(work_dir) if work_dir else out_path.parent
    keep = plan.keep_original and original is not None and original.has_audio
    shaped: Path | None = None
    try:
        # The two inputs are measured side by side: each is an FFmpeg pass (and the bed's shaping is
        # numpy), and on two cores that takes the longer of them rather than their sum.
        with ThreadPoolExecutor(max_workers=2) as pool:
            orig_job = (
                pool.submit(_level_original, original, plan, original_lufs) if keep and original is not None else None
            )
            bed_job = None
            if bed_wav is not None and plan.music_end_s > plan.music_start_s and plan.music_volume > 0:
                shaped = temp_output_path(work / "bed-shaped.wav")
                bed_job = pool.submit(_level_bed, bed_wav, plan, shaped, bed_lufs)
            orig_in = orig_job.result() if orig_job else None
            bed_in = bed_job.result() if bed_job else None
        _check(cancel)
        mix = build_mix_graph(plan, original=orig_in, bed=bed_in)
        # The gain comes from a model of the limiter over one pass of the unlimited mix
        # (``mix.gain``), not from trial runs of it: over the ceiling the limiter eats loudness
        # (peaky speech ended 3.7 LU short of a gain set from the levels alone).
        model = None if mix.silent else _gain_model(mix, cancel)
        return _encode_to_target(mix, plan, out_path, model=model, progress=progress, cancel=cancel)
    finally:
        if shaped is not None:
            shaped.unlink(missing_ok=True)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("the mix was cancelled")
