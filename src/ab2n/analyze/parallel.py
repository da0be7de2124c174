"""Scan a long video on every core: keyframe-aligned chunks decoded by worker processes.

Why processes and not the decoder's own threads: H.264/HEVC frame threading keeps the cores only
partly busy (on the 2-core bench machine `ffmpeg -threads 0` used ~1.3 cores) and adds its own
overhead, while two single-threaded decoders on two halves of the file keep both cores full and do
the per-frame measuring in parallel too. Each chunk starts at a keyframe, so it decodes exactly as
in one pass; nothing is decoded twice. The audio (16 kHz for the speech detector) is decoded by an
FFmpeg child of the calling process while the workers decode the picture.

Short or small videos are not worth starting workers for: they are scanned in-process. The worker
processes are started by ``media.workers`` (only ``media/`` starts processes); how many is the
caller's setting (``ab2n`` reads ``AB2N_ANALYZE_WORKERS``), by default one a core.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from typing import Protocol

import av
import numpy as np

from ab2n.analyze.speech import SAMPLE_RATE, AudioListener
from ab2n.analyze.visual import FrameScan, scan_from_chunks, scan_video, video_stream
from ab2n.media.container import open_container
from ab2n.media.decode import iter_audio_blocks
from ab2n.media.ffmpeg import last_error_line
from ab2n.media.probe import MediaInfo
from ab2n.media.workers import Worker, available_cores, worker_pool

# Below ~15 s of 1080p30 (or the same number of pixels), starting workers costs more than it saves.
MIN_PIXELS_FOR_WORKERS = 15 * 30 * 1920 * 1080
# Past this length the scan stays in one process: the per-frame rows (~620 bytes a frame, 200 MB
# for 3 hours at 30 fps) plus two worker interpreters (~100 MB each) and the audio decoder took a
# 3-hour input's process tree past the 400 MB a long video may use (measured: 650 MB).
MAX_S_FOR_WORKERS = 3600.0
CHUNK_TARGET_S = 15.0  # chunks this long balance the workers and give progress without many seeks


#: The arrays a chunk worker answers with, in this order (``ab2n.analyze.chunk_worker``).
ARRAY_NAMES = ("times", "sigs", "hists", "feats")


class _Reader(Protocol):
    def read(self, n: int, /) -> bytes: ...


def read_arrays(stream: _Reader, layout: list[dict]) -> dict[str, np.ndarray]:
    """The arrays a worker wrote after a status line with this ``layout`` (in ARRAY_NAMES order)."""
    out: dict[str, np.ndarray] = {}
    for name, spec in zip(ARRAY_NAMES, layout, strict=True):
        dtype = np.dtype(spec["dtype"])
        nbytes = int(np.prod(spec["shape"], dtype=np.int64)) * dtype.itemsize
        data = stream.read(nbytes)
        if len(data) != nbytes:
            raise ValueError("worker output ended early")
        out[name] = np.frombuffer(data, dtype).reshape(spec["shape"])
    return out


class ChunkError(RuntimeError):
    """A worker could not measure its chunk; the caller scans the video in one plain pass instead."""


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
    """``scan_video`` on all cores when the video is big enough (and not over an hour: memory) and
    seeks by keyframe; else in-process.

    Args:
        info: A probed video.
        workers: Worker processes to use (None: one a core this process may run on; 1: none).
        progress: Called with 0..1.
        min_pixels: Smallest video (frames x pixels) worth starting workers for.
    """
    count = available_cores() if workers is None else max(1, workers)
    pixels = info.duration_s * (info.fps or 30) * info.width * info.height
    if count < 2 or pixels < min_pixels or info.duration_s > MAX_S_FOR_WORKERS:
        return scan_video(info, progress=progress)
    starts = chunk_starts(info, max(2 * count, round(info.duration_s / CHUNK_TARGET_S)))
    if len(starts) < 2:
        return scan_video(info, progress=progress)
    ends: list[int | None] = [*starts[1:], None]
    jobs = [
        {"path": str(info.path), "demuxer": info.demuxer, "start": s, "end": e, "stream": info.video_stream}
        for s, e in zip(starts, ends, strict=True)
    ]
    try:
        chunks = _run_workers(jobs, min(count, len(jobs)), info, progress)
    except ChunkError:
        return scan_video(info, progress=progress)
    return scan_from_chunks(chunks[0], chunks[1])


class _Board:
    """The chunks still to measure, the results, and the errors, shared by the serving threads."""

    def __init__(self, jobs: list[dict]) -> None:
        self.jobs = jobs
        self.todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(len(jobs)):
            self.todo.put(i)
        self.results: list[dict[str, np.ndarray] | None] = [None] * len(jobs)
        self.errors: list[str] = []
        self.done = threading.Semaphore(0)

    def serve(self, worker: Worker) -> None:
        """Hand chunks to one worker until none is left or any worker failed."""
        while not self.errors:
            try:
                i = self.todo.get_nowait()
            except queue.Empty:
                return
            try:
                worker.send((json.dumps(self.jobs[i]) + "\n").encode())
                line = worker.readline()
                if not line:
                    raise ChunkError(f"worker exited: {last_error_line(worker.tail())}")
                status = json.loads(line)
                if not status["ok"]:
                    raise ChunkError(status["error"])
                self.results[i] = read_arrays(worker, status["arrays"])
            except (OSError, ValueError, ChunkError) as exc:
                self.errors.append(str(exc))
            finally:
                self.done.release()


def _run_workers(
    jobs: list[dict], count: int, info: MediaInfo, progress: Callable[[float], None] | None
) -> tuple[list[dict[str, np.ndarray]], AudioListener | None]:
    """Measure ``jobs`` on ``count`` worker processes while this process listens to the audio."""
    board = _Board(jobs)
    with worker_pool("ab2n.analyze.chunk_worker", count) as workers:
        threads = [threading.Thread(target=board.serve, args=(w,), daemon=True) for w in workers]
        for t in threads:
            t.start()
        listener = _listen(info) if info.has_audio else None  # here, while the workers decode the picture
        finished = 0
        while finished < len(jobs) and not board.errors:
            if board.done.acquire(timeout=0.5):
                finished += 1
                if progress:
                    progress(0.95 * finished / len(jobs))
            elif not any(t.is_alive() for t in threads):
                break  # every worker gave up (their errors are recorded)
    for t in threads:  # the pool is gone, so a thread still reading gets end-of-file at once
        t.join(timeout=5)
    if board.errors or any(r is None for r in board.results):
        raise ChunkError("; ".join(board.errors) or "a chunk was not measured")
    return [r for r in board.results if r is not None], listener


def _listen(info: MediaInfo) -> AudioListener:
    listener = AudioListener()
    for block in iter_audio_blocks(info.path, sample_rate=SAMPLE_RATE, demuxer=info.demuxer):
        listener.feed(block)
    listener.finish()
    return listener
