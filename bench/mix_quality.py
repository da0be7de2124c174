"""Mix quality on speech inputs, measured on the encoded output of ``ab2n add`` by subtraction.

    python -m bench.mix_quality [--plot docs/mix-duck.png] [--out bench/results/mix_quality.json]

For each input the original audio is known (generated) and so is the music bed (the draft's
plan rendered again, before any level or duck), so the output splits by least squares into the
voice (the original times its gain), the music (the bed times its gain: the duck, the fades, the
limiter) and what is left (the codec's noise): tests/separation.py, strict by 0-4 dB on
synthetic mixes. Per whole utterance (the truth spans of
the clean espeak-ng stems, not word centres):

- speech over music: voice level minus the music's level over the utterance (and, stricter,
  minus the music and the codec noise together: "speech over the rest");
- duck depth: the music's level in the middle of pauses >= 3 s (where it is fully back) minus
  its level under the utterances (and the same for the rest);
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

from ab2n.analyze.profile import Interval
from ab2n.media.decode import decode_audio
from ab2n.music.arrange import MusicPlan
from ab2n.music.bed import render_bed
from ab2n.pipeline import AddOptions, AddResult, add_music
from mediagen import clip_with_cuts, speech_wav
from separation import rms_db, split

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


def _input(name: str) -> tuple[Path, Path, list[tuple[float, float]]]:
    spec = INPUTS[name]
    wav, spans = speech_wav(
        spec["sentences"], pauses_s=spec["pauses"], lead_s=spec["lead"], tail_s=2.0, voice=spec["voice"]
    )
    duration = len(decode_audio(wav, sample_rate=SR)) / SR
    clip, _ = clip_with_cuts(spec["cuts"], duration_s=round(duration, 1), size=spec["size"], audio=wav)
    return clip, wav, spans


def _bed(res: AddResult, work: Path, n: int) -> np.ndarray:
    """The draft's music rendered again (mono, before level, duck and fades), on the programme's timeline."""
    music = res.draft.music if res.draft else None
    out = np.zeros(n)
    if music is None or not music.plan:
        return out
    wav = render_bed(MusicPlan.from_json(music.plan), work / "bed-again.wav", sample_rate=SR)
    bed = decode_audio(wav, sample_rate=SR, channels=2).mean(axis=1).astype(np.float64)
    start = round(music.start_ms / 1000 * SR)
    take = bed[: max(0, n - start)]
    out[start : start + len(take)] = take
    return out


def measure_one(name: str, work: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Render one input with the defaults and measure it."""
    clip, wav, spans = _input(name)
    out = work / f"{name}.mp4"
    res = add_music([clip], out, AddOptions(cache_dir=work / "cache"))
    y = decode_audio(out, sample_rate=SR, channels=2).mean(axis=1).astype(np.float64)
    o = decode_audio(wav, sample_rate=SR).astype(np.float64)
    n = min(len(y), len(o))
    y, o = y[:n], o[:n]
    m = _bed(res, work, n)
    voice, music = split(y, o, m, SR)
    rest = y - voice
    sel = lambda x, a, b: x[int(a * SR) : int(b * SR)]  # noqa: E731
    gaps = [(b0 + 0.7, a1 - 0.7) for (_, b0), (a1, _) in itertools.pairwise(spans) if a1 - b0 >= 3.0]

    def over(x: np.ndarray) -> tuple[list[float], float]:
        """Voice over ``x`` per utterance, and ``x``'s duck depth (pauses against utterances)."""
        s2x = [rms_db(sel(voice, a, b)) - rms_db(sel(x, a, b)) for a, b in spans]
        under = rms_db(np.concatenate([sel(x, a, b) for a, b in spans]))
        pause = rms_db(np.concatenate([sel(x, a, b) for a, b in gaps])) if gaps else float("nan")
        return s2x, pause - under

    s2m, depth = over(music)
    s2r, depth_rest = over(rest)
    found = [iv.start_s for iv in (res.profile.speech if res.profile else ())]
    onset = [min((f - a for f in found), key=abs) if found else float("nan") for a, _ in spans]
    row = {
        "input": name,
        "utterances": len(spans),
        "speech_over_music_db": {"min": round(min(s2m), 1), "median": round(float(np.median(s2m)), 1)},
        "speech_over_rest_db": {"min": round(min(s2r), 1), "median": round(float(np.median(s2r)), 1)},
        "duck_depth_db": round(depth, 1),
        "duck_depth_rest_db": round(depth_rest, 1),
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
        "music": 10 * np.log10((music[: k * hop].reshape(k, hop) ** 2).mean(axis=1) + 1e-12),
        "noise": 10 * np.log10(((rest - music)[: k * hop].reshape(k, hop) ** 2).mean(axis=1) + 1e-12),
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
    ax.plot(curves["t"], curves["music"], color="tab:blue", lw=1.2, label="added music (the bed x its gain)")
    ax.plot(curves["t"], curves["noise"], color="tab:green", lw=0.6, alpha=0.7, label="codec noise (what is left)")
    ax.set_ylim(-75, -5)
    ax.set_xlabel("seconds")
    ax.set_ylabel("dBFS")
    ax.set_title(title + " — orange: utterances (clean stem), red: detected speech")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)


def encode_sweep(work: Path) -> dict[str, Any]:
    """Encodes used for -14 LUFS / -1 dBTP by the mix alone: espeak-ng speech (German, from the
    file's start) under each bundled track from 20 s in, and each fifth track with no voice."""
    import immich_memories_music

    from ab2n.analyze.profile import VideoProfile
    from ab2n.media.probe import probe
    from ab2n.mix.loudness import measure
    from ab2n.mix.mixdown import MixSettings, plan_mix, render_audio
    from mediagen import write_wav

    wav, spans = speech_wav(
        ["Hallo, heute sind wir am See.", "Ja.", "Das Wasser ist kalt aber klar."], pauses_s=[0.7, 2.5], voice="de"
    )
    info = probe(wav)
    speech = VideoProfile(duration_s=info.duration_s, speech=tuple(Interval(a - 0.03, b + 0.2) for a, b in spans))
    tracks = sorted(Path(immich_memories_music.tracks_dir()).glob("*/*.opus"))
    rows = []
    for i, track in enumerate(tracks):
        bed = work / f"sweep-{i}.wav"
        write_wav(bed, decode_audio(track, sample_rate=SR, channels=2, start_s=20, duration_s=info.duration_s), SR)
        for voiced in (True, False) if i % 5 == 0 else (True,):
            prof = speech if voiced else VideoProfile(duration_s=info.duration_s)
            plan = plan_mix(
                prof, MixSettings(keep_original=voiced), duration_s=info.duration_s, has_original_audio=True
            )
            out = work / "sweep.m4a"
            rep = render_audio(original=info, bed_wav=bed, plan=plan, out_path=out, work_dir=work)
            m = measure(out, "mov")
            ok = abs(m.integrated_lufs + 14) <= 0.5 and m.true_peak_dbtp <= -1.0
            rows.append(
                {
                    "track": track.stem,
                    "voice": voiced,
                    "encodes": rep.encodes,
                    "lufs": m.integrated_lufs,
                    "dbtp": m.true_peak_dbtp,
                    "ok": ok,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    one = sum(r["encodes"] == 1 and r["ok"] for r in rows)
    return {"programmes": len(rows), "one_encode_on_target": one, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    """Measure every input, print JSON rows, optionally plot the first."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--plot", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--sweep", action="store_true", help="also the encode sweep over every bundled track")
    args = ap.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ab2n-mixq-") as tmp:
        if args.sweep:
            sweep = encode_sweep(Path(tmp))
            print(json.dumps({k: v for k, v in sweep.items() if k != "rows"}), flush=True)
            rows.append({"encode_sweep": sweep})
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
