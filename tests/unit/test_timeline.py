"""The draft: round trip, migration, schema snapshot, edits, undo/redo, summary."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from ab2n.errors import InvalidArgument
from ab2n.media.presets import PRESETS
from ab2n.music.arrange import BarSegment, MedleySong, MusicPlan
from ab2n.timeline.draft import ASPECTS, FITS, SCHEMA_VERSION, Draft, VideoSegment
from ab2n.timeline.edits import Edit, apply_edit, snap_montage_to_beats
from ab2n.timeline.history import History
from ab2n.timeline.migrations import MIGRATIONS
from ab2n.timeline.schema import DRAFT_SCHEMA, schema_json
from ab2n.timeline.summary import summarize

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _base() -> Draft:
    return Draft(video=(VideoSegment("m1", 0, 10000, 0, "city timelapse"),))


def _ten_edits() -> list[Edit]:
    return [
        Edit("add_music", {"genre": ["lo-fi"], "volume": 0.35}),
        Edit("add_text", {"text": "Urban Dreams", "duration_ms": 3000}),
        Edit("set_music_volume", {"delta_db": -3}),
        Edit("set_aspect", {"preset": "vertical"}),
        Edit("set_fades", {"out_ms": 2000}),
        Edit("replace_music", {}),
        Edit("add_text", {"text": "城市之梦", "start_ms": 5000, "position": "bottom"}),
        Edit("set_original_audio", {"mode": "mute"}),
        Edit("remove_text", {"index": 0}),
        Edit("trim", {"start_ms": 1000, "end_ms": 9000}),
    ]


def test_summary_matches_spec_form() -> None:
    d = apply_edit(_base(), Edit("add_music", {"genre": ["lo-fi"], "volume": 0.35}))
    d = apply_edit(d, Edit("add_text", {"text": "Urban Dreams", "duration_ms": 3000}))
    assert summarize(d) == (
        "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) "
        '3. Title: "Urban Dreams" (0-3s)'
    )


def test_round_trip_and_schema_valid() -> None:
    d = _base()
    for e in _ten_edits():
        d = apply_edit(d, e)
        j = d.to_json()
        jsonschema.validate(j, DRAFT_SCHEMA)
        assert Draft.from_json(json.loads(json.dumps(j))) == d


def test_schema_snapshot_matches_published_file() -> None:
    """Fails when the serialised schema changes: regenerate docs/draft.schema.json and add a migration."""
    assert (DOCS / "draft.schema.json").read_text() == schema_json()


def test_v0_migrates_forward() -> None:
    v0 = {
        "d": 10000,
        "t": [
            {"tt": 0, "aspect": "vertical", "sg": [{"mid": "m1", "s": 0, "d": 10000}]},
            {"tt": 1, "sg": [{"s": 0, "d": 10000, "vol": 35, "mood": "calm"}]},
        ],
    }
    d = Draft.from_json(v0)
    assert d.settings.aspect == "vertical"
    assert d.music is not None and d.music.volume == pytest.approx(0.35)
    assert "v" not in v0  # input untouched
    jsonschema.validate(d.to_json(), DRAFT_SCHEMA)


def test_undo_redo_over_ten_edits_returns_exact_drafts() -> None:
    h = History()
    drafts = [h.push(_base())]
    for e in _ten_edits():
        drafts.append(h.push(apply_edit(h.current, e)))  # type: ignore[arg-type]
    for i in range(len(drafts) - 2, -1, -1):
        assert h.undo() == drafts[i]
    with pytest.raises(InvalidArgument):
        h.undo()
    for i in range(1, len(drafts)):
        assert h.redo() == drafts[i]
    with pytest.raises(InvalidArgument):
        h.redo()


def test_edits_validate_and_clear_plans() -> None:
    d = apply_edit(_base(), Edit("add_music", {"mood": "calm"}))
    d = Draft.from_json({**d.to_json()})
    planned = apply_edit(d, Edit("add_music", {"mood": "calm"}))
    assert planned.music is not None
    with pytest.raises(InvalidArgument):
        apply_edit(d, Edit("set_music_volume", {"volume": 5}))
    with pytest.raises(InvalidArgument):
        apply_edit(d, Edit("set_aspect", {"preset": "cinema"}))
    with pytest.raises(InvalidArgument):
        apply_edit(d, Edit("fly", {}))
    last5 = apply_edit(_base(), Edit("add_music", {"start_ms": -5000}))
    assert last5.music is not None and last5.music.start_ms == 5000 and last5.music.duration_ms == 5000


def test_montage_snap_to_downbeats() -> None:
    d = Draft(video=(VideoSegment("a", 0, 3300), VideoSegment("b", 3300, 4100), VideoSegment("c", 7400, 2600)))
    snapped = snap_montage_to_beats(d, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0])
    starts = [s.start_ms for s in snapped.video]
    assert starts == [0, 4000, 8000]


def _planned(plan_json: dict) -> Draft:
    d = apply_edit(_base(), Edit("add_music", {"mood": "calm"}))
    assert d.music is not None
    return dataclasses.replace(d, music=dataclasses.replace(d.music, plan=plan_json, track_id="bundled:x"))


def _plan() -> MusicPlan:
    return MusicPlan(
        track_id="bundled:x",
        track_title="X + Y",
        duration_s=10.0,
        segments=(
            BarSegment(Path("/lib/x.opus"), 1.0, 5.0, 0.0, stretch=1.02),
            BarSegment(Path("/lib/y.opus"), 0.0, 6.2, 3.9, crossfade_s=0.06, fade_out_s=1.5),
        ),
        fade_out_s=2.0,
        beats_s=[0.0, 0.5, 1.0],
        downbeats_s=[0.0, 2.0],
        cuts_on_beat=2,
        cuts_total=3,
        mood="calm",
        tempo_bpm=120.0,
        songs=(MedleySong(0.0, "bundled:x", "X"), MedleySong(3.9, "bundled:y", "Y")),
    )


def test_music_plan_is_typed_in_the_schema() -> None:
    """The plan the arrangement writes validates; a key it does not write, or a wrong type, does not."""
    good = _planned(_plan().to_json()).to_json()
    jsonschema.validate(good, DRAFT_SCHEMA)
    assert Draft.from_json(json.loads(json.dumps(good))) == _planned(_plan().to_json())
    for bad_plan in (
        {**_plan().to_json(), "extra": 1},
        {**_plan().to_json(), "segments": [{**_plan().to_json()["segments"][0], "src_start_s": "1.0"}]},
        {**_plan().to_json(), "segments": [{**_plan().to_json()["segments"][0], "path": "/x"}]},
        {k: v for k, v in _plan().to_json().items() if k != "duration_s"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(_planned(bad_plan).to_json(), DRAFT_SCHEMA)


def test_one_list_of_shapes_and_fits() -> None:
    m = DRAFT_SCHEMA["properties"]["m"]["properties"]
    assert m["aspect"]["enum"] == list(ASPECTS) == list(PRESETS)
    assert m["fit"]["enum"] == list(FITS)
    for preset in PRESETS:
        assert apply_edit(_base(), Edit("set_aspect", {"preset": preset})).settings.aspect == preset
    with pytest.raises(InvalidArgument):
        apply_edit(_base(), Edit("set_aspect", {"preset": "vertical", "fit": "stretch"}))


def test_schema_version_is_the_last_migrations_target() -> None:
    assert SCHEMA_VERSION == max(MIGRATIONS) + 1 == DRAFT_SCHEMA["properties"]["v"]["const"]
    assert _base().to_json()["v"] == SCHEMA_VERSION


def test_set_text_changes_the_last_title_and_titles_count_from_the_end() -> None:
    d = apply_edit(_base(), Edit("add_text", {"text": "First"}))
    d = apply_edit(d, Edit("add_text", {"text": "The End", "start_ms": -3000}))
    assert (d.texts[1].start_ms, d.texts[1].duration_ms) == (d.duration_ms - 3000, 3000)
    longer = apply_edit(d, Edit("set_text", {"delta_ms": 1000, "start_ms": 1000}))
    assert longer.texts[0] == d.texts[0]
    assert (longer.texts[1].start_ms, longer.texts[1].duration_ms) == (1000, 4000)
    moved = apply_edit(d, Edit("set_text", {"position": "top", "duration_ms": 5000, "index": 0}))
    assert (moved.texts[0].position, moved.texts[0].duration_ms) == ("top", 5000)
    with pytest.raises(InvalidArgument):
        apply_edit(d, Edit("set_text", {"position": "sideways"}))
    with pytest.raises(InvalidArgument):
        apply_edit(_base(), Edit("set_text", {"delta_ms": 1000}))
