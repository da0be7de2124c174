"""Python worker processes for CPU-bound work that one interpreter can't spread over the cores.

A worker is ``python -m MODULE`` speaking whatever line/bytes protocol that module defines on its
stdin and stdout (``ab2n.analyze.chunk_worker`` is the one today). It is a plain child process,
not ``multiprocessing``, so it works from any host: a script without a ``__main__`` guard, the
service's threads, a Celery worker. Workers are started through ``media.process`` and so share
FFmpeg's lifecycle: own process group, death with this process, stderr tail kept, and a
watchdog for wall clock, stalls and cancel.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator

from ab2n.errors import Cancelled, ProcessTimeout
from ab2n.media.process import Child, Watchdog, spawn


def available_cores() -> int:
    """Cores this process may use (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Worker:
    """One worker process; its reads count as progress for the pool's stall watchdog.

    Args:
        child: The started process.
    """

    def __init__(self, child: Child) -> None:
        self.child = child
        self.waiting_since: float | None = None

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.child.pid

    def send(self, data: bytes) -> None:
        """Write ``data`` to the worker's stdin and flush it."""
        self.child.stdin.write(data)
        self.child.stdin.flush()

    def readline(self) -> bytes:
        """One line from the worker's stdout (``b""`` once it has exited)."""
        self.waiting_since = time.monotonic()
        try:
            return self.child.stdout.readline()
        finally:
            self.waiting_since = None

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes from the worker's stdout, fewer only if it exited."""
        buf = bytearray()
        self.waiting_since = time.monotonic()
        try:
            while len(buf) < n:
                piece = self.child.stdout.read1(n - len(buf))
                if not piece:
                    break
                buf += piece
                self.waiting_since = time.monotonic()  # bytes came: the stall clock starts again
        finally:
            self.waiting_since = None
        return bytes(buf)

    def idle_s(self, now: float) -> float:
        """How long a reader has waited on this worker with nothing coming (0 when nobody waits)."""
        since = self.waiting_since
        return 0.0 if since is None else now - max(since, self.child.last_activity)

    def tail(self) -> str:
        """The worker's last stderr lines."""
        return self.child.tail()


@contextlib.contextmanager
def worker_pool(
    module: str,
    count: int,
    *,
    timeout_s: float = 6 * 3600,
    stall_s: float = 300.0,
    cancel: threading.Event | None = None,
) -> Iterator[list[Worker]]:
    """Start ``count`` workers running ``python -m module``; end them all when the block ends.

    On leaving the block the workers' stdin is closed (their signal to finish) and any still
    running a moment later is killed with its process group.

    Args:
        module: The worker's module (ab2n's own; it inherits this interpreter and environment).
        count: How many workers.
        timeout_s: Wall-clock ceiling for the whole pool.
        stall_s: Kill the pool when a read has waited this long on a worker that says nothing.
        cancel: Set it to kill the pool.

    Raises:
        ProcessTimeout: The pool ran past ``timeout_s`` or a worker stalled.
        Cancelled: ``cancel`` was set.
    """
    workers: list[Worker] = []
    try:
        for _ in range(count):
            workers.append(Worker(spawn([sys.executable, "-m", module], stdin=True, stderr_lines=50)))

        def idle_s() -> float:
            now = time.monotonic()
            return max(w.idle_s(now) for w in workers)

        with Watchdog(
            [w.child for w in workers], timeout_s=timeout_s, stall_s=stall_s, idle_s=idle_s, cancel=cancel
        ) as dog:
            yield workers
    finally:
        _stop(workers)
    if dog.stopped_by == "cancel":
        raise Cancelled("cancelled")
    if dog.stopped_by is not None:
        why = "ran past its time limit" if dog.stopped_by == "timeout" else f"made no progress for {stall_s:.0f} s"
        raise ProcessTimeout(f"an analysis worker {why}", detail="\n".join(w.tail() for w in workers))


def _stop(workers: list[Worker]) -> None:
    """Close every worker's stdin, give them a moment to exit, then kill whatever is left."""
    for w in workers:
        with contextlib.suppress(OSError):
            w.child.stdin.close()
    deadline = time.monotonic() + 2.0
    for w in workers:
        w.child.wait(max(0.0, deadline - time.monotonic()))
        w.child.close()
