"""Round 8 of issue 20: utterances written blind to the parser, split once at random.

How the set was written: by a helper who did not open, grep or run the parser, its lexicon files or
the chat code (nor ``ab2n intent``/``ab2n chat``/``parse()``) before the set was committed. The helper
read only the first section of docs/instructions.md (the table of what you can say and its
conventions, not the later sections listing known misses), the label format of the older sets
(round 7's labels, not its texts), the edit functions (``timeline/edits.py``), the output presets,
the loudness targets in docs/mix.md and the mood list in docs/mood-mapping.md.
The rows imagine many people: a teenager on a phone (no punctuation, slang, typos, emoji), a terse
marketer (bgm, vo, lower third, LUFS), a parent (long polite sentences), Chinese creators (colloquial
Chinese, mixed English words, 一下/一点/吧), voice-dictation run-ons, problems described instead of
fixes, several edits in one message, follow-ups (``after``), questions, negations, numbers in words
and Chinese numerals, times in many forms, platform words, off-topic messages. Rows whose text
(case and spacing aside) is in an older set were dropped by text alone.

The split is ``random.Random(8)``; the parser may be changed looking only at the ``tuning`` half.
The ``held_out`` half's score is the one that counts. Misses are printed (``pytest -s``).

Measured (docs/instructions.md): on the parser as it was before round 8's parser session (1b5b22a,
round 7's final parser) tuning 179/204, held-out 186/204 (91.2 %), scored after the fact; first
scoring on arrival, before any row was read, on d659901 (that session's class work on round 7's
listed misses and on its own variants): tuning 183/204, held-out 190/204 (93.1 %); after changes
made looking at the tuning half's misses only (classes, each with variants of the helper's own in
``classes_utterances.json``): tuning 204/204, held-out **192/204 = 94.1 %**, scored once on the
final parser (56a07ad), its misses read only after that. The floors are these results: a change
that loses one utterance of either half fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_fresh_utterances import assert_split_as_written, correct_count

SET = Path(__file__).with_name("round8_utterances.json")
#: Correct parses per half, as last measured (docs/instructions.md).
FLOORS = {"tuning": 204, "held_out": 192}


def _doc() -> dict[str, Any]:
    return json.loads(SET.read_text(encoding="utf-8"))


def test_set_is_as_written() -> None:
    doc = _doc()
    assert_split_as_written(doc, min_rows=300, min_chinese=len(doc["utterances"]) // 3)


@pytest.mark.parametrize("half", ["tuning", "held_out"])
def test_half_score(half: str) -> None:
    rows = [r for r in _doc()["utterances"] if r["half"] == half]
    assert correct_count(rows, f"round 8 {half}") >= FLOORS[half]
