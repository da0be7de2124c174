"""python -m bench [--quick] [--runs N] [--out docs]: ab2n vs plain FFmpeg, a naive FFmpeg recipe, MoviePy.

Writes docs/benchmarks.md, docs/benchmarks.json and docs/bench/*.png. The full run is not in CI;
``--quick`` (tiny inputs, one run) is, through tests/bench/test_quick.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ab2n.media.ffmpeg import ffmpeg_exe
from bench.inputs import CACHE, BenchInput, make_input, music_file
from bench.measure import Run, median, render_check, timed
from bench.quality import quality
from bench.service_load import BEGIN as SERVICE_BEGIN

ROOT = Path(__file__).resolve().parent.parent


def tools(
    inp: BenchInput, music: Path, out_dir: Path, *, moviepy: bool, montage: list[Path] | None = None
) -> dict[str, list[str]]:
    """The commands compared, for one input (each writes its own output)."""
    ff = ffmpeg_exe()
    py = sys.executable
    d = inp.duration_s
    add = [py, "-m", "ab2n.cli", "add", str(inp.path), "--max-mb", "8000"]
    t = {
        "ffmpeg decode (floor)": [
            ff,
            "-nostdin",
            "-v",
            "error",
            "-threads",
            "0",
            "-i",
            str(inp.path),
            "-f",
            "null",
            "-",
        ],
        "ffmpeg mux (floor)": [
            ff,
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-i",
            str(inp.path),
            "-i",
            str(music),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-shortest",
            str(out_dir / "mux.mp4"),
        ],
        "naive ffmpeg recipe": [
            ff,
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-i",
            str(inp.path),
            "-stream_loop",
            "-1",
            "-i",
            str(music),
            "-filter_complex",
            f"[1:a]volume=0.4[m];[0:a][m]amix=inputs=2:duration=first,afade=t=out:st={max(0, d - 2)}:d=2[a]",
            "-map",
            "0:v",
            "-map",
            "[a]",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-shortest",
            str(out_dir / "naive.mp4"),
        ],
        "ab2n add (copy)": [
            py,
            "-m",
            "ab2n.cli",
            "add",
            str(inp.path),
            "-o",
            str(out_dir / "ab2n.mp4"),
            "--max-mb",
            "8000",
        ],
        "title (smart)": [*add, "-o", str(out_dir / "ab2n-title.mp4"), "--prompt", "title 'Bench'"],
        "title (forced full encode)": [
            *add,
            "-o",
            str(out_dir / "ab2n-title-full.mp4"),
            "--prompt",
            "title 'Bench'",
            "--full-render",
        ],
        "vertical preset": [*add, "-o", str(out_dir / "ab2n-vertical.mp4"), "--preset", "vertical"],
        "ab2n analyze": [py, "-m", "ab2n.cli", "analyze", str(inp.path), "--json", "--max-mb", "8000"],
    }
    if montage is not None:
        # Two other 15 s clips joined on the music's downbeats: a 30 s 1080p encode, like the title's.
        t["montage"] = [
            py,
            "-m",
            "ab2n.cli",
            "add",
            *map(str, montage),
            "--montage",
            "-o",
            str(out_dir / "montage.mp4"),
            "--max-mb",
            "8000",
        ]
    if moviepy:
        t["moviepy naive script"] = [
            py,
            str(ROOT / "bench" / "moviepy_naive.py"),
            str(inp.path),
            str(music),
            str(out_dir / "moviepy.mp4"),
        ]
    return t


OUTPUTS = {
    "naive ffmpeg recipe": "naive.mp4",
    "ab2n add (copy)": "ab2n.mp4",
    "moviepy naive script": "moviepy.mp4",
}


#: Outputs whose picture is checked against the source (packets kept, decode errors, durations).
RENDERS = {
    "title (smart)": "ab2n-title.mp4",
    "title (forced full encode)": "ab2n-title-full.mp4",
}

LONG_S = 120.0
#: Tools that encode the whole picture: on this 2-core machine they take about real time, so they
#: run on inputs up to SLOW_MAX_S only (the 30 s clip; not in --quick), the rest get the cheap tools.
SLOW_TOOLS = {"title (forced full encode)", "vertical preset", "montage", "moviepy naive script"}
SLOW_MAX_S = 30.0


def montage_inputs(inp: BenchInput) -> list[Path]:
    """Two other clips, each half as long as ``inp``, for the montage row (generated once, cached)."""
    half = inp.duration_s / 2
    return [make_input(f"{half:.0f}s-1080p-{k}", half, seed=7 + i).path for i, k in enumerate("ab")]


def run_suite(
    inputs: list[BenchInput],
    runs: int,
    *,
    moviepy: bool,
    all_tools: bool = False,
    quick: bool = False,
    on_input: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Time every tool on every input, interleaved, ``runs`` times; then measure output quality."""
    music = music_file()
    results: dict[str, Any] = {}
    for inp in inputs:
        out_dir = Path(tempfile.mkdtemp(prefix=f"bench-{inp.name}-"))
        slow_ok = all_tools or (not quick and inp.duration_s <= SLOW_MAX_S)
        cmds = tools(inp, music, out_dir, moviepy=moviepy, montage=montage_inputs(inp) if slow_ok else None)
        if not slow_ok:
            cmds = {k: v for k, v in cmds.items() if k not in SLOW_TOOLS}
        per: dict[str, list[Run]] = {k: [] for k in cmds}
        env = {"XDG_CACHE_HOME": str(ROOT / "bench" / ".cache" / "xdg")}
        # Warm the track-analysis cache once so every timed ab2n run is a steady-state run.
        subprocess.run(cmds["ab2n add (copy)"], capture_output=True, env={**os.environ, **env})
        long_input = inp.duration_s > LONG_S and not all_tools
        load_start = os.getloadavg()[0]
        for _run in range(1 if long_input else runs):
            for name, cmd in cmds.items():
                if long_input and name in SLOW_TOOLS:
                    continue  # re-encoding 1080p on 2 cores takes ~real time: measured on short inputs only
                per[name].append(timed(cmd, env=env))
                print(
                    f"  {inp.name:<14} {name:<28} {per[name][-1].wall_s:8.2f} s  {per[name][-1].peak_rss_mb:7.0f} MB",
                    flush=True,
                )
        floor = median([x.wall_s for x in per["ffmpeg decode (floor)"]])
        row: dict[str, Any] = {
            "duration_s": inp.duration_s,
            "cuts": len(inp.cuts_s),
            "load_avg": [round(load_start, 2), round(os.getloadavg()[0], 2)],
            "tools": {},
        }
        for name, rs in per.items():
            if not rs:
                continue
            wall = median([x.wall_s for x in rs])
            row["tools"][name] = {
                "median_s": round(wall, 3),
                "ratio_to_decode": round(wall / floor, 3),
                "peak_rss_mb": round(max(x.peak_rss_mb for x in rs), 1),
                "runs": len(rs),
                "ok": all(x.ok for x in rs),
            }
        row["quality"] = {
            name: quality(out_dir / fname, inp) for name, fname in OUTPUTS.items() if (out_dir / fname).exists()
        }
        row["renders"] = {
            name: render_check(inp.path, out_dir / fname)
            for name, fname in RENDERS.items()
            if (out_dir / fname).exists()
        }
        results[inp.name] = row
        if on_input is not None:  # the report is rewritten after each input: a cut-short run still reports
            on_input(results)
    return results


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, StopIteration):
        pass
    ffv = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "ffmpeg": ffv,
        "date": time.strftime("%Y-%m-%d"),
    }


def write_report(results: dict[str, Any], out: Path, *, quick: bool) -> None:
    """docs/benchmarks.md + .json + PNG plots."""
    out.mkdir(parents=True, exist_ok=True)
    info = machine()
    payload = {"machine": info, "quick": quick, "results": results}
    (out / "benchmarks.json").write_text(json.dumps(payload, indent=2))
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python -m bench`" + (" --quick" if quick else "") + ". Do not edit by hand.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()),
        "",
        "## Speed and memory (median wall time; ratio to a plain `ffmpeg -threads 0 -i IN -f null -` decode)",
        "",
    ]
    for name, row in results.items():
        load = row.get("load_avg")
        lines += [
            f"### {name} ({row['duration_s']:.0f} s, {row['cuts']} cuts)",
            "",
            *(
                [f"1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end (2 cores).", ""]
                if load
                else []
            ),
            "| tool | median s | × decode | peak RSS MB | runs |",
            "|---|---:|---:|---:|---:|",
        ]
        for tool, r in row["tools"].items():
            flag = "" if r["ok"] else " (failed)"
            lines.append(
                f"| {tool}{flag} | {r['median_s']:.2f} | {r['ratio_to_decode']:.2f} "
                f"| {r['peak_rss_mb']:.0f} | {r['runs']} |"
            )
        lines += [
            "",
            "| output | cuts on a beat (±50 ms) | on a downbeat | BAS (σ 50 ms) | on a librosa beat | LUFS | dBTP "
            "| music ends with video |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for tool, q in row["quality"].items():
            lib = q.get("librosa_beat_rate")
            lines.append(
                f"| {tool} | {q['beat_rate']:.2f} | {q['downbeat_rate']:.2f} | {q['bas']:.2f} | "
                f"{'-' if lib is None else f'{lib:.2f}'} | "
                f"{q['lufs']:.1f} | {q['true_peak']:.1f} | {'yes' if q['ends_with_video'] else 'no'} |"
            )
        lines += _render_lines(row.get("renders", {}))
        lines.append("")
    lines += targets(results)
    lines += [
        f"Inputs longer than {LONG_S:.0f} s run once, without the re-encoding tools (ab2n with a title, MoviePy):",
        "on this 2-core machine they take about real time and would dominate the run.",
        "",
        "Beat/downbeat rates are measured on each OUTPUT's audio by ab2n's track analyser run blind (it",
        "never sees the plan), and by librosa's `beat_track` (an independent tracker, no downbeats);",
        "the naive recipes get the same measurements.",
        "",
    ]
    md = out / "benchmarks.md"
    # The service-load section is another benchmark's (bench.service_load): kept as it was.
    old = md.read_text() if md.exists() else ""
    kept = old[old.find(SERVICE_BEGIN) :] if SERVICE_BEGIN in old else ""
    md.write_text("\n".join(lines) + ("\n" + kept if kept else ""))
    _plots(results, out / "bench")


def _render_lines(renders: dict[str, Any]) -> list[str]:
    """The picture checks of the titled outputs (smart vs forced full encode)."""
    if not renders:
        return []
    out = [
        "",
        "| output | video packets the source's | decode errors (`-v error`) | video duration − source's | "
        "audio end − video end |",
        "|---|---:|---|---:|---:|",
    ]
    for tool, r in renders.items():
        errs = "none" if not r["decode_errors"] else r["decode_errors"].splitlines()[0][:60]
        out.append(
            f"| {tool} | {r['same_packets']:.0%} | {errs} | {r['duration_delta_s'] * 1000:+.0f} ms "
            f"| {r['av_end_delta_s'] * 1000:+.0f} ms |"
        )
    return out


def targets(results: dict[str, Any]) -> list[str]:
    """The issue's targets, checked against this run (missed ones are said plainly)."""
    out = ["## Targets (issue 8)", ""]

    def tool(name: str, t: str) -> dict[str, Any] | None:
        row = results.get(name, {})
        return row.get("tools", {}).get(t) if row else None

    add = tool("60s-1080p", "ab2n add (copy)")
    dec = tool("60s-1080p", "ffmpeg decode (floor)")
    mp = tool("60s-1080p", "moviepy naive script")
    if add and dec:
        r = add["median_s"] / dec["median_s"]
        out.append(
            f"- 60 s 1080p, `ab2n add` (stream copy) vs plain decode: {r:.2f}x (target <= 1.5x): "
            + ("met" if r <= 1.5 else "MISSED")
        )
    if add and mp:
        r = mp["median_s"] / add["median_s"]
        out.append(
            f"- 60 s 1080p, MoviePy script vs `ab2n add`: ab2n is {r:.1f}x faster (target >= 5x): "
            + ("met" if r >= 5 else "MISSED")
        )
    big = tool("20min-1080p", "ab2n add (copy)")
    if big:
        out.append(
            f"- 20 min 1080p, `ab2n add` peak RSS (process tree): {big['peak_rss_mb']:.0f} MB (target <= 500 MB): "
            + ("met" if big["peak_rss_mb"] <= 500 else "MISSED")
        )
    an = tool("20min-1080p", "ab2n analyze")
    if an:
        out.append(
            f"- 20 min 1080p, `ab2n analyze` peak RSS: {an['peak_rss_mb']:.0f} MB (issue 3 target <= 400 MB): "
            + ("met" if an["peak_rss_mb"] <= 400 else "MISSED")
        )
    a60 = tool("60s-1080p", "ab2n analyze")
    if a60 and dec:
        r = a60["median_s"] / dec["median_s"]
        out.append(
            f"- 60 s 1080p, `ab2n analyze` vs `ffmpeg -threads 0 -i IN -f null -`: {r:.2f}x "
            "(issue 3 target <= 0.6x): " + ("met" if r <= 0.6 else "MISSED")
        )
    return [*out, "", *targets_21(results)]


def targets_21(results: dict[str, Any]) -> list[str]:
    """Issue 21's targets (smart render, analysis speed), checked against this run."""
    out = ["## Targets (issue 21)", ""]
    row30 = results.get("30s-1080p", {})
    tools30 = row30.get("tools", {})
    smart, full = tools30.get("title (smart)"), tools30.get("title (forced full encode)")
    if smart:
        r = smart["ratio_to_decode"]
        out.append(
            f"- 30 s 1080p, `ab2n add` with a 3 s title (smart render) vs plain decode: {r:.2f}x (target <= 2.0x): "
            + ("met" if r <= 2.0 else "MISSED")
        )
    if smart and full:
        out.append(
            f"- the same with the whole picture encoded (`--full-render`): {full['ratio_to_decode']:.2f}x; "
            f"smart is {full['median_s'] / smart['median_s']:.1f}x faster"
        )
    check = row30.get("renders", {}).get("title (smart)")
    if check:
        frame_ms = 1000 / 30
        ok = (
            check["same_packets"] >= 0.7
            and not check["decode_errors"]
            and abs(check["duration_delta_s"]) * 1000 <= frame_ms
            and abs(check["av_end_delta_s"]) * 1000 <= frame_ms
        )
        out.append(
            f"- its output: {check['same_packets']:.0%} of video packets the source's (target >= 70 %), decode errors: "
            f"{'none' if not check['decode_errors'] else 'SOME'}, duration {check['duration_delta_s'] * 1000:+.0f} ms, "
            f"audio end {check['av_end_delta_s'] * 1000:+.0f} ms from the video's (target: within a frame): "
            + ("met" if ok else "MISSED")
        )
    an = results.get("60s-1080p", {}).get("tools", {}).get("ab2n analyze")
    if an:
        r = an["ratio_to_decode"]
        out.append(
            f"- 60 s 1080p, `ab2n analyze` vs `ffmpeg -threads 0 -i IN -f null -`: {r:.2f}x (target <= 0.75x): "
            + ("met" if r <= 0.75 else "MISSED")
        )
    return [*out, ""]


def _plots(results: dict[str, Any], folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    rows = sorted(
        (r for n, r in results.items() if not n.startswith(("hevc", "vertical")) and "speech" not in n),
        key=lambda r: r["duration_s"],
    )
    if not rows:
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    tools_all = sorted({t for r in rows for t in r["tools"]})
    for tool in tools_all:
        xs = [r["duration_s"] for r in rows if tool in r["tools"]]
        axes[0].plot(xs, [r["tools"][tool]["median_s"] for r in rows if tool in r["tools"]], "o-", label=tool)
        axes[1].plot(xs, [r["tools"][tool]["peak_rss_mb"] for r in rows if tool in r["tools"]], "o-", label=tool)
    for ax, title in zip(axes, ("wall time (s) vs video length", "peak RSS (MB) vs video length"), strict=True):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("video length (s)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "speed-memory.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 4))
    names = list(results)
    outs = sorted({o for r in results.values() for o in r["quality"]})
    width = 0.8 / max(1, len(outs))
    for i, o in enumerate(outs):
        ax.bar(
            np.arange(len(names)) + i * width,
            [results[n]["quality"].get(o, {}).get("beat_rate", 0) for n in names],
            width,
            label=o,
        )
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, rotation=20)
    ax.set_ylabel("share of cuts with a beat within ±50 ms")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "cut-to-beat.png", dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--quick", action="store_true", help="tiny inputs, one run (< 2 min)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    ap.add_argument("--only", default="", help="comma-separated input names")
    ap.add_argument("--all-tools", action="store_true", help="also re-encode and run MoviePy on long inputs")
    ap.add_argument("--report-only", action="store_true", help="rewrite the report from benchmarks.json")
    ap.add_argument(
        "--requality", action="store_true", help="re-measure the quality of the last run's outputs, rewrite the report"
    )
    args = ap.parse_args(argv)
    if args.requality:
        saved = json.loads((args.out / "benchmarks.json").read_text())
        for name, row in saved["results"].items():
            dirs = sorted(Path(tempfile.gettempdir()).glob(f"bench-{name}-*"), key=lambda p: p.stat().st_mtime)
            meta = CACHE / f"{name}.json"
            if not dirs or not meta.exists():
                continue
            m = json.loads(meta.read_text())
            inp = BenchInput(name, CACHE / f"{name}.mp4", m["duration_s"], m["cuts_s"])
            row["quality"] = {t: quality(dirs[-1] / f, inp) for t, f in OUTPUTS.items() if (dirs[-1] / f).exists()}
            print(f"  {name}: re-measured {', '.join(row['quality'])}", flush=True)
        write_report(saved["results"], args.out, quick=saved["quick"])
        return 0
    if args.report_only:
        saved = json.loads((args.out / "benchmarks.json").read_text())
        write_report(saved["results"], args.out, quick=saved["quick"])
        return 0
    moviepy = importlib.util.find_spec("moviepy") is not None
    if args.quick:
        inputs = [make_input("quick-8s", 8.0, size=(640, 360), seed=3)]
        runs = 1
    else:
        specs: list[tuple[str, float, dict[str, Any]]] = [
            ("30s-1080p", 30.0, {"seed": 1}),
            ("60s-1080p", 60.0, {"seed": 2}),
            ("60s-speech", 60.0, {"seed": 5, "speech": True}),
            ("5min-1080p", 300.0, {"seed": 3}),
            ("20min-1080p", 1200.0, {"seed": 4}),
            ("hevc-4k-10s", 10.0, {"size": (3840, 2160), "hevc": True}),
            ("vertical-30s", 30.0, {"size": (1920, 1080), "seed": 6, "rotate": 90}),
        ]
        keep = set(args.only.split(",")) if args.only else {name for name, _, _ in specs}
        # Only the inputs asked for are made: the 20-minute and 4K ones take minutes to generate.
        inputs = [make_input(name, dur, **kw) for name, dur, kw in specs if name in keep]
        runs = args.runs
    # With --only, the other inputs' results of the previous run are kept in the report.
    earlier: dict[str, Any] = {}
    saved_json = args.out / "benchmarks.json"
    if args.only and saved_json.exists():
        earlier = json.loads(saved_json.read_text())["results"]
    if not moviepy:
        print("moviepy is not installed (pip install '.[bench]'): skipping the MoviePy script")
    run_suite(
        inputs,
        runs,
        moviepy=moviepy,
        all_tools=args.all_tools,
        quick=args.quick,
        on_input=lambda res: write_report({**earlier, **res}, args.out, quick=args.quick),
    )
    print(f"wrote {args.out / 'benchmarks.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
