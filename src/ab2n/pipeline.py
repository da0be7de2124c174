"""Orchestration only: probe -> analyze -> choose -> arrange -> mix -> render.

``add_music`` is "make a draft from the words, then render it". The service and ``ab2n chat`` use
the same steps one by one (load_media, understand, initial_draft, resolve_music, render).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ab2n.analyze import analyze
from ab2n.analyze.profile import VideoProfile
from ab2n.errors import InvalidArgument
from ab2n.media.probe import MediaInfo, MediaLimits, probe
from ab2n.music.catalog import given_track, load_catalog
from ab2n.music.medley import plan_medley
from ab2n.music.select import MusicWishes, rank_tracks
from ab2n.render.export import RenderResult, render_draft
from ab2n.timeline.draft import Draft, DraftSettings, MusicSegment, VideoSegment
from ab2n.timeline.profile import timeline_profile

StageProgress = Callable[[str, float], None]


@dataclass(frozen=True)
class AddOptions:
    """Options of the one-shot ``ab2n add`` (see the CLI for their meaning)."""

    mood: str | None = None
    prompt: str | None = None
    music: Path | None = None
    volume: float | None = None
    preset: str = "source"
    fit: str = "pad"
    seed: int = 0
    keep_audio: bool = True
    image_duration_s: float = 15.0
    target_lufs: float = -14.0
    montage: bool = False
    limits: MediaLimits = field(default_factory=MediaLimits)
    cache_dir: Path | None = None


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
            "mood": self.mood,
            "cuts_found": self.cuts_found,
            "cuts_on_beat": self.cuts_on_beat,
            "cuts_on_downbeat": self.cuts_on_downbeat,
            "loudness": {"integrated_lufs": self.integrated_lufs, "true_peak_dbtp": self.true_peak_dbtp},
            "video_copied": self.video_copied,
            "duration_s": round(self.duration_s, 3),
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
            "notes": self.notes,
        }


def load_media(paths: Sequence[str | Path], *, limits: MediaLimits | None = None) -> dict[str, MediaInfo]:
    """Probe every input; ids are "m1", "m2", ... in order."""
    return {f"m{i + 1}": probe(p, limits=limits) for i, p in enumerate(paths)}


def understand(
    media: Mapping[str, MediaInfo], *, progress: Callable[[float], None] | None = None
) -> dict[str, VideoProfile]:
    """Analyse every input (progress over all of them)."""
    total = sum(max(1.0, m.duration_s) for m in media.values())
    done = 0.0
    out: dict[str, VideoProfile] = {}
    for mid, info in media.items():
        w = max(1.0, info.duration_s)
        base = done
        step: Callable[[float], None] | None = None
        if progress is not None:

            def step(f: float, b: float = base, ww: float = w, tell: Callable[[float], None] = progress) -> None:
                tell((b + f * ww) / total)

        out[mid] = analyze(info, progress=step)
        done += w
    return out


def initial_draft(
    media: Mapping[str, MediaInfo],
    profiles: Mapping[str, VideoProfile],
    *,
    montage: bool = False,
    image_duration_s: float = 15.0,
    settings: DraftSettings | None = None,
    music: MusicSegment | None = None,
) -> Draft:
    """A draft with the inputs on the video track (consecutive for a montage) and a BGM over all of it."""
    segs: list[VideoSegment] = []
    t = 0
    for mid, info in media.items():
        dur_s = info.duration_s if info.kind != "image" else image_duration_s
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


def resolve_music(
    draft: Draft,
    media: Mapping[str, MediaInfo],
    profiles: Mapping[str, VideoProfile],
    *,
    extra_music: Sequence[Path] = (),
    cache_dir: Path | None = None,
) -> Draft:
    """Choose and arrange the music where the BGM has no plan yet (or its span changed)."""
    m = draft.music
    if m is None:
        return draft
    span_s = m.duration_ms / 1000
    if m.plan and abs(float(m.plan.get("duration_s", 0)) - span_s) < 1e-3:
        return draft
    profile = timeline_profile(draft, profiles)
    if m.source:
        src = Path(m.source)
        catalog = [given_track(src)] if src.is_file() else load_catalog([src])
        if src.is_dir():
            catalog = [t for t in catalog if t.source != "bundled"] or catalog
    else:
        catalog = load_catalog(extra_music)
    wishes = MusicWishes(mood=m.mood, genres=m.genres, instruments=m.instruments, tempo=m.tempo, exclude_ids=m.tried)
    ranked = rank_tracks(catalog, profile, wishes, seed=m.seed, cache_dir=cache_dir)
    if not ranked:
        raise InvalidArgument("no music to choose from")
    best = ranked[0]
    # One track, or for long music a medley of it and the next best of its mood.
    plan = plan_medley(ranked, profile, duration_s=span_s, start_s=m.start_ms / 1000)
    music = dataclasses.replace(
        m, track_id=best.track.id, track_title=plan.track_title, plan=plan.to_json(), mood=m.mood
    )
    return dataclasses.replace(draft, music=music)


def render(
    draft: Draft,
    media: Mapping[str, MediaInfo],
    profiles: Mapping[str, VideoProfile],
    out_path: str | Path,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
) -> RenderResult:
    """Render a draft whose music is resolved."""
    return render_draft(draft, media, profiles, out_path, progress=progress, cancel=cancel)


def apply_prompt(draft: Draft, prompt: str) -> tuple[Draft, list[str]]:
    """Apply the edits a sentence asks for; returns the new draft and notes for the user."""
    from ab2n.intent.parse import parse
    from ab2n.timeline.edits import apply_said_edit

    result = parse(prompt)
    notes: list[str] = []
    if result.unrecognised:
        notes.append(result.unrecognised)
    for edit in result.edits:
        draft = apply_said_edit(draft, edit)
    return draft, notes


def _montage_on_downbeats(
    draft: Draft, media: Mapping[str, MediaInfo], profiles: Mapping[str, VideoProfile], *, cache_dir: Path | None
) -> Draft:
    """Move a montage's joins onto the music's downbeats (cut-to-beat), re-arranging until they agree.

    Snapping shortens clips, which changes the music's length, so the music is arranged again with
    the joins as strong cuts; the arrangement lands them on downbeats, and another snap settles any
    that moved. A few rounds are enough in practice.
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
        draft = resolve_music(dataclasses.replace(snapped, music=music), media, profiles, cache_dir=cache_dir)
    return draft


def add_music(
    inputs: Sequence[str | Path],
    output: str | Path,
    options: AddOptions,
    *,
    progress: StageProgress | None = None,
    cancel: threading.Event | None = None,
) -> AddResult:
    """The one-shot: inputs (one clip, or several for a montage) -> one output with music.

    Args:
        inputs: Input files.
        output: Output file.
        options: What the user asked.
        progress: Called with (stage, 0..1) for stages probe, analyze, music, render.
    """
    tell = progress or (lambda stage, f: None)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    tell("probe", 0.0)
    media = load_media(inputs, limits=options.limits)
    timings["probe"] = time.perf_counter() - t
    tell("probe", 1.0)

    t = time.perf_counter()
    profiles = understand(media, progress=lambda f: tell("analyze", f))
    timings["analyze"] = time.perf_counter() - t

    t = time.perf_counter()
    settings = DraftSettings(
        aspect=options.preset,  # type: ignore[arg-type]
        fit=options.fit,  # type: ignore[arg-type]
        original_audio="keep" if options.keep_audio else "mute",
        target_lufs=options.target_lufs,
    )
    wish = MusicSegment(
        0,
        0,
        volume=options.volume,
        mood=options.mood if options.mood != "auto" else None,
        source=str(options.music) if options.music else None,
        seed=options.seed,
    )
    draft = initial_draft(
        media,
        profiles,
        montage=options.montage,
        image_duration_s=options.image_duration_s,
        settings=settings,
        music=wish,
    )
    notes: list[str] = []
    if options.prompt:
        draft, notes = apply_prompt(draft, options.prompt)
    tell("music", 0.2)
    draft = resolve_music(draft, media, profiles, cache_dir=options.cache_dir)
    if options.montage:
        draft = _montage_on_downbeats(draft, media, profiles, cache_dir=options.cache_dir)
    timings["music"] = time.perf_counter() - t
    tell("music", 1.0)

    t = time.perf_counter()
    result = render(draft, media, profiles, output, progress=lambda f: tell("render", f), cancel=cancel)
    timings["render"] = time.perf_counter() - t
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
        timings_s=timings,
        notes=notes + list(result.notes),
        draft=draft,
        profile=profile,
    )
