"""The one process runner: streaming FFmpeg, its watchdogs, and children that die with their parent.

Real FFmpeg and real processes throughout; process state is read from /proc (Linux).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ab2n.errors import Cancelled, ProcessingError, ProcessTimeout
from ab2n.media.decode import decode_audio, iter_audio_blocks
from ab2n.media.ffmpeg import FFmpegStream, iter_ffmpeg, run_ffmpeg, run_ffmpeg_pipeline
from mediagen import tone_wav

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process state from /proc")

# Ten minutes of generated audio as raw samples on stdout, at playback speed (-re): longer than any
# test waits for, and never over before a watchdog looks.
LONG_PCM = ["-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=600", "-f", "s16le", "pipe:1"]


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a killed orphan may wait for init to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _descendants(root: int) -> set[int]:
    """Every live process below ``root``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return {pid for pid in found if _alive(pid)}


def _gone_within(pids: set[int], seconds: float) -> set[int]:
    """The pids still alive after waiting up to ``seconds`` for all to end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return {p for p in pids if _alive(p)}


def test_stream_matches_one_shot_decode() -> None:
    wav = tone_wav(330.0, duration_s=3.0)
    whole = decode_audio(wav, sample_rate=16000)
    blocks = list(iter_audio_blocks(wav, sample_rate=16000, block_s=0.5))
    assert [len(b) for b in blocks[:-1]] == [8000] * (len(blocks) - 1)
    assert np.array_equal(np.concatenate(blocks), whole)


def test_leaving_a_stream_early_kills_ffmpeg() -> None:
    with FFmpegStream(LONG_PCM) as stream:
        assert len(stream.read(4096)) == 4096
        pid = stream.pid
        assert _alive(pid)
    assert not _alive(pid)
    assert stream.result is not None and stream.result.stopped_by == "closed"


def test_closing_the_generator_kills_ffmpeg() -> None:
    gen = iter_ffmpeg(LONG_PCM, block_bytes=4096)
    next(gen)
    pids = _descendants(os.getpid())
    assert pids
    gen.close()
    assert _gone_within(pids, 5.0) == set()


def test_an_exception_in_the_reader_kills_ffmpeg() -> None:
    with pytest.raises(KeyError), FFmpegStream(LONG_PCM) as stream:
        pid = stream.pid
        stream.read(10)
        raise KeyError("consumer failed")
    assert not _alive(pid)


def test_a_failed_decode_raises_with_ffmpegs_words(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64)
    with pytest.raises(ProcessingError) as err:
        list(iter_audio_blocks(bad, sample_rate=16000))
    assert err.value.detail  # FFmpeg's stderr tail, kept rather than thrown away


def test_a_stream_that_says_nothing_is_stopped_by_the_stall_watchdog(tmp_path: Path) -> None:
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)  # opening it for reading blocks until a writer comes: FFmpeg hangs, silent
    with (
        pytest.raises(ProcessTimeout, match="no progress"),
        FFmpegStream(
            ["-f", "s16le", "-ar", "8000", "-ac", "1", "-i", str(fifo), "-f", "s16le", "pipe:1"], stall_s=1.0
        ) as stream,
    ):
        stream.read(4096)


def test_ffmpeg_reporting_without_getting_anywhere_is_a_stall() -> None:
    """FFmpeg writes a progress report every half second even when its position never moves (an
    endless source whose every sample is dropped): that is a stall, not progress."""
    spin = ["-f", "lavfi", "-i", "sine=sample_rate=8000", "-af", "aselect=0", "-f", "null", "-"]
    started = time.monotonic()
    with pytest.raises(ProcessTimeout, match="no progress"):
        run_ffmpeg(spin, stall_s=1.5, timeout_s=60)
    assert time.monotonic() - started < 20


def test_progress_that_moves_is_not_a_stall() -> None:
    """Real time output, reports every half second with a new position: never a stall at 1.5 s,
    over a run of twice that at least (FFmpeg 9's -re reads its first half second at once)."""
    res = run_ffmpeg(["-re", "-f", "lavfi", "-i", "sine=sample_rate=8000:duration=4", "-f", "null", "-"], stall_s=1.5)
    assert res.stopped_by == "exit" and res.elapsed_s >= 3.0


def test_a_slow_reader_is_not_a_stall() -> None:
    """FFmpeg blocked on a full pipe because the reader is busy has not stalled."""
    with FFmpegStream(
        ["-f", "lavfi", "-i", "sine=duration=2:sample_rate=8000", "-f", "s16le", "pipe:1"], stall_s=0.5
    ) as s:
        first = s.read(1000)
        time.sleep(1.5)  # three stall periods with nobody reading
        rest = b"".join(s.blocks(1 << 16))
    assert len(first) + len(rest) == 2 * 8000 * 2
    assert s.result is not None and s.result.stopped_by == "exit"


def test_cancel_stops_a_stream() -> None:
    cancel = threading.Event()
    with pytest.raises(Cancelled), FFmpegStream(LONG_PCM, cancel=cancel) as stream:
        pid = stream.pid
        stream.read(4096)
        cancel.set()
        while stream.read(1 << 16):
            pass  # ends when the watchdog kills FFmpeg
    assert not _alive(pid)


def test_wall_clock_limit_stops_a_stream() -> None:
    with pytest.raises(ProcessTimeout, match="time limit"), FFmpegStream(LONG_PCM, timeout_s=1.0) as stream:
        while stream.read(1 << 16):
            pass


_CHILD = textwrap.dedent(
    """
    import sys, threading
    from ab2n.media.ffmpeg import FFmpegStream, run_ffmpeg

    LONG = ["-f", "lavfi", "-i", "sine=sample_rate=8000:duration=600", "-f", "s16le", "pipe:1"]
    # A blocking run on a job thread, as the service runs renders.
    SLOW = ["-re", "-f", "lavfi", "-i", "sine=sample_rate=8000:duration=600", "-f", "null", "-"]
    threading.Thread(target=run_ffmpeg, args=(SLOW,), daemon=True).start()
    # A stream opened by a thread that then ends: its FFmpeg must outlive that thread, not this process.
    held = []
    opener = threading.Thread(target=lambda: held.append(FFmpegStream(LONG).__enter__()))
    opener.start()
    opener.join()
    mine = FFmpegStream(LONG).__enter__()  # and one opened by the main thread
    print(held[0].pid, mine.pid, flush=True)
    sys.stdin.read()  # until the test kills us
    """
)


PCM_IN = ["-f", "f32le", "-ar", "8000", "-ac", "1", "-i", "pipe:0"]


def test_a_pipeline_gives_what_one_process_gives(tmp_path: Path) -> None:
    """`graph | encoder` writes the same AAC as one FFmpeg running both, and reports progress."""
    source = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=3", "-af", "volume=0.5"]
    encode = ["-c:a", "aac", "-b:a", "64k", "-f", "adts"]
    one, two = tmp_path / "one.aac", tmp_path / "two.aac"
    run_ffmpeg([*source, *encode, "-y", str(one)])
    seen: list[float] = []
    res = run_ffmpeg_pipeline(
        [*source, "-f", "f32le", "pipe:1"], [*PCM_IN, *encode, "-y", str(two)], duration_s=3.0, progress=seen.append
    )
    assert res.stopped_by == "exit" and res.returncode == 0
    assert two.read_bytes() == one.read_bytes()
    assert seen and seen[-1] == 1.0


def test_a_pipeline_whose_producer_fails_raises_with_its_words(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64)
    with pytest.raises(ProcessingError) as err:
        run_ffmpeg_pipeline(["-i", str(bad), "-f", "f32le", "pipe:1"], [*PCM_IN, "-f", "null", "-"])
    assert str(bad) in err.value.detail or "Invalid" in err.value.detail


def test_cancel_stops_both_ends_of_a_pipeline() -> None:
    cancel = threading.Event()
    before = _descendants(os.getpid())
    threading.Timer(1.0, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        run_ffmpeg_pipeline(LONG_PCM, [*PCM_IN, "-f", "null", "-"], cancel=cancel)
    assert time.monotonic() - started < 10
    assert _gone_within(_descendants(os.getpid()) - before, 5.0) == set()


def test_children_die_when_their_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    children: set[int] = set()
    try:
        assert parent.stdout is not None
        named = {int(x) for x in parent.stdout.readline().split()}
        assert len(named) == 2, "the child did not start its two FFmpeg streams"
        deadline = time.monotonic() + 30
        while len(children) < 3 and time.monotonic() < deadline:  # the thread's FFmpeg may start last
            children = _descendants(parent.pid)
            time.sleep(0.05)
        assert named <= children and len(children) >= 3, children
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        assert _gone_within(children, 10.0) == set()
    finally:
        for pid in _descendants(parent.pid) | {p for p in children if _alive(p)}:
            os.kill(pid, signal.SIGKILL)  # only if the test failed: never leave our FFmpegs running
        if parent.poll() is None:
            parent.kill()
            parent.wait()
