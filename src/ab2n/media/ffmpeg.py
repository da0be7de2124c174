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
    RunResult          what happened.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ab2n.errors import Cancelled, ProcessingError, ProcessTimeout

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
        out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    first = out.stdout.split("\n", 1)[0]  # "ffmpeg version 6.1.1-3ubuntu5 ..." or "n7.0-..."
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
        stopped_by: "exit", "timeout", "stall" or "cancel".
    """

    returncode: int
    stderr_tail: str
    stdout: bytes
    elapsed_s: float
    stopped_by: str


ProgressFn = Callable[[float], None]


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
        progress: Called with a fraction in [0, 1] as FFmpeg reports progress.
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
    cmd = [exe or ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats"]
    if not capture_stdout:
        cmd += ["-progress", "pipe:1"]
    cmd += list(args)

    start = time.monotonic()
    last_activity = [start]
    tail: deque[str] = deque(maxlen=stderr_lines)
    out_chunks: list[bytes] = []

    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # own process group: we can kill FFmpeg and anything it spawned
    )

    def read_stderr() -> None:
        assert proc.stderr is not None
        for raw in iter(proc.stderr.readline, b""):
            last_activity[0] = time.monotonic()
            tail.append(raw.decode("utf-8", "replace").rstrip())

    def read_stdout() -> None:
        assert proc.stdout is not None
        if capture_stdout:
            for chunk in iter(lambda: proc.stdout.read(1 << 16), b""):  # type: ignore[union-attr]
                last_activity[0] = time.monotonic()
                out_chunks.append(chunk)
            return
        for raw in iter(proc.stdout.readline, b""):
            last_activity[0] = time.monotonic()
            line = raw.decode("utf-8", "replace").strip()
            if progress is None or not duration_s:
                continue
            if line.startswith("out_time_us=") or line.startswith("out_time_ms="):
                try:
                    us = int(line.split("=", 1)[1])
                except ValueError:
                    continue
                progress(min(1.0, max(0.0, us / 1e6 / duration_s)))
            elif line == "progress=end":
                progress(1.0)

    readers = [
        threading.Thread(target=read_stderr, daemon=True),
        threading.Thread(target=read_stdout, daemon=True),
    ]
    for t in readers:
        t.start()

    stopped_by = "exit"
    try:
        while True:
            try:
                proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if cancel is not None and cancel.is_set():
                stopped_by = "cancel"
            elif now - start > timeout_s:
                stopped_by = "timeout"
            elif now - last_activity[0] > stall_s:
                stopped_by = "stall"
            if stopped_by != "exit":
                _kill_group(proc)
                break
    except BaseException:
        # KeyboardInterrupt or anything else: never leave FFmpeg running behind us.
        _kill_group(proc)
        raise
    finally:
        for t in readers:
            t.join(timeout=5)

    result = RunResult(
        returncode=proc.returncode if proc.returncode is not None else -9,
        stderr_tail="\n".join(tail),
        stdout=b"".join(out_chunks),
        elapsed_s=time.monotonic() - start,
        stopped_by=stopped_by,
    )
    if stopped_by == "cancel":
        raise Cancelled("cancelled")
    if stopped_by in ("timeout", "stall"):
        why = "ran past its time limit" if stopped_by == "timeout" else f"made no progress for {stall_s:.0f} s"
        raise ProcessTimeout(f"FFmpeg {why}", detail=result.stderr_tail)
    if check and result.returncode != 0:
        raise ProcessingError(f"FFmpeg failed: {last_error_line(result.stderr_tail)}", detail=result.stderr_tail)
    return result


def last_error_line(stderr_tail: str) -> str:
    """The most telling line of an FFmpeg stderr tail, for a one-line error message."""
    lines = [ln.strip() for ln in stderr_tail.splitlines() if ln.strip()]
    for ln in reversed(lines):
        low = ln.lower()
        if "error" in low or "invalid" in low or "not " in low or "failed" in low:
            return ln[:200]
    return lines[-1][:200] if lines else "no output"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill FFmpeg's whole process group and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def temp_output_path(target: Path) -> Path:
    """A temporary name beside ``target`` (same folder, so the final rename is atomic)."""
    return target.with_name(f".{target.stem}.{os.getpid()}.{threading.get_ident()}.partial{target.suffix}")


def commit_output(temp: Path, target: Path) -> Path:
    """Atomically move a finished temporary output to its final name."""
    os.replace(temp, target)
    return target
