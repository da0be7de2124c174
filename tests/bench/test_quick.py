"""The bench harness runs end to end on a tiny input, so it can't rot (the full run is not in CI)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_writes_report(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.__main__ import main

    assert main(["--quick", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "benchmarks.json").read_text())
    row = data["results"]["quick-8s"]
    assert row["tools"]["ffmpeg decode (floor)"]["median_s"] > 0
    assert row["tools"]["ab2n add (copy)"]["ok"]
    smart = row["renders"]["title (smart)"]
    assert smart["decode_errors"] == "" and 0.0 <= smart["same_packets"] <= 1.0
    q = row["quality"]["ab2n add (copy)"]
    assert abs(q["lufs"] + 14) <= 1.0 and q["true_peak"] <= -1.0
    assert (tmp_path / "benchmarks.md").read_text().startswith("# Benchmarks")
    assert (tmp_path / "bench" / "speed-memory.png").exists()
