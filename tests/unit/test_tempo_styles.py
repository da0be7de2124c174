"""Tempo on generated grooves that trip tempo estimators: swing, rubato intros, half-time feels,
and click tracks from 60 to 180 BPM (bench/grooves.py). The truth is the tempo each groove is
generated at."""

from __future__ import annotations

import pytest
from bench.grooves import groove, measure_tempo, tempo_set

from ab2n.music.beats import analyze_samples, analyze_track
from mediagen import click_track_wav

#: The analyser's octave choice rests on a tempo prior (docs/music-engine.md): at the ends of
#: 60-180 BPM a groove whose every other beat is as strong as the beat between is heard at half or
#: double its tempo, as one 68 BPM bundled track is. Those cases are expected failures (strict: a
#: fix makes them pass and the marker must go; swing at 150 passes since analyser version 8).
OCTAVE = pytest.mark.xfail(strict=True, reason="octave error outside the prior's range")
CASES = [
    pytest.param("straight", 60, marks=OCTAVE),
    ("straight", 75),
    ("straight", 130),
    pytest.param("straight", 180, marks=OCTAVE),
    ("swing", 90),
    ("swing", 120),
    ("swing", 150),
    ("rubato", 80),
    ("rubato", 110),
    ("halftime", 96),
    ("halftime", 140),
    pytest.param("halftime", 160, marks=OCTAVE),
]


@pytest.mark.parametrize(("style", "bpm"), CASES)
def test_tempo_on_generated_grooves(style: str, bpm: float) -> None:
    got = analyze_samples(groove(bpm, style, seed=bpm)).tempo_bpm
    assert abs(got / bpm - 1) <= 0.04, got


@pytest.mark.parametrize("bpm", [60, 80, 100, 120, 140, 160, 180])
def test_tempo_on_click_tracks_from_60_to_180(bpm: float) -> None:
    """A click a beat (accented downbeats) with chords: the tempo itself, not its half or double.
    Analyser version 7 heard 150-180 BPM clicks at half (its prior centred on 110 BPM and a term
    that rewarded the slower octave)."""
    path, _, _ = click_track_wav(bpm, duration_s=30)
    got = analyze_track(path).tempo_bpm
    assert abs(got / bpm - 1) <= 0.04, got


def test_tempo_on_the_held_out_grooves() -> None:
    """The held-out half of bench/grooves.py (48 grooves, 8 styles, 60-180 BPM), which the
    estimator was never tuned on: 38 within 4 % with analyser version 8 (36 with version 7)."""
    _, held_out = tempo_set()
    result = measure_tempo(held_out)
    assert result["same"] >= 38, result["relations"]
