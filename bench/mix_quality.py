"""Mix quality on speech inputs, measured on the encoded output of ``ab2n add`` by subtraction.

    python -m bench.mix_quality [--plot docs/mix-duck.png] [--out bench/results/mix_quality.json]

For each input the original audio is known (generated), so the output splits into "the original
times one gain" (least squares) and "the rest" (the added music plus codec noise). Per whole
utterance (the truth spans of the clean espeak-ng stems, not word centres):

- speech over music: voice level minus the rest's level over the utterance;
- duck depth: the rest's level in the middle of pauses >= 1.6 s (where it is fully back) minus
  its level under the utterances;
- onset error: detected speech start minus the first voiced sample (negative = early);
- encodes: AAC encodes the mix took.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from ab2n.media.decode import decode_audio
from ab2n.pipeline import AddOptions, add_music
from mediagen import clip_with_cuts, speech_wav

SR = 48000
INPUTS: dict[str, dict[str, Any]] = {
    "speech-15s-720p": {
        "sentences": [
            "Welcome back, today we walk along the river.",
            "Look at this.",
            "The water is very calm in the morning and the birds are out.",
            "See you soon.",
        ],
        "pauses": [0.9, 3.1, 1.6],
        "lead": 1.0,
        "size": (1280, 720),
        "cuts": [5, 11, 16],
        "voice": "en",
    },
    "speech-31s-1080p-de": {
        "sentences": [
            "Guten Morgen, heute fahren wir in die Berge.",
            "Das Wetter ist wirklich schön.",
            "Wir sind gleich da.",
            "Schau dir diesen Ausblick an.",
            "Ja.",
            "Hier machen wir eine kurze Pause und essen etwas.",
            "Danach geht es weiter nach oben.",
            "Bis zum nächsten Mal.",
        ],
        "pauses": [1.2, 4.0, 0.6, 2.2, 0.9, 5.0, 3.0],
        "lead": 0.3,
        "size": (1920, 1080),
        "cuts": [6, 13, 21, 30, 38, 47, 55],
        "voice": "de",
    },
}


def _rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-20))


def _split(y: np.ndarray, o: np.ndarray, block_s: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """(the original as it is in the output, the rest), by least squares per 20 ms block: the
    limiter's gain moves with the voice's peaks, and one gain for the whole file left the voice's
    limited peaks in "the rest" (it tracked the syllables, 6 dB over the music under them)."""
    hop = int(block_s * SR)
    k = len(y) // hop
    yb, ob = y[: k * hop].reshape(k, hop), o[: k * hop].reshape(k, hop)
    whole = float(np.dot(y, o) / np.dot(o, o))
    num, den = (yb * ob).sum(axis=1), (ob * ob).sum(axis=1)
    # Where the original is (nearly) silent the block gain is noise: use the file's gain there.
    g = np.where(den > 1e-6 * hop, num / np.maximum(den, 1e-20), whole)
    voice = np.concatenate([(g[:, None] * ob).reshape(-1), whole * o[k * hop :]])
    return voice, y - voice


def _input(name: str) -> tuple[Path, Path, list[tuple[float, float]]]:
    spec = INPUTS[name]
    wav, spans = speech_wav(
        spec["sentences"], pauses_s=spec["pauses"], lead_s=spec["lead"], tail_s=2.0, voice=spec["voice"]
    )
    duration = len(decode_audio(wav, sample_rate=SR)) / SR
    clip, _ = clip_with_cuts(spec["cuts"], duration_s=round(duration, 1), size=spec["size"], audio=wav)
    return clip, wav, spans


def measure_one(name: str, work: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Render one input with the defaults and measure it."""
    clip, wav, spans = _input(name)
    out = work / f"{name}.mp4"
    res = add_music([clip], out, AddOptions(cache_dir=work / "cache"))
    y = decode_audio(out, sample_rate=SR, channels=2).mean(axis=1).astype(np.float64)
    o = decode_audio(wav, sample_rate=SR).astype(np.float64)
    n = min(len(y), len(o))
    y, o = y[:n], o[:n]
    voice, rest = _split(y, o)
    sel = lambda x, a, b: x[int(a * SR) : int(b * SR)]  # noqa: E731
    s2m = [_rms_db(sel(voice, a, b)) - _rms_db(sel(rest, a, b)) for a, b in spans]
    under = _rms_db(np.concatenate([sel(rest, a, b) for a, b in spans]))
    gaps = [(b0 + 0.7, a1 - 0.7) for (_, b0), (a1, _) in itertools.pairwise(spans) if a1 - b0 >= 3.0]
    pause = _rms_db(np.concatenate([sel(rest, a, b) for a, b in gaps])) if gaps else float("nan")
    found = [iv.start_s for iv in (res.profile.speech if res.profile else ())]
    onset = [min((f - a for f in found), key=abs) if found else float("nan") for a, _ in spans]
    row = {
        "input": name,
        "utterances": len(spans),
        "speech_over_music_db": {"min": round(min(s2m), 1), "median": round(float(np.median(s2m)), 1)},
        "duck_depth_db": round(pause - under, 1),
        "onset_error_ms": [round(1000 * e) for e in onset],
        "encodes": res.encodes,
        "integrated_lufs": res.integrated_lufs,
        "true_peak_dbtp": res.true_peak_dbtp,
    }
    hop = SR // 20
    k = n // hop
    curves = {
        "t": np.arange(k) * hop / SR,
        "voice": 10 * np.log10((voice[: k * hop].reshape(k, hop) ** 2).mean(axis=1) + 1e-12),
        "music": 10 * np.log10((rest[: k * hop].reshape(k, hop) ** 2).mean(axis=1) + 1e-12),
        "spans": np.asarray(spans),
        "found": np.asarray([(iv.start_s, iv.end_s) for iv in (res.profile.speech if res.profile else ())]),
    }
    return row, curves


def plot(curves: dict[str, np.ndarray], title: str, png: Path) -> None:
    """The voice and the added music's level over time, utterances shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4))
    for a, b in curves["spans"]:
        ax.axvspan(a, b, color="tab:orange", alpha=0.25, lw=0)
    for a, b in curves["found"]:
        ax.plot([a, b], [-8, -8], color="tab:red", lw=3)
    ax.plot(curves["t"], curves["voice"], color="0.4", lw=0.8, label="voice (original x gain), 50 ms RMS")
    ax.plot(curves["t"], curves["music"], color="tab:blue", lw=1.2, label="added music (output - voice)")
    ax.set_ylim(-75, -5)
    ax.set_xlabel("seconds")
    ax.set_ylabel("dBFS")
    ax.set_title(title + " — orange: utterances (clean stem), red: detected speech")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Measure every input, print JSON rows, optionally plot the first."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--plot", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ab2n-mixq-") as tmp:
        for i, name in enumerate(INPUTS):
            row, curves = measure_one(name, Path(tmp))
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.plot and i == 0:
                plot(curves, name, args.plot)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
