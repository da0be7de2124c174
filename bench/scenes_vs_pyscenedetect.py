"""Cut detection: ab2n vs PySceneDetect's Content, Adaptive and Histogram detectors, same inputs.

Usage: python -m bench.scenes_vs_pyscenedetect   (needs ``pip install scenedetect opencv-python-headless``)
Prints recall, precision (a detected cut counts within ±1 frame) and seconds, per detector and input.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def _score(found: list[int], truth: list[int]) -> tuple[float, float]:
    hits = sum(any(abs(f - t) <= 1 for f in found) for t in truth)
    good = sum(any(abs(f - t) <= 1 for t in truth) for f in found)
    return hits / max(1, len(truth)), good / max(1, len(found))


def inputs() -> list[tuple[str, Path, list[int]]]:
    """Generated clips with known cut frames (the same generators as the tests)."""
    from tests.unit.test_analyze import _hard_clip

    import mediagen

    rng = np.random.default_rng(7)
    times = [t for t in np.cumsum(rng.uniform(0.7, 4.0, 14)) if t < 29]
    irregular, truth = mediagen.clip_with_cuts(times, duration_s=30, size=(640, 360))
    hard, hard_truth = _hard_clip()
    # The benchmark's grainy 1080p clip: periodic keyframes inside long shots refresh the grain,
    # which a histogram-only detector takes for cuts.
    from bench.inputs import make_input

    grainy = make_input("30s-1080p", 30.0, seed=1)
    grainy_truth = [round(t * 30) for t in grainy.cuts_s]
    return [
        ("irregular-cuts", irregular, truth),
        ("flash-dissolve-pan-text", Path(str(hard)), hard_truth),
        ("grainy-1080p-30s", grainy.path, grainy_truth),
    ]


def main() -> int:
    """Run every detector on every input."""
    from scenedetect import AdaptiveDetector, ContentDetector, HistogramDetector, detect

    from ab2n.analyze import analyze
    from ab2n.media.probe import probe

    rows = []
    for name, path, truth in inputs():
        t0 = time.perf_counter()
        prof = analyze(probe(path))
        rows.append((name, "ab2n", *_score([c.frame for c in prof.cuts], truth), time.perf_counter() - t0))
        for label, det in (
            ("PySceneDetect Content", ContentDetector),
            ("PySceneDetect Adaptive", AdaptiveDetector),
            ("PySceneDetect Histogram", HistogramDetector),
        ):
            t0 = time.perf_counter()
            scenes = detect(str(path), det())
            found = [s[0].frame_num for s in scenes[1:]]
            rows.append((name, label, *_score(found, truth), time.perf_counter() - t0))
    print("| input | detector | recall | precision | seconds |")
    print("|---|---|---:|---:|---:|")
    for name, label, r, p, s in rows:
        print(f"| {name} | {label} | {r:.2f} | {p:.2f} | {s:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
