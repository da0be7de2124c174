"""Issue 20's rounds 4-8: utterances written as strangers would type them and committed before the
parser was run on them, each split once at random (``random.Random(round)``) into a ``tuning`` half,
the only one the parser may be changed looking at, and a ``held_out`` half, whose score is the one
that counts. How each set was written, its scores before and after each change, and every miss with
why are in docs/instructions.md ("The test sets and what it still gets wrong").

The floors are the latest measured results: a change that loses one utterance of either half fails.
Misses are printed (``pytest -s``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_fresh_utterances import assert_split_as_written, correct_count

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Round:
    """One round's set: its least size, its least share of Chinese rows (1/n), and its floors."""

    min_rows: int
    chinese_one_in: int
    tuning: int
    held_out: int


ROUNDS = {
    # Written with a view of the parser; held-out first scored 143/163, 89.0 % after its tuning.
    4: Round(min_rows=240, chinese_one_in=4, tuning=161, held_out=163),
    # Vocabulary chosen beyond the lexicon; held-out 162/219 first, 79.5 % after its tuning.
    5: Round(min_rows=300, chinese_one_in=3, tuning=218, held_out=217),
    # Held-out 124/141 first, 132/141 = 93.6 % after its tuning.
    6: Round(min_rows=250, chinese_one_in=4, tuning=141, held_out=141),
    # Written blind to the parser; held-out 203/224 first, 209/224 = 93.3 % after its tuning.
    7: Round(min_rows=320, chinese_one_in=3, tuning=223, held_out=224),
    # Written blind to the parser; held-out 190/204 = 93.1 % first, 192/204 = 94.1 % after its tuning.
    8: Round(min_rows=300, chinese_one_in=3, tuning=204, held_out=192),
}


def _doc(n: int) -> dict[str, Any]:
    return json.loads((HERE / f"round{n}_utterances.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("n", sorted(ROUNDS))
def test_set_is_as_written(n: int) -> None:
    doc = _doc(n)
    spec = ROUNDS[n]
    assert_split_as_written(doc, min_rows=spec.min_rows, min_chinese=len(doc["utterances"]) // spec.chinese_one_in)


@pytest.mark.parametrize("half", ["tuning", "held_out"])
@pytest.mark.parametrize("n", sorted(ROUNDS))
def test_half_score(n: int, half: str) -> None:
    rows = [r for r in _doc(n)["utterances"] if r["half"] == half]
    assert correct_count(rows, f"round {n} {half}") >= getattr(ROUNDS[n], half)
