"""Drums per style: a groove per dynamics tier, fills into new sections, accents on the cuts (pure).

The downbeat's kick is the loudest hit of a bar (an analyser finds bar lines by low-band accents),
and every beat has an onset somewhere in the kit so a tracker hears the pulse even in quiet bars.
Under speech the snare and crash step back (the voice sits where they are) and a soft kick marks
every beat below the voice. Accents: "crash" a
cymbal and a kick on the cut, "hit" a lighter cymbal (cinematic: a low boom), "drop" the beat
before the cut left empty in every stem (see :func:`drop_windows`) and a crash on the re-entry.
"""

from __future__ import annotations

import numpy as np

from ab2n.music.compose.notes import Clock, Note

#: Per kit and tier (0 quiet, 1 mid, 2 full): voice -> ((sixteenth in the bar, velocity), ...).
#: Beat 3's kick stays well under beat 1's: at 0.8-0.9 of it, ab2n's analyser read the bar from
#: beat 3 on half the acoustic and cinematic pieces (blind downbeats 0.2-0.4 where the plan had 0.8-1).
_Grooves = dict[str, tuple[tuple[int, float], ...]]
KITS: dict[str, tuple[_Grooves, _Grooves, _Grooves]] = {
    "pop": (
        {
            "kick": ((0, 1.0), (8, 0.5)),
            "hat": ((0, 0.5), (4, 0.45), (8, 0.5), (12, 0.45)),
            "snare": ((4, 0.4), (12, 0.4)),
        },
        {
            "kick": ((0, 1.0), (8, 0.55), (10, 0.4)),
            "snare": ((4, 0.8), (12, 0.8)),
            "hat": tuple((i, 0.5 if i % 4 == 0 else 0.22) for i in range(0, 16, 2)),
        },
        {
            "kick": ((0, 1.0), (6, 0.4), (8, 0.6), (10, 0.4)),
            "snare": ((4, 0.9), (12, 0.9)),
            "hat": tuple((i, 0.55 if i % 4 == 0 else 0.25) for i in range(0, 16, 2)),
            "shaker": tuple((i, 0.12 + 0.12 * (i % 4 == 0)) for i in range(16)),
        },
    ),
    "lofi": (
        {
            "kick": ((0, 1.0), (8, 0.6)),
            "hat": tuple((i, 0.4 if i % 4 == 0 else 0.2) for i in range(0, 16, 2)),
            "snare": ((4, 0.35), (12, 0.35)),
        },
        {
            "kick": ((0, 1.0), (8, 0.55), (10, 0.4)),
            "snare": ((4, 0.7), (12, 0.7)),
            "hat": tuple((i, 0.45 if i % 4 == 0 else 0.22) for i in range(0, 16, 2)),
        },
        {
            "kick": ((0, 1.0), (8, 0.6), (10, 0.45), (14, 0.3)),
            "snare": ((4, 0.8), (12, 0.8), (15, 0.25)),
            "hat": tuple((i, 0.5 if i % 4 == 0 else 0.25) for i in range(0, 16, 2)),
        },
    ),
    "edm": (
        {
            "kick": ((0, 1.0), (8, 0.8)),
            "hat": ((2, 0.35), (6, 0.35), (10, 0.35), (14, 0.35)),
            "clap": ((4, 0.3), (12, 0.3)),
        },
        {
            "kick": ((0, 1.0), (4, 0.85), (8, 0.9), (12, 0.85)),
            "clap": ((4, 0.75), (12, 0.75)),
            "open_hat": ((2, 0.45), (6, 0.45), (10, 0.45), (14, 0.45)),
        },
        {
            "kick": ((0, 1.0), (4, 0.9), (8, 0.95), (12, 0.9)),
            "clap": ((4, 0.85), (12, 0.85)),
            "open_hat": ((2, 0.5), (6, 0.5), (10, 0.5), (14, 0.5)),
            "hat": tuple((i, 0.3) for i in range(16) if i % 4 != 2),
        },
    ),
    "cinematic": (
        {"taiko": ((0, 1.0), (4, 0.3), (8, 0.45), (12, 0.3))},
        {"taiko": ((0, 1.0), (4, 0.35), (8, 0.5), (12, 0.35)), "tom": ((6, 0.35), (14, 0.4))},
        {
            "taiko": ((0, 1.0), (4, 0.4), (8, 0.55), (12, 0.4)),
            "tom": ((6, 0.5), (10, 0.4), (14, 0.55)),
            "snare": tuple((i, 0.28 + 0.15 * (i % 4 == 0)) for i in range(16)),
        },
    ),
    # A soft kick on every beat, the downbeat's the loudest: ambient's only steady low onsets (with
    # two a bar, librosa found a beat at 0.82 of cuts and the blind downbeats fell to 0.55).
    "pulse": (
        {"kick": ((0, 0.85), (4, 0.3), (8, 0.5), (12, 0.3)), "shaker": ((0, 0.3), (4, 0.3), (8, 0.3), (12, 0.3))},
        {
            "kick": ((0, 0.9), (4, 0.35), (8, 0.55), (12, 0.35)),
            "shaker": tuple((i, 0.3 if i % 4 == 0 else 0.2) for i in range(0, 16, 2)),
        },
        {
            "kick": ((0, 1.0), (4, 0.4), (8, 0.6), (12, 0.4)),
            "shaker": tuple((i, 0.32 if i % 4 == 0 else 0.22) for i in range(0, 16, 2)),
        },
    ),
    # The piano's: a soft kick on every beat and a shaker on the beats only (with the pulse's
    # eighths librosa heard a 91 BPM piano piece at 178).
    "piano": (
        {"kick": ((0, 0.8), (4, 0.3), (8, 0.45), (12, 0.3)), "shaker": ((0, 0.25), (4, 0.2), (8, 0.25), (12, 0.2))},
        {"kick": ((0, 0.85), (4, 0.32), (8, 0.5), (12, 0.32)), "shaker": ((0, 0.28), (4, 0.22), (8, 0.28), (12, 0.22))},
        {"kick": ((0, 0.9), (4, 0.35), (8, 0.55), (12, 0.35)), "shaker": ((0, 0.3), (4, 0.25), (8, 0.3), (12, 0.25))},
    ),
}


def _tier(level: float) -> int:
    return 0 if level < 0.4 else 1 if level < 0.7 else 2


def drop_windows(clock: Clock) -> list[tuple[float, float]]:
    """The beat before each "drop" accent, in seconds (every stem leaves it empty)."""
    out = []
    for a in clock.plan.accents:
        if a.kind == "drop":
            pos = clock.bar_pos(a.bar)
            out.append((clock.at(pos - 1), clock.at(pos)))
    return out


def _fill(clock: Clock, kit: str, bar: int) -> list[Note]:
    """Sixteenths on the last beat into the next section (toms for cinematic, snare otherwise)."""
    voice = "tom" if kit == "cinematic" else "snare"
    out = []
    for k in range(4):
        pos = clock.bar_pos(bar) + clock.bar_len(bar) - 1 + k * 0.25
        out.append(Note(clock.at(pos), 0.2, 0, 0.45 + 0.12 * k, voice))
    return out


def drum_notes(clock: Clock, kit: str, swing: float, rng: np.random.Generator) -> list[Note]:
    """The drum stem."""
    if kit not in KITS:
        return []
    out: list[Note] = []
    starts = {s.start_bar for s in clock.plan.sections}
    last = clock.bars - 1
    for bar in range(last):
        tier = _tier(clock.level(bar))
        if clock.section(bar) == "intro":
            tier = 0
        t0, t1 = clock.at(clock.bar_pos(bar)), clock.at(clock.bar_pos(bar + 1))
        sixes = 4 * clock.bar_len(bar)
        speaking = clock.speech_at(t0, t1)
        fill = bar + 1 in starts and bar + 1 < last and tier >= 1 and not speaking
        for voice, kit_hits in KITS[kit][tier].items():
            # A changed bar: a short one ends early, a 5/4 one plays its last beat twice.
            hits = [(six, v) for six, v in kit_hits if six < sixes]
            hits += [(six + 4 * e, v) for e in range(1, sixes // 4 - 3) for six, v in kit_hits if six >= 12]
            if speaking and voice == "kick":
                hits = _beat_kicks(hits, sixes)
            for six, vel in hits:
                if fill and six >= sixes - 4 and voice in ("snare", "tom", "clap"):
                    continue
                if speaking and voice in ("snare", "clap", "open_hat"):
                    vel *= 0.5
                pos = clock.bar_pos(bar) + six / 4 + (swing * 0.25 if six % 4 == 2 else 0.0)
                jitter = 0.004 * rng.standard_normal() if voice in ("hat", "shaker") else 0.0
                v = vel * (1 + 0.06 * rng.standard_normal()) * (0.85 + 0.15 * clock.level(bar))
                out.append(Note(clock.at(pos) + jitter, 0.3, 0, float(np.clip(v, 0, 1)), voice))
        if fill:
            out += _fill(clock, kit, bar)
    out += _accent_notes(clock, kit)
    if last >= 0:  # the final downbeat: everything together, once
        t = clock.at(clock.bar_pos(last))
        out += [Note(t, 2.0, 0, 1.0, "crash"), Note(t, 0.5, 0, 1.0, "taiko" if kit == "cinematic" else "kick")]
    return out


def _beat_kicks(hits: list[tuple[int, float]], sixes: int) -> list[tuple[int, float]]:
    """Under speech the snare steps back and the pulse moves below the voice: a soft kick on every
    beat that has none (the downbeat's stays the loudest). The mix ducks the bed under a voice, and
    the voice's own onsets then outnumber the music's: with only the halved snare on 2 and 4,
    librosa found a beat at 0.55 of the cuts of a tuning video with talk throughout (0.86 planned)."""
    have = {six for six, _ in hits}
    return sorted([*hits, *((six, 0.45) for six in range(4, sixes, 4) if six not in have)])


def _accent_notes(clock: Clock, kit: str) -> list[Note]:
    out = []
    for a in clock.plan.accents:
        if a.bar >= clock.bars - 1:
            continue
        t = a.time_s
        if a.kind in ("crash", "drop"):
            out.append(Note(t, 2.0, 0, 0.9 * (0.7 if clock.speech_at(t, t + 1) else 1.0), "crash"))
        elif kit not in ("pulse", "piano"):
            out.append(Note(t, 1.5, 0, 0.5, "boom" if kit == "cinematic" else "crash"))
        # A second low hit on the cut: ab2n's analyser moves its bar lines only when about two
        # bars of low-band accents back the move, so after a changed bar the hit must stand out.
        out.append(Note(t, 0.5, 0, 0.8, "taiko" if kit == "cinematic" else "kick"))
        if kit == "cinematic" and a.kind != "hit":
            out.append(Note(t, 2.5, 0, 0.9, "boom"))
    return out
