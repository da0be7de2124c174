"""The choose stage: rank tracks for a video by mood fit, the user's words, tempo vs cut rhythm, and variety."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ab2n.analyze.profile import VideoProfile
from ab2n.errors import Cancelled, InvalidArgument
from ab2n.intent.lexicons import canonical_word
from ab2n.music.arrange import plan_music
from ab2n.music.beats import TrackAnalysis, analyze_tracks
from ab2n.music.catalog import Track, given_track, load_catalog
from ab2n.timeline.draft import wished_mood

#: Video/user moods outside the bundled vocabulary, mapped to their nearest catalog mood.
MOOD_NEIGHBOURS: dict[str, str] = {
    "epic": "energetic",
    "playful": "happy",
    "romantic": "tender",
    "sad": "nostalgic",
    "dark": "nostalgic",
    "upbeat": "happy",
    "relaxed": "calm",
    "chill": "calm",
}
#: Genre words that imply a mood when the catalog has no such tag.
GENRE_MOODS: dict[str, str] = {"lo-fi": "calm", "ambient": "calm", "rock": "energetic", "edm": "energetic"}
#: Instruments a tag family stands for in the bundled library.
INSTRUMENT_TAGS: dict[str, str] = {
    "piano": "acoustic",
    "guitar": "acoustic",
    "strings": "acoustic",
    "synth": "electronic",
    "beats": "electronic",
    "lo-fi": "electronic",
}


@dataclass(frozen=True)
class MusicWishes:
    """What the user asked for (all optional)."""

    mood: str | None = None
    genres: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    tempo: str | None = None  # "slower", "faster", "slow", "fast", or a BPM like "120"
    exclude_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RankedTrack:
    """A candidate with its score and the reasons, for people."""

    track: Track
    analysis: TrackAnalysis
    score: float
    reasons: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class MusicChoice:
    """The choose stage's result: the candidates for one video, best first.

    Attributes:
        ranked: Every catalog track, ranked (at least one).
        profile: The video they were ranked for (the arrangement lands its cuts).
    """

    ranked: tuple[RankedTrack, ...]
    profile: VideoProfile

    @property
    def best(self) -> RankedTrack:
        """The first choice."""
        return self.ranked[0]


def choose_music(
    profile: VideoProfile,
    wishes: MusicWishes,
    *,
    source: Path | None = None,
    extra_music: Sequence[Path] = (),
    seed: int = 0,
    cache_dir: Path | None = None,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
) -> MusicChoice:
    """Rank the music a video could have (the choose stage).

    Args:
        profile: The video (cuts, mood, valence/arousal).
        wishes: What the user asked for.
        source: A file the user gave (it wins) or a folder to choose from (its own tracks only,
            unless it has none); None = the bundled library plus ``extra_music``.
        extra_music: Folders or files added to the bundled library.
        seed: Selection seed (the jitter that varies a batch).
        cache_dir: Where track analyses are cached.
        progress: Called with 0..1.
        cancel: Set to stop; raises ``Cancelled``.

    Raises:
        InvalidArgument: There is no music to choose from.
    """
    if source is not None:
        catalog = [given_track(source)] if source.is_file() else load_catalog([source])
        if source.is_dir():
            catalog = [t for t in catalog if t.source != "bundled"] or catalog
    else:
        catalog = load_catalog(extra_music)
    ranked = rank_tracks(catalog, profile, wishes, seed=seed, cache_dir=cache_dir, progress=progress, cancel=cancel)
    if not ranked:
        raise InvalidArgument("no music to choose from")
    return MusicChoice(tuple(ranked), profile)


def _catalog_mood(mood: str | None) -> str | None:
    if mood is None:
        return None
    m = canonical_word(mood)
    return MOOD_NEIGHBOURS.get(m, GENRE_MOODS.get(m, m))


def rank_tracks(
    catalog: Sequence[Track],
    profile: VideoProfile,
    wishes: MusicWishes,
    *,
    seed: int = 0,
    cache_dir: Path | None = None,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[RankedTrack]:
    """Rank the catalog for this video and these wishes, best first (deterministic for a seed).

    Scoring (all terms ~0..1): the asked mood (or the video's) vs the track's mood tag (+1.0 exact,
    +0.4 neighbour) and vs the track's own valence/arousal; asked genres/instruments vs tags (+0.6
    each); tempo words; how many strong cuts an arrangement of the track lands on beats/downbeats and
    how clear its beat is (videos with cuts only); a small
    seeded jitter for variety across a batch. Excluded ids (already tried) drop to the bottom.
    ``progress`` is called with 0..1 over the tracks; setting ``cancel`` raises ``Cancelled``.
    """
    asked_mood = wished_mood(canonical_word(wishes.mood)) if wishes.mood else None
    want_mood = _catalog_mood(asked_mood or profile.mood)
    words = [canonical_word(w) for w in (*wishes.genres, *wishes.instruments)]
    for w in words:  # a genre like lo-fi implies a mood when none was asked
        if not asked_mood and w in GENRE_MOODS:
            want_mood = GENRE_MOODS[w]
    want_tags = {INSTRUMENT_TAGS.get(w, w) for w in words}
    v_video = float(np.mean(profile.valence)) if profile.valence else 0.0
    a_video = float(np.mean(profile.arousal)) if profile.arousal else 0.0
    rng = random.Random(seed)
    ranked: list[RankedTrack] = []
    analyses = analyze_tracks([t.path for t in catalog], cache_dir=cache_dir)
    for n, (track, an) in enumerate(zip(catalog, analyses, strict=True)):
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        if progress is not None:
            progress(n / max(1, len(catalog)))
        reasons: list[str] = []
        score = _wish_terms(0.0, reasons, track, an, want_mood, want_tags, wishes.tempo, (v_video, a_video))
        if profile.cuts and an.tempo_bpm > 0:
            score = _cut_terms(score, reasons, track, an, profile)
        score += rng.uniform(0, 0.15)
        if track.id in wishes.exclude_ids:
            score -= 10.0
        ranked.append(RankedTrack(track, an, round(score, 4), tuple(reasons)))
    ranked.sort(key=lambda r: r.score, reverse=True)
    return ranked


def _wish_terms(
    score: float,
    reasons: list[str],
    track: Track,
    an: TrackAnalysis,
    want_mood: str | None,
    want_tags: set[str],
    tempo: str | None,
    video_feel: tuple[float, float],
) -> float:
    """``score`` plus the terms for what was asked: a given file, the mood, the feel, tags, tempo
    (added in this order, which the rounding of the total depends on); reasons are appended."""
    if track.source == "given":
        score += 5.0
        reasons.append("the file you gave")
    if want_mood and track.mood:
        if track.mood == want_mood:
            score += 1.0
            reasons.append(f"mood {track.mood}")
        elif MOOD_NEIGHBOURS.get(track.mood) == want_mood or MOOD_NEIGHBOURS.get(want_mood) == track.mood:
            score += 0.4
    # The track's own feel vs the video's (only a tie-breaker when a mood was asked).
    dist = math.hypot(an.valence - video_feel[0], an.arousal - video_feel[1])
    score += 0.3 * math.exp(-dist)
    for tag in want_tags:
        if tag in track.tags:
            score += 0.6
            reasons.append(tag)
    if tempo:
        t = canonical_word(tempo)
        if t in ("slower", "slow"):
            score += 0.5 * (1 - min(1.0, max(0.0, (an.tempo_bpm - 70) / 70)))
        elif t in ("faster", "fast"):
            score += 0.5 * min(1.0, max(0.0, (an.tempo_bpm - 70) / 70))
        elif t.isdigit():
            score += 0.5 * math.exp(-abs(an.tempo_bpm - float(t)) / 10)
    return score


def _cut_terms(score: float, reasons: list[str], track: Track, an: TrackAnalysis, profile: VideoProfile) -> float:
    """``score`` plus how well this tempo can serve the video's cut rhythm."""
    # Arrange the track (pure and fast) and count the strong cuts that would land on beats and
    # downbeats.
    plan = plan_music(track, an, profile, duration_s=max(profile.duration_s, 1.0))
    if plan.cuts_total:
        fit = (plan.cuts_on_beat + 0.5 * plan.cuts_on_downbeat) / (1.5 * plan.cuts_total)
        score += 0.6 * fit
        reasons.append(f"{plan.cuts_on_beat}/{plan.cuts_total} cuts on beats")
    # A cut "on the beat" only reads as one when the beat is unmistakable: off-beats as loud
    # as beats, or a pulse that swings between unequal lengths, and a listener (or another
    # beat tracker) hears the cut land between beats.
    score += 0.4 * an.pulse_clarity
    if an.pulse_clarity >= 0.6:
        reasons.append("clear beat")
    return score
