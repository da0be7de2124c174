"""With --json, stdout carries the JSON alone: plot notes, progress and warnings go to stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mediagen import clip_with_cuts


def _ab2n(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ab2n.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_add_json_with_plot_prints_only_json(tmp_path: Path) -> None:
    src, _ = clip_with_cuts([1.5, 3.0], duration_s=5, audio="tone")
    out, png = tmp_path / "o.mp4", tmp_path / "plan.png"
    res = _ab2n("add", str(src), "-o", str(out), "--json", "--plot", str(png))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["output"].endswith("o.mp4") and doc["loudness"]["integrated_lufs"] is not None
    assert png.stat().st_size > 0 and f"plot: {png}" in res.stderr


def test_batch_json_is_one_object_per_line(tmp_path: Path) -> None:
    a, _ = clip_with_cuts([1.5], duration_s=4, audio="tone")
    b, _ = clip_with_cuts([2.0], duration_s=4, audio="noise")
    res = _ab2n("add", str(a), str(b), "-o", str(tmp_path), "--json", "--plot", str(tmp_path / "p.png"))
    assert res.returncode == 0, res.stderr
    docs = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(docs) == 2 and all(Path(d["output"]).exists() for d in docs)
    assert (tmp_path / "p-1.png").exists() and (tmp_path / "p-2.png").exists()


def test_analyze_json_with_plot_prints_only_json(tmp_path: Path) -> None:
    src, cuts = clip_with_cuts([1.5, 3.0], duration_s=5, audio="tone")
    png = tmp_path / "profile.png"
    res = _ab2n("analyze", str(src), "--json", "--plot", str(png))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["media"]["kind"] == "video" and len(doc["profile"]["cuts"]) == len(cuts)
    assert png.stat().st_size > 0


def test_intent_and_library_json_parse() -> None:
    for args in (("intent", "lo-fi at 35%", "--json"), ("library", "list", "--json")):
        res = _ab2n(*args)
        assert res.returncode == 0, res.stderr
        json.loads(res.stdout)


def test_brackets_in_the_words_print_as_written(tmp_path: Path) -> None:
    """Printed text holds the person's words and paths: "[draft]" is a title, not a style (it
    vanished), "[/b]" is text, not a closing tag (it raised MarkupError)."""
    res = _ab2n("intent", "title '[draft] [/b] v2'")
    assert res.returncode == 0, res.stderr
    assert "[draft] [/b] v2" in res.stdout
    missing = tmp_path / "[take 1] [/b]" / "clip.mp4"
    res = _ab2n("add", str(missing), "-o", str(tmp_path / "o.mp4"))
    assert res.returncode != 0 and str(missing) in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
