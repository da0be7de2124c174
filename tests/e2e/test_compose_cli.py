"""``ab2n add IN -o OUT --music compose --json`` on a generated clip: the score reported, the
finished file's music on the cuts (ab2n's analyser on the output, blind), ending with the video."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from ab2n.media.decode import decode_audio
from ab2n.media.probe import probe
from ab2n.music.beats import analyze_track
from ab2n.music.compose import soundfont
from mediagen import clip_with_cuts

CUTS = [2.5, 5.0, 7.4, 10.2]


def test_add_music_compose_json(tmp_path: Path) -> None:
    src, _ = clip_with_cuts(CUTS, duration_s=13)
    out = tmp_path / "out.mp4"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "ab2n.cli",
            "add",
            str(src),
            "-o",
            str(out),
            "--music",
            "compose",
            "--json",
            "--seed",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["track"]["id"].startswith("compose:") and doc["track"]["title"].startswith("Composed")
    score = doc["score"]
    assert score["seed"] == 2 and score["tempo_map"] and score["sections"][0]["name"] == "intro"
    font = soundfont.resolve("auto")  # the system's General MIDI font when tinysoundfont is installed
    assert score["instruments"] == (font.name if font else "built-in synthesis")
    lo, hi = score["tempo_range"]
    assert all(lo * 0.95 <= b["bpm"] <= hi * 1.05 for b in score["tempo_map"])
    assert doc["cuts_on_beat"] == doc["cuts_found"] >= 3
    assert -15.0 <= doc["loudness"]["integrated_lufs"] <= -13.0
    # The finished file, heard blind: a beat at the cuts, the music until the last frame.
    heard = analyze_track(out)
    beats = np.asarray(heard.beats_s)
    assert np.mean([np.min(np.abs(beats - c)) <= 0.05 for c in CUTS]) >= 0.75
    duration = probe(out).duration_s
    assert abs(duration - 13.0) < 0.1
    y = decode_audio(out, sample_rate=16000)
    y = y.mean(axis=1) if y.ndim > 1 else y
    frames = y[: len(y) // 320 * 320].reshape(-1, 320)
    rms = np.sqrt((frames**2).mean(axis=1))
    loud = np.flatnonzero(rms > rms.max() * 0.01)
    assert duration - (loud[-1] + 1) * 0.02 <= 0.25


def test_a_missing_soundfont_is_a_one_line_error(tmp_path: Path) -> None:
    src, _ = clip_with_cuts([1.5], duration_s=3)
    out = tmp_path / "out.mp4"
    cmd = [sys.executable, "-m", "ab2n.cli", "add", str(src), "-o", str(out), "--music", "compose"]
    res = subprocess.run(
        [*cmd, "--soundfont", str(tmp_path / "none.sf2")], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 2 and res.stderr.startswith("error 400:") and "not found" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and not out.exists()
