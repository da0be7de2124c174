"""The pipeline's six stages: each is timed, reports progress, and stops on one cancel event."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest

from ab2n.errors import Cancelled
from ab2n.pipeline import STAGES, AddOptions, add_music
from mediagen import clip_with_cuts


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def clip() -> Path:
    return clip_with_cuts([1.5, 3.2], duration_s=5, size=(320, 180), audio="tone")[0]


def test_every_stage_is_timed_and_reports_progress_in_order(tmp_path: Path, cache: Path, clip: Path) -> None:
    seen: list[tuple[str, float]] = []
    opts = AddOptions(cache_dir=cache)
    res = add_music([clip], tmp_path / "out.mp4", opts, progress=lambda s, f: seen.append((s, f)))
    assert list(res.timings_s) == list(STAGES) == ["probe", "analyze", "choose", "arrange", "mix", "render"]
    assert list(res.to_json()["timings_s"]) == list(STAGES)
    order = list(dict.fromkeys(s for s, _ in seen))
    assert order == list(STAGES)
    for stage in STAGES:
        fracs = [f for s, f in seen if s == stage]
        assert fracs[0] == 0.0 and fracs[-1] == 1.0, (stage, fracs)
        assert all(0.0 <= f <= 1.0 for f in fracs)
    assert res.mix is not None and res.mix.duration_s == pytest.approx(5.0, abs=0.04)


@pytest.mark.parametrize("stage", STAGES)
def test_cancel_in_any_stage_raises_499_and_leaves_nothing(
    stage: str, tmp_path: Path, cache: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    cancel = threading.Event()

    def progress(s: str, f: float) -> None:
        if s == stage:
            cancel.set()

    with pytest.raises(Cancelled) as exc:
        add_music([clip], out_dir / "out.mp4", AddOptions(cache_dir=cache), progress=progress, cancel=cancel)
    assert exc.value.code == 499
    assert list(out_dir.iterdir()) == []
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("stage", ["analyze", "mix", "render"])
def test_cancel_midway_through_a_stage_stops_it(
    stage: str, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event is seen inside a running stage (analysis between frames, FFmpeg runs), not only between stages."""
    clip, _ = clip_with_cuts([2.0, 5.0, 9.0], duration_s=12, size=(640, 360), audio="tone")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    cancel = threading.Event()
    after: list[float] = []

    def progress(s: str, f: float) -> None:
        if s == stage and 0.0 < f < 1.0:
            cancel.set()
        elif cancel.is_set():
            after.append(f)

    out = tmp_path / "out.mp4"
    with pytest.raises(Cancelled):
        # vertical: the picture is encoded, so the render stage reports progress while FFmpeg runs
        add_music([clip], out, AddOptions(cache_dir=cache, preset="vertical"), progress=progress, cancel=cancel)
    assert cancel.is_set() and 1.0 not in after  # the stage never finished
    assert not out.exists() and list(scratch.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name != "tmp"] == []
