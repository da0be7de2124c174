"""Round 4 of issue 20: 325 utterances written as a stranger would type them and committed before the
parser was run on them, split once at random (``random.Random(4)``); the parser was then changed
looking only at the ``tuning`` half. The ``held_out`` half's score is the one that counts.

Measured (docs/instructions.md): before any change tuning 131/162, held-out 143/163; after the
changes tuning 160/162, held-out 145/163 (89.0 %). Round 5's changes (made looking at round 5's
tuning half only) fixed 4 more held-out rows incidentally (149/163), but the held-out misses had been
listed by then, so 89.0 % stays the clean score; round 6's learned fallback (``intent/fallback.py``,
learning from the tuning halves only) 151/163, its synonym tables 153/163; round 7's session (clause
reading, then changes made looking at round 7's tuning half and at this set's listed misses: tuned,
not clean) 161/162 and 163/163. The floors are the latest
results: a change that loses one utterance of either half fails. Misses are printed (``pytest -s``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_fresh_utterances import assert_split_as_written, correct_count

SET = Path(__file__).with_name("round4_utterances.json")
#: Correct parses per half, as measured after the tuning (docs/instructions.md).
FLOORS = {"tuning": 161, "held_out": 163}


def _doc() -> dict[str, Any]:
    return json.loads(SET.read_text(encoding="utf-8"))


def test_set_is_as_written() -> None:
    doc = _doc()
    assert_split_as_written(doc, min_rows=240, min_chinese=len(doc["utterances"]) // 4)


@pytest.mark.parametrize("half", ["tuning", "held_out"])
def test_half_score(half: str) -> None:
    rows = [r for r in _doc()["utterances"] if r["half"] == half]
    assert correct_count(rows, f"round 4 {half}") >= FLOORS[half]
