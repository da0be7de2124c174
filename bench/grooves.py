"""Generated grooves with a known tempo, for the tempo estimator (issue 17).

Usage: python -m bench.grooves [--part held-in|held-out|all] [--seed N]

Drum, bass and chord patterns in 4/4 that trip tempo estimators: swing, rubato intros, half-time
feels, busy sixteenth hats, syncopated (3+3+2) bass, strummed eighths without drums, click tracks,
60-180 BPM. The truth is the tempo each groove is generated at. `tempo_set` draws a fixed random
set (style, tempo, levels, seed) and splits it once into a held-in half, which the estimator may be
tuned on, and a held-out half, which it is only measured on.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

SR = 22050
STYLES = ("straight", "sixteenths", "swing", "halftime", "rubato", "syncopated", "strum", "clicks")


@dataclass(frozen=True)
class Groove:
    """One generated groove: its style, tempo, hi-hat level and seed."""

    style: str
    bpm: float
    hat_gain: float
    seed: int
    duration_s: float = 30.0

    def samples(self) -> np.ndarray:
        """Mono float32 samples at 22.05 kHz."""
        return groove(self.bpm, self.style, duration_s=self.duration_s, seed=self.seed, hat_gain=self.hat_gain)


def _hit(y: np.ndarray, t: float, sound: np.ndarray, gain: float) -> None:
    s = int(t * SR)
    k = max(0, min(len(sound), len(y) - s))
    y[s : s + k] += gain * sound[:k]


def _kit(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Kick (a falling 55 Hz sine), snare (noise and a 190 Hz body), hi-hat (high-passed noise), click."""
    t = np.arange(int(0.25 * SR)) / SR
    kick = np.sin(2 * np.pi * (55 * t + 40 * (1 - np.exp(-t * 30)) / 30)) * np.exp(-t * 12)
    snare = (0.7 * rng.standard_normal(len(t)) + np.sin(2 * np.pi * 190 * t)) * np.exp(-t * 25)
    noise = rng.standard_normal(len(t))
    hat = np.diff(noise, prepend=0.0) * np.exp(-t * 90)
    # Its own generator: the other sounds and the rubato intro draw from ``rng`` as they always did.
    click = np.random.default_rng(1).standard_normal(len(t)) * np.exp(-t * 200)
    return {"kick": kick, "snare": snare, "hat": hat, "click": click}


def _chord(y: np.ndarray, t: float, length_s: float, which: int, gain: float, *, decay: float = 1.5) -> None:
    roots = (57, 53, 60, 55)
    tt = np.arange(int(length_s * SR)) / SR
    env = np.minimum(1.0, tt / 0.01) * np.exp(-tt * decay)
    root = roots[int(which) % 4]
    tone = sum(np.sin(2 * np.pi * 440 * 2 ** ((root + k - 69) / 12) * tt) for k in (0, 4, 7, -12))
    _hit(y, t, tone * env * 0.1, gain)


def _bass(y: np.ndarray, t: float, length_s: float, midi: int, gain: float) -> None:
    tt = np.arange(int(length_s * SR)) / SR
    tone = np.sin(2 * np.pi * 440 * 2 ** ((midi - 69) / 12) * tt) * np.exp(-tt * 4) * np.minimum(1.0, tt / 0.005)
    _hit(y, t, tone, gain)


def _drums(y: np.ndarray, kit: dict[str, np.ndarray], t: float, i: int, beat: float, style: str, hat: float) -> None:
    """One beat of the drum pattern (beat ``i`` of the groove at time ``t``)."""
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
        if style == "syncopated" and pos == 1:
            _hit(y, t + beat / 2, kit["kick"], 0.8)
    if style == "sixteenths":
        for k, g in enumerate((1.0, 0.5, 0.75, 0.5)):
            _hit(y, t + k * beat / 4, kit["hat"], hat * g)
    else:
        _hit(y, t, kit["hat"], hat)
        _hit(y, t + beat * (2 / 3 if style == "swing" else 1 / 2), kit["hat"], hat * 0.72)


def groove(bpm: float, style: str, *, duration_s: float = 30.0, seed: int = 0, hat_gain: float = 0.25) -> np.ndarray:
    """A groove at ``bpm`` in 4/4 (see the module docstring for the styles).

    ``straight``: kick 1 and 3, snare 2 and 4, eighth hats, a chord a bar. ``sixteenths``: the same
    with sixteenth hats. ``swing``: eighths at 2:1 and a walking bass on the beats. ``halftime``:
    kick on 1, snare on 3 only (the feel is half the tempo, the pulse is not). ``rubato``: 8 s of
    free chords at an irregular pace, then the straight groove. ``syncopated``: an extra kick on the
    "and" of 2 and a 3+3+2 bass (dotted eighths, which an autocorrelation hears as 4/3 the tempo).
    ``strum``: no drums, chords strummed on every eighth (beats louder), bass on 1 and 3.
    ``clicks``: a click a beat, louder on the downbeat, and a chord a bar.
    """
    rng = np.random.default_rng(seed)
    kit = _kit(rng)
    y = np.zeros(int(duration_s * SR))
    beat = 60.0 / bpm
    start = 0.2
    if style == "rubato":
        t = 0.1
        while t < 8.0:
            _chord(y, t, rng.uniform(0.6, 1.7), int(rng.integers(4)), 0.6)
            t += rng.uniform(0.6, 1.7)
        start = 8.0
    n_beats = int((duration_s - start - 0.3) / beat)
    for i in range(n_beats):
        t = start + i * beat
        pos = i % 4
        if style == "clicks":
            _hit(y, t, kit["click"], 1.0 if pos == 0 else 0.5)
        elif style == "strum":
            _chord(y, t, beat / 2, (i // 4) % 4, 0.8 if pos in (0, 2) else 0.6, decay=6.0)
            _chord(y, t + beat / 2, beat / 2, (i // 4) % 4, 0.35, decay=6.0)
            if pos in (0, 2):
                _bass(y, t, beat * 1.8, 40 + (i // 4) % 4 * 2, 0.35)
            continue
        else:
            _drums(y, kit, t, i, beat, style, hat_gain)
        if style == "swing":
            _bass(y, t, beat * 0.9, 40 + (i * 5) % 12, 0.3)
        elif style == "syncopated" and pos in (0, 2):
            for k in (0.0, 0.75, 1.5):  # 3+3+2 sixteenths over two beats
                _bass(y, t + k * beat, beat * 0.7, 40 + (i // 4) % 4 * 2, 0.35)
        if pos == 0 and style != "swing":
            _chord(y, t, 4 * beat, (i // 4) % 4, 0.3)
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


def tempo_set(n: int = 96, *, seed: int = 17) -> tuple[list[Groove], list[Groove]]:
    """A fixed random set of ``n`` grooves, split once into (held-in, held-out) halves.

    Styles cycle so each half has every style; tempi are log-uniform over 60-180 BPM.
    """
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        style = STYLES[i % len(STYLES)]
        bpm = round(float(60 * 3 ** rng.uniform(0, 1)), 1)
        items.append(Groove(style, bpm, round(float(rng.uniform(0.1, 0.4)), 2), int(rng.integers(1 << 16))))
    order = rng.permutation(n)
    held_in = [items[i] for i in sorted(order[: n // 2])]
    held_out = [items[i] for i in sorted(order[n // 2 :])]
    return held_in, held_out


def relation(got: float, truth: float) -> str:
    """'same' within 4 %, else the nearest metrical relation's name or 'other'."""
    for name, ratio in (("same", 1.0), ("x2", 2.0), ("x1/2", 0.5), ("x3/2", 1.5), ("x2/3", 2 / 3)):
        if abs(got / (truth * ratio) - 1) <= 0.04:
            return name
    return "other"


def measure_tempo(items: list[Groove]) -> dict[str, object]:
    """The analyser's tempo on each groove: rows, the count within 4 % and the count per relation."""
    from ab2n.music.beats import analyze_samples

    rows = []
    for g in items:
        got = analyze_samples(g.samples()).tempo_bpm
        rows.append({"style": g.style, "bpm": g.bpm, "got": round(got, 1), "relation": relation(got, g.bpm)})
    names = ("same", "x2", "x1/2", "x3/2", "x2/3", "other")
    return {
        "n": len(rows),
        "same": sum(r["relation"] == "same" for r in rows),
        "relations": {k: sum(r["relation"] == k for r in rows) for k in names},
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the analyser's tempo on each groove of a part, and the count within 4 %."""
    ap = argparse.ArgumentParser(prog="python -m bench.grooves")
    ap.add_argument("--part", choices=("held-in", "held-out", "all"), default="all")
    ap.add_argument("--seed", type=int, default=17, help="17: the set tuned on; others: fresh sets")
    args = ap.parse_args(argv)
    held_in, held_out = tempo_set(seed=args.seed)
    for name, items in (("held-in", held_in), ("held-out", held_out)):
        if args.part not in (name, "all"):
            continue
        result = measure_tempo(items)
        for r in result["rows"]:  # type: ignore[attr-defined]
            print(f"{name:8s} {r['style']:10s} {r['bpm']:6.1f} {r['got']:6.1f} {r['relation']}")
        print(f"{name}: {result['same']}/{result['n']} within 4 %; {result['relations']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
