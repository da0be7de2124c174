"""Round 7 of issue 20: utterances written by a helper who did not open, grep or run the parser or its
lexicon before the set was committed (labels from docs/instructions.md's conventions only), split once
at random (``random.Random(7)``); the parser may be changed looking only at the ``tuning`` half. The
``held_out`` half's score is the one that counts.

Measured (docs/instructions.md): on the parser as committed before round 7 (2a0c070) tuning 196/223,
held-out 202/224 (by the set's writer); first scoring by the parser helper, with clause-by-clause
reading added and before any row of this set was read: tuning 201/223, held-out 203/224 (90.6 %);
after the changes made looking at the tuning half (and the older sets' listed misses, and phrasings
the helper wrote himself): tuning 223/223, held-out 209/224 = 93.3 %, scored once on the final
parser (2fdfd81). The floors are these results: a change that loses one utterance of either half
fails. Misses are printed (``pytest -s``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_fresh_utterances import assert_split_as_written, correct_count

SET = Path(__file__).with_name("round7_utterances.json")
#: Correct parses per half, as last measured (docs/instructions.md).
FLOORS = {"tuning": 223, "held_out": 209}


def _doc() -> dict[str, Any]:
    return json.loads(SET.read_text(encoding="utf-8"))


def test_set_is_as_written() -> None:
    doc = _doc()
    assert_split_as_written(doc, min_rows=320, min_chinese=len(doc["utterances"]) // 3)


@pytest.mark.parametrize("half", ["tuning", "held_out"])
def test_half_score(half: str) -> None:
    rows = [r for r in _doc()["utterances"] if r["half"] == half]
    assert correct_count(rows, f"round 7 {half}") >= FLOORS[half]
