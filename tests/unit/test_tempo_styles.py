"""Tempo on generated grooves that trip tempo estimators: swing, rubato intros, half-time feels,
and click tracks from 60 to 180 BPM (bench/grooves.py). The truth is the tempo each groove is
generated at."""

from __future__ import annotations

import pytest
from bench.grooves import groove

from ab2n.music.beats import analyze_samples

#: The analyser's octave choice rests on a tempo prior (docs/music-engine.md): outside ~70-140 BPM
#: a groove whose every other beat is as strong as the beat between is heard at half or double
#: its tempo, as two 150 BPM bundled tracks are. Those cases are expected failures (strict: a fix
#: makes them pass and the marker must go).
OCTAVE = pytest.mark.xfail(strict=True, reason="octave error outside the prior's range")
CASES = [
    pytest.param("straight", 60, marks=OCTAVE),
    ("straight", 75),
    ("straight", 130),
    pytest.param("straight", 180, marks=OCTAVE),
    ("swing", 90),
    ("swing", 120),
    pytest.param("swing", 150, marks=OCTAVE),
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
