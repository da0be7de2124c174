"""Tempo ramps between runs of a plan: landings stay put, steps shrink, pieces start on beats."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from ab2n.music.arrange import MAX_STRETCH, BarSegment
from ab2n.music.ramp import RAMP_OVERSHOOT, RAMP_STEP, largest_step, output_grid, ramp_tempo


def test_a_step_between_runs_becomes_a_ramp_and_the_landing_stays() -> None:
    beats = [0.5 * i for i in range(40)]
    first = BarSegment(Path("x.wav"), 0.0, 4.0, 0.0, 0.93)
    second = BarSegment(Path("x.wav"), 4.0, 10.0, first.dst_end_s, 1.07, 0.012)
    third = BarSegment(Path("x.wav"), 10.0, 12.0, second.dst_end_s, 1.07, 0.012)
    assert largest_step([first, second, third]) > 0.13
    ramped = ramp_tempo([first, second, third], beats, max_stretch=MAX_STRETCH)
    assert len(ramped) > 3
    # Each landing (the end of a run) is where it was, to the microsecond.
    ends = [s.dst_end_s for s in ramped]
    assert min(abs(e - second.dst_end_s) for e in ends) < 1e-6
    assert abs(ramped[-1].dst_end_s - third.dst_end_s) < 1e-6
    # A 14 % change in 12 beats can't ramp at 2 % a beat within the limit (the held tempo would
    # pass it): the steps grow, to at most 3x, a third of the step it replaces.
    assert largest_step(ramped) <= 3 * RAMP_STEP + 1e-6
    assert all(abs(s.stretch - 1) <= MAX_STRETCH + RAMP_OVERSHOOT + 1e-9 for s in ramped)
    # Pieces are contiguous on the output and start on source beats.
    for a, b in itertools.pairwise(ramped):
        assert abs(a.dst_end_s - b.dst_start_s) < 1e-6
        assert min(abs(b.src_start_s - x) for x in beats) < 1e-9
    grid, _ = output_grid(ramped, beats, beats[::4])
    assert np.all(np.diff(grid) > 0)


def test_a_small_step_ramps_at_the_gentle_rate() -> None:
    beats = [0.5 * i for i in range(40)]
    first = BarSegment(Path("x.wav"), 0.0, 4.0, 0.0, 0.97)
    second = BarSegment(Path("x.wav"), 4.0, 12.0, first.dst_end_s, 1.03, 0.012)
    ramped = ramp_tempo([first, second], beats, max_stretch=MAX_STRETCH)
    assert largest_step(ramped) <= RAMP_STEP + 1e-6
    assert abs(ramped[-1].dst_end_s - second.dst_end_s) < 1e-6
