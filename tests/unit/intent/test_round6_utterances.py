"""Round 6 of issue 20: utterances written by a helper as strangers would type them and committed
before the parser was run on them, split once at random (``random.Random(6)``); the parser may be
changed looking only at the ``tuning`` half. The ``held_out`` half's score is the one that counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_fresh_utterances import assert_split_as_written

SET = Path(__file__).with_name("round6_utterances.json")


def _doc() -> dict[str, Any]:
    return json.loads(SET.read_text(encoding="utf-8"))


def test_set_is_as_written() -> None:
    doc = _doc()
    assert_split_as_written(doc, min_rows=250, min_chinese=len(doc["utterances"]) // 4)
