"""A varied, generated speech set with exact truth, for onset/offset and ducking measurements.

Each scene is a mono 16 kHz (or any rate) programme built in numpy from espeak-ng utterances placed
over a background; the truth of each utterance is the voiced region of its *clean* stem (10 ms
frames whose RMS is within ``VOICED_DB`` of the utterance's loudest frame), measured before mixing.

The set varies what comes before each utterance (the file's first 50-300 ms, 4 s of silence,
music, noise, another voice), the language (en, de, cmn), the speed (110-260 words a minute),
the voice (male/female variants) and the length (one word to a sentence). Scenes are split by
a seeded hash into a tuning part and a held-out part; the held-out part is only measured.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field

import numpy as np

from mediagen import _read_any, cached, write_wav

VOICED_DB = 35.0  # a frame is voiced when within this of the utterance's loudest 10 ms frame
FRAME_S = 0.01

WORDS = {
    "en": ["yes", "hello", "no", "right", "okay", "thanks"],
    "de": ["ja", "nein", "hallo", "danke", "genau"],
    "cmn": ["好", "你好", "谢谢", "对"],
}
SENTENCES = {
    "en": [
        "Welcome back to the channel, today we go hiking.",
        "Look at this view over the valley.",
        "We started early in the morning, before the sun came up.",
        "Three more steps.",
        "I think this is the best place we have seen so far.",
        "So that was the trip.",
    ],
    "de": [
        "Guten Morgen, heute fahren wir in die Berge.",
        "Das Wetter ist wirklich schön.",
        "Wir sind gleich da.",
        "Schau dir diesen Ausblick an.",
    ],
    "cmn": [
        "大家好，欢迎来到我的频道。",
        "今天天气很好。",
        "我们马上就到了。",
        "这里的风景真漂亮。",
    ],
}
VOICES = {"en": ["en", "en+f3", "en-us+m3"], "de": ["de", "de+f2"], "cmn": ["cmn", "cmn+f4"]}
SPEEDS = (110, 150, 175, 210, 260)
CONTEXTS = ("start", "silence4", "music", "noise", "after_voice", "short_pause")


@dataclass(frozen=True)
class Utterance:
    """One utterance of a scene: where its clean stem is voiced, and how it was made."""

    start_s: float
    end_s: float
    text: str
    voice: str
    speed: int
    context: str


@dataclass
class Scene:
    """A generated programme: the mixture, its clean speech stem, and the utterances' truth."""

    name: str
    sample_rate: int
    mixture: np.ndarray
    speech: np.ndarray
    utterances: list[Utterance] = field(default_factory=list)
    held_out: bool = False


def espeak(text: str, *, voice: str, speed: int, sample_rate: int) -> np.ndarray:
    """One espeak-ng utterance, trimmed to its voiced part (cached)."""
    out, ok = cached("espeak", ".wav", t=text, v=voice, s=speed, sr=sample_rate)
    if not ok:
        raw = subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text], check=True, capture_output=True
        ).stdout
        tmp = out.with_name(out.stem + ".raw.wav")
        tmp.write_bytes(raw)
        y = _read_any(tmp, sample_rate)
        tmp.unlink()
        a, b = voiced_bounds(y, sample_rate) or (0.0, len(y) / sample_rate)
        y = y[int(a * sample_rate) : int(np.ceil(b * sample_rate))]
        write_wav(out, y, sample_rate)
        return y
    return _read_any(out, sample_rate)


def voiced_bounds(y: np.ndarray, sample_rate: int) -> tuple[float, float] | None:
    """(first, last) edge of the 10 ms frames within ``VOICED_DB`` of the loudest frame, in seconds."""
    hop = int(FRAME_S * sample_rate)
    n = len(y) // hop
    if n == 0:
        return None
    fr = y[: n * hop].astype(np.float64).reshape(n, hop)
    db = 10 * np.log10(np.mean(fr * fr, axis=1) + 1e-20)
    on = np.flatnonzero(db > db.max() - VOICED_DB)
    if len(on) == 0:
        return None
    # Refine to the sample: the first/last sample above the threshold amplitude inside the edge frames.
    thr = 10 ** ((db.max() - VOICED_DB) / 20)
    a0, b0 = on[0] * hop, (on[-1] + 1) * hop
    head = np.flatnonzero(np.abs(y[a0 : a0 + hop]) > thr)
    tail = np.flatnonzero(np.abs(y[b0 - hop : b0]) > thr)
    a = a0 + (int(head[0]) if len(head) else 0)
    b = b0 - hop + (int(tail[-1]) + 1 if len(tail) else hop)
    return a / sample_rate, b / sample_rate


def music_bed(duration_s: float, sample_rate: int, seed: int) -> np.ndarray:
    """A chord progression with bass, hi-hat and kick (the background 'music' context)."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * sample_rate)
    t = np.arange(n) / sample_rate
    bpm = float(rng.choice([84, 96, 110, 124]))
    beat = 60 / bpm
    roots = [220.0, 174.6, 261.6, 196.0]
    y = np.zeros(n)
    bar = 4 * beat
    for k in range(int(duration_s / bar) + 1):
        s0, s1 = int(k * bar * sample_rate), min(n, int((k + 1) * bar * sample_rate))
        if s0 >= n:
            break
        tt = t[s0:s1] - t[s0]
        r = roots[k % 4]
        chord = sum(np.sin(2 * np.pi * r * m * tt) for m in (1, 1.26, 1.5, 2)) * 0.06
        y[s0:s1] += chord * (0.6 + 0.4 * np.exp(-tt * 2)) + 0.1 * np.sin(np.pi * r * tt)
    kn = int(0.12 * sample_rate)
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-np.arange(kn) / (0.02 * sample_rate))) * np.arange(kn) / sample_rate)
    kick *= np.exp(-np.arange(kn) / (0.05 * sample_rate)) * 0.5
    hn = int(0.04 * sample_rate)
    for j in range(int(duration_s / beat * 2) + 1):
        s = int(j * beat / 2 * sample_rate)
        if s >= n:
            break
        if j % 2 == 0:
            m = min(kn, n - s)
            y[s : s + m] += kick[:m]
        m = min(hn, n - s)
        y[s : s + m] += 0.08 * rng.standard_normal(m) * np.exp(-np.arange(m) / (0.008 * sample_rate))
    return y.astype(np.float32)


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec))
    spec[1:] /= np.sqrt(f[1:])
    y = np.fft.irfft(spec, n)
    return (y / (np.std(y) + 1e-12)).astype(np.float32)


def _rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(float(np.mean(np.asarray(x, np.float64) ** 2)) + 1e-20)


def _pick_text(rng: np.random.Generator, lang: str) -> str:
    return str(rng.choice(WORDS[lang] if rng.random() < 0.3 else SENTENCES[lang]))


def make_scene(index: int, *, sample_rate: int = 16000) -> Scene:
    """Scene ``index`` of the set (deterministic): 3-5 utterances, each after a chosen context."""
    rng = np.random.default_rng(1000 + index)
    lang = ["en", "de", "cmn"][index % 3]
    contexts = list(rng.permutation(CONTEXTS))
    if index % 2 == 0:  # half the scenes start speaking right at the file's start
        contexts.remove("start")
        contexts.insert(0, "start")
    else:
        contexts.remove("start")
    contexts = contexts[: int(rng.integers(3, 6))]
    voices = VOICES[lang]
    pieces_s: list[tuple[float, np.ndarray, Utterance]] = []
    music_spans: list[tuple[float, float]] = []
    noise_spans: list[tuple[float, float]] = []
    t = 0.0
    for ctx in contexts:
        text = _pick_text(rng, lang)
        voice = str(rng.choice(voices))
        speed = int(rng.choice(SPEEDS))
        if ctx == "start":
            gap = float(rng.uniform(0.05, 0.3))
        elif ctx == "silence4":
            gap = 4.0
        elif ctx in ("music", "noise"):
            gap = float(rng.uniform(2.0, 4.0))
            (music_spans if ctx == "music" else noise_spans).append((t, t + gap))
        elif ctx == "after_voice":  # a second speaker answers the first with a short gap
            gap = float(rng.uniform(0.3, 0.6))
            voice = next(v for v in voices if v != (pieces_s[-1][2].voice if pieces_s else ""))
        else:
            gap = float(rng.uniform(0.9, 1.6))
        t += gap
        y = espeak(text, voice=voice, speed=speed, sample_rate=sample_rate)
        b = voiced_bounds(y, sample_rate) or (0.0, len(y) / sample_rate)
        pieces_s.append((t, y, Utterance(t + b[0], t + b[1], text, voice, speed, ctx)))
        if ctx in ("music", "noise"):  # the background carries on under the utterance
            (music_spans if ctx == "music" else noise_spans)[-1] = (t - gap, t + len(y) / sample_rate)
        t += len(y) / sample_rate
    total = t + 1.0
    n = int(total * sample_rate)
    speech = np.zeros(n, np.float32)
    for t0, y, _ in pieces_s:
        s = round(t0 * sample_rate)
        speech[s : s + len(y)] += y[: n - s]
    speech_db = _rms_db(speech[np.abs(speech) > 1e-4]) if np.any(np.abs(speech) > 1e-4) else -30.0
    bg = np.zeros(n, np.float32)
    for a, b in music_spans:  # music 8-16 dB under the voice
        s0, s1 = int(a * sample_rate), int(b * sample_rate)
        m = music_bed(b - a, sample_rate, seed=index * 7 + s0)[: s1 - s0]
        bg[s0 : s0 + len(m)] += m * 10 ** ((speech_db - float(rng.uniform(8, 16)) - _rms_db(m)) / 20)
    for a, b in noise_spans:  # pink noise at 10-20 dB SNR
        s0, s1 = int(a * sample_rate), int(b * sample_rate)
        m = _pink(s1 - s0, rng)
        bg[s0:s1] += m * 10 ** ((speech_db - float(rng.uniform(10, 20))) / 20)
    if index % 4 == 3:  # a quarter of the scenes have a steady room-noise floor throughout
        bg += _pink(n, rng) * 10 ** ((speech_db - 30) / 20)
    held = int(hashlib.sha1(f"scene{index}".encode()).hexdigest(), 16) % 3 == 0
    return Scene(f"scene{index:02d}-{lang}", sample_rate, speech + bg, speech, [p[2] for p in pieces_s], held)


def speech_set(n: int = 24, *, sample_rate: int = 16000) -> list[Scene]:
    """The first ``n`` scenes (about a third of them held out)."""
    return [make_scene(i, sample_rate=sample_rate) for i in range(n)]
