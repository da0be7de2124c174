"""The music analyser on the bundled library (issues 4 and 8): speed, and tempo/key accuracy.

Usage: python -m bench.music_analysis

Each bundled track is decoded to a WAV with a neutral name (track-01.wav...), so nothing but the
audio can inform the estimate, and analysed with an empty cache: the first call in this process
(any warm-up included) and a second pass over new copies give seconds of analysis per minute of
audio; the shipped Opus files are timed too, one at a time and as a library. Tempo and key are
compared with what the generator was asked for (the music package's LICENSE-MUSIC: prompts, some
not followed) and with librosa's ``beat_track`` (same tempo within 4 %, a 2:1 / 3:2 relation, or
other). Writes docs/music-analysis.md/.json.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ab2n.media.decode import decode_audio
from ab2n.music.beats import analyze_track, analyze_tracks
from ab2n.music.catalog import load_catalog
from bench.grooves import STYLES, measure_tempo, tempo_set
from bench.measure import write_report

ROOT = Path(__file__).resolve().parent.parent
SR = 22050


#: A line of the library's LICENSE-MUSIC: "  calm_acoustic_1.opus   68 bpm  C major   seed 101  [acoustic]".
LABEL_LINE = re.compile(r"^\s+(\S+)\.opus\s+(\d+(?:\.\d+)?) bpm\s+([A-G][b#]?) (major|minor)", re.M)
FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}


def generator_labels() -> dict[str, tuple[float, str]]:
    """The tempo and key each bundled track was generated with, by file stem: {stem: (bpm, "A# minor")}.

    Read from the music package's LICENSE-MUSIC (the generator's prompts: what was asked for, not a
    verified truth; issue 4 notes some are wrong). Empty if the package doesn't ship the file.
    For evaluation only: the analyser never sees names, folders or these labels.
    """
    try:
        text = importlib.metadata.distribution("immich-memories-music").read_text("licenses/LICENSE-MUSIC") or ""
    except importlib.metadata.PackageNotFoundError:
        return {}
    return {m[1]: (float(m[2]), f"{FLATS.get(m[3], m[3])} {m[4]}") for m in LABEL_LINE.finditer(text)}


def write_neutral_wav(samples: np.ndarray, path: Path) -> None:
    """16-bit mono WAV (scipy: no metadata, no name from the source)."""
    from scipy.io import wavfile

    wavfile.write(path, SR, (np.clip(samples, -1, 1) * 32767).astype(np.int16))


def tempo_relation(ours: float, theirs: float) -> str:
    """'same' within 4 %, 'x2'/'x1/2' or 'x3/2'/'x2/3' when a metrical multiple is within 4 %, else 'other'."""
    for name, ratio in (("same", 1.0), ("x2", 2.0), ("x1/2", 0.5), ("x3/2", 1.5), ("x2/3", 2 / 3)):
        if abs(ours / (theirs * ratio) - 1) <= 0.04:
            return name
    return "other"


def librosa_tempo(samples: np.ndarray) -> float:
    """librosa's global tempo estimate (BPM)."""
    import librosa

    tempo, _ = librosa.beat.beat_track(y=samples.astype(np.float32), sr=SR, hop_length=256)
    return float(np.atleast_1d(tempo)[0])


def groove_lines(grooves: dict[str, dict[str, Any]]) -> list[str]:
    """The generated-groove lines of the report (bench/grooves.py: held-in and held-out halves)."""
    out = [
        f"- Tempo on generated grooves with a known tempo (`bench/grooves.py`: {', '.join(STYLES)}; "
        "60-180 BPM, log-uniform), within 4 %:"
    ]
    for name, g in grooves.items():
        rel = ", ".join(f"{k} {v}" for k, v in g["relations"].items() if k != "same" and v)
        out.append(f"  {name.replace('_', '-')} {g['same']} of {g['n']} ({rel}).")
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and write the report."""
    ap = argparse.ArgumentParser(prog="python -m bench.music_analysis")
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-music-"))
    tracks = load_catalog()
    audio: list[np.ndarray] = []
    paths: list[Path] = []
    for i, track in enumerate(tracks, 1):
        y = decode_audio(track.path, sample_rate=SR)
        path = work / f"track-{i:02d}.wav"
        write_neutral_wav(y, path)
        audio.append(y)
        paths.append(path)
    minutes = sum(len(y) for y in audio) / SR / 60

    cache1, cache2 = work / "cache1", work / "cache2"
    t = time.perf_counter()
    first = [analyze_track(p, cache_dir=cache1) for p in paths]
    first_s = time.perf_counter() - t
    copies = []
    for p in paths:  # new names and an empty cache: nothing can be reused
        q = p.with_name("again-" + p.name)
        shutil.copyfile(p, q)
        copies.append(q)
    t = time.perf_counter()
    for q in copies:
        analyze_track(q, cache_dir=cache2)
    second_s = time.perf_counter() - t
    # What a user's library costs: the bundled files as shipped (Opus, decoded by FFmpeg), one at a
    # time and as `ab2n library analyze` / ranking do it (two files at once).
    t = time.perf_counter()
    for track in tracks:
        analyze_track(track.path, cache_dir=work / "cache3")
    compressed_s = time.perf_counter() - t
    t = time.perf_counter()
    analyze_tracks([track.path for track in tracks], cache_dir=work / "cache4")
    library_s = time.perf_counter() - t

    labels = generator_labels()
    rows: list[dict[str, Any]] = []
    for track, an, y in zip(tracks, first, audio, strict=True):
        ref = librosa_tempo(y)
        asked_bpm, asked_key = labels.get(track.path.stem, (0.0, ""))
        rows.append(
            {
                "label": track.id,
                "tempo_bpm": round(an.tempo_bpm, 1),
                "asked_bpm": asked_bpm,
                "vs_asked": tempo_relation(an.tempo_bpm, asked_bpm) if asked_bpm else "-",
                "librosa_bpm": round(ref, 1),
                "librosa_vs_asked": tempo_relation(ref, asked_bpm) if asked_bpm else "-",
                "relation": tempo_relation(an.tempo_bpm, ref),
                "meter": an.beats_per_bar,
                "key": f"{an.key} {an.mode}",
                "asked_key": asked_key,
            }
        )
    names = ("same", "x2", "x1/2", "x3/2", "x2/3", "other")
    relations = {name: sum(r["relation"] == name for r in rows) for name in names}
    vs_asked = {name: sum(r["vs_asked"] == name for r in rows) for name in names}
    librosa_vs_asked = {name: sum(r["librosa_vs_asked"] == name for r in rows) for name in names}
    keys_same = sum(r["key"] == r["asked_key"] for r in rows)
    tonic_same = sum(r["key"].split()[0] == r["asked_key"].split()[0] for r in rows if r["asked_key"])
    held_in, held_out = tempo_set()
    grooves = {"held_in": measure_tempo(held_in), "held_out": measure_tempo(held_out)}
    report = {
        "tracks": len(rows),
        "audio_minutes": round(minutes, 2),
        "first_pass_s": round(first_s, 2),
        "second_pass_s": round(second_s, 2),
        "s_per_audio_minute_first": round(first_s / minutes, 3),
        "s_per_audio_minute": round(second_s / minutes, 3),
        "s_per_audio_minute_compressed": round(compressed_s / minutes, 3),
        "s_per_audio_minute_library": round(library_s / minutes, 3),
        "tempo_vs_librosa": relations,
        "tempo_vs_asked": vs_asked,
        "librosa_vs_asked": librosa_vs_asked,
        "keys_as_asked": keys_same,
        "tonics_as_asked": tonic_same,
        "rows": rows,
        "grooves": grooves,
    }

    def counts(rel: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in rel.items()) + f" (of {len(rows)})"

    lines = [
        "# The music analyser on the bundled library",
        "",
        "Generated by `python -m bench.music_analysis`. Each track decoded to a WAV with a neutral name;",
        "analysis with an empty cache. The reference is what the generator was asked for: the music",
        "package's LICENSE-MUSIC lists each track's prompt tempo and key (issue 4: some are wrong, as a",
        "generator doesn't always follow its prompt). librosa's `beat_track` is a second, independent",
        "estimate. Accuracy against a known truth is measured on generated music in",
        "`tests/unit/test_music.py` (tempo within 4 % and beat F >= 0.9 from 72 to 140 BPM with drift;",
        "key and mode on 24/24 generated pieces).",
        "",
        f"- Speed: {report['s_per_audio_minute_first']:.2f} s per minute of audio on the first call in a fresh "
        f"process (warm-up included), {report['s_per_audio_minute']:.2f} s on the second pass "
        f"({minutes:.1f} minutes of music; issue 4's goal: <= 0.5 s). The shipped Opus files, decode "
        f"included: {report['s_per_audio_minute_compressed']:.2f} s one at a time, "
        f"{report['s_per_audio_minute_library']:.2f} s as a library (two files at once).",
        f"- Tempo against the asked tempo (within 4 %): ab2n {counts(vs_asked)}; librosa {counts(librosa_vs_asked)}.",
        f"- Tempo, ab2n against librosa: {counts(relations)}.",
        f"- Key against the asked key: {keys_same} of {len(rows)} (tonic alone: {tonic_same}).",
        *groove_lines(grooves),
        "",
        "| track (not seen by the analyser) | asked BPM | ab2n BPM | vs asked | librosa BPM | librosa vs asked "
        "| meter | asked key | ab2n key |",
        "|---|---:|---:|---|---:|---|---:|---|---|",
        *[
            f"| {r['label']} | {r['asked_bpm']:g} | {r['tempo_bpm']} | {r['vs_asked']} | {r['librosa_bpm']} "
            f"| {r['librosa_vs_asked']} | {r['meter']} | {r['asked_key']} | {r['key']} |"
            for r in rows
        ],
        "",
    ]
    write_report(args.out, "music-analysis", report, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
