"""Harmony and bass: a progression per section, a cadence onto the last bar, voice-led chords (pure).

Each section takes one of the style's progressions (seeded; the peak another than the verse when
the style has two), played from the section's first bar so a new section is heard as one. The last
three bars are a cadence (IV or iv, V, I): V is major in minor keys too (the harmonic minor's
leading tone). Each chord is voiced close, within about an octave around middle C, choosing among
inversions the one that moves the voices least from the previous chord.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ab2n.music.compose.notes import Clock, Note, fit_bar, note
from ab2n.music.compose.style import FINAL_VOICE, MAJOR, MINOR, Style

VOICE_LO, VOICE_HI = 53, 76


@dataclass(frozen=True)
class Chord:
    """The chord of one bar: scale degree, pitch classes (root first) and its voicing (MIDI)."""

    bar: int
    degree: int
    pcs: tuple[int, ...]
    voicing: tuple[int, ...]

    @property
    def root(self) -> int:
        """Root pitch class."""
        return self.pcs[0]


def chord_pcs(tonic: int, mode: str, degree: int, *, seventh: bool) -> tuple[int, ...]:
    """Pitch classes of the chord on a scale degree (0 = I), root first."""
    scale = MAJOR if mode == "major" else MINOR
    steps = (0, 2, 4, 6) if seventh else (0, 2, 4)
    pcs = [(tonic + scale[(degree + s) % 7]) % 12 for s in steps]
    if mode == "minor" and degree == 4:  # V is major: the leading tone
        pcs[1] = (pcs[1] + 1) % 12
    return tuple(pcs)


def voice(pcs: tuple[int, ...], prev: tuple[int, ...] | None) -> tuple[int, ...]:
    """A close voicing of ``pcs`` in [VOICE_LO, VOICE_HI], moving least from ``prev``."""
    options = [[p + 12 * o for o in range(3, 8) if VOICE_LO <= p + 12 * o <= VOICE_HI] for p in pcs]
    best: tuple[float, tuple[int, ...]] = (1e9, ())
    for combo in itertools.product(*options):
        notes = tuple(sorted(combo))
        if notes[-1] - notes[0] > 14:
            continue
        if prev and len(prev) == len(notes):
            move = float(sum(abs(a - b) for a, b in zip(notes, prev, strict=True)))
        else:
            move = 0.0
        cost = move + 0.3 * abs(float(np.mean(notes)) - 64.0)
        if cost < best[0]:
            best = (cost, notes)
    return best[1] or tuple(sorted(60 + (p - 60) % 12 for p in pcs))


def progression(clock: Clock, style: Style, rng: np.random.Generator) -> list[int]:
    """Scale degree of every bar: per-section progressions, then the cadence."""
    plan = clock.plan
    table = style.major if plan.mode == "major" else style.minor
    n = clock.bars
    degrees = [0] * n
    chosen: dict[str, int] = {}
    for sec in plan.sections:
        if sec.name not in chosen:
            used = set(chosen.values())
            free = [i for i in range(len(table)) if i not in used] or list(range(len(table)))
            chosen[sec.name] = int(rng.choice(free))
        prog = table[chosen[sec.name]]
        for b in range(sec.start_bar, min(n, sec.end_bar)):
            k = (b - sec.start_bar) // style.bars_per_chord
            degrees[b] = prog[k % len(prog)]
    if n >= 1:
        degrees[n - 1] = 0
    if n >= 3:
        degrees[n - 2] = 4
    if n >= 5:
        degrees[n - 3] = 3 if degrees[n - 3] != 4 else 1
    return degrees


def chords(clock: Clock, style: Style, rng: np.random.Generator) -> list[Chord]:
    """The chord of every bar, voice-led."""
    plan = clock.plan
    out: list[Chord] = []
    prev: tuple[int, ...] | None = None
    for bar, deg in enumerate(progression(clock, style, rng)):
        pcs = chord_pcs(plan.tonic, plan.mode, deg, seventh=style.sevenths and bar != clock.bars - 1)
        v = voice(pcs, prev)
        out.append(Chord(bar, deg, pcs, v))
        prev = v
    return out


#: Comping rhythms: (beat position in the bar, length in beats, velocity factor).
_COMP = {
    "pad": ((0.0, 4.0, 1.0),),
    "pad_hi": ((0.0, 2.0, 1.0), (2.0, 2.0, 0.85)),
    # Down-strums on every beat, soft up-strums (top strings only, see _comp_bar) between: with
    # "D D-U -U D-U" (three of six strokes off the beat, every string) librosa heard the eighths as
    # the beat (207 BPM for a 105 BPM map; its onset autocorrelation 0.30 at an eighth, 0.16 at a beat).
    "strum": ((0.0, 1.0, 1.0), (1.0, 0.5, 0.75), (1.5, 0.5, 0.3), (2.0, 1.0, 0.85), (3.0, 0.5, 0.75), (3.5, 0.5, 0.3)),
    "strum_lo": ((0.0, 2.0, 1.0), (2.0, 2.0, 0.8)),
    # Lo-fi stabs mostly on the beats: off-beat stabs as loud made librosa hear twice the tempo.
    "stabs": ((0.0, 1.5, 1.0), (2.0, 1.0, 0.8), (3.0, 0.5, 0.55), (3.5, 0.5, 0.4)),
    "stabs_lo": ((0.0, 2.0, 1.0), (2.5, 1.5, 0.7)),
    "block": ((0.0, 1.0, 1.0), (1.0, 1.0, 0.55), (2.0, 1.0, 0.65), (3.0, 1.0, 0.55)),
    # Piano has no drums: its quiet bars keep a chord on every beat (2 and 4 soft), or a tracker
    # whose tempo is the piece's, not the intro's, fits five beats in the bar (bench video: bar
    # lines a beat off until the third bar).
    "block_lo": ((0.0, 1.0, 1.0), (1.0, 1.0, 0.4), (2.0, 1.0, 0.75), (3.0, 1.0, 0.4)),
}


def _comp_bar(
    clock: Clock, style: Style, chord: Chord, level: float, speaking: bool, rng: np.random.Generator
) -> list[Note]:
    bar0 = clock.bar_pos(chord.bar)
    vel = (0.45 + 0.4 * level) * (0.6 if speaking else 1.0)
    voice_name = style.harmony
    if style.comp == "arp":
        return _arp_bar(clock, style, chord, level, vel, speaking)
    pulse = _ostinato(clock, chord, vel) if style.comp == "pad" else []
    key = style.comp
    if speaking or level < 0.4:
        key = f"{key}_lo" if f"{key}_lo" in _COMP else key
    elif key == "pad" and level >= 0.6:
        key = "pad_hi"
    out: list[Note] = list(pulse)
    for pos, dur, vf in fit_bar(_COMP[key], clock.bar_len(chord.bar)):
        swing = style.swing * 0.5 if (pos * 2) % 2 == 1 else 0.0
        up = style.comp == "strum" and pos % 1 == 0.5
        strings = chord.voicing[-2:][::-1] if up else chord.voicing
        for i, p in enumerate(strings):
            # A strum sweeps the strings (12 ms apart; an up-strum from the top); other comping
            # strikes together.
            lag = 0.012 * i / clock.beat_s(bar0 + pos) if style.comp == "strum" else 0.0
            out.append(
                note(
                    clock,
                    bar0 + pos + swing + lag,
                    dur * 0.95,
                    p,
                    vel * vf * (1 + 0.05 * rng.standard_normal()),
                    voice_name,
                    pan=(i - (len(chord.voicing) - 1) / 2) * 0.35,
                )
            )
    return out


def _ostinato(clock: Clock, chord: Chord, vel: float) -> list[Note]:
    """Low strings on the eighths (root and fifth, the beats accented) under a held pad: the
    pulse of a cinematic cue. With the pad alone ab2n's analyser tracked 121 BPM in a 105 BPM
    piece and heard the bar lines on the wrong beat."""
    bar0 = clock.bar_pos(chord.bar)
    root = 48 + (chord.root - 48) % 12
    fifth = root + 7
    return [
        note(clock, bar0 + k * 0.5, 0.4, root if k % 4 != 3 else fifth, vel * (0.9 if k % 2 == 0 else 0.5), "spiccato")
        for k in range(2 * clock.bar_len(chord.bar))
    ]


def _arp_bar(clock: Clock, style: Style, chord: Chord, level: float, vel: float, speaking: bool) -> list[Note]:
    """Arpeggio (eighths; sixteenths at the peak of an electronic piece) over a held pad."""
    bar0 = clock.bar_pos(chord.bar)
    tones = [*chord.voicing, chord.voicing[0] + 12]
    # Ambient arpeggiates in quarters: its eighths made librosa hear twice the tempo (152 for 78).
    step = 1.0 if style.name == "ambient" else 0.25 if level >= 0.7 and not speaking else 0.5
    order = [0, 1, 2, 3, 2, 1] if len(tones) >= 4 else [0, 1, 2, 1]
    out = [
        note(
            clock,
            bar0,
            clock.bar_len(chord.bar),
            p - 12 if style.name == "ambient" else p,
            vel * 0.55,
            "glass_pad" if style.name == "ambient" else "saw_pad",
            pan=0.0,
        )
        for p in chord.voicing
    ]
    arp_voice = "arp_pluck"
    n = int(clock.bar_len(chord.bar) / step)
    for k in range(n):
        p = tones[order[k % len(order)] % len(tones)] + 12
        accent = 1.0 if k % int(1 / step) == 0 else 0.7
        out.append(
            note(clock, bar0 + k * step, step * 0.9, p, vel * 0.7 * accent, arp_voice, pan=0.4 * ((k % 2) * 2 - 1))
        )
    return out


def harmony_notes(clock: Clock, style: Style, chord_list: list[Chord], rng: np.random.Generator) -> list[Note]:
    """The harmony stem: each bar comped in the style, softer and sparser under speech."""
    out: list[Note] = []
    for ch in chord_list:
        t0, t1 = clock.at(clock.bar_pos(ch.bar)), clock.at(clock.bar_pos(ch.bar + 1))
        speaking = clock.speech_at(t0, t1)
        if ch.bar == clock.bars - 1:  # the final chord: struck once, rings to the end
            out += [
                note(
                    clock,
                    clock.bar_pos(ch.bar),
                    8.0,
                    p,
                    0.7,
                    FINAL_VOICE.get(style.harmony, style.harmony)
                    if style.comp != "arp"
                    else ("glass_pad" if style.name == "ambient" else "saw_pad"),
                )
                for p in ch.voicing
            ]
            continue
        out += _comp_bar(clock, style, ch, clock.level(ch.bar), speaking, rng)
    # The pickup: the tonic, softly, so the first bar's chord is an arrival.
    if clock.offset:
        tonic = chord_list[0].voicing if chord_list else ()
        out += [
            note(clock, -clock.offset, clock.offset, p, 0.35, style.harmony if style.comp != "arp" else "saw_pad")
            for p in tonic
        ]
    return out


#: Bass rhythms: (beat position, length in beats, chord tone: 0 root, 1 fifth, 2 octave, velocity factor).
#: Roots and octaves only: a fifth on beat 3 was the biggest chroma change in the bar, and ab2n's
#: analyser (which finds bar lines by harmonic change and low accents) heard the bar start there.
_BASS = {
    "round_bass": ((0.0, 2.0, 0, 1.0), (2.0, 1.0, 0, 0.55), (3.0, 0.5, 2, 0.5), (3.5, 0.5, 0, 0.45)),
    "round_bass_lo": ((0.0, 3.0, 0, 1.0), (3.0, 1.0, 0, 0.5)),
    "sub_bass": ((0.0, 4.0, 0, 1.0),),
    "sub_bass_hi": ((0.0, 2.0, 0, 1.0), (2.0, 2.0, 0, 0.85)),
    # The downbeat held, the off-beats pumping: with the root on every eighth the low band gave
    # ab2n's analyser no bar line to hear (downbeat contrast a third of acoustic's), and on steady
    # tempo maps it read the electronic beds in 3/4.
    "synth_bass": ((0.0, 0.95, 0, 1.0), (1.5, 0.45, 0, 0.6), (2.5, 0.45, 2, 0.6), (3.5, 0.45, 0, 0.6)),
    "synth_bass_lo": ((0.0, 1.5, 0, 1.0), (2.0, 1.5, 0, 0.85)),
    "piano_bass": ((0.0, 2.0, 0, 1.0), (2.0, 2.0, 0, 0.5)),
}


def bass_notes(clock: Clock, style: Style, chord_list: list[Chord]) -> list[Note]:
    """The bass stem: the chord's root on every downbeat, the style's rhythm between."""
    out: list[Note] = []
    for ch in chord_list:
        level = clock.level(ch.bar)
        root = 36 + (ch.root - 36) % 12  # C2..B2
        if root > 43:
            root -= 12
        key = style.bass
        if ch.bar == clock.bars - 1:
            out.append(note(clock, clock.bar_pos(ch.bar), 8.0, root, 0.9, FINAL_VOICE.get(style.bass, style.bass)))
            continue
        if level < 0.4 and f"{key}_lo" in _BASS:
            key = f"{key}_lo"
        elif level >= 0.6 and f"{key}_hi" in _BASS:
            key = f"{key}_hi"
        for pos, dur, tone, vf in fit_bar(_BASS[key], clock.bar_len(ch.bar)):
            pitch = root + (7 if tone == 1 else 12 if tone == 2 else 0)
            out.append(note(clock, clock.bar_pos(ch.bar) + pos, dur, pitch, (0.6 + 0.35 * level) * vf, style.bass))
    return out
