"""`ab2n intent` and the chat read a message the same way (the same parse for the same words and
the same previous turn), and the chat answers in the message's language without naming buttons."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ab2n import cli
from ab2n.chat.engine import answer, topic
from ab2n.errors import InvalidArgument
from ab2n.timeline.draft import Draft, VideoSegment
from ab2n.timeline.edits import Edit, apply_edit

HERE = Path(__file__).parent
BASE = Draft(video=(VideoSegment("m1", 0, 10000, 0, "clip.mp4"),))
AFTER = {
    None: (None, None),
    "music": (BASE, apply_edit(BASE, Edit("add_music", {}))),
    "title": (BASE, apply_edit(BASE, Edit("add_text", {"text": "Hi"}))),
}


class _Words:
    """A workspace with no files: only what the reading of a message asks of it."""

    def __init__(self, after: str | None) -> None:
        self.prev, self.cur = AFTER[after]

    def files(self) -> dict[str, str]:
        return {}

    def active(self) -> str:
        return ""

    def draft(self, key: str) -> Draft | None:
        return self.cur

    def previous(self, key: str) -> Draft | None:
        return self.prev

    def __getattr__(self, name: str) -> Any:
        def refuse(*_a: Any, **_k: Any) -> Any:
            raise InvalidArgument(f"{name} is not part of reading a message")

        return refuse


def _rows() -> list[tuple[str, str | None]]:
    rows: list[tuple[str, str | None]] = []
    for line in (HERE / "utterances.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append((line.split(" || ", 1)[0], None))
    for name in ("fresh_utterances.json", "probe_utterances.json", "round4_utterances.json", "round5_utterances.json"):
        later = json.loads((HERE / name).read_text(encoding="utf-8"))["utterances"]
        rows += [(r["text"], r.get("after")) for r in later]
    return rows


def _chat_parse(text: str, after: str | None) -> dict[str, Any]:
    events: list[dict[str, Any]] = []
    answer(text, _Words(after), emit=events.append)  # type: ignore[arg-type]
    got = next(e["function_response"]["response"] for e in events if "function_response" in e)
    assert got.pop("after") == after
    got.pop("files")
    return dict(got)


def test_ab2n_intent_and_the_chat_give_the_same_parse(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _rows()
    assert len(rows) > 600
    for text, after in rows:
        cli.intent(text, as_json=True, after=after)  # the command's function: what it prints
        assert json.loads(capsys.readouterr().out) == _chat_parse(text, after), text


def test_ab2n_intent_on_the_command_line() -> None:
    runner = CliRunner()
    res = runner.invoke(cli.app, ["intent", "longer", "--after", "title", "--json"])
    assert res.exit_code == 0 and json.loads(res.output) == {"edits": [{"op": "set_text", "delta_ms": 1000}]}
    res = runner.invoke(cli.app, ["intent", "longer", "--after", "sky"])
    assert res.exit_code != 0 and "--after" in res.output and "Traceback" not in res.output


def test_topic_is_what_the_last_turn_changed() -> None:
    assert topic(*AFTER["music"]) == "music" and topic(*AFTER["title"]) == "title"
    assert topic(None, BASE) is None and topic(None, None) is None
    both = apply_edit(AFTER["music"][1], Edit("add_text", {"text": "Hi"}))
    assert topic(AFTER["music"][1], both) == "title"


def test_not_understood_says_what_it_understood_and_offers_two_edits() -> None:
    for text, lang_re in (("make the title spin at 0:05", r"[a-z]"), ("让标题跳个舞", r"[\u4e00-\u9fff]")):
        reply = answer(text, _Words(None))  # type: ignore[arg-type]
        assert re.search(lang_re, reply)
        offered = re.findall(r'"([^"]+)"|“([^”]+)”', reply)
        assert len(offered) >= 3, reply  # the message itself, then the two nearest edits
    reply = answer("make the title spin at 0:05", _Words(None))  # type: ignore[arg-type]
    assert "understood a title, 0:05" in reply and "the title" in reply.split("Did you mean")[1]
    assert "我听懂了：标题" in answer("让标题跳个舞", _Words(None))  # type: ignore[arg-type]


class _OneFile(_Words):
    """One file whose draft edits stay in memory (no music is chosen: the edits here need none)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.drafts: list[Draft] = []

    def files(self) -> dict[str, str]:
        return {"m1": "a.mp4"}

    def draft(self, key: str) -> Draft | None:
        return self.drafts[-1] if self.drafts else None

    def previous(self, key: str) -> Draft | None:
        return self.drafts[-2] if len(self.drafts) > 1 else None

    def set_active(self, key: str) -> None:
        pass

    def load(self, key: str) -> tuple[dict, dict]:
        return {}, {}

    def base_draft(self, *_a: Any) -> Draft:
        return BASE

    def arrange(self, draft: Draft, *_a: Any) -> Draft:
        return draft

    def push(self, key: str, draft: Draft) -> None:
        self.drafts.append(draft)

    def export_hint(self, zh: bool) -> str:
        return "说“导出”（POST /api/render/proxy/lambda）。" if zh else "Say 'export' (POST /api/render/proxy/lambda)."


def test_chinese_in_chinese_out() -> None:
    ws = _OneFile()
    refused = answer("标题再长一点", ws)  # type: ignore[arg-type]
    assert refused.startswith("没能完成：还没有标题"), refused
    added = answer("加个标题：巴黎", ws)  # type: ignore[arg-type]
    assert "已添加标题“巴黎”" in added and "时间线（2 条轨道）" in added and "标题：“巴黎”（0-3秒）" in added, added
    longer = answer("长一点", ws)  # type: ignore[arg-type]  (after a title: the title)
    assert "标题“巴黎”现在在 0-4 秒" in longer, longer
    english = answer("move it to the top", ws)  # type: ignore[arg-type]
    assert 'Title "巴黎" now 0-4 s, top.' in english and "Timeline (2 tracks)" in english, english
