"""Child processes: how ab2n starts, watches and ends every process it runs.

FFmpeg (``media.ffmpeg``) is started here and nowhere else, so each child gets the same lifecycle:

- an argument list, never a shell string;
- its own process group, so killing the group also ends anything the child started;
- death with its parent: on Linux every child asks the kernel for ``SIGKILL`` when its parent
  goes away (``PR_SET_PDEATHSIG``), so a ``kill -9`` of the Python process leaves no FFmpeg
  decoding on. The kernel sends that signal when the *thread* that forked the child ends, not
  the process, and a service starts children from short-lived job threads; so every child is
  forked by one spawner thread that lives as long as the process;
- stderr drained on a thread with its last lines kept for the error message;
- a :class:`Watchdog` that kills the group past a wall-clock limit, on a stall, or on cancel.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from functools import lru_cache

_PR_SET_PDEATHSIG = 1


@lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    """libc's ``prctl`` (Linux), resolved once in the parent: the forked child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return fn


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when the spawning thread ends."""
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    # Runs in the forked child before exec, while other threads' locks may be held: it imports
    # nothing, logs nothing and touches no Python-level lock, only two system calls.
    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died between fork and prctl: nobody will reap us
            os._exit(127)

    return preexec


_Request = tuple[list[str], dict[str, object], dict[str, object], threading.Event]


class _Spawner:
    """The one thread that forks every child (see the module docstring for why one thread)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="ab2n-spawner", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            cmd, kwargs, box, done = self._requests.get()
            try:
                box["proc"] = subprocess.Popen(cmd, preexec_fn=_die_with_parent(), **kwargs)  # type: ignore[call-overload]
            except BaseException as exc:  # handed to the caller, who raises it in its own thread
                box["error"] = exc
            done.set()

    def popen(self, cmd: list[str], kwargs: dict[str, object]) -> subprocess.Popen[bytes]:
        box: dict[str, object] = {}
        done = threading.Event()
        self._requests.put((cmd, kwargs, box, done))
        try:
            done.wait()
        except BaseException:
            # Interrupted while the spawner works: wait for it, then end what it started.
            done.wait()
            proc = box.get("proc")
            if isinstance(proc, subprocess.Popen):
                kill_group(proc)
            raise
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        proc = box["proc"]
        assert isinstance(proc, subprocess.Popen)
        return proc


_spawner: _Spawner | None = None
_spawner_lock = threading.Lock()


def _the_spawner() -> _Spawner:
    """The spawner of this process (a forked copy of ab2n gets its own: threads do not survive fork)."""
    global _spawner
    with _spawner_lock:
        if _spawner is None or _spawner.pid != os.getpid():
            _spawner = _Spawner()
        return _spawner


class Child:
    """One running child: its pipes, its stderr tail, and when it last showed signs of life.

    Attributes:
        proc: The ``Popen`` object.
        last_activity: ``time.monotonic()`` of the last stderr line (readers of stdout update it too).
    """

    def __init__(self, proc: subprocess.Popen[bytes], stderr_lines: int) -> None:
        self.proc = proc
        self.started = time.monotonic()
        self.last_activity = self.started
        self._tail: deque[str] = deque(maxlen=stderr_lines)
        self._drain = threading.Thread(target=self._read_stderr, name=f"ab2n-stderr-{proc.pid}", daemon=True)
        self._drain.start()

    @property
    def pid(self) -> int:
        """The child's process id (also its process group id)."""
        return self.proc.pid

    @property
    def stdout(self) -> io.BufferedReader:
        """The child's stdout pipe."""
        assert isinstance(self.proc.stdout, io.BufferedReader)
        return self.proc.stdout

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            self.last_activity = time.monotonic()
            self._tail.append(raw.decode("utf-8", "replace").rstrip())

    def tail(self) -> str:
        """The last stderr lines, oldest first."""
        return "\n".join(self._tail)

    def wait(self, timeout_s: float | None = None) -> int | None:
        """Wait for the exit; the return code, or None if it is still running after ``timeout_s``."""
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """Kill the child's whole process group and reap the child."""
        kill_group(self.proc)

    def close(self) -> None:
        """Kill if still running, close the pipes, and let the stderr reader finish."""
        if self.proc.poll() is None:
            self.kill()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._drain.join(timeout=5)
        if self.proc.stderr is not None:
            with contextlib.suppress(OSError):
                self.proc.stderr.close()


def spawn(cmd: Sequence[str], *, stdin: io.BufferedReader | None = None, stderr_lines: int = 200) -> Child:
    """Start ``cmd`` with stdout as a pipe, under the module's guarantees.

    Args:
        cmd: Program and arguments (a list: no shell is involved).
        stdin: Another child's stdout for this one to read (a pipeline); None: /dev/null.
        stderr_lines: How many stderr lines to keep.

    Raises:
        OSError: The program could not be started.
    """
    kwargs: dict[str, object] = {
        "stdin": subprocess.DEVNULL if stdin is None else stdin,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.PIPE,
        "start_new_session": True,  # own process group: the group kill reaches grandchildren too
        "close_fds": True,
    }
    proc = _the_spawner().popen([str(c) for c in cmd], kwargs)
    return Child(proc, stderr_lines)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a child's whole process group and reap the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


class Watchdog:
    """A thread that kills children past a wall clock, after a stall, or on cancel.

    Args:
        children: The children to kill when it fires.
        timeout_s: Wall-clock ceiling from now.
        stall_s: Fire when ``idle_s()`` exceeds this.
        idle_s: Seconds the children have made no progress that counts (the caller decides what
            counts: output of any kind, or only output someone is waiting for).
        cancel: Fire when this event is set.

    Attributes:
        stopped_by: None while nothing fired, else "timeout", "stall" or "cancel".
    """

    def __init__(
        self,
        children: Sequence[Child],
        *,
        timeout_s: float,
        stall_s: float,
        idle_s: Callable[[], float],
        cancel: threading.Event | None = None,
    ) -> None:
        self.children = list(children)
        self.stopped_by: str | None = None
        self._deadline = time.monotonic() + timeout_s
        self._stall_s = stall_s
        self._idle_s = idle_s
        self._cancel = cancel
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ab2n-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._done.wait(0.2):
            if self._cancel is not None and self._cancel.is_set():
                self.stopped_by = "cancel"
            elif time.monotonic() > self._deadline:
                self.stopped_by = "timeout"
            elif self._idle_s() > self._stall_s:
                self.stopped_by = "stall"
            if self.stopped_by is not None:
                for child in self.children:
                    child.kill()
                return
