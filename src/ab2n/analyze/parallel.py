"""Scan a video on every core: keyframe-aligned chunks decoded on threads of this process.

Why chunks and not the decoder's own threads: H.264/HEVC frame threading adds its own overhead and
keeps the cores only partly busy (on the 2-core bench machine `ffmpeg -threads 0` is 1.7x one
thread), while one single-threaded decoder per core on its own stretch of the file keeps every core
full and does the per-frame measuring in parallel too. Each chunk starts at a keyframe, so it
decodes exactly as in one pass; nothing is decoded twice.

Why threads and not processes: PyAV releases the GIL while it demuxes and decodes, which is ~90 %
of a frame's time, so decoder threads run side by side; worker processes each paid an interpreter
and ab2n's imports (~0.3 s of CPU apiece, before their first frame) and a copy of every result
through a pipe. The audio (16 kHz for the speech detector, decoded by an FFmpeg child) is analysed
on one more thread meanwhile (the VAD's C call releases the GIL too).

Short or small videos are not worth splitting: they are scanned in one pass with frame threads.
How many decoder threads is the caller's setting (``ab2n`` reads ``AB2N_ANALYZE_WORKERS``), by
default one a core.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable

import av
import numpy as np

from ab2n.analyze.speech import SAMPLE_RATE, AudioListener
from ab2n.analyze.visual import DECODER_OPTIONS, FrameScan, scan_from_chunks, scan_span, scan_video, video_stream
from ab2n.errors import Ab2nError
from ab2n.media.container import open_container
from ab2n.media.decode import iter_audio_blocks
from ab2n.media.probe import MediaInfo

# Below ~15 s of 1080p30 (or the same number of pixels) one pass with frame threads is faster
# (SCHED_RR, 4 runs each: 10 s clip 1.09-1.20 s in one pass, 1.29-1.45 s in chunks; 15 s clip
# 1.34-1.48 s against 1.41-1.58 s; 30 s clip 3.02-3.49 s against 2.86-3.59 s).
MIN_PIXELS_FOR_WORKERS = 15 * 30 * 1920 * 1080
# Past this length the scan stays in one pass: it was the memory limit of the worker processes
# (two interpreters beside 200 MB of rows at 3 hours); threads share the rows' memory, but the
# 3-hour input's 400 MB budget was measured on the one-pass scan.
MAX_S_FOR_WORKERS = 3600.0
# Equal chunks, three a thread, so the threads finish closer together (chunks of equal length
# differ in cost by +-12 % on the bench clips). More did not pay: chunks shrinking towards the end
# (11 instead of 4 on the 60 s clip) measured slower, and so did a thread splitting another's
# chunk when it ran out (the threads ended within ~0.3 s, less than a split gains).
CHUNKS_A_THREAD = 3
CHUNK_TARGET_S = 15.0  # longer videos: chunks this long, for progress and balance


class ChunkError(RuntimeError):
    """A chunk could not be measured; the caller scans the video in one plain pass instead."""


def available_cores() -> int:
    """Cores this process may use (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def chunk_starts(info: MediaInfo, n_chunks: int) -> list[int]:
    """PTS of keyframes that split the video into about ``n_chunks`` equal stretches.

    Found by seeking (the container's index answers), not by reading the file. Returns one start
    (the first frame) when the file has too few keyframes or cannot seek.
    """
    starts: list[int] = []
    with open_container(info.path, info.demuxer) as container:
        vstream = video_stream(container, info.video_stream)
        tb = vstream.time_base
        if tb is None:
            return []
        first = next((p.pts for p in container.demux(vstream) if p.pts is not None), None)
        if first is None:
            return []
        starts.append(int(first))
        for k in range(1, n_chunks):
            target = int((info.duration_s * k / n_chunks) / tb) + int(vstream.start_time or 0)
            try:
                container.seek(target, stream=vstream, backward=True, any_frame=False)
                pts = next((p.pts for p in container.demux(vstream) if p.pts is not None and p.is_keyframe), None)
            except (av.FFmpegError, StopIteration):
                return starts[:1]
            if pts is not None and pts > starts[-1]:
                starts.append(int(pts))
    return starts


def scan_video_fast(
    info: MediaInfo,
    *,
    workers: int | None = None,
    progress: Callable[[float], None] | None = None,
    min_pixels: float = MIN_PIXELS_FOR_WORKERS,
) -> FrameScan:
    """``scan_video`` in keyframe-aligned chunks on one decoder thread a core when the video is big
    enough (and not over an hour: memory) and seeks by keyframe; else in one pass.

    Args:
        info: A probed video.
        workers: Decoder threads to use (None: one a core this process may run on; 1: one pass).
        progress: Called with 0..1.
        min_pixels: Smallest video (frames x pixels) worth splitting.
    """
    count = available_cores() if workers is None else max(1, workers)
    pixels = info.duration_s * (info.fps or 30) * info.width * info.height
    if count < 2 or pixels < min_pixels or info.duration_s > MAX_S_FOR_WORKERS:
        return scan_video(info, progress=progress)
    starts = chunk_starts(info, max(CHUNKS_A_THREAD * count, round(info.duration_s / CHUNK_TARGET_S)))
    if len(starts) < 2:
        return scan_video(info, progress=progress)
    try:
        chunks = _run_threads(starts, min(count, len(starts)), info, progress)
    except ChunkError:
        return scan_video(info, progress=progress)
    return scan_from_chunks(chunks[0], chunks[1])


class _Board:
    """The chunks still to measure, the results, and the errors, shared by the decoder threads."""

    def __init__(self, info: MediaInfo, starts: list[int]) -> None:
        self.info = info
        self.spans: list[tuple[int, int | None]] = list(zip(starts, [*starts[1:], None], strict=True))
        self.todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(len(self.spans)):
            self.todo.put(i)
        self.results: list[dict[str, np.ndarray] | None] = [None] * len(self.spans)
        self.errors: list[BaseException] = []
        self.done = threading.Semaphore(0)

    def serve(self) -> None:
        """Measure chunks on a container of this thread's own until none is left or any thread failed."""
        info = self.info
        try:
            # One container a thread, seeking from chunk to chunk: an open costs ~50 ms of CPU
            # (FFmpeg decodes a frame to learn the stream's parameters).
            with open_container(info.path, info.demuxer, decoder_options=DECODER_OPTIONS) as container:
                vstream = video_stream(container, info.video_stream)
                vstream.codec_context.thread_count = 1  # one decoder a core: frame threads only add overhead
                while not self.errors:
                    try:
                        i = self.todo.get_nowait()
                    except queue.Empty:
                        return
                    self.results[i] = scan_span(container, vstream, *self.spans[i])
                    self.done.release()
        except Exception as exc:  # handed to the caller's thread (after open_container worded it)
            self.errors.append(exc)
            self.done.release()


def _run_threads(
    starts: list[int], count: int, info: MediaInfo, progress: Callable[[float], None] | None
) -> tuple[list[dict[str, np.ndarray]], AudioListener | None]:
    """Measure the chunks from ``starts`` on ``count`` threads while one more listens to the audio."""
    board = _Board(info, starts)
    threads = [threading.Thread(target=board.serve, name=f"ab2n-scan-{k}", daemon=True) for k in range(count)]
    audio = _AudioThread(info) if info.has_audio else None
    for t in threads:
        t.start()
    finished = 0
    while finished < len(starts) and not board.errors:
        board.done.acquire()
        finished += 1
        if progress:
            progress(0.95 * finished / len(starts))
    for t in threads:  # on an error the others stop after their current chunk
        t.join()
    listener: AudioListener | None = None
    audio_error: BaseException | None = None
    if audio is not None:
        try:
            listener = audio.result()
        except BaseException as exc:  # the picture's error, if any, says more
            audio_error = exc
    if board.errors:
        first = board.errors[0]
        if isinstance(first, Ab2nError):
            raise first  # a refusal (too large, unsupported): one pass would refuse it too
        raise ChunkError(f"{type(first).__name__}: {first}") from first
    if audio_error is not None:
        raise audio_error
    return [r for r in board.results if r is not None], listener


class _AudioThread:
    """The audio's speech/energy listener, fed by an FFmpeg decode, on a thread of its own."""

    def __init__(self, info: MediaInfo) -> None:
        self._info = info
        self._listener: AudioListener | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ab2n-audio", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            listener = AudioListener()
            for block in iter_audio_blocks(self._info.path, sample_rate=SAMPLE_RATE, demuxer=self._info.demuxer):
                listener.feed(block)
            listener.finish()
            self._listener = listener
        except BaseException as exc:  # re-raised in result(), in the caller's thread
            self._error = exc

    def result(self) -> AudioListener:
        """Wait for the end of the audio; its listener."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._listener is not None
        return self._listener
