"""Several songs under a long video: a medley of one mood, each song handing over on a strong cut.

The bundled tracks are about 30 s long. Under a 10-minute video one of them, however well
arranged, would come round twenty times. A music editor would change songs instead, and change
them where the picture changes: the medley splits the music into parts of a few plays of a track
each, moves every boundary onto the strongest cut near it, and arranges each part with
``plan_music`` — the outgoing song uses its real ending so its last note ends on the cut, and the
next song starts there on its first downbeat (``enter_on_downbeat``), so the cut lands on a
downbeat too. The songs are the best-ranked track and the next best of the same mood at a close
tempo (then of the same mood at any tempo, if there are too few), taken in turn.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable, Sequence

from ab2n.analyze.profile import VideoProfile
from ab2n.errors import Cancelled
from ab2n.music.arrange import STRONG_CUT, BarSegment, MedleySong, MusicPlan, count_landings, plan_music
from ab2n.music.select import MusicChoice, RankedTrack

#: Music shorter than this keeps one track (looped by the arrangement where it must be).
MEDLEY_FROM_S = 120.0
#: A part lasts about this many plays of its track (a song gets time to be heard, not to wear out).
PLAYS_PER_PART = 2.5
#: A song change may move by this share of a part to sit on a strong cut.
PART_SLACK = 0.3
#: Songs whose tempo is within this ratio of the first's (or of its double or half) count as close.
TEMPO_CLOSE = 0.12
MAX_SONGS = 6


def arrange_music(
    choice: MusicChoice,
    *,
    duration_s: float,
    start_s: float = 0.0,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
) -> MusicPlan:
    """Arrange the chosen music to last exactly ``duration_s`` (the arrange stage): the best track
    alone, or for long music a medley of it and its kin (see the module docstring).

    Args:
        choice: The choose stage's result.
        duration_s: Length of the music.
        start_s: Where the music starts on the video (the cuts are in video time).
        progress: Called with 0..1.
        cancel: Set to stop; raises ``Cancelled``.
    """
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled")
    plan = plan_medley(choice.ranked, choice.profile, duration_s=duration_s, start_s=start_s, cancel=cancel)
    if progress is not None:
        progress(1.0)
    return plan


def medley_songs(ranked: Sequence[RankedTrack], parts: int) -> list[RankedTrack]:
    """The songs for ``parts`` parts, in the order they take turns: the best-ranked track, then the
    next best of its mood at a close tempo; songs of that mood at another tempo only when fewer than
    three (or than ``parts``) are close."""
    if not ranked:
        return []
    first = ranked[0]
    same_mood = [r for r in ranked[1:] if r.track.mood == first.track.mood and r.track.id != first.track.id]
    close = [r for r in same_mood if _tempo_close(r.analysis.tempo_bpm, first.analysis.tempo_bpm)]
    want = min(parts, MAX_SONGS)
    songs = [first, *close][:want]
    if len(songs) < min(3, want):
        songs += [r for r in same_mood if r not in songs][: min(3, want) - len(songs)]
    return songs


def part_bounds(profile: VideoProfile, start_s: float, duration_s: float, part_s: float) -> list[float]:
    """Where the songs change, in music time, with 0 and ``duration_s`` at the ends: near every
    ``part_s``, on the strongest cut within ``PART_SLACK`` of a part (the nearest of equals)."""
    n_parts = max(1, round(duration_s / part_s))
    cuts = [
        (c.time_s - start_s, c.strength)
        for c in profile.cuts
        if c.strength >= STRONG_CUT and 0 < c.time_s - start_s < duration_s
    ]
    bounds = [0.0]
    for k in range(1, n_parts):
        # Aim at an even share of what is left, so one part moved early doesn't squeeze the rest.
        part = (duration_s - bounds[-1]) / (n_parts - k + 1)
        aim = bounds[-1] + part
        near = [
            (strength, -abs(t - aim), t)
            for t, strength in cuts
            if abs(t - aim) <= PART_SLACK * part and duration_s - t >= (1 - PART_SLACK) * part
        ]
        bounds.append(max(near)[2] if near else aim)
    return [*bounds, duration_s]


def plan_medley(
    ranked: Sequence[RankedTrack],
    profile: VideoProfile,
    *,
    duration_s: float,
    start_s: float = 0.0,
    cancel: threading.Event | None = None,
) -> MusicPlan:
    """Arrange the best-ranked track, or for long music a medley of it and its kin (see the module
    docstring), to last exactly ``duration_s``.

    Music shorter than ``MEDLEY_FROM_S`` or than two parts, or with no other song of the mood to
    take turns with, gets ``plan_music`` of the best-ranked track alone.

    Args:
        ranked: Candidates from ``rank_tracks``, best first (at least one).
        profile: The video's profile (cuts in video time).
        duration_s: Length of the music.
        start_s: Where the music starts on the video.
        cancel: Set to stop between songs; raises ``Cancelled``.
    """
    first = ranked[0]
    part_s = PLAYS_PER_PART * (first.analysis.end_s or first.analysis.duration_s)
    songs = medley_songs(ranked, round(duration_s / part_s))
    if len(songs) < 2 or duration_s < MEDLEY_FROM_S or duration_s < 1.5 * part_s:
        return plan_music(first.track, first.analysis, profile, duration_s=duration_s, start_s=start_s)
    bounds = part_bounds(profile, start_s, duration_s, part_s)
    segments: list[BarSegment] = []
    beats: list[float] = []
    downbeats: list[float] = []
    medley: list[MedleySong] = []
    fade_out = 0.0
    for k, (a, b) in enumerate(itertools.pairwise(bounds)):
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        song = songs[k % len(songs)]
        plan = plan_music(
            song.track, song.analysis, profile, duration_s=b - a, start_s=start_s + a, enter_on_downbeat=k > 0
        )
        shifted = [dataclasses.replace(sg, dst_start_s=sg.dst_start_s + a) for sg in plan.segments]
        fade_out = plan.fade_out_s
        if b < duration_s:
            # A song that ends before the music does carries its own fade (a recording that stops
            # at full level fades its last bar); the last song's is the plan's.
            shifted[-1] = dataclasses.replace(shifted[-1], fade_out_s=fade_out)
        segments += shifted
        beats += [t + a for t in plan.beats_s]
        downbeats += [t + a for t in plan.downbeats_s]
        medley.append(MedleySong(a, song.track.id, song.track.title))
    on_beat, on_downbeat, total = count_landings(profile, start_s, duration_s, beats, downbeats)
    titles = list(dict.fromkeys(m.title for m in medley))
    return MusicPlan(
        track_id=first.track.id,
        track_title=" + ".join(titles),
        duration_s=duration_s,
        segments=tuple(segments),
        fade_out_s=fade_out,
        beats_s=[round(t, 4) for t in beats],
        downbeats_s=[round(t, 4) for t in downbeats],
        cuts_on_beat=on_beat,
        cuts_on_downbeat=on_downbeat,
        cuts_total=total,
        mood=first.track.mood,
        tempo_bpm=first.analysis.tempo_bpm,
        songs=tuple(medley),
    )


def _tempo_close(a: float, b: float) -> bool:
    """Within ``TEMPO_CLOSE`` of each other, or of double/half (the same pulse counted twice as fast)."""
    if a <= 0 or b <= 0:
        return False
    return any(abs(a * ratio / b - 1) <= TEMPO_CLOSE for ratio in (1.0, 2.0, 0.5))
