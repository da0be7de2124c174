"""Tempo on generated grooves that trip tempo estimators: swing, rubato intros, half-time feels,
and click tracks from 60 to 180 BPM. The truth is the tempo each groove is generated at."""

from __future__ import annotations

import numpy as np
import pytest

from ab2n.music.beats import analyze_samples

SR = 22050


def _hit(y: np.ndarray, t: float, sound: np.ndarray, gain: float) -> None:
    s = int(t * SR)
    k = max(0, min(len(sound), len(y) - s))
    y[s : s + k] += gain * sound[:k]


def _kit(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Kick (a falling 55 Hz sine), snare (noise and a 190 Hz body), hi-hat (high-passed noise)."""
    t = np.arange(int(0.25 * SR)) / SR
    kick = np.sin(2 * np.pi * (55 * t + 40 * (1 - np.exp(-t * 30)) / 30)) * np.exp(-t * 12)
    snare = (0.7 * rng.standard_normal(len(t)) + np.sin(2 * np.pi * 190 * t)) * np.exp(-t * 25)
    noise = rng.standard_normal(len(t))
    hat = np.diff(noise, prepend=0.0) * np.exp(-t * 90)
    return {"kick": kick, "snare": snare, "hat": hat}


def groove(bpm: float, style: str, *, duration_s: float = 30.0, seed: int = 0) -> np.ndarray:
    """A drum-and-bass-and-chords groove at ``bpm`` in 4/4.

    Styles: ``straight`` (kick 1 and 3, snare 2 and 4, eighth hats), ``swing`` (eighths at 2:1,
    ride on the swung eighths, walking bass on the beats), ``halftime`` (kick on 1, snare on 3 only,
    hats on the beat's eighths: the feel is half the tempo, the pulse is not), ``rubato`` (8 s of
    free chords with irregular soft onsets, then the straight groove).
    """
    rng = np.random.default_rng(seed)
    kit = _kit(rng)
    y = np.zeros(int(duration_s * SR))
    beat = 60.0 / bpm
    start = 0.2
    if style == "rubato":
        t = 0.1
        while t < 8.0:  # chords struck at a free, slowing pace
            _chord(y, t, rng.uniform(0.6, 1.7), rng.integers(4), 0.6)
            t += rng.uniform(0.6, 1.7)
        start = 8.0
    n_beats = int((duration_s - start - 0.3) / beat)
    for i in range(n_beats):
        t = start + i * beat
        pos = i % 4
        if style == "halftime":
            if pos == 0:
                _hit(y, t, kit["kick"], 1.0)
            if pos == 2:
                _hit(y, t, kit["snare"], 0.8)
        else:
            if pos in (0, 2):
                _hit(y, t, kit["kick"], 1.0)
            if pos in (1, 3):
                _hit(y, t, kit["snare"], 0.7)
        off = beat * (2 / 3 if style == "swing" else 1 / 2)
        _hit(y, t, kit["hat"], 0.25)
        _hit(y, t + off, kit["hat"], 0.18)
        if style == "swing":
            _bass(y, t, beat * 0.9, 40 + (i * 5) % 12, 0.3)
        elif pos == 0:
            _chord(y, t, 4 * beat, (i // 4) % 4, 0.3)
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


def _chord(y: np.ndarray, t: float, length_s: float, which: int, gain: float) -> None:
    roots = (57, 53, 60, 55)
    tt = np.arange(int(length_s * SR)) / SR
    env = np.minimum(1.0, tt / 0.01) * np.exp(-tt * 1.5)
    root = roots[int(which) % 4]
    tone = sum(np.sin(2 * np.pi * 440 * 2 ** ((root + k - 69) / 12) * tt) for k in (0, 4, 7, -12))
    _hit(y, t, tone * env * 0.1, gain)


def _bass(y: np.ndarray, t: float, length_s: float, midi: int, gain: float) -> None:
    tt = np.arange(int(length_s * SR)) / SR
    tone = np.sin(2 * np.pi * 440 * 2 ** ((midi - 69) / 12) * tt) * np.exp(-tt * 4) * np.minimum(1.0, tt / 0.005)
    _hit(y, t, tone, gain)


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
