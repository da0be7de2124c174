"""Issue 20's set: utterances written before the parser was changed, split once at random.

The parser was changed looking only at the ``tuning`` half; the ``held_out`` half's score is the one
that counts. Both are reported (``pytest -s``) and floored. ``after`` is what the previous turn
changed, for follow-ups ("louder" after music, "longer" after a title).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from ab2n.intent.parse import parse

SET = Path(__file__).with_name("fresh_utterances.json")
#: Floors, from the measured run written in docs/instructions.md (a change that loses one fails).
FLOORS = {"tuning": 1.0, "held_out": 1.0}


def _doc() -> dict[str, Any]:
    return json.loads(SET.read_text(encoding="utf-8"))


def _canon(d: dict[str, Any]) -> dict[str, Any]:
    """Edits compared as a set: the parser's order is by family, the meaning does not depend on it."""
    if "edits" in d:
        return {"edits": sorted(json.dumps(e, sort_keys=True) for e in d["edits"])}
    return d


def matches(row: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Whether the parse of one row is the expected one, and the parse."""
    got = parse(row["text"], after=row.get("after")).to_json()
    exp = row["expect"]
    if exp.get("unrecognised"):
        return not got.get("edits") and "command" not in got and bool(got.get("unrecognised")), got
    got.pop("unrecognised", None)
    return _canon(got) == _canon(exp), got


def assert_split_as_written(doc: dict[str, Any], *, min_rows: int, min_chinese: int) -> None:
    """The set is as large and as Chinese as it says, and its halves are the one seeded split."""
    rows = doc["utterances"]
    assert len(rows) >= min_rows
    assert sum(bool(re.search(r"[\u4e00-\u9fff]", r["text"])) for r in rows) >= min_chinese
    idx = list(range(len(rows)))
    random.Random(doc["seed"]).shuffle(idx)
    tuning = set(idx[: len(rows) // 2])
    assert [r["half"] for r in rows] == ["tuning" if i in tuning else "held_out" for i in range(len(rows))]


def correct_count(rows: list[dict[str, Any]], label: str) -> int:
    """How many of ``rows`` parse as expected; each miss and the score are printed (``pytest -s``)."""
    misses = [(r, got) for r in rows for ok, got in [matches(r)] if not ok]
    for r, got in misses:
        print(f"MISS [{label}] {r.get('after') or ''} {r['text']!r}\n   want {r['expect']}\n   got  {got}")
    correct = len(rows) - len(misses)
    print(f"{label}: {correct}/{len(rows)} = {correct / len(rows):.3f}")
    return correct


def test_set_is_as_written() -> None:
    assert_split_as_written(_doc(), min_rows=300, min_chinese=60)


@pytest.mark.parametrize("half", ["tuning", "held_out"])
def test_half_score(half: str) -> None:
    rows = [r for r in _doc()["utterances"] if r["half"] == half]
    assert correct_count(rows, half) / len(rows) >= FLOORS[half] - 1e-9


def test_probe_set_score() -> None:
    """The later fresh sets (round 2: 91.7 %, round 3: 90.8 % when first scored; tuning since)."""
    rows = json.loads(SET.with_name("probe_utterances.json").read_text(encoding="utf-8"))["utterances"]
    assert len(rows) >= 240
    assert correct_count(rows, "probe") / len(rows) >= 0.99
