"""'More energy at the end' / 'calmer at the end': the words, the draft, and the composed piece.

The wish moves the video's arousal over the music's last third before the score is planned, so the
piece's peak comes at the end ("build") or the end is not a peak ("settle"); measured on the
rendered beds of two videos whose energy differs (level, falling), against the same piece without
the wish.
"""

from __future__ import annotations

import wave
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from ab2n.analyze.profile import Cut, VideoProfile
from ab2n.errors import InvalidArgument
from ab2n.intent.parse import parse
from ab2n.music.compose.score import render_plan_bed
from ab2n.pipeline import compose as compose_stage
from ab2n.timeline.draft import Draft, VideoSegment
from ab2n.timeline.edits import Edit, apply_edit, apply_said_edit
from ab2n.timeline.schema import DRAFT_SCHEMA

SECONDS = 36.0
CUTS = (4.1, 9.0, 13.2, 18.5, 22.0, 27.3, 31.0)
SHAPES = {"level": [0.0] * int(SECONDS), "falling": list(np.linspace(0.5, -0.3, int(SECONDS)))}


@pytest.mark.parametrize(
    ("words", "ending"),
    [
        ("more energy at the end", "build"),
        ("compose music for it and build up to the end", "build"),
        ("a bigger finish please", "build"),
        ("calmer at the end", "settle"),
        ("lofi with a softer ending", "settle"),
        ("结尾更燃一点", "build"),
        ("结尾平静一点", "settle"),
    ],
)
def test_the_words_ask_for_an_ending_not_a_mood(words: str, ending: str) -> None:
    edits = parse(words).edits
    music = [e for e in edits if e.op == "add_music"]
    assert music and music[0].params.get("ending") == ending, edits
    assert "mood" not in music[0].params  # "energy", "calmer", "燃" here shape the end, not the piece


def _composed(words: str, arousal: list[float]) -> Draft:
    draft = Draft(video=(VideoSegment("m1", 0, round(SECONDS * 1000)),))
    for edit in parse(words).edits:
        draft = apply_said_edit(draft, edit)
    profile = VideoProfile(
        duration_s=SECONDS,
        fps=30,
        cuts=tuple(Cut(t, round(t * 30), 0.9) for t in CUTS),
        arousal=arousal,
        valence=[0.3] * int(SECONDS),
        mood="calm",
    )
    return compose_stage(draft, {"m1": profile})


def _last_third_db(draft: Draft, tmp_path: Path) -> float:
    """The bed's level over its last third (before the final two seconds' ring) against the rest."""
    assert draft.music is not None and draft.music.plan is not None
    bed = render_plan_bed(draft.music.plan, tmp_path / "bed.wav")
    with wave.open(str(bed)) as wf:
        y = np.frombuffer(wf.readframes(wf.getnframes()), "<i4").reshape(-1, 2) / 2**31
    n = len(y)
    head, tail = y[: 2 * n // 3], y[2 * n // 3 : n - 2 * 48000]
    return float(20 * np.log10(np.sqrt((tail**2).mean()) / np.sqrt((head**2).mean())))


def _before_outro(draft: Draft) -> str:
    assert draft.music is not None and draft.music.plan is not None
    names = [s["name"] for s in draft.music.plan["score"]["sections"]]
    return [n for n in names if n != "outro"][-1]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_piece_builds_or_settles_at_the_end(shape: str, tmp_path: Path) -> None:
    plain = _composed("compose music for it", SHAPES[shape])
    build = _composed("compose music for it with more energy at the end", SHAPES[shape])
    settle = _composed("compose music for it, calmer at the end", SHAPES[shape])
    assert build.music is not None and build.music.ending == "build"
    assert _before_outro(build) == "peak"  # the piece's peak leads into its ending
    assert _before_outro(settle) != "peak"
    # Measured on the sound: louder at the end than the same piece without the wish
    # (level video: +2.2 against +1.1 dB; falling: +1.4 against 0.0 dB).
    assert _last_third_db(build, tmp_path) >= _last_third_db(plain, tmp_path) + 0.5


def test_the_ending_is_kept_in_the_draft_and_checked() -> None:
    draft = _composed("compose music for it with more energy at the end", SHAPES["level"])
    data = draft.to_json()
    jsonschema.validate(data, DRAFT_SCHEMA)
    again = Draft.from_json(data)
    assert again.music is not None and again.music.ending == "build"
    slower = apply_said_edit(again, parse("slower").edits[0])
    assert slower.music is not None and slower.music.ending == "build"  # kept when not said again
    with pytest.raises(InvalidArgument, match="unknown ending"):
        apply_edit(again, Edit("add_music", {"ending": "explode"}))
