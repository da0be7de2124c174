"""The melody: a two-bar motif, stated, answered, developed per section, resting under speech (pure).

The motif is a rhythm (one of a few per tempo feel) and a contour (seeded steps in the scale,
mostly by step, a leap now and then). A four-bar phrase states it and answers it: the answer keeps
the rhythm, follows the harmony (sequence) and ends on a chord root. The peak states the motif a
third higher with its long notes split; a build plays the motif's first bar twice (a fragment);
intro and outro leave the melody out except for the last note, the tonic on the final chord.
Strong beats and long notes take the nearest chord tone, the others the nearest scale tone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ab2n.music.compose.harmony import Chord
from ab2n.music.compose.notes import Clock, Note, note
from ab2n.music.compose.style import FINAL_VOICE, MAJOR, MINOR, Style

MEL_LO, MEL_HI = 64, 86

#: Two-bar rhythms: (beat position, length in beats).
RHYTHMS = (
    ((0.0, 1.0), (1.0, 0.5), (1.5, 0.5), (2.0, 1.5), (3.5, 0.5), (4.0, 1.0), (5.0, 1.0), (6.0, 2.0)),
    ((0.0, 1.5), (1.5, 0.5), (2.0, 1.0), (3.0, 1.0), (4.0, 0.5), (4.5, 0.5), (5.0, 1.0), (6.0, 1.5)),
    ((0.5, 0.5), (1.0, 1.0), (2.0, 0.5), (2.5, 1.5), (4.5, 0.5), (5.0, 1.0), (6.0, 2.0)),
)
SLOW_RHYTHMS = (
    ((0.0, 2.0), (2.0, 1.0), (3.0, 1.0), (4.0, 3.0), (7.0, 1.0)),
    ((0.0, 3.0), (3.0, 1.0), (4.0, 2.0), (6.0, 2.0)),
)


@dataclass(frozen=True)
class Motif:
    """Rhythm and contour (scale steps from the first note) of two bars."""

    rhythm: tuple[tuple[float, float], ...]
    steps: tuple[int, ...]


def make_motif(style: Style, rng: np.random.Generator) -> Motif:
    """A seeded motif: mostly steps, one leap, returning toward where it started."""
    table = SLOW_RHYTHMS if style.name in ("ambient", "cinematic") else RHYTHMS
    rhythm = table[int(rng.integers(len(table)))]
    steps = [0]
    for i in range(1, len(rhythm)):
        move = int(rng.choice([-2, -1, -1, 1, 1, 2, 0, 3, -3], p=[0.1, 0.2, 0.1, 0.2, 0.15, 0.1, 0.05, 0.05, 0.05]))
        if i == len(rhythm) - 1:
            move = -int(np.sign(steps[-1])) * min(2, abs(steps[-1]))  # lean home
        steps.append(int(np.clip(steps[-1] + move, -5, 6)))
    return Motif(rhythm, tuple(steps))


def _scale_pitch(tonic: int, mode: str, degree: int) -> int:
    """MIDI pitch of a scale degree counted from the tonic above middle C (degree 0 = the tonic, 60-71)."""
    scale = MAJOR if mode == "major" else MINOR
    octave, idx = divmod(degree, 7)
    return 60 + 12 * octave + tonic % 12 + scale[idx]


def _fit(pitch: int, chord: Chord | None, strong: bool, tonic: int, mode: str) -> int:
    """The nearest chord tone (strong) or scale tone (weak), kept in the melody's range."""
    scale = MAJOR if mode == "major" else MINOR
    allowed = set(chord.pcs) if strong and chord is not None else {(tonic + s) % 12 for s in scale}
    cands = [p for p in range(MEL_LO, MEL_HI + 1) if p % 12 in allowed]
    return min(cands, key=lambda p: (abs(p - pitch), p)) if cands else pitch


def _phrase(motif: Motif, section: str, answer: bool) -> tuple[list[tuple[float, float]], list[int]]:
    """The rhythm and steps one statement plays in a section (development by section)."""
    rhythm, steps = list(motif.rhythm), list(motif.steps)
    if section == "peak":
        steps = [s + 2 for s in steps]
        split: list[tuple[float, float]] = []
        split_steps: list[int] = []
        for (pos, dur), s in zip(rhythm, steps, strict=True):
            if dur >= 1.5:
                split += [(pos, dur / 2), (pos + dur / 2, dur / 2)]
                split_steps += [s, s + 1]
            else:
                split.append((pos, dur))
                split_steps.append(s)
        rhythm, steps = split, split_steps
    elif section == "build":
        first = [(p, d, s) for (p, d), s in zip(rhythm, steps, strict=True) if p < 4]
        rhythm = [(p, d) for p, d, _ in first] + [(p + 4, d) for p, d, _ in first]
        steps = [s for *_, s in first] + [s + 1 for *_, s in first]
    if answer:
        steps = [s - 1 for s in steps]
    return rhythm, steps


def melody_notes(clock: Clock, style: Style, chords: list[Chord], motif: Motif) -> list[Note]:
    """The melody stem."""
    plan = clock.plan
    out: list[Note] = []
    by_bar = {c.bar: c for c in chords}
    bar = 0
    last = clock.bars - 1
    while bar + 1 < last:
        section = clock.section(bar)
        if section in ("intro", "outro"):
            bar += 2
            continue
        answer = (bar // 2) % 2 == 1
        rhythm, steps = _phrase(motif, section, answer)
        base = 2 + (by_bar[bar].degree if answer and bar in by_bar else 0)
        for i, ((pos, dur), s) in enumerate(zip(rhythm, steps, strict=True)):
            # The motif is written in 4/4: in a changed bar, what falls past its end is left out.
            b = bar + int(pos // 4)
            x = pos % 4
            at = clock.bar_pos(b) + x
            if x >= clock.bar_len(b):
                continue
            t0 = clock.at(at)
            if b >= last or clock.speech_at(t0 - 0.1, clock.at(at + dur) + 0.1):
                continue
            chord = by_bar.get(b)
            strong = pos % 2 == 0 or dur >= 1.5
            target = _scale_pitch(plan.tonic, plan.mode, base + s)
            if answer and i == len(rhythm) - 1 and chord is not None:
                target = 60 + (chord.root - 60) % 12 + 12
            pitch = _fit(target, chord, strong, plan.tonic, plan.mode)
            vel = 0.55 + 0.35 * clock.level(b) + (0.08 if x == 0 else 0.0)
            out.append(note(clock, at, dur * 0.92, pitch, vel, style.melody))
        bar += 2
    if last >= 0 and not clock.speech_at(clock.at(clock.bar_pos(last)), plan.duration_s):
        home = _fit(_scale_pitch(plan.tonic, plan.mode, 7), by_bar.get(last), True, plan.tonic, plan.mode)
        out.append(note(clock, clock.bar_pos(last), 8.0, home, 0.65, FINAL_VOICE.get(style.melody, style.melody)))
    return out
