"""Seam audibility inside the arrangement's search (issue 17): quieter jumps are chosen."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from bench.cut_to_beat import metronome

from ab2n.music.arrange import _choose_hits, _jump_targets
from ab2n.music.beats import SR, analyze_samples
from ab2n.music.seams import SeamCosts

BANDS = 24


def _edges(sounds: list[np.ndarray]) -> list[list[float]]:
    return [[0.0, *s.tolist()] for s in sounds]


def _bars_analysis(bar_sounds: list[int], seed: int = 0):  # type: ignore[no-untyped-def]
    """A 4/4 metronome analysis whose bars each have one of a few sounds (``bar_sounds``: a sound id
    per bar): every beat of a bar has its bar's spectrum (plus a little noise), so a
    seam between bars of one sound changes nothing and one between bars of two sounds a lot."""
    base = metronome(100.0, seconds=4 * 0.6 * len(bar_sounds))
    rng = np.random.default_rng(seed)
    palette = [rng.uniform(0, 4, BANDS) for _ in range(max(bar_sounds) + 1)]
    per_beat = [palette[bar_sounds[min(i // 4, len(bar_sounds) - 1)]] for i in range(len(base.beats_s))]
    # The sound just before a beat is the end of the beat before it.
    before = [p + rng.normal(0, 0.05, BANDS) for p in [per_beat[0], *per_beat[:-1]]]
    # The music's own change at a beat: a note starting (a lift in a few bands).
    after = [p + np.r_[np.full(4, 0.5), np.zeros(BANDS - 4)] + rng.normal(0, 0.05, BANDS) for p in per_beat]
    return replace(base, sound_before_beat=_edges(before), sound_after_beat=_edges(after))


def test_a_seam_between_unlike_bars_costs_more_than_between_repeated_bars() -> None:
    an = _bars_analysis([0, 0, 1, 0, 0, 1, 0, 0])
    cost = SeamCosts(an)
    repeated = cost(4 * 4, 0)  # leave bar 3 (sound 0) at its end, enter bar 0 (sound 0)
    unlike = cost(4 * 4, 2 * 4)  # enter bar 2 (sound 1)
    assert cost(5, 5) == 0.0  # no seam: the source runs on
    assert repeated < 1.5  # about the music's own change at a beat
    assert unlike > 2 * repeated


def test_the_loop_takes_the_quieter_of_two_equally_alike_bars() -> None:
    """A metronome's bars are all alike by chroma and energy; by bar position alone the loop would
    go back to the first bar (phrase-aligned with the end). Here that bar sounds unlike the one the
    loop leaves, and the loop goes to a bar that sounds like it instead, wherever it is."""
    meter = 4
    for sounds, seed in (([1, 0, 0, 0, 1, 0, 2, 0, 0], 0), ([0, 0, 1, 0, 1, 1, 2, 1, 1], 1)):
        an = _bars_analysis(sounds, seed)
        down = list(range(0, len(an.beats_s), meter))
        leave, enter = _jump_targets(an, down, 0, 8 * meter, meter, SeamCosts(an), seam_weight=0.5, leave_bars=2)[0]
        # The sound before the downbeat left is its previous bar's; the bar entered sounds like it.
        assert sounds[enter // meter] == sounds[(leave - 1) // meter]
        blind_leave, blind_enter = _jump_targets(an, down, 0, 8 * meter, meter, None, leave_bars=2)[0]
        assert sounds[blind_enter // meter] != sounds[(blind_leave - 1) // meter]  # the test can fail


def test_the_search_enters_the_ending_through_the_quieter_seam_when_landings_tie() -> None:
    """Two downbeats of the walk reach the ending phrase's window at stretch 1 with nothing else to
    tell them apart: the search takes the one whose seam into the ending is quieter."""
    lengths = 0.5 * np.arange(41)
    on_down = np.array([k % 4 == 0 for k in range(41)])
    finals = [(3.9, 6.1, 0.0)]
    for quiet, loud in ((8, 12), (12, 8)):
        into_tail = np.ones(41)
        into_tail[quiet], into_tail[loud] = 0.1, 1.0  # seam cost x weight
        _, path, chosen = _choose_hits([], lengths, on_down, finals=finals, into_tail=into_tail)
        assert chosen == 0
        assert path[-1][1] == quiet


def test_beat_edges_are_measured_on_audio() -> None:
    """A real analysis has one edge pair per beat, and a seam into the middle of a silence after
    a loud passage costs more than a repeat of the loud passage."""
    t = np.arange(20 * SR) / SR
    beat = 0.5
    clicks = np.zeros_like(t)
    for k in range(int(20 / beat)):
        s = int(k * beat * SR)
        clicks[s : s + 400] += np.exp(-np.arange(400) / 80.0)
    loud = 0.3 * np.sin(2 * np.pi * 220 * t) * (t < 10) + 0.02 * np.sin(2 * np.pi * 880 * t) * (t >= 10)
    an = analyze_samples(0.5 * clicks + loud)
    n = len(an.beats_s)
    assert len(an.sound_before_beat) == n and len(an.sound_after_beat) == n
    beats = np.asarray(an.beats_s)
    loud_beats = np.flatnonzero((beats > 2) & (beats < 9))
    soft_beats = np.flatnonzero((beats > 11) & (beats < 18))
    cost = SeamCosts(an)
    assert cost(int(loud_beats[-1]), int(soft_beats[2])) > cost(int(loud_beats[-1]), int(loud_beats[2]))
