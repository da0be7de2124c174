"""A composed piece longer than the composer renders in memory is refused with a clear error, at
the arrange stage, before any planning; at the limit it is planned."""

from __future__ import annotations

import pytest

from ab2n.analyze.profile import Cut, VideoProfile
from ab2n.errors import InvalidArgument
from ab2n.intent.parse import parse
from ab2n.pipeline import MAX_COMPOSED_S
from ab2n.pipeline import compose as compose_stage
from ab2n.timeline.draft import Draft, VideoSegment
from ab2n.timeline.edits import apply_said_edit


def _composed_draft(seconds: float) -> Draft:
    draft = Draft(video=(VideoSegment("m1", 0, round(seconds * 1000)),))
    for edit in parse("compose music for it").edits:
        draft = apply_said_edit(draft, edit)
    return draft


def _profile(seconds: float) -> VideoProfile:
    n = int(seconds)
    return VideoProfile(
        duration_s=seconds,
        fps=30,
        cuts=tuple(Cut(t, round(t * 30), 0.9) for t in range(7, n - 3, 11)),
        arousal=[0.2] * n,
        valence=[0.3] * n,
        mood="calm",
    )


def test_a_piece_over_the_limit_is_refused_before_planning() -> None:
    seconds = MAX_COMPOSED_S + 30
    with pytest.raises(InvalidArgument, match="composed music is limited to 10 minutes"):
        compose_stage(_composed_draft(seconds), {"m1": _profile(seconds)})


def test_a_short_piece_is_planned() -> None:
    draft = compose_stage(_composed_draft(40.0), {"m1": _profile(40.0)})
    assert draft.music is not None and draft.music.plan is not None
