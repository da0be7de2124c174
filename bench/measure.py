"""Run a command in a fresh process: wall time, and the peak RSS of its whole process tree.

RSS is sampled from /proc every 20 ms and summed over the process and all its descendants (ab2n
runs FFmpeg as children). ``ru_maxrss`` is not used: after fork+exec Linux keeps the parent's
high-water mark in it, so every child would look as big as the harness.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """One timed run."""

    wall_s: float
    peak_rss_mb: float
    ok: bool


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            out += [int(x) for x in text]
    except OSError:
        pass
    return out


def _tree_rss_kb(root: int) -> int:
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
        stack += _children(pid)
    return total


def timed(cmd: list[str], *, env: dict[str, str] | None = None, timeout_s: float = 3600) -> Run:
    """Run ``cmd``; returns wall time and the peak summed RSS of its process tree."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            stop.wait(0.02)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    if proc.returncode != 0:
        print(f"  ! {' '.join(cmd[:4])}... failed: {err.decode(errors='replace')[-300:]}")
    return Run(wall, peak[0] / 1024, proc.returncode == 0)


def median(xs: list[float]) -> float:
    """Median of a non-empty list."""
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def write_report(out_dir: Path, stem: str, payload: dict, lines: list[str]) -> Path:
    """Write ``stem``.json (the numbers) and ``stem``.md (the tables) into ``out_dir``; returns the .md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stem}.json").write_text(json.dumps(payload, indent=2) + "\n")
    md = out_dir / f"{stem}.md"
    md.write_text("\n".join(lines) + "\n")
    print(f"wrote {md}")
    return md


def render_check(src: Path, out: Path) -> dict[str, float | int | str]:
    """How much of ``out``'s video is ``src``'s packets, whether it decodes cleanly, and its A/V ends.

    Returns:
        same_packets: Share of the source's video packets found byte for byte at the same pts.
        decode_errors: What ``ffmpeg -v error -i OUT -f null -`` printed (empty = clean).
        duration_delta_s: Output video duration minus the source's.
        av_end_delta_s: End of the output's audio minus the end of its video.
    """
    import hashlib

    import av

    from ab2n.media.ffmpeg import ffmpeg_exe

    def packets(path: Path) -> tuple[dict[int, str], float, float]:
        with av.open(str(path)) as c:
            v = c.streams.video[0]
            got = {int(p.pts): hashlib.sha1(bytes(p)).hexdigest() for p in c.demux(v) if p.size and p.pts is not None}
            tb = float(v.time_base or 0)
            v_end = ((v.start_time or 0) + (v.duration or 0)) * tb
            a_end = v_end
            if c.streams.audio:
                a = c.streams.audio[0]
                a_end = ((a.start_time or 0) + (a.duration or 0)) * float(a.time_base or 0)
        return got, v_end, a_end

    theirs, src_end, _ = packets(src)
    ours, v_end, a_end = packets(out)
    same = sum(ours.get(k) == h for k, h in theirs.items()) / max(1, len(theirs))
    run = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(out), "-f", "null", "-"], capture_output=True, text=True
    )
    return {
        "same_packets": round(same, 3),
        "decode_errors": run.stderr.strip()[-300:],
        "duration_delta_s": round(v_end - src_end, 4),
        "av_end_delta_s": round(a_end - v_end, 4),
    }
