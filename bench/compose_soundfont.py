"""The score on a SoundFont against the built-in synthesis: the same plans, both renders measured.

Usage: python -m bench.compose_soundfont [--seeds 3,4] [--seconds 60] [--soundfont PATH] [--out docs]

For every style and each held-out cut list of bench.cut_to_beat (seeds 3-4 by default: the
composer was tuned on 1-2), one plan rendered twice, with the built-in voices and on the
SoundFont (``ab2n.music.compose.soundfont``; the system's General MIDI font by default), and on each
WAV: the share of cuts with a librosa beat within 50 ms, the same for ab2n's analyser run blind,
librosa's tempo against the map, key clarity, spectral balance and crest factor (bench.compose's
measures), and the render time (the font's load is paid once, before the first piece, and
reported apart). Writes docs/compose-soundfont.md/.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ab2n.music.beats import analyze_track
from ab2n.music.compose import soundfont
from ab2n.music.compose.score import plan_for, render_score
from ab2n.music.compose.style import STYLES
from bench.compose import key_clarity, librosa_tempo, mono, spectrum_and_dynamics, tempo_error
from bench.cut_to_beat import cut_list, share_near, silent_profile
from bench.measure import write_report
from bench.quality import librosa_beats

ROOT = Path(__file__).resolve().parent.parent
MEASURES = ("librosa_beat", "blind_beat", "tempo_error", "key_clarity", "centroid_hz", "high_mid_db", "crest_db")


def render_row(style: str, seed: int, seconds: float, font: Path | None, work: Path) -> dict[str, Any]:
    """One plan rendered on ``font`` (None: the built-in voices) and measured."""
    cuts = cut_list(seed, seconds)
    plan = plan_for(silent_profile(cuts, seconds), duration_s=seconds, words=[style], seed=seed)
    t = time.perf_counter()
    wav = render_score(plan, work / f"{style}-{seed}-{'sf' if font else 'synth'}.wav", soundfont=font)
    took = time.perf_counter() - t
    y = mono(wav)
    clarity, _ = key_clarity(y)
    return {
        "style": style,
        "seed": seed,
        "instruments": font.name if font else "built-in",
        "librosa_beat": share_near(librosa_beats(wav), cuts),
        "blind_beat": share_near(analyze_track(wav).beats_s, cuts),
        "tempo_error": tempo_error(librosa_tempo(y), plan.tempo_bpm),
        "key_clarity": clarity,
        **spectrum_and_dynamics(y),
        "render_s": took,
    }


def _fmt(v: Any) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def report_lines(payload: dict[str, Any]) -> list[str]:
    """The Markdown report."""
    rows = payload["rows"]
    lines = [
        "# The score on a SoundFont against the built-in synthesis",
        "",
        f"`python -m bench.compose_soundfont` ({payload['seconds']:.0f} s pieces, held-out cut lists "
        f"{', '.join(map(str, payload['seeds']))}; SoundFont `{payload['soundfont']}`, loaded in "
        f"{payload['load_s']:.2f} s once a process). Same plan, two renders; beats within 50 ms of the cuts.",
        "",
        "| style | seed | instruments | " + " | ".join(MEASURES) + " | render s |",
        "|---|---:|---|" + "---:|" * (len(MEASURES) + 1),
    ]
    for r in rows:
        lines.append(
            f"| {r['style']} | {r['seed']} | {r['instruments']} | "
            + " | ".join(_fmt(r[k]) for k in MEASURES)
            + f" | {r['render_s']:.2f} |"
        )
    lines += ["", "Means by instruments:", "", "| instruments | " + " | ".join(MEASURES) + " | render s |"]
    lines.append("|---|" + "---:|" * (len(MEASURES) + 1))
    for name in sorted({r["instruments"] for r in rows}):
        sel = [r for r in rows if r["instruments"] == name]
        means = [float(np.mean([r[k] for r in sel])) for k in (*MEASURES, "render_s")]
        lines.append(f"| {name} | " + " | ".join(f"{m:.2f}" for m in means) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and write the report."""
    ap = argparse.ArgumentParser(prog="python -m bench.compose_soundfont")
    ap.add_argument("--seeds", default="3,4")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--styles", default=",".join(STYLES))
    ap.add_argument("--soundfont", default="auto")
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args(argv)
    font = soundfont.resolve(args.soundfont)
    if font is None:
        print("no SoundFont: install tinysoundfont (pip install --no-deps tinysoundfont) and a General MIDI font")
        return 1
    t = time.perf_counter()
    soundfont._font(font)  # the load, timed apart from the pieces
    load_s = time.perf_counter() - t
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ab2n-sf-") as tmp:
        for style in args.styles.split(","):
            for seed in seeds:
                for f in (None, font):
                    rows.append(render_row(style, seed, args.seconds, f, Path(tmp)))
                    print({k: _fmt(v) for k, v in rows[-1].items()})
    payload = {"seconds": args.seconds, "seeds": seeds, "soundfont": font.name, "load_s": load_s, "rows": rows}
    write_report(args.out, "compose-soundfont", payload, report_lines(payload))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
