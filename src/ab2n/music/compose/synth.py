"""Synthesis on numpy/scipy: voices, four stems (drums, bass, harmony, melody), a room, a WAV.

No SoundFont needed: every voice is a few lines of additive, FM, Karplus-Strong or noise synthesis,
rendered once per (voice, pitch, length, velocity step) and reused (a piece repeats its notes).
Harmony and melody share a room (an exponentially decaying stereo noise impulse response,
convolved in FFT blocks); drums get a little of it. The stems are summed into the bed, which is
written 6 dB under full scale like a catalog bed (the mix sets its level and ducks it).
"""

from __future__ import annotations

import threading
import wave
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from ab2n.errors import Cancelled
from ab2n.media.ffmpeg import commit_output, temp_output_path
from ab2n.music.compose.notes import Note

SR = 48000
STEMS = ("drums", "bass", "harmony", "melody")
#: Longest a voice rings (seconds): beyond it every voice here is under -60 dB or released.
MAX_RING_S = 6.0
PEAK = 0.5  # the bed's peak (-6 dBFS)

Voice = Callable[[float, float, float], np.ndarray]


def _t(n: int) -> np.ndarray:
    return np.arange(n) / SR


def _adsr(n: int, hold_n: int, a: float, d: float, s: float, r: float) -> np.ndarray:
    """Attack/decay/sustain while held (``hold_n`` samples), release after, length ``n``."""
    t = _t(n)
    env = np.where(t < a, t / max(a, 1e-4), s + (1 - s) * np.exp(-(t - a) / max(d, 1e-4)))
    hold_t = hold_n / SR
    rel = np.exp(-np.maximum(0.0, t - hold_t) / max(r, 1e-4))
    return env * np.where(t < hold_t, 1.0, rel)


def _hz(pitch: int) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)


def _length(dur: float, release: float) -> int:
    return int(min(MAX_RING_S, dur + release) * SR)


def _additive(f: float, n: int, partials: Iterable[tuple[float, float, float]]) -> np.ndarray:
    """Sum of sines: (ratio, amplitude, decay rate 1/s); partials above 16 kHz left out, each
    computed only while it is within 60 dB of its start."""
    t = _t(n)
    y = np.zeros(n)
    for ratio, amp, decay in partials:
        if f * ratio >= 16000:
            continue
        m = min(n, int(6.9 / decay * SR)) if decay else n
        part = amp * np.sin(2 * np.pi * f * ratio * t[:m])
        y[:m] += part * np.exp(-decay * t[:m]) if decay else part
    return y


def piano(f: float, dur: float, vel: float, ring: float = 1.0) -> np.ndarray:
    """Struck string: slightly stretched partials, the high ones dying first, a soft hammer;
    ``ring`` scales the decay rates (the pedal down: 0.35)."""
    n = _length(dur, 0.35)
    b = 0.0004
    parts = [
        (
            k * np.sqrt(1 + b * k * k),
            (vel**0.5 if k > 3 else 1.0) / k**1.3,
            ring * (0.7 + 0.55 * k * (f / 262) ** 0.5),
        )
        for k in range(1, 10)
    ]
    y = _additive(f, n, parts)
    y *= _adsr(n, int(dur * SR), 0.003, 10.0, 1.0, 0.12)
    return y


def epiano(f: float, dur: float, vel: float) -> np.ndarray:
    """Electric piano (FM, ratio 1, the bark decaying fast) with a bell-like tine."""
    n = _length(dur, 0.3)
    t = _t(n)
    index = (0.8 + 1.6 * vel) * np.exp(-t * 4.0)
    y = np.sin(2 * np.pi * f * t + index * np.sin(2 * np.pi * f * t))
    y += 0.12 * np.sin(2 * np.pi * 7 * f * t) * np.exp(-t * 25) if 7 * f < 16000 else 0.0
    return y * _adsr(n, int(dur * SR), 0.004, 1.2, 0.35, 0.15)


def guitar(f: float, dur: float, vel: float) -> np.ndarray:
    """Karplus-Strong plucked string, computed a period at a time (vectorised per period)."""
    from scipy import signal  # here, not at the top: scipy.signal costs every face ~1.5 s to import

    n = _length(dur, 0.25)
    period = max(2, round(SR / f))
    rng = np.random.default_rng(int(f * 100))
    y = np.zeros(n + period + 1)
    y[: period + 1] = rng.uniform(-1, 1, period + 1) * (0.5 + 0.5 * vel)
    y[: period + 1] = signal.lfilter([0.5, 0.5], [1.0], y[: period + 1])
    decay = 0.996 if f < 300 else 0.993
    for start in range(period + 1, n + period + 1, period):
        end = min(start + period, n + period + 1)
        src = y[start - period : end - period]
        src_prev = y[start - period - 1 : end - period - 1]
        y[start:end] = decay * 0.5 * (src + src_prev)
    out = y[:n]
    return out * _adsr(n, int(dur * SR), 0.001, 10.0, 1.0, 0.08)


TABLE_N = 4096


@lru_cache(maxsize=64)
def _table(top: int, power: float, odd: bool = False) -> np.ndarray:
    """One cycle of a band-limited wave: partials 1..top at 1/k**power (odd ones only for a square)."""
    x = np.arange(TABLE_N) / TABLE_N
    ks = range(1, top + 1, 2) if odd else range(1, top + 1)
    return np.asarray(sum(np.sin(2 * np.pi * k * x) / k**power for k in ks), np.float32)


def _osc(table: np.ndarray, cycles: np.ndarray) -> np.ndarray:
    """Read a wavetable at a running phase (in cycles)."""
    idx = (np.mod(cycles, 1.0) * TABLE_N).astype(np.int64)
    return table[idx]


def pad(
    f: float, dur: float, vel: float, *, bright: float = 1.0, vibrato: float = 0.0, attack: float = 0.35
) -> np.ndarray:
    """Detuned saws (band-limited wavetable) with a slow attack: strings, synth pads."""
    n = _length(dur, 0.6)
    t = _t(n)
    top = max(2, int(min(14, 5000 * bright / f)))
    table = _table(top, 1.2)
    vib = 1 + vibrato * np.sin(2 * np.pi * 5.2 * t) * np.clip(t / 0.6, 0, 1)
    base = np.cumsum(vib) / SR * f
    y = sum(_osc(table, base * (1 + d) + ph) for d, ph in ((-0.006, 0.0), (0.0, 0.31), (0.007, 0.67)))
    return np.asarray(y) / 3 * _adsr(n, int(dur * SR), attack, 1.0, 0.8, 0.5) * (0.4 + 0.6 * vel)


def strings(f: float, dur: float, vel: float) -> np.ndarray:
    """Ensemble strings: a pad with vibrato. A quick bow (80 ms): with a 250 ms swell the chord
    change smeared over two beats and ab2n's analyser put the cinematic bar lines a beat late."""
    return pad(f, dur, vel, bright=0.8, vibrato=0.004, attack=0.08)


def spiccato(f: float, dur: float, vel: float) -> np.ndarray:
    """Short bowed strings for ostinatos: a quick attack and release."""
    n = _length(dur, 0.1)
    t = _t(n)
    y = _osc(_table(max(2, int(min(10, 4000 / f))), 1.3), f * t)
    return y * _adsr(n, int(dur * SR), 0.012, 0.2, 0.6, 0.06)


def saw_pad(f: float, dur: float, vel: float) -> np.ndarray:
    """A darker synth pad."""
    return pad(f, dur, vel, bright=0.5, attack=0.15)


def glass_pad(f: float, dur: float, vel: float) -> np.ndarray:
    """Soft sine pad with a fifth above, very slow attack (ambient)."""
    n = _length(dur, 1.2)
    y = _additive(f, n, [(1, 1.0, 0), (2, 0.3, 0.3), (3, 0.12, 0.6)])
    return y * _adsr(n, int(dur * SR), 0.8, 2.0, 0.8, 1.0)


def arp_pluck(f: float, dur: float, vel: float) -> np.ndarray:
    """A short bright pluck for arpeggios."""
    n = _length(dur, 0.15)
    y = _additive(f, n, [(1, 1.0, 6), (2, 0.5, 12), (3, 0.3, 18), (4, 0.15, 25)])
    return y * _adsr(n, int(dur * SR), 0.002, 0.25, 0.2, 0.06) * (0.5 + 0.5 * vel)


def bell(f: float, dur: float, vel: float) -> np.ndarray:
    """FM bell for ambient melodies (ratio 4: a ratio of 3.5 put inharmonic partials in the chroma and
    an ambient piece in D major read as F# minor)."""
    n = _length(dur, 1.2)
    t = _t(n)
    index = 2.0 * np.exp(-t * 1.5)
    y = np.sin(2 * np.pi * f * t + index * np.sin(2 * np.pi * 4.0 * f * t))
    return y * np.exp(-t * 1.1) * np.minimum(1, t / 0.002)


def horn(f: float, dur: float, vel: float) -> np.ndarray:
    """Brass-like lead: odd and even partials swelling in with the breath."""
    n = _length(dur, 0.2)
    t = _t(n)
    swell = np.clip(t / 0.08, 0, 1)
    y = sum((swell ** (0.5 + 0.4 * k)) * np.sin(2 * np.pi * f * k * t) / k for k in range(1, 7) if f * k < 12000)
    return np.asarray(y) * _adsr(n, int(dur * SR), 0.05, 1.0, 0.85, 0.15)


def square_lead(f: float, dur: float, vel: float) -> np.ndarray:
    """Electronic lead: band-limited square with a little vibrato."""
    n = _length(dur, 0.1)
    t = _t(n)
    cycles = f * (t + 0.002 / 5.5 * np.sin(2 * np.pi * 5.5 * t))
    y = _osc(_table(max(1, min(11, int(14000 / f))), 1.0, odd=True), cycles)
    return y * _adsr(n, int(dur * SR), 0.005, 0.3, 0.7, 0.08)


def pluck_lead(f: float, dur: float, vel: float) -> np.ndarray:
    """Acoustic melody: a plucked string an octave up blended with a whistle-like sine."""
    n = _length(dur, 0.2)
    t = _t(n)
    sine = np.sin(2 * np.pi * f * t) * _adsr(n, int(dur * SR), 0.02, 0.5, 0.6, 0.1)
    return 0.6 * guitar(f, dur, vel)[:n] + 0.5 * sine


def epiano_lead(f: float, dur: float, vel: float) -> np.ndarray:
    """Lo-fi melody: the electric piano, a touch brighter."""
    return epiano(f, dur, min(1.0, vel + 0.2))


def round_bass(f: float, dur: float, vel: float) -> np.ndarray:
    """Fingered bass: sine and octave, softly saturated."""
    n = _length(dur, 0.08)
    y = _additive(f, n, [(1, 1.0, 1.5), (2, 0.35, 3.0), (3, 0.12, 5.0)])
    return np.tanh(1.5 * y) * _adsr(n, int(dur * SR), 0.005, 1.5, 0.6, 0.06)


def sub_bass(f: float, dur: float, vel: float) -> np.ndarray:
    """Low sine with a soft attack (cinematic, ambient)."""
    n = _length(dur, 0.4)
    y = _additive(f, n, [(1, 1.0, 0), (2, 0.2, 0.5)])
    return y * _adsr(n, int(dur * SR), 0.04, 2.0, 0.8, 0.3)


def synth_bass(f: float, dur: float, vel: float) -> np.ndarray:
    """Saw bass whose brightness closes fast (a filter envelope, done per partial)."""
    n = _length(dur, 0.05)
    y = _additive(f, n, [(k, 1 / k, 2 + 9 * k) for k in range(1, 10)])
    return np.tanh(1.8 * y) * _adsr(n, int(dur * SR), 0.003, 0.4, 0.7, 0.04)


def piano_bass(f: float, dur: float, vel: float) -> np.ndarray:
    """Left hand: the root with its octave on the piano."""
    return piano(f, dur, vel) + 0.5 * piano(2 * f, dur, vel * 0.8)


def piano_pedal(f: float, dur: float, vel: float) -> np.ndarray:
    """The final chord with the pedal down: it rings through a slow last bar. Undamped, a piano
    piece at 84 BPM had decayed 40 dB under its loudest half a second before the video's end."""
    return piano(f, dur, vel, ring=0.35)


def piano_bass_pedal(f: float, dur: float, vel: float) -> np.ndarray:
    """:func:`piano_bass` with the pedal down."""
    return piano(f, dur, vel, ring=0.35) + 0.5 * piano(2 * f, dur, vel * 0.8, ring=0.35)


VOICES: dict[str, Voice] = {
    "piano": piano,
    "piano_pedal": piano_pedal,
    "piano_bass_pedal": piano_bass_pedal,
    "epiano": epiano,
    "guitar": guitar,
    "strings": strings,
    "spiccato": spiccato,
    "saw_pad": saw_pad,
    "glass_pad": glass_pad,
    "arp_pluck": arp_pluck,
    "bell": bell,
    "horn": horn,
    "square_lead": square_lead,
    "pluck_lead": pluck_lead,
    "epiano_lead": epiano_lead,
    "round_bass": round_bass,
    "sub_bass": sub_bass,
    "synth_bass": synth_bass,
    "piano_bass": piano_bass,
}


# ---- drums -------------------------------------------------------------------------------------


def _noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


def _band(x: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    from scipy import signal

    if lo and hi:
        sos = signal.butter(2, [lo, hi], btype="band", fs=SR, output="sos")
    elif lo:
        sos = signal.butter(2, lo, btype="high", fs=SR, output="sos")
    else:
        sos = signal.butter(2, hi, btype="low", fs=SR, output="sos")
    return np.asarray(signal.sosfilt(sos, x))


def _sweep(n: int, f0: float, f1: float, rate: float) -> np.ndarray:
    t = _t(n)
    f = f1 + (f0 - f1) * np.exp(-t * rate)
    return np.sin(2 * np.pi * np.cumsum(f) / SR)


@lru_cache(maxsize=32)
def drum(name: str) -> np.ndarray:
    """One hit of a drum at full velocity (mono)."""
    if name == "kick":
        n = int(0.45 * SR)
        t = _t(n)
        return _sweep(n, 160, 48, 28) * np.exp(-t * 7) + 0.3 * _band(_noise(n, 1), 1500, 6000) * np.exp(-t * 300)
    if name == "snare":
        n = int(0.3 * SR)
        t = _t(n)
        return 0.5 * _sweep(n, 330, 250, 30) * np.exp(-t * 25) + 0.7 * _band(_noise(n, 2), 1200, 9000) * np.exp(-t * 18)
    if name == "clap":
        n = int(0.3 * SR)
        t = _t(n)
        bursts = sum(np.exp(-np.maximum(0, t - d) * 180) * (t >= d) for d in (0.0, 0.011, 0.023))
        return _band(_noise(n, 3), 900, 5000) * (0.6 * bursts + 0.5 * np.exp(-t * 14))
    if name in ("hat", "open_hat", "shaker"):
        n = int((0.35 if name == "open_hat" else 0.08) * SR)
        t = _t(n)
        rate = 9 if name == "open_hat" else 60 if name == "hat" else 45
        lo = 7000 if name != "shaker" else 4000
        env = np.exp(-t * rate) * (np.minimum(1, t / 0.012) if name == "shaker" else 1)
        return 0.5 * _band(_noise(n, 4), lo, None) * env
    if name == "crash":
        n = int(2.2 * SR)
        t = _t(n)
        return 0.45 * _band(_noise(n, 5), 4000, None) * np.exp(-t * 2.0) * np.minimum(1, t / 0.003)
    if name in ("taiko", "tom"):
        n = int((0.9 if name == "taiko" else 0.5) * SR)
        t = _t(n)
        f0, f1 = (110, 62) if name == "taiko" else (190, 120)
        return _sweep(n, f0, f1, 12) * np.exp(-t * 5) + 0.25 * _band(_noise(n, 6), 200, 2500) * np.exp(-t * 40)
    if name == "boom":
        n = int(3.0 * SR)
        t = _t(n)
        return 1.2 * _sweep(n, 70, 34, 3) * np.exp(-t * 1.4) + 0.3 * _band(_noise(n, 7), None, 400) * np.exp(-t * 3)
    raise ValueError(f"no drum {name!r}")


#: Level and pan per drum (the kick and snare in the middle).
DRUM_MIX = {
    "kick": (1.0, 0.0),
    "snare": (0.55, 0.0),
    "clap": (0.5, 0.05),
    "hat": (0.4, 0.3),
    "open_hat": (0.3, 0.3),
    "shaker": (0.35, -0.35),
    "crash": (0.35, -0.2),
    "taiko": (0.9, 0.0),
    "tom": (0.55, 0.25),
    "boom": (0.9, 0.0),
}


# ---- rendering ---------------------------------------------------------------------------------


#: Voices whose sound only decays once struck: rendered once per pitch and velocity step at full
#: length, then each note takes as much as it is held plus a short release (cache hits on any length).
STRUCK = {
    "piano",
    "epiano",
    "guitar",
    "bell",
    "arp_pluck",
    "pluck_lead",
    "epiano_lead",
    "piano_bass",
    "round_bass",
    "synth_bass",
}
STRUCK_S = 4.0
RELEASE_S = 0.08


@lru_cache(maxsize=4096)
def _tone(voice: str, pitch: int, dur_ms: int, vel_step: int) -> np.ndarray:
    y = VOICES[voice](_hz(pitch), dur_ms / 1000, vel_step / 8)
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    return (y / peak if peak > 0 else y).astype(np.float32)


def tone(voice: str, pitch: int, dur_s: float, vel: float) -> np.ndarray:
    """A note of a voice, normalised to peak 1 (cached; struck voices cut from one long strike)."""
    step = max(1, round(vel * 8))
    if voice in STRUCK:
        step = 2 + 3 * (step > 4)  # two timbres (soft, hard); the note's velocity scales the level
        full = _tone(voice, pitch, round(STRUCK_S * 1000), step)
        hold = min(len(full), int(dur_s * SR))
        tail = min(len(full) - hold, int(5 * RELEASE_S * SR))
        y = full[: hold + tail].copy()
        y[hold:] *= np.exp(-np.arange(tail) / (RELEASE_S * SR)).astype(np.float32)
        return y
    # Sustained voices: lengths rounded to 50 ms (the release covers the difference).
    return _tone(voice, pitch, max(50, round(dur_s * 20) * 50), step)


def render_stem(notes: Iterable[Note], n: int, cancel: threading.Event | None = None) -> np.ndarray:
    """Stereo float32 samples (n, 2) of notes, equal-power panned."""
    out = np.zeros((n, 2), np.float32)
    for i, nt in enumerate(notes):
        if cancel is not None and i % 256 == 0 and cancel.is_set():
            raise Cancelled("cancelled")
        start = round(nt.start_s * SR)
        if start >= n:
            continue
        if nt.pitch == 0 and nt.voice in DRUM_MIX:
            level, pan = DRUM_MIX[nt.voice]
            y = drum(nt.voice) * level
        else:
            y = tone(nt.voice, nt.pitch, nt.dur_s, nt.vel)
            level, pan = 1.0, nt.pan
        y = y[: n - max(0, start)] * nt.vel
        a = 0.25 * np.pi * (1 + np.clip(pan, -1, 1))
        s0 = max(0, start)
        seg = y[s0 - start :] if start < 0 else y
        out[s0 : s0 + len(seg), 0] += seg * np.cos(a) * np.sqrt(2) * 0.5
        out[s0 : s0 + len(seg), 1] += seg * np.sin(a) * np.sqrt(2) * 0.5
    return out


def room(x: np.ndarray, rt60_s: float, seed: int) -> np.ndarray:
    """The wet signal of a room: a decaying stereo noise impulse response (pre-delay 15 ms)."""
    from scipy import signal

    n = int(min(4.0, rt60_s) * SR)
    t = _t(n)
    rng = np.random.default_rng(seed)
    ir = rng.standard_normal((n, 2)) * np.exp(-6.9 * t / rt60_s)[:, None]
    ir[: int(0.015 * SR)] = 0
    ir = np.asarray(signal.sosfilt(signal.butter(1, 6000, fs=SR, output="sos"), ir, axis=0))
    ir /= np.sqrt((ir**2).sum(axis=0, keepdims=True))
    wet = np.stack([signal.oaconvolve(x[:, c], ir[:, c])[: len(x)] for c in range(2)], axis=1)
    return wet.astype(np.float32)


#: The voice's band (its formants: most of what makes speech intelligible) and how far the harmony
#: and melody step out of it while someone speaks, on top of the thinner notes written there.
VOICE_BAND_HZ = (300.0, 3400.0)
POCKET_DB = 6.0


def voice_pocket(
    x: np.ndarray,
    spans: Iterable[tuple[float, float]],
    *,
    depth_db: float = POCKET_DB,
    lead_s: float = 0.1,
    tail_s: float = 0.25,
    ramp_s: float = 0.08,
    gain_db: float = 0.0,
) -> np.ndarray:
    """A stereo stem (n, 2) with the voice's band lowered by ``depth_db`` over the speech spans
    (from ``lead_s`` before to ``tail_s`` after each, faded in and out over ``ramp_s``): the stem
    minus a zero-phase band-pass of itself, so nothing outside the band moves; then the whole stem
    ``gain_db`` louder over the same spans (0: nothing outside the band moves)."""
    from scipy import signal

    n = len(x)
    w = np.zeros(n, np.float32)
    for a, b in spans:
        w[max(0, int((a - lead_s) * SR)) : max(0, min(n, int((b + tail_s) * SR)))] = 1.0
    if not w.any():
        return x
    r = max(1, int(ramp_s * SR))
    w = np.convolve(w, np.ones(r, np.float32) / r, mode="same").astype(np.float32)
    sos = signal.butter(2, VOICE_BAND_HZ, btype="band", fs=SR, output="sos")
    out = np.array(x, np.float32, copy=True)
    cut = 1.0 - 10 ** (-depth_db / 20)
    pad = SR // 2  # the filter's settling either side of a span
    on = np.flatnonzero(np.diff(np.concatenate([[0.0], (w > 0).astype(np.float32), [0.0]])))
    for i0, i1 in zip(on[::2], on[1::2], strict=True):
        a, b = max(0, i0 - pad), min(n, i1 + pad)
        band = signal.sosfiltfilt(sos, x[a:b], axis=0)
        out[a:b] -= (w[a:b] * cut)[:, None] * band.astype(np.float32)
    if gain_db:
        out *= (1.0 + w * (10 ** (gain_db / 20) - 1.0))[:, None]
    return out


def write_wav(samples: np.ndarray, out_wav: Path) -> Path:
    """32-bit PCM stereo WAV at SR (a temporary name, then renamed)."""
    tmp = temp_output_path(Path(out_wav))
    try:
        with wave.open(str(tmp), "wb") as wf:
            wf.setnchannels(2)
            wf.setsampwidth(4)
            wf.setframerate(SR)
            wf.writeframes((np.clip(samples, -1.0, 1.0) * 2147483647.0).astype("<i4").tobytes())
        return commit_output(tmp, Path(out_wav))
    finally:
        tmp.unlink(missing_ok=True)
