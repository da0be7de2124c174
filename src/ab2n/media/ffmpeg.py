"""The one process runner: every FFmpeg call in ab2n goes through here.

Why one runner: untrusted files reach FFmpeg, so every call must get the same guards (forced input
format, protocol and format whitelists, bounded probing, pixel limits), the same lifecycle (own
process group, wall-clock timeout, stall watchdog, kill on cancel) and the same error shape (exit
code, stderr tail, elapsed time, why it stopped). Modelled on Jellyfin's transcode manager.

Public pieces:
    ffmpeg_exe()       which binary: AB2N_FFMPEG is resolved by the CLI and passed in; else PATH; else
                       the binary inside the imageio-ffmpeg wheel (so `pip install` alone works).
    input_args()       the guarded `-f FMT ... -i PATH` block for one input.
    run_ffmpeg()       run to completion with progress, timeout, stall watchdog, cancel.
    FFmpegStream       the same, with stdout read as it comes (iter_ffmpeg(): as a generator).
    run_ffmpeg_pipeline()  two FFmpegs as `first | second` under one watchdog.
    RunResult          what happened.

Starting, watching and killing the process (own group, death with the parent, stderr tail,
watchdog) is ``media.process``'s job, shared with the analysis workers.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ab2n.errors import Cancelled, ProcessingError, ProcessTimeout
from ab2n.media.process import Child, Watchdog, spawn

#: Containers ab2n accepts, as FFmpeg demuxer names (SPEC.md "Files"). HLS, concat, ffconcat,
#: image2 with patterns, and every network demuxer are absent on purpose.
ACCEPTED_DEMUXERS: tuple[str, ...] = (
    "mov",
    "mp4",
    "m4a",
    "3gp",
    "3g2",
    "mj2",
    "matroska",
    "webm",
    "avi",
    "mp3",
    "wav",
    "aac",
    "png_pipe",
    "apng",
    "jpeg_pipe",
    "gif",
    "webp_pipe",
    "image2",
    "ogg",
    "flac",
)

#: Default bounds for probing untrusted input (bytes / microseconds).
PROBESIZE_BYTES = 20_000_000
ANALYZEDURATION_US = 20_000_000
#: 8K: 7680x4320 pixels.
MAX_PIXELS = 7680 * 4320

# What the user can override (FFmpeg path) is a setting; the core receives it as an argument, but a
# process-wide override is convenient for the CLI/server. It is set by them, never read from the
# environment here.
_override_exe: str | None = None


def set_ffmpeg_exe(path: str | None) -> None:
    """Use this FFmpeg binary for every later call (the CLI passes ``AB2N_FFMPEG`` here)."""
    global _override_exe
    _override_exe = path
    ffmpeg_exe.cache_clear()
    ffmpeg_features.cache_clear()


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the FFmpeg binary to run: the override, else PATH, else imageio-ffmpeg's."""
    if _override_exe:
        return _override_exe
    on_path = shutil.which("ffmpeg")
    if on_path and _version_ok(on_path):
        return on_path
    import imageio_ffmpeg  # local import: only needed when there is no system FFmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _version_ok(exe: str) -> bool:
    """True if ``exe`` is FFmpeg >= 5.1 (older builds lack filters and options we rely on)."""
    try:
        res = run_ffmpeg(["-version"], capture_stdout=True, check=False, timeout_s=10, exe=exe)
    except (OSError, ProcessingError):
        return False
    first = res.stdout.decode("utf-8", "replace").split("\n", 1)[0]  # "ffmpeg version 6.1.1-3ubuntu5 ..." or "n7.0-..."
    parts = first.split()
    if len(parts) < 3:
        return False
    ver = parts[2].lstrip("nN")
    nums: list[int] = []
    for piece in ver.replace("-", ".").split(".")[:2]:
        if not piece.isdigit():
            # Git builds ("N-112233-g...") are recent enough.
            return ver.startswith("N") or parts[2].startswith("N")
        nums.append(int(piece))
    return tuple(nums) >= (5, 1)


@lru_cache(maxsize=8)
def ffmpeg_features(exe: str | None = None) -> frozenset[str]:
    """What this FFmpeg build has, as "filter:NAME", "encoder:NAME", "decoder:NAME", "demuxer:NAME".

    Builds differ (Debian's 5.1 has no animated-WebP decoder, another build may lack zscale), so a
    job that needs a feature checks for it first and fails with a clear message instead of an
    FFmpeg error in the middle of a render.
    """
    found: set[str] = set()
    for kind in ("filter", "encoder", "decoder", "demuxer"):
        flag = f"-{kind}s"
        res = run_ffmpeg([flag], capture_stdout=True, check=False, timeout_s=30, exe=exe)
        for line in res.stdout.decode("utf-8", "replace").splitlines():
            parts = line.split()
            # Listing rows are "FLAGS NAME ..." (filters: "FLAGS NAME IN->OUT ..."); headers have "=".
            if len(parts) >= 2 and "=" not in parts[0] and parts[0] != "--":
                for name in parts[1].split(","):
                    found.add(f"{kind}:{name}")
    return frozenset(found)


def missing_features(needs: Sequence[str], exe: str | None = None) -> list[str]:
    """The ones of ``needs`` ("filter:zscale", ...) that the FFmpeg in use lacks."""
    if not needs:
        return []
    have = ffmpeg_features(exe or ffmpeg_exe())
    return [n for n in needs if n not in have]


def input_args(
    path: str | Path,
    demuxer: str,
    *,
    seek_s: float | None = None,
    duration_s: float | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The guarded input block for one untrusted file.

    Args:
        path: The local file.
        demuxer: The sniffed FFmpeg demuxer name (from ``media.sniff``); forced with ``-f`` so the
            file name never chooses the parser (an ``.mp4`` that is an HLS playlist stays refused).
        seek_s: Optional input seek (``-ss`` before ``-i``).
        duration_s: Optional input duration limit (``-t`` before ``-i``).
        extra: More input options placed before ``-i`` (e.g. ``-stream_loop``).
    """
    if demuxer not in ACCEPTED_DEMUXERS and demuxer != "lavfi":
        raise ProcessingError(f"refusing to open input with demuxer {demuxer!r}")
    args = [
        "-f",
        demuxer,
        "-protocol_whitelist",
        "file,pipe",
        "-format_whitelist",
        ",".join(ACCEPTED_DEMUXERS),
        "-probesize",
        str(PROBESIZE_BYTES),
        "-analyzeduration",
        str(ANALYZEDURATION_US),
        "-max_pixels",
        str(MAX_PIXELS),
    ]
    if demuxer == "lavfi":
        # Generated test/bench inputs only: lavfi takes a filter description, not a file.
        args = ["-f", "lavfi"]
    if seek_s is not None and seek_s > 0:
        args += ["-ss", f"{seek_s:.6f}"]
    if duration_s is not None:
        args += ["-t", f"{duration_s:.6f}"]
    args += list(extra)
    args += ["-i", str(path)]
    return args


@dataclass(frozen=True)
class RunResult:
    """What one FFmpeg run did.

    Attributes:
        returncode: Process exit status (negative: killed by that signal).
        stderr_tail: The last lines FFmpeg wrote to stderr (for errors and loudness reports).
        stdout: Everything on stdout when ``capture_stdout`` was asked, else ``b""``.
        elapsed_s: Wall-clock seconds.
        stopped_by: "exit", "timeout", "stall", "cancel" or (a stream its reader left early) "closed".
    """

    returncode: int
    stderr_tail: str
    stdout: bytes
    elapsed_s: float
    stopped_by: str


ProgressFn = Callable[[float], None]


def _command(args: Sequence[str], exe: str | None, *, progress_pipe: bool) -> list[str]:
    """The full command line: the binary, the options every run gets, then ``args``."""
    cmd = [exe or ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats"]
    if progress_pipe:
        cmd += ["-progress", "pipe:1"]
    return cmd + list(args)


def run_ffmpeg(
    args: Sequence[str],
    *,
    duration_s: float | None = None,
    progress: ProgressFn | None = None,
    timeout_s: float = 6 * 3600,
    stall_s: float = 120.0,
    cancel: threading.Event | None = None,
    capture_stdout: bool = False,
    check: bool = True,
    stderr_lines: int = 200,
    exe: str | None = None,
) -> RunResult:
    """Run FFmpeg once, safely.

    Args:
        args: Arguments after the binary; inputs must come from :func:`input_args`.
            ``-nostdin -hide_banner`` and (unless capturing stdout) ``-progress pipe:1`` are added.
        duration_s: Expected output duration, to turn ``out_time`` into a 0..1 fraction.
        progress: Called with a fraction in [0, 1] as FFmpeg reports progress (on a reader
            thread; if it raises, FFmpeg is stopped and the exception is raised here).
        timeout_s: Wall-clock ceiling; the process group is killed past it.
        stall_s: Kill if FFmpeg reports no progress and writes nothing for this long.
        cancel: Set it to stop the run; raises :class:`Cancelled`.
        capture_stdout: Keep stdout bytes (for ``-f s16le pipe:1`` style reads); disables progress.
        check: Raise :class:`ProcessingError` on a non-zero exit.
        stderr_lines: How many stderr lines to keep.
        exe: Binary to run instead of :func:`ffmpeg_exe`.

    Returns:
        The :class:`RunResult`.

    Raises:
        ProcessTimeout: Wall clock or stall watchdog fired.
        Cancelled: ``cancel`` was set.
        ProcessingError: Non-zero exit with ``check``.
    """
    child = spawn(_command(args, exe, progress_pipe=not capture_stdout), stderr_lines=stderr_lines)
    out_chunks: list[bytes] = []
    stopped_by = _supervise(
        [child],
        out_chunks=out_chunks if capture_stdout else None,
        progress=progress,
        duration_s=duration_s,
        timeout_s=timeout_s,
        stall_s=stall_s,
        cancel=cancel,
    )
    result = RunResult(
        returncode=child.proc.returncode if child.proc.returncode is not None else -9,
        stderr_tail=child.tail(),
        stdout=b"".join(out_chunks),
        elapsed_s=time.monotonic() - child.started,
        stopped_by=stopped_by,
    )
    _raise_for(result, stall_s=stall_s, check=check)
    return result


def run_ffmpeg_pipeline(
    first: Sequence[str],
    second: Sequence[str],
    *,
    duration_s: float | None = None,
    progress: ProgressFn | None = None,
    timeout_s: float = 6 * 3600,
    stall_s: float = 120.0,
    cancel: threading.Event | None = None,
    stderr_lines: int = 200,
    exe: str | None = None,
) -> RunResult:
    """Run ``first | second``: two FFmpegs, the first writing to ``pipe:1``, the second reading
    ``pipe:0``, with every guarantee of :func:`run_ffmpeg` over both (one watchdog: a timeout, a
    stall of both, a cancel or either one failing ends the pair).

    Why two processes: FFmpeg before 7.0 runs the filter graph and the encoder on one thread, so a
    heavy graph (a 4x oversampled limiter) and an encoder share a core; piped, each gets one.

    Args:
        first: Arguments of the producer (inputs from :func:`input_args`, output ``pipe:1``).
        second: Arguments of the consumer (input ``-i pipe:0`` in the producer's raw format).
        duration_s, progress: As for :func:`run_ffmpeg`, read from the consumer.
        timeout_s, stall_s, cancel, stderr_lines, exe: As for :func:`run_ffmpeg`.

    Returns:
        The consumer's :class:`RunResult` (its stderr tail has the producer's last lines too).
    """
    producer = spawn(_command(first, exe, progress_pipe=False), stderr_lines=stderr_lines)
    try:
        consumer = spawn(_command(second, exe, progress_pipe=True), stdin=producer.stdout, stderr_lines=stderr_lines)
    except BaseException:
        producer.close()
        raise
    producer.stdout.close()  # the consumer holds the pipe now; it alone keeps the producer writing
    stopped_by = _supervise(
        [producer, consumer],
        out_chunks=None,
        progress=progress,
        duration_s=duration_s,
        timeout_s=timeout_s,
        stall_s=stall_s,
        cancel=cancel,
    )
    codes = [c.proc.returncode for c in (producer, consumer)]
    failed = next((code for code in codes if code != 0), 0)
    result = RunResult(
        returncode=failed if failed is not None else -9,
        stderr_tail="\n".join(t for t in (producer.tail(), consumer.tail()) if t),
        stdout=b"",
        elapsed_s=time.monotonic() - producer.started,
        stopped_by=stopped_by,
    )
    _raise_for(result, stall_s=stall_s, check=True)
    return result


def _supervise(
    children: list[Child],
    *,
    out_chunks: list[bytes] | None,
    progress: ProgressFn | None,
    duration_s: float | None,
    timeout_s: float,
    stall_s: float,
    cancel: threading.Event | None,
) -> str:
    """Guard running FFmpegs to their end: the last one's stdout drained on a reader thread (its
    bytes into ``out_chunks``, or its ``-progress`` lines), one watchdog over all of them (a stall
    is all of them quiet), each waited for from the last (it ends when its input does) and closed
    whatever happens (KeyboardInterrupt included: never leave FFmpeg running behind us).

    Returns how the run ended ("exit", "timeout", "stall" or "cancel"); raises what the reader raised
    (the caller's progress callback refusing).
    """
    last = children[-1]
    failures: list[BaseException] = []
    reader = threading.Thread(target=_read_stdout, args=(last, out_chunks, progress, duration_s, failures), daemon=True)
    try:
        with Watchdog(
            children,
            timeout_s=timeout_s,
            stall_s=stall_s,
            idle_s=lambda: time.monotonic() - max(c.last_activity for c in children),
            cancel=cancel,
        ) as dog:
            reader.start()
            for child in reversed(children):
                child.wait()
        reader.join(timeout=5)
    finally:
        for child in reversed(children):
            child.close()
    if failures:
        raise failures[0]
    return dog.stopped_by or "exit"


def _read_stdout(
    child: Child,
    out_chunks: list[bytes] | None,
    progress: ProgressFn | None,
    duration_s: float | None,
    failures: list[BaseException],
) -> None:
    """Drain FFmpeg's stdout: keep the bytes, or turn ``-progress`` lines into fractions."""
    try:
        if out_chunks is not None:
            for chunk in iter(lambda: child.stdout.read1(1 << 16), b""):
                child.last_activity = time.monotonic()
                out_chunks.append(chunk)
            return
        seen: dict[str, str] = {}
        for raw in iter(child.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").strip()
            if _advances(line, seen):
                child.last_activity = time.monotonic()
            fraction = _progress_fraction(line, duration_s)
            if progress is not None and fraction is not None:
                progress(fraction)
    except BaseException as exc:  # the caller's progress callback refused (a cancel check): stop FFmpeg
        failures.append(exc)
        child.kill()


#: ``-progress`` keys whose change means FFmpeg got further (the others repeat every report).
_PROGRESS_KEYS = ("out_time_us", "total_size", "frame")


def _advances(line: str, seen: dict[str, str]) -> bool:
    """Whether one ``-progress`` line shows FFmpeg moving on (a new position, size or frame count).

    FFmpeg writes a report every half second whether or not it gets anywhere: counted as activity,
    those reports would keep a run stuck in place alive until the 6-hour ceiling.
    """
    key, _, value = line.partition("=")
    if key == "progress":
        return value == "end"
    if key not in _PROGRESS_KEYS or seen.get(key) == value:
        return False
    seen[key] = value
    return True


def _progress_fraction(line: str, duration_s: float | None) -> float | None:
    """The 0..1 fraction one ``-progress`` line reports, if it reports one."""
    if not duration_s:
        return None
    if line.startswith(("out_time_us=", "out_time_ms=")):  # both are microseconds
        try:
            us = int(line.split("=", 1)[1])
        except ValueError:
            return None
        return min(1.0, max(0.0, us / 1e6 / duration_s))
    return 1.0 if line == "progress=end" else None


def _raise_for(result: RunResult, *, stall_s: float, check: bool) -> None:
    """Turn how a run ended into the error the caller should see, if any."""
    if result.stopped_by == "cancel":
        raise Cancelled("cancelled")
    if result.stopped_by in ("timeout", "stall"):
        why = "ran past its time limit" if result.stopped_by == "timeout" else f"made no progress for {stall_s:.0f} s"
        raise ProcessTimeout(f"FFmpeg {why}", detail=result.stderr_tail)
    if check and result.stopped_by == "exit" and result.returncode != 0:
        raise ProcessingError(f"FFmpeg failed: {last_error_line(result.stderr_tail)}", detail=result.stderr_tail)


class FFmpegStream:
    """FFmpeg's stdout read as it is produced, with every guarantee of :func:`run_ffmpeg`.

    For outputs too big to hold (``-f f32le pipe:1`` of a long file). Use it as a context manager;
    leaving the block early, or with an exception, kills FFmpeg's process group::

        with FFmpegStream(args) as stream:
            for block in stream.blocks(1 << 20):
                ...

    The stall watchdog counts only time the reader spends waiting for bytes that do not come: a
    slow consumer leaves FFmpeg blocked on a full pipe, and that is not FFmpeg's stall.

    Args:
        args: Arguments after the binary; inputs must come from :func:`input_args`; the output
            should be ``pipe:1``. ``-nostdin -hide_banner -nostats`` are added.
        timeout_s: Wall-clock ceiling.
        stall_s: Kill when a read has waited this long with no output on stdout or stderr.
        cancel: Set it to stop; :class:`Cancelled` is raised when the block ends.
        stderr_lines: How many stderr lines to keep.
        exe: Binary to run instead of :func:`ffmpeg_exe`.

    Attributes:
        result: The :class:`RunResult` (without stdout) once the block has ended.
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        timeout_s: float = 6 * 3600,
        stall_s: float = 120.0,
        cancel: threading.Event | None = None,
        stderr_lines: int = 200,
        exe: str | None = None,
    ) -> None:
        self._cmd = _command(args, exe, progress_pipe=False)
        self._timeout_s, self._stall_s, self._cancel = timeout_s, stall_s, cancel
        self._stderr_lines = stderr_lines
        self._waiting_since: float | None = None
        self._eof = False
        self.result: RunResult | None = None

    def __enter__(self) -> FFmpegStream:
        self._child = spawn(self._cmd, stderr_lines=self._stderr_lines)
        self._dog = Watchdog(
            [self._child], timeout_s=self._timeout_s, stall_s=self._stall_s, idle_s=self._idle_s, cancel=self._cancel
        )
        self._dog.__enter__()
        return self

    @property
    def pid(self) -> int:
        """FFmpeg's process id (also its process group id), once the block has started."""
        return self._child.pid

    def _idle_s(self) -> float:
        since = self._waiting_since
        if since is None:
            return 0.0
        return time.monotonic() - max(since, self._child.last_activity)

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes: exactly ``n`` until the output ends, then the rest, then ``b""``."""
        buf = bytearray()
        self._waiting_since = time.monotonic()
        try:
            while len(buf) < n:
                piece = self._child.stdout.read1(n - len(buf))
                if not piece:
                    self._eof = True
                    break
                buf += piece
                self._waiting_since = time.monotonic()
        finally:
            self._waiting_since = None
        return bytes(buf)

    def blocks(self, block_bytes: int) -> Iterator[bytes]:
        """Yield ``block_bytes``-sized pieces of the output (the last may be shorter)."""
        while block := self.read(block_bytes):
            yield block

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        closed_early = not self._eof or exc_type is not None
        try:
            if closed_early:
                self._child.kill()
            else:
                self._child.wait()  # the output ended; the watchdog still guards the exit
        finally:
            self._dog.__exit__(None, None, None)
            self._child.close()
        code = self._child.proc.returncode
        self.result = RunResult(
            returncode=code if code is not None else -9,
            stderr_tail=self._child.tail(),
            stdout=b"",
            elapsed_s=time.monotonic() - self._child.started,
            stopped_by=self._dog.stopped_by or ("closed" if closed_early else "exit"),
        )
        if exc_type is None:
            _raise_for(self.result, stall_s=self._stall_s, check=True)


def iter_ffmpeg(args: Sequence[str], *, block_bytes: int, **options: Any) -> Iterator[bytes]:
    """Yield FFmpeg's stdout in ``block_bytes`` pieces (see :class:`FFmpegStream` for ``options``).

    Closing the generator early (``break``, garbage collection) kills FFmpeg's process group.
    """
    with FFmpegStream(args, **options) as stream:
        yield from stream.blocks(block_bytes)


def last_error_line(stderr_tail: str) -> str:
    """The most telling line of an FFmpeg stderr tail, for a one-line error message."""
    lines = [ln.strip() for ln in stderr_tail.splitlines() if ln.strip()]
    for ln in reversed(lines):
        low = ln.lower()
        if "error" in low or "invalid" in low or "not " in low or "failed" in low:
            return ln[:200]
    return lines[-1][:200] if lines else "no output"


def temp_output_path(target: Path) -> Path:
    """A temporary name beside ``target`` (same folder, so the final rename is atomic)."""
    return target.with_name(f".{target.stem}.{os.getpid()}.{threading.get_ident()}.partial{target.suffix}")


def commit_output(temp: Path, target: Path) -> Path:
    """Atomically move a finished temporary output to its final name."""
    os.replace(temp, target)
    return target
