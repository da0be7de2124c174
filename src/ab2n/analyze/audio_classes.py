"""What the original sound is, second by second: "speech", "music", "noise" or "silence".

Streaming and model-free (numpy only): the audio listener feeds the same 16 kHz blocks it gives
the VAD, and :class:`AudioClassifier` keeps a handful of numbers per 64 ms frame. Per second:

- silence: RMS under ``SILENCE_DBFS``;
- speech: a fifth of the second's VAD windows are speech (silero tells speech from music);
- music: pitched (a few pitch classes hold most of the tonal energy: chroma peakiness) with
  either periodic onsets (autocorrelation of the spectral flux over 4 s) or pitch content that
  changes over the surrounding seconds (chords move); a steady sine or hum is neither;
- noise: the rest (wind, a street, room tone, a fan).

A clip filmed at a concert or a screen recording with a song is "music"; the mix then keeps its
own music out of the way (see ``mix/mixdown.plan_mix``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SAMPLE_RATE = 16000
FRAME = 2048  # 128 ms: a semitone apart at 110 Hz is 2 bins
HOP = 1024  # 64 ms
SILENCE_DBFS = -55.0
SPEECH_PROB = 0.5
SPEECH_SHARE = 0.2  # a second is speech when this share of its VAD windows is (a word at its edge)
MODULATION_DB = 1.0  # onsets only count when the level moves (a steady tone has flux jitter only)
CHROMA_PEAK = 0.5  # share of tonal energy in the top 3 pitch classes (flat spectrum: 0.25)
PERIODICITY = 0.3  # normalised flux autocorrelation peak at 0.25-1.5 s lags
CHANGE = 0.15  # chroma distance between this second and the ones 2 s away
FLATNESS_MAX = 0.35  # spectral flatness over which a frame is noise, whatever else
LABELS = ("silence", "speech", "music", "noise")

_FREQS = np.fft.rfftfreq(FRAME, 1 / SAMPLE_RATE)
_TONAL = (_FREQS >= 80) & (_FREQS <= 2000)
_PITCH_CLASS = (np.round(12 * np.log2(np.maximum(_FREQS, 1) / 440.0)).astype(int) + 9) % 12
_WINDOW = np.hanning(FRAME)


class AudioClassifier:
    """Consumes 16 kHz mono blocks; keeps per-frame energy, flatness, flux and chroma.

    Memory: 16 floats per 64 ms frame (900 KB an hour).
    """

    def __init__(self) -> None:
        self._carry = np.zeros(0, np.float64)
        self._prev_mag: np.ndarray | None = None
        self.energy_db: list[float] = []
        self.flatness: list[float] = []
        self.flux: list[float] = []
        self.chroma: list[np.ndarray] = []

    @property
    def frames_per_s(self) -> float:
        """Analysis frames per second."""
        return SAMPLE_RATE / HOP

    def feed(self, block: np.ndarray) -> None:
        """Add the next samples."""
        buf = np.concatenate([self._carry, np.asarray(block, np.float64).reshape(-1)])
        n = 0 if len(buf) < FRAME else (len(buf) - FRAME) // HOP + 1
        if n:
            idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
            self._frames(buf[idx])
        self._carry = buf[n * HOP :].copy()

    def _frames(self, frames: np.ndarray) -> None:
        power_t = np.mean(frames * frames, axis=1)
        mag = np.abs(np.fft.rfft(frames * _WINDOW, axis=1))
        p = mag[:, _TONAL] ** 2 + 1e-12
        flat = np.exp(np.mean(np.log(p), axis=1)) / np.mean(p, axis=1)
        chroma = np.zeros((len(frames), 12))
        for k in range(12):
            chroma[:, k] = p[:, _PITCH_CLASS[_TONAL] == k].sum(axis=1)
        logm = np.log1p(100 * mag)
        prev = np.vstack([logm[:1] if self._prev_mag is None else self._prev_mag[None, :], logm[:-1]])
        flux = np.maximum(logm - prev, 0).mean(axis=1)
        self._prev_mag = logm[-1]
        self.energy_db.extend((10 * np.log10(power_t + 1e-12)).tolist())
        self.flatness.extend(flat.tolist())
        self.flux.extend(flux.tolist())
        self.chroma.extend(chroma)


def classify_seconds(clf: AudioClassifier, speech_probs: Sequence[float], vad_hop_s: float, n_sec: int) -> list[str]:
    """One label per whole second (see the module docstring).

    Args:
        clf: The fed classifier.
        speech_probs: The VAD's probability per window.
        vad_hop_s: Seconds per VAD window.
        n_sec: How many seconds to label.
    """
    fps = clf.frames_per_s
    e = np.asarray(clf.energy_db)
    flat = np.asarray(clf.flatness)
    flux = np.asarray(clf.flux)
    chroma = np.asarray(clf.chroma).reshape(-1, 12)
    probs = np.asarray(speech_probs, np.float64)
    sec_of = (np.arange(len(e)) / fps).astype(int)
    sec_chroma = np.zeros((n_sec, 12))
    for s in range(n_sec):
        m = sec_of == s
        if m.any():
            c = chroma[m].sum(axis=0)
            sec_chroma[s] = c / (c.sum() + 1e-12)
    labels: list[str] = []
    for s in range(n_sec):
        m = sec_of == s
        if not m.any():
            labels.append(labels[-1] if labels else "silence")
            continue
        rms_db = 10 * np.log10(np.mean(10 ** (e[m] / 10)) + 1e-12)
        w0, w1 = int(s / vad_hop_s), int((s + 1) / vad_hop_s)
        speechy = float((probs[w0:w1] >= SPEECH_PROB).mean()) if w1 > w0 and w0 < len(probs) else 0.0
        if rms_db < SILENCE_DBFS:
            labels.append("silence")
        elif speechy >= SPEECH_SHARE:
            labels.append("speech")
        elif _is_music(s, sec_chroma, flux, e, flat[m], fps, n_sec):
            labels.append("music")
        else:
            labels.append("noise")
    return labels


def _is_music(
    s: int, sec_chroma: np.ndarray, flux: np.ndarray, energy_db: np.ndarray, flat: np.ndarray, fps: float, n_sec: int
) -> bool:
    if float(np.median(flat)) > FLATNESS_MAX:
        return False
    peaky = float(np.sort(sec_chroma[s])[-3:].sum()) >= CHROMA_PEAK
    lo, hi = max(0, s - 2), min(n_sec - 1, s + 2)
    change = max(
        float(np.abs(sec_chroma[s] - sec_chroma[lo]).sum()) / 2,
        float(np.abs(sec_chroma[s] - sec_chroma[hi]).sum()) / 2,
    )
    a, b = int(max(0, s - 1.5) * fps), int((s + 2.5) * fps)
    moving = b > a and float(np.std(energy_db[a:b])) >= MODULATION_DB
    return peaky and (change >= CHANGE or (moving and _periodicity(flux, s, fps) >= PERIODICITY))


def _periodicity(flux: np.ndarray, s: int, fps: float) -> float:
    """Peak normalised autocorrelation of the onset envelope over the 4 s around second ``s``."""
    a, b = int(max(0, s - 1.5) * fps), int((s + 2.5) * fps)
    x = flux[a:b] - flux[a:b].mean() if b > a else np.zeros(0)
    if len(x) < 2 * fps or float(np.dot(x, x)) <= 1e-12:
        return 0.0
    ac = np.correlate(x, x, "full")[len(x) - 1 :] / float(np.dot(x, x))
    lags = np.arange(len(ac)) / fps
    band = (lags >= 0.25) & (lags <= 1.5)
    return float(ac[band].max()) if band.any() else 0.0


def music_regions(labels: Sequence[str], *, bridge_s: int = 3, min_s: int = 3) -> list[tuple[float, float]]:
    """Spans (seconds) where the original is music: runs of "music" seconds joined across up to
    ``bridge_s`` seconds of anything else (a voice over the song), at least ``min_s`` long."""
    runs: list[list[int]] = []
    for i, lab in enumerate(labels):
        if lab != "music":
            continue
        if runs and i - runs[-1][1] <= bridge_s:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    return [(float(a), float(b)) for a, b in runs if b - a >= min_s]
