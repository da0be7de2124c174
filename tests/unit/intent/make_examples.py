"""Writes ``src/ab2n/intent/lexicon/examples.json``: the labelled sentences the parser's learned
fallback (``ab2n.intent.fallback``) reads, from the sets it may learn from.

Run from the repository root: ``python tests/unit/intent/make_examples.py``. It takes the team's own
set, the probe set and ONLY the tuning halves of the fresh set and rounds 4, 5 and 6; a held-out half
never enters (``test_fallback.py`` checks the written file against every held-out text). The
lexicons' phrases are read by the fallback itself, not copied here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
OUT = HERE.parents[2] / "src" / "ab2n" / "intent" / "lexicon" / "examples.json"
HALVED = ("fresh", "round4", "round5", "round6")


def label(expect: dict[str, Any]) -> str | None:
    """The fallback's class of one expected parse, or None for a row it does not learn from (several
    edits, or an edit whose meaning lies in its numbers alone)."""
    if expect.get("unrecognised"):
        return "none"
    if "command" in expect:
        return str(expect["command"])
    ops = [e["op"] for e in expect["edits"]]
    if sorted(ops) == ["add_music", "replace_music"]:
        return "replace_music"
    if len(ops) != 1:
        return None
    e = expect["edits"][0]
    op = e["op"]
    if op == "set_music_volume":
        return "music_volume" if "volume" in e else "quieter" if e["delta_db"] < 0 else "louder"
    if op == "set_fades":
        return {(True, False): "fade_in", (False, True): "fade_out"}.get(("in_ms" in e, "out_ms" in e), "fade_both")
    if op == "set_text":
        if "position" in e:
            return f"title_{e['position']}"
        if "delta_ms" in e:
            return "title_longer" if e["delta_ms"] > 0 else "title_shorter"
        return "set_text"
    if op == "set_aspect":
        return f"aspect_{e['preset']}"
    if op == "set_original_audio":
        return f"original_{e['mode']}"
    return str(op)


def rows() -> list[tuple[str, str | None, str]]:
    """(text, after, label) of every row the fallback may learn from."""
    out: list[tuple[str, str | None, str]] = []
    for line in (HERE / "utterances.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text, exp = line.split("||")
            lab = label(json.loads(exp))
            if lab:
                out.append((text.strip(), None, lab))
    sets = [json.loads((HERE / "probe_utterances.json").read_text(encoding="utf-8"))["utterances"]]
    for name in HALVED:
        doc = json.loads((HERE / f"{name}_utterances.json").read_text(encoding="utf-8"))
        sets.append([r for r in doc["utterances"] if r["half"] == "tuning"])
    for set_rows in sets:
        for r in set_rows:
            lab = label(r["expect"])
            if lab:
                out.append((r["text"], r.get("after"), lab))
    return out


def main() -> None:
    """Write the file (one row a line, so a diff shows what was learned from)."""
    body = ",\n".join("    " + json.dumps([t, a, lab], ensure_ascii=False) for t, a, lab in rows())
    about = (
        "Labelled sentences for the parser's learned fallback (intent/fallback.py): [text, after, class]. "
        "Written by tests/unit/intent/make_examples.py from the team's set, the probe set and the tuning "
        "halves of the fresh set and rounds 4-6 only; no held-out text (tests/unit/intent/test_fallback.py)."
    )
    OUT.write_text('{\n  "about": ' + json.dumps(about) + ',\n  "rows": [\n' + body + "\n  ]\n}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
