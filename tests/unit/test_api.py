"""The public API: only names from ``ab2n``, and docs/api.md's examples run as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import ab2n
from mediagen import CACHE, clip_with_cuts

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_all_names_exist_and_nothing_else_is_promised() -> None:
    for name in ab2n.__all__:
        assert hasattr(ab2n, name), name
    for name in ("add_music", "analyze", "probe", "Draft", "AddOptions", "AddResult", "Ab2nError", "Cancelled"):
        assert name in ab2n.__all__
    assert callable(ab2n.analyze)  # the function, not the subpackage of the same name
    from ab2n.analyze.scenes import detect_cuts  # the subpackage's modules stay importable this way

    assert callable(detect_cuts) and callable(ab2n.analyze)
    assert issubclass(ab2n.InvalidArgument, ab2n.Ab2nError) and issubclass(ab2n.ProcessTimeout, ab2n.ProcessingError)


@pytest.mark.parametrize(
    "bad",
    [
        {"preset": "cinema"},
        {"fit": "stretch"},
        {"volume": 2.5},
        {"volume": -0.1},
        {"target_lufs": -3.0},
        {"target_lufs": -60.0},
        {"image_duration_s": 0.0},
    ],
)
def test_options_refuse_bad_values_with_400(bad: dict) -> None:
    with pytest.raises(ab2n.InvalidArgument) as exc:
        ab2n.AddOptions(**bad)
    assert exc.value.code == 400


def test_options_accept_every_named_shape_and_auto() -> None:
    for preset in ("source", "1080p", "vertical", "square", "portrait"):
        for fit in ("pad", "crop"):
            ab2n.AddOptions(preset=preset, fit=fit, mood="auto", volume=0.0, target_lufs=-23.0)


def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_doc_examples_run_on_a_generated_clip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clip, _ = clip_with_cuts([1.5, 3.1, 5.0], duration_s=7, size=(320, 180), audio="tone")
    shutil.copyfile(clip, tmp_path / "clip.mp4")
    tracks = CACHE / "api-track-analyses"  # shared between runs: the bundled library, analysed once
    tracks.mkdir(parents=True, exist_ok=True)
    (tmp_path / "ab2n-cache").symlink_to(tracks, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    blocks = _examples()
    assert len(blocks) >= 4
    scope: dict[str, object] = {}
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), scope)  # our own documentation
    result = scope["result"]
    assert isinstance(result, ab2n.AddResult)
    assert Path("clip-music.mp4").is_file() and result.output_path == Path("clip-music.mp4")
    assert list(result.timings_s) == list(ab2n.STAGES)
    assert isinstance(result.draft, ab2n.Draft) and isinstance(result.mix, ab2n.MixPlan)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ab2n-cache", "clip-music.mp4", "clip.mp4"]
