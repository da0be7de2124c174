"""Orchestration only: probe -> analyze -> choose -> arrange -> mix -> render.

Each stage is one module's public function taking and returning data; this module strings them
together, times them, reports their progress and hands each the same cancel event:

    stage     function                        result
    probe     media.probe.probe               MediaInfo (per input)
    analyze   analyze.analyze                 VideoProfile (per input)
    choose    music.select.choose_music       MusicChoice (ranked tracks)
    arrange   music.medley.arrange_music      MusicPlan (stored in the draft's BGM)
    mix       mix.program.mix_draft           MixedAudio (programme audio file + MixPlan)
    render    render.export.render_output     RenderResult (the file)

``add_music`` is "make a draft from the words, then run the stages". The service and ``ab2n chat``
use the same steps on drafts: load_media, understand, initial_draft, resolve_music (choose +
arrange where the music has no plan), render (mix + render).
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ab2n.analyze import analyze
from ab2n.analyze.profile import VideoProfile
from ab2n.errors import Cancelled, InvalidArgument
from ab2n.media.animation import playable
from ab2n.media.probe import MediaInfo, MediaLimits, probe
from ab2n.mix.aside import aside_note
from ab2n.mix.mixdown import MixPlan
from ab2n.mix.program import mix_draft
from ab2n.music.compose import COMPOSE
from ab2n.music.compose.score import music_plan_json, plan_for
from ab2n.music.medley import arrange_music
from ab2n.music.select import MusicChoice, MusicWishes, choose_music
from ab2n.render.colour import HDR_MODES, HdrMode
from ab2n.render.export import RenderResult, check_colour_support, render_output
from ab2n.render.smart import EarlySpans, smart_blocker
from ab2n.timeline.draft import ASPECTS, FITS, Draft, DraftSettings, MusicSegment, VideoSegment, wished_mood
from ab2n.timeline.profile import timeline_profile

#: The stages of ``add_music``, in order (the keys of ``AddResult.timings_s`` and of progress).
STAGES = ("probe", "analyze", "choose", "arrange", "mix", "render")

StageProgress = Callable[[str, float], None]
Progress = Callable[[float], None]
T = TypeVar("T")


@dataclass(frozen=True)
class AddOptions:
    """What the user asked of ``add_music``; bad values are refused when the options are made.

    Attributes:
        mood: A mood word ("calm", "epic", "欢快"); None or "auto" = the video's own.
        prompt: Words to apply as edits first ("lo-fi at 35%, title 'Lisbon'").
        music: A music file to use, a folder of music to choose from, or ``"compose"``: music
            composed for the video (music/compose/).
        volume: Music level, 1.0 = as loud as the programme (0..2); None = automatic.
        preset: Output shape, one of ``ASPECTS`` ("source", "1080p", "vertical", "square", "portrait").
        fit: How another shape fills the frame, one of ``FITS`` ("pad": blurred, "crop").
        seed: Selection seed (the same seed, the same choice).
        keep_audio: Keep the input's own sound under the music.
        image_duration_s: How long a still image plays.
        animation_s: How long an animated GIF/WebP plays, looped (None: once, its own length).
        hdr: "sdr" tone-maps HDR video to SDR BT.709 when it is encoded; "keep" encodes 10-bit HEVC
            with the HDR tags. A copied video keeps its stream either way.
        target_lufs: Programme loudness (-40..-5; -14 suits YouTube and TikTok).
        montage: Join the inputs into one video, its cuts on the music's downbeats.
        limits: Input size/duration/pixel limits.
        cache_dir: Where track analyses are cached (None = not cached).
        smart_render: Encode only the GOPs a title touches when the stream can be matched
            (False: always encode the whole picture, e.g. to compare).
        soundfont: A SoundFont to play composed music on (None: the built-in synthesis); see
            ``ab2n.music.compose.soundfont.resolve``.

    Raises:
        InvalidArgument: A value out of range or not one of its names (code 400).
    """

    mood: str | None = None
    prompt: str | None = None
    music: Path | str | None = None
    volume: float | None = None
    preset: str = "source"
    fit: str = "pad"
    seed: int = 0
    keep_audio: bool = True
    image_duration_s: float = 15.0
    animation_s: float | None = None
    hdr: HdrMode = "sdr"
    target_lufs: float = -14.0
    montage: bool = False
    limits: MediaLimits = field(default_factory=MediaLimits)
    cache_dir: Path | None = None
    smart_render: bool = True
    soundfont: Path | None = None

    def __post_init__(self) -> None:
        if self.preset not in ASPECTS:
            raise InvalidArgument(f"unknown preset {self.preset!r}; use one of {', '.join(ASPECTS)}")
        if self.fit not in FITS:
            raise InvalidArgument(f"unknown fit {self.fit!r}; use one of {', '.join(FITS)}")
        if self.volume is not None and not 0 <= self.volume <= 2:
            raise InvalidArgument(f"music volume must be between 0% and 200%, not {self.volume * 100:.0f}%")
        if not -40 <= self.target_lufs <= -5:
            raise InvalidArgument(f"loudness target must be between -40 and -5 LUFS, not {self.target_lufs}")
        if not self.image_duration_s > 0:
            raise InvalidArgument("a still image must play for more than 0 seconds")
        if self.animation_s is not None and not self.animation_s > 0:
            raise InvalidArgument("an animation must play for more than 0 seconds")
        if self.hdr not in HDR_MODES:
            raise InvalidArgument(f"unknown HDR mode {self.hdr!r}; use one of {', '.join(HDR_MODES)}")


@dataclass(frozen=True)
class AddResult:
    """What ``add_music`` did for one output."""

    input_paths: list[Path]
    output_path: Path
    track_id: str | None
    track_title: str | None
    mood: str
    cuts_found: int
    cuts_on_beat: int
    cuts_on_downbeat: int
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    video_copied: bool
    duration_s: float
    timings_s: dict[str, float]
    notes: list[str] = field(default_factory=list)
    draft: Draft | None = None
    profile: VideoProfile | None = None
    mix: MixPlan | None = None
    encodes: int = 0  # AAC encodes the mix took
    hdr_out: str | None = None  # "hlg"/"pq" when the output is HDR
    tone_mapped: tuple[str, ...] = ()  # HDR kinds tone-mapped to SDR
    render: dict[str, Any] = field(default_factory=dict)  # how the picture was made: mode, reason, packets
    soundfont: Path | None = None  # what composed music was played on (None: the built-in synthesis)

    def to_json(self) -> dict[str, Any]:
        """The machine-readable result printed by ``--json``."""
        music = self.draft.music if self.draft is not None else None
        # A medley's songs, in video time (empty for one track).
        start_s = music.start_ms / 1000 if music is not None else 0.0
        songs = [
            {"start_s": round(start_s + s["start_s"], 3), "id": s["track_id"], "title": s["title"]}
            for s in ((music.plan or {}).get("songs", []) if music is not None else [])
        ]
        return {
            "inputs": [str(p) for p in self.input_paths],
            "output": str(self.output_path),
            "track": {"id": self.track_id, "title": self.track_title},
            "songs": songs,
            "score": _score_json(music.plan if music is not None else None, self.soundfont),
            "mood": self.mood,
            "cuts_found": self.cuts_found,
            "cuts_on_beat": self.cuts_on_beat,
            "cuts_on_downbeat": self.cuts_on_downbeat,
            "loudness": {
                "integrated_lufs": self.integrated_lufs,
                "true_peak_dbtp": self.true_peak_dbtp,
                "encodes": self.encodes,
            },
            "video_copied": self.video_copied,
            "color": {"hdr": self.hdr_out, "tone_mapped": list(self.tone_mapped)},
            "render": self.render,
            "duration_s": round(self.duration_s, 3),
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
            "notes": self.notes,
            "mix": _mix_json(self.mix),
        }


def _score_json(plan: dict[str, Any] | None, soundfont: Path | None = None) -> dict[str, Any] | None:
    """A composed bed's score for ``--json``: style, key, seed, tempo map, sections, accents, and
    the instruments it was played on (a SoundFont's file name, or "built-in synthesis")."""
    score = (plan or {}).get("score")
    if not isinstance(score, dict):
        return None
    keep = ("style", "mood", "tonic", "mode", "seed", "tempo_bpm", "tempo_range", "tempo_map", "sections", "accents")
    return {k: score[k] for k in keep if k in score} | {
        "instruments": soundfont.name if soundfont is not None else "built-in synthesis"
    }


def _mix_json(mix: MixPlan | None) -> dict[str, Any] | None:
    """What the mix did with the original's speech and music (for ``--json``)."""
    if mix is None:
        return None
    r = lambda x: round(float(x), 3)  # noqa: E731
    return {
        "duck_depth_db": mix.duck_depth_db,
        "ducked": [{"start_s": r(a), "end_s": r(b)} for a, b in mix.duck_regions],
        "original_music": [{"start_s": r(a), "end_s": r(b)} for a, b in mix.original_music],
        "music_aside_db": mix.aside_db if mix.original_music else 0.0,
    }


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled")


def load_media(
    paths: Sequence[str | Path],
    *,
    limits: MediaLimits | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    work_dir: Path | None = None,
) -> dict[str, MediaInfo]:
    """Probe every input (the probe stage); ids are "m1", "m2", ... in order.

    An animated WebP is converted to a lossless APNG copy (``media.animation``) in ``work_dir``
    (default: a shared ab2n folder in the system's temporary folder) and described by it.
    """
    out: dict[str, MediaInfo] = {}
    for i, p in enumerate(paths):
        _check(cancel)
        info = probe(p, limits=limits)
        if info.convert_to:
            work = work_dir or Path(tempfile.gettempdir()) / "ab2n-converted"
            work.mkdir(parents=True, exist_ok=True)
            st = info.path.stat()
            key = hashlib.sha1(f"{info.path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
            info = playable(info, work / f"{info.path.stem}-{key}.png", limits=limits)
        out[f"m{i + 1}"] = info
        if progress is not None:
            progress((i + 1) / len(paths))
    return out


def understand(
    media: Mapping[str, MediaInfo],
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    workers: int | None = None,
) -> dict[str, VideoProfile]:
    """Analyse every input (the analyze stage; progress over all of them).

    A set ``cancel`` stops the analysis at its next progress report; ``workers`` is passed to
    :func:`ab2n.analyze.analyze`.
    """
    total = sum(max(1.0, m.duration_s) for m in media.values())
    done = 0.0
    out: dict[str, VideoProfile] = {}
    for mid, info in media.items():
        _check(cancel)
        w = max(1.0, info.duration_s)
        step: Progress | None = None
        if progress is not None or cancel is not None:

            def step(f: float, b: float = done, ww: float = w, tell: Progress | None = progress) -> None:
                _check(cancel)
                if tell is not None:
                    tell((b + f * ww) / total)

        out[mid] = analyze(info, progress=step, workers=workers)
        done += w
    return out


def initial_draft(
    media: Mapping[str, MediaInfo],
    *,
    montage: bool = False,
    image_duration_s: float = 15.0,
    animation_s: float | None = None,
    settings: DraftSettings | None = None,
    music: MusicSegment | None = None,
) -> Draft:
    """A draft with the inputs on the video track (consecutive for a montage) and a BGM over all of it.

    A still plays ``image_duration_s``; an animated GIF/WebP its own length, or ``animation_s``
    looped when given.
    """
    segs: list[VideoSegment] = []
    t = 0
    for mid, info in media.items():
        dur_s = info.duration_s if info.kind != "image" else image_duration_s
        if info.animated and animation_s is not None:
            dur_s = animation_s  # looped by the render (plan._segment_input)
        if montage and info.kind == "image":
            dur_s = min(image_duration_s, 4.0) if image_duration_s == 15.0 else image_duration_s
        dur_ms = max(1, round(dur_s * 1000))
        segs.append(VideoSegment(mid, t, dur_ms, 0, info.path.stem))
        if not montage:
            break
        t += dur_ms
    draft = Draft(video=tuple(segs), settings=settings or DraftSettings())
    wish = music or MusicSegment(0, 0)
    return dataclasses.replace(
        draft,
        music=dataclasses.replace(wish, start_ms=wish.start_ms, duration_ms=wish.duration_ms or draft.duration_ms),
    )


def _plan_current(m: MusicSegment) -> bool:
    """Whether the BGM's arrangement still fits its span (nothing to choose or arrange)."""
    return bool(m.plan) and abs(float((m.plan or {}).get("duration_s", 0)) - m.duration_ms / 1000) < 1e-3


def choose(
    draft: Draft,
    profiles: Mapping[str, VideoProfile],
    *,
    extra_music: Sequence[Path] = (),
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> MusicChoice | None:
    """The choose stage on a draft: rank music for its BGM's wishes over the timeline's profile.

    Returns:
        The choice, or None when the draft has no BGM or its plan is still current.
    """
    m = draft.music
    if m is None or _plan_current(m) or m.source == COMPOSE:
        return None
    wishes = MusicWishes(mood=m.mood, genres=m.genres, instruments=m.instruments, tempo=m.tempo, exclude_ids=m.tried)
    return choose_music(
        timeline_profile(draft, profiles),
        wishes,
        source=Path(m.source) if m.source else None,
        extra_music=extra_music,
        seed=m.seed,
        cache_dir=cache_dir,
        progress=progress,
        cancel=cancel,
    )


def arrange(
    draft: Draft,
    choice: MusicChoice | None,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Draft:
    """The arrange stage on a draft: the chosen music arranged over the BGM's span, stored in the draft."""
    m = draft.music
    if m is None or choice is None:
        return draft
    plan = arrange_music(
        choice, duration_s=m.duration_ms / 1000, start_s=m.start_ms / 1000, progress=progress, cancel=cancel
    )
    music = dataclasses.replace(
        m, track_id=choice.best.track.id, track_title=plan.track_title, plan=plan.to_json(), mood=m.mood
    )
    return dataclasses.replace(draft, music=music)


#: The longest piece ``--music compose`` writes. The score is planned and rendered whole, in
#: memory: 10 minutes took 27 s and 2.7 GB at its peak (four float stems and the room), and both
#: grow with the length (60 s: 2.7 s, 430 MB; acoustic, a cut every 4.3 s, 2026-12-07); ducking the
#: stems apart (mix/stem_duck.py) took the mix's part of 10 minutes to 3.6 GB (3.4 GB for the whole
#: bed, same script; docs/compose.md). A streamed
#: render would lift it; until then a longer video gets a clear refusal instead of running out of
#: memory.
MAX_COMPOSED_S = 600.0


#: How far an ending wish moves the video's arousal (-1..1) at the music's end, ramping in over
#: its last third: "build" turns a level video's last third into the piece's peak, "settle" into
#: an outro (the score's sections follow the arousal per bar).
ENDING_SHIFT = {"build": 1.0, "settle": -1.0}
ENDING_SHARE = 1 / 3


def with_ending(profile: VideoProfile, ending: str | None, *, start_s: float, span_s: float) -> VideoProfile:
    """``profile`` with its arousal ramped up ("build") or down ("settle") over the last third of
    the music's span, for composing ("more energy at the end"); unchanged without an ending."""
    shift = ENDING_SHIFT.get(ending or "")
    if not shift or not profile.arousal or span_s <= 0:
        return profile
    t = np.arange(len(profile.arousal)) + 0.5  # the middle of each second
    ramp_start = start_s + span_s * (1 - ENDING_SHARE)
    ramp = np.clip((t - ramp_start) / (span_s * ENDING_SHARE), 0.0, 1.0)
    arousal = np.clip(np.asarray(profile.arousal, float) + shift * ramp, -1.0, 1.0)
    return dataclasses.replace(profile, arousal=[float(x) for x in arousal])


def compose(draft: Draft, profiles: Mapping[str, VideoProfile]) -> Draft:
    """The arrange stage for a composed BGM (``source == "compose"``): the score's plan written to
    the timeline's cuts, speech and energy, stored in the draft (rendered by the mix stage).

    The seed, the wished mood, genres/instruments (the style), tempo and ending come from the BGM,
    so "another one" (a new seed), "slower" or "more energy at the end" composes again.
    """
    m = draft.music
    if m is None or m.source != COMPOSE or _plan_current(m):
        return draft
    if m.duration_ms > MAX_COMPOSED_S * 1000:
        raise InvalidArgument(
            f"composed music is limited to {MAX_COMPOSED_S / 60:.0f} minutes ({m.duration_ms / 60000:.1f} asked): "
            "use the library's music or a music file for a longer video"
        )
    score = plan_for(
        with_ending(
            timeline_profile(draft, profiles), m.ending, start_s=m.start_ms / 1000, span_s=m.duration_ms / 1000
        ),
        duration_s=m.duration_ms / 1000,
        start_s=m.start_ms / 1000,
        mood=m.mood,
        words=[*m.genres, *m.instruments],
        tempo=m.tempo,
        seed=m.seed,
    )
    plan = music_plan_json(score)
    music = dataclasses.replace(m, track_id=plan["track_id"], track_title=plan["track_title"], plan=plan)
    return dataclasses.replace(draft, music=music)


def resolve_music(
    draft: Draft,
    media: Mapping[str, MediaInfo],
    profiles: Mapping[str, VideoProfile],
    *,
    extra_music: Sequence[Path] = (),
    cache_dir: Path | None = None,
    cancel: threading.Event | None = None,
) -> Draft:
    """Choose and arrange the music where the BGM has no plan yet (or its span changed)."""
    del media  # the profiles carry what the music needs
    if draft.music is not None and draft.music.source == COMPOSE:
        return compose(draft, profiles)
    choice = choose(draft, profiles, extra_music=extra_music, cache_dir=cache_dir, cancel=cancel)
    return arrange(draft, choice, cancel=cancel)


def render(
    draft: Draft,
    media: Mapping[str, MediaInfo],
    profiles: Mapping[str, VideoProfile],
    out_path: str | Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    work_dir: Path | None = None,
    hdr: HdrMode = "sdr",
    soundfont: Path | None = None,
) -> RenderResult:
    """Mix and render a draft whose music is arranged (the mix and render stages, one progress).

    ``hdr``: "sdr" tone-maps HDR video when it is encoded, "keep" encodes 10-bit HEVC with its tags.
    ``soundfont``: what a composed score is played on (None: the built-in synthesis).
    """
    tell = progress or (lambda f: None)
    with tempfile.TemporaryDirectory(prefix="ab2n-", dir=work_dir) as tmp:
        mixed = mix_draft(
            draft,
            media,
            profiles,
            work_dir=Path(tmp),
            progress=lambda f: tell(0.4 * f),
            cancel=cancel,
            soundfont=soundfont,
        )
        _check(cancel)
        return render_output(
            draft,
            media,
            mixed,
            out_path,
            progress=lambda f: tell(0.4 + 0.6 * f),
            cancel=cancel,
            work_dir=work_dir,
            hdr=hdr,
        )


def apply_prompt(draft: Draft, prompt: str) -> tuple[Draft, list[str]]:
    """Apply the edits a sentence asks for; returns the new draft and notes for the user."""
    from ab2n.intent.message import read_message
    from ab2n.timeline.edits import apply_said_edit

    _address, result = read_message(prompt)  # the reading ab2n intent and the chat give
    notes: list[str] = []
    if result.unrecognised:
        notes.append(result.unrecognised)
    for edit in result.edits:
        draft = apply_said_edit(draft, edit)
    return draft, notes


def montage_on_downbeats(
    draft: Draft,
    media: Mapping[str, MediaInfo],
    profiles: Mapping[str, VideoProfile],
    *,
    cache_dir: Path | None,
    cancel: threading.Event | None = None,
) -> Draft:
    """Move a montage's joins onto the music's downbeats (cut-to-beat), re-arranging until they agree.

    Snapping shortens clips, which changes the music's length and the cuts the music is ranked
    on, so the music is chosen and arranged again with the joins as strong cuts; the arrangement
    lands them on downbeats, and another snap settles any that moved. A few rounds are enough in
    practice.
    """
    from ab2n.timeline.edits import snap_montage_to_beats

    for _ in range(8):
        if draft.music is None or not draft.music.plan:
            return draft
        offset = draft.music.start_ms / 1000
        downbeats = [b + offset for b in draft.music.plan.get("downbeats_s", [])]
        snapped = snap_montage_to_beats(draft, downbeats, media)
        if snapped == draft:
            return draft
        music = dataclasses.replace(draft.music, plan=None, duration_ms=snapped.duration_ms - draft.music.start_ms)
        draft = resolve_music(
            dataclasses.replace(snapped, music=music), media, profiles, cache_dir=cache_dir, cancel=cancel
        )
    return draft


class _Stages:
    """Runs named stages in order: checks cancel before each, times it, reports its progress."""

    def __init__(self, progress: StageProgress | None, cancel: threading.Event | None) -> None:
        self._tell = progress or (lambda stage, f: None)
        self._cancel = cancel
        self.timings_s: dict[str, float] = {}

    def run(self, name: str, step: Callable[[Progress], T]) -> T:
        _check(self._cancel)
        t = time.perf_counter()
        self._tell(name, 0.0)
        out = step(lambda f: self._tell(name, f))
        self.timings_s[name] = time.perf_counter() - t
        self._tell(name, 1.0)
        return out


def _wished_draft(
    media: Mapping[str, MediaInfo], profiles: Mapping[str, VideoProfile], options: AddOptions
) -> tuple[Draft, list[str]]:
    """The draft the options and words ask for, before any music is chosen."""
    settings = DraftSettings(
        aspect=options.preset,
        fit=options.fit,
        original_audio="keep" if options.keep_audio else "mute",
        target_lufs=options.target_lufs,
    )
    wish = MusicSegment(
        0,
        0,
        volume=options.volume,
        mood=wished_mood(options.mood),
        source=(COMPOSE if str(options.music) == COMPOSE else str(options.music)) if options.music else None,
        seed=options.seed,
    )
    draft = initial_draft(
        media,
        montage=options.montage,
        image_duration_s=options.image_duration_s,
        animation_s=options.animation_s,
        settings=settings,
        music=wish,
    )
    notes = _animation_notes(draft, media)
    if options.prompt:
        draft, said = apply_prompt(draft, options.prompt)
        return draft, notes + said
    return draft, notes


def _animation_notes(draft: Draft, media: Mapping[str, MediaInfo]) -> list[str]:
    """Say how each animated GIF/WebP plays (its own timing; looped when its segment is longer)."""
    notes = []
    for seg in draft.video:
        info = media[seg.media_id]
        if not info.animated:
            continue
        what = f"{(info.source or info.path).name} is an animation ({info.duration_s:.2f} s): played at its own timing"
        loops = seg.duration_ms / 1000 / info.duration_s
        notes.append(what + (f", looped to {seg.duration_ms / 1000:.2f} s ({loops:.1f}x)" if loops > 1.001 else ""))
    return notes


def add_music(
    inputs: Sequence[str | Path],
    output: str | Path,
    options: AddOptions,
    *,
    progress: StageProgress | None = None,
    cancel: threading.Event | None = None,
    analyze_workers: int | None = None,
) -> AddResult:
    """The one-shot: inputs (one clip, or several for a montage) -> one output with music.

    Args:
        inputs: Input files.
        output: Output file.
        options: What the user asked.
        progress: Called with (stage, 0..1) for each of ``STAGES``.
        cancel: Set it to stop; raises ``Cancelled`` (code 499) and leaves no output behind.
        analyze_workers: Decoder threads for analysing a long video (None: one a core; 1: one pass).
    """
    with tempfile.TemporaryDirectory(prefix="ab2n-") as tmp:
        return _add_music(inputs, output, options, Path(tmp), progress, cancel, analyze_workers)


def _add_music(
    inputs: Sequence[str | Path],
    output: str | Path,
    options: AddOptions,
    work: Path,
    progress: StageProgress | None,
    cancel: threading.Event | None,
    analyze_workers: int | None,
) -> AddResult:
    """``add_music`` with its temporary folder ``work`` (converted inputs, the mix)."""
    stages = _Stages(progress, cancel)
    media = stages.run(
        "probe", lambda tell: load_media(inputs, limits=options.limits, progress=tell, cancel=cancel, work_dir=work)
    )
    check_colour_support(media, options.hdr)  # an HDR clip this FFmpeg can't convert: say so before the work
    profiles = stages.run(
        "analyze", lambda tell: understand(media, progress=tell, cancel=cancel, workers=analyze_workers)
    )
    draft, notes = _wished_draft(media, profiles, options)
    early = _early_spans(draft, media, work, options)
    try:
        return _music_and_render(inputs, output, options, work, stages, media, profiles, draft, notes, early, cancel)
    finally:
        if early is not None:
            early.close()


def _early_spans(draft: Draft, media: Mapping[str, MediaInfo], work: Path, options: AddOptions) -> EarlySpans | None:
    """Start the smart render's title encodes now: they need the picture, not the music, and the
    music stages keep about one core busy (the render then only joins)."""
    if not options.smart_render or options.montage or not draft.texts or smart_blocker(draft, media):
        return None
    (work / "spans").mkdir(exist_ok=True)
    return EarlySpans(draft, media, work / "spans")


def _music_and_render(
    inputs: Sequence[str | Path],
    output: str | Path,
    options: AddOptions,
    work: Path,
    stages: _Stages,
    media: Mapping[str, MediaInfo],
    profiles: Mapping[str, VideoProfile],
    draft: Draft,
    notes: list[str],
    early: EarlySpans | None,
    cancel: threading.Event | None,
) -> AddResult:
    """The stages after analysis: choose, arrange, mix, render."""
    cache = options.cache_dir
    choice = stages.run("choose", lambda tell: choose(draft, profiles, cache_dir=cache, progress=tell, cancel=cancel))

    def arrange_stage(tell: Progress) -> Draft:
        arranged = compose(draft, profiles) if choice is None else arrange(draft, choice, progress=tell, cancel=cancel)
        if not options.montage:
            return arranged
        return montage_on_downbeats(arranged, media, profiles, cache_dir=cache, cancel=cancel)

    draft = stages.run("arrange", arrange_stage)
    mixed = stages.run(
        "mix",
        lambda tell: mix_draft(
            draft, media, profiles, work_dir=work, progress=tell, cancel=cancel, soundfont=options.soundfont
        ),
    )
    result = stages.run(
        "render",
        lambda tell: render_output(
            draft,
            media,
            mixed,
            output,
            progress=tell,
            cancel=cancel,
            hdr=options.hdr,
            smart=options.smart_render,
            early=early,
        ),
    )
    added = _add_result(inputs, draft, profiles, result, mixed.plan, stages.timings_s, notes)
    return dataclasses.replace(added, soundfont=options.soundfont)


def _add_result(
    inputs: Sequence[str | Path],
    draft: Draft,
    profiles: Mapping[str, VideoProfile],
    result: RenderResult,
    mix: MixPlan,
    timings_s: dict[str, float],
    notes: list[str],
) -> AddResult:
    plan = draft.music.plan if draft.music else None
    profile = timeline_profile(draft, profiles)
    return AddResult(
        input_paths=[Path(p) for p in inputs],
        output_path=result.out_path,
        track_id=draft.music.track_id if draft.music else None,
        track_title=draft.music.track_title if draft.music else None,
        mood=profile.mood,
        cuts_found=len(profile.cuts),
        cuts_on_beat=int(plan.get("cuts_on_beat", 0)) if plan else 0,
        cuts_on_downbeat=int(plan.get("cuts_on_downbeat", 0)) if plan else 0,
        integrated_lufs=result.loudness.integrated_lufs if result.loudness else None,
        true_peak_dbtp=result.loudness.true_peak_dbtp if result.loudness else None,
        video_copied=result.video_copied,
        duration_s=result.duration_s,
        timings_s=timings_s,
        notes=notes + list(result.notes) + [n for n in [aside_note(mix.original_music)] if n],
        draft=draft,
        profile=profile,
        mix=mix,
        encodes=result.loudness.encodes if result.loudness else 0,
        hdr_out=result.hdr_out,
        tone_mapped=result.tone_mapped,
        render={"mode": result.mode, "reason": result.mode_reason, "packets": result.packets},
    )
