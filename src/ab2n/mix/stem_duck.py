"""Ducking a composed bed stem by stem and band by band under speech.

A recording comes as one signal, so under speech it can only go down as a whole (``duck.py``).
A composed bed comes as its stems (``music.compose.score.bed_stems``), and they are not alike
under a voice: the harmony and melody sit in the voice's band and carry no pulse, the drums and
bass carry the pulse and the bar lines mostly outside it (the kick and bass below ~250 Hz, the
cymbals above ~4 kHz). So under speech:

- the harmony and melody go down the mix's whole depth (``MixPlan.duck_depth_db``), every band;
- the drums and bass go down the whole depth inside the voice's band, and only
  ``PULSE_DUCK_DB`` outside it.

The voice's band is where speech is understood (the ANSI S3.5 speech intelligibility index puts
~88 % of its weight in the octaves 500 Hz-4 kHz, 354 Hz-5.7 kHz), so the rule the mix keeps
(the music >= 15 dB under the voice over each whole utterance) is kept there; the pulse outside
it is what a listener and a beat tracker follow through the talk. The envelopes are
``duck.duck_gain_db``'s (the same look-ahead, holds and half-way returns), only their depths differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ab2n.mix.duck import ATTACK_S, RELEASE_S, duck_gain_db

#: Stems that carry the pulse: ducked fully only in the voice's band.
PULSE_STEMS = ("drums", "bass")
#: The band the voice is understood in: crossovers of the split (zero-phase Butterworth band-pass,
#: 2nd order a side, applied forward and back).
VOICE_BAND_HZ = (250.0, 4000.0)
#: How far the drums and bass go down outside the voice's band under speech (dB).
PULSE_DUCK_DB = 6.0


def pulse_depth_db(duck_preset: str, depth_db: float) -> float:
    """How far the pulse stems go down outside the voice's band for a duck preset: ``PULSE_DUCK_DB``
    (never deeper than the duck), except under ``wcag``, whose rule (WCAG 2 G56: background sound
    20 dB under the speech) is a whole-band one, so there the whole bed goes down the whole depth."""
    return depth_db if duck_preset == "wcag" else min(PULSE_DUCK_DB, depth_db)


def duck_stems(
    stems: Mapping[str, np.ndarray],
    sample_rate: int,
    regions: Sequence[tuple[float, float]],
    depth_db: float,
    *,
    pulse_db: float = PULSE_DUCK_DB,
    offset_s: float = 0.0,
) -> np.ndarray:
    """The bed (the stems' sum, (n, 2)) ducked under ``regions``: every stem ``depth_db`` down in the
    voice's band, the harmony and melody ``depth_db`` down outside it too, the pulse stems only
    ``min(pulse_db, depth_db)``.

    Args:
        stems: Stereo float arrays (n, 2) by stem name, on the music's timeline.
        sample_rate: Their rate.
        regions: Ducked spans (programme time: ``duck.duck_regions``).
        depth_db: The mix's duck depth (positive).
        pulse_db: The pulse stems' depth outside the voice's band.
        offset_s: Where the music starts on the programme (regions are shifted by it).
    """
    from scipy import signal

    parts = list(stems.values())
    n = len(parts[0]) if parts else 0
    tonal = np.zeros((n, 2), np.float64)
    pulse = np.zeros((n, 2), np.float64)
    for name, y in stems.items():
        (pulse if name in PULSE_STEMS else tonal)[:] += y
    if not regions or depth_db <= 0 or n == 0:
        return np.asarray(tonal + pulse, np.float32)
    t = offset_s + np.arange(n) / sample_rate
    full = 10 ** (duck_gain_db(t, regions, depth_db) / 20)
    outside = 10 ** (duck_gain_db(t, regions, min(pulse_db, depth_db)) / 20)
    out = tonal * full[:, None] + pulse * outside[:, None]
    # The pulse's voice band goes down the rest of the way: (full - outside) x its band-pass, worked
    # only around the ducked spans (the filter's settling half a second either side).
    sos = signal.butter(2, VOICE_BAND_HZ, btype="bandpass", fs=sample_rate, output="sos")
    extra = full - outside
    pad = sample_rate // 2
    for a, b in _spans(regions, offset_s, n, sample_rate, pad):
        band = signal.sosfiltfilt(sos, pulse[a:b], axis=0)
        out[a:b] += extra[a:b, None] * band
    return np.asarray(out, np.float32)


def _spans(
    regions: Sequence[tuple[float, float]], offset_s: float, n: int, sample_rate: int, pad: int
) -> list[tuple[int, int]]:
    """Sample spans covering each region with its ramps and ``pad`` either side, overlaps joined."""
    out: list[list[int]] = []
    for a, b in sorted(regions):
        i0 = max(0, int((a - offset_s - ATTACK_S) * sample_rate) - pad)
        i1 = min(n, int((b - offset_s + RELEASE_S) * sample_rate) + pad)
        if i1 <= i0:
            continue
        if out and i0 <= out[-1][1]:
            out[-1][1] = max(out[-1][1], i1)
        else:
            out.append([i0, i1])
    return [(a, b) for a, b in out]
