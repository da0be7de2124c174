"""Which of a session's files a message is about, said the way people say it.

"the second video", "the first one", "video 2", "the last clip", "the beach clip" (by the uploaded
name, fuzzy), "this one" / "it" (the active file), "all of them", "every video", "each clip",
"a montage of all my clips"; in Chinese "第二个视频", "第一个", "最后一个视频", "每个视频",
"所有视频", "全部". The phrase is cut out of the text so the rest reads as an ordinary instruction:
"add calm music to the second video only" -> file 2, "add calm music".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

Kind = Literal["active", "one", "all", "montage"]

_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "last": -1,
    "latest": -1,
}
_NOUN = r"(?:video|clip|file|upload|one|movie|footage)s?"
_ORD = "|".join(sorted(_ORDINALS, key=len, reverse=True))
_LEAD = r"(?:(?:back\s+)?(?:to|for|on|in|of|with)\s+)?(?:the\s+|my\s+)?"
_ORDINAL_EN = re.compile(rf"\b{_LEAD}({_ORD})\s+{_NOUN}\b(?:\s+only)?", re.I)
_NUMBERED_EN = re.compile(rf"\b{_LEAD}(?:video|clip|file)\s+(?:#|no\.?\s*)?(\d{{1,2}})\b(?:\s+only)?", re.I)
_ALL_EN = re.compile(
    rf"\b(?:(?:to|for|on|of)\s+)?(?:all\s+(?:of\s+)?(?:them|the\s+{_NOUN}|my\s+{_NOUN}|{_NOUN})|every\s+{_NOUN}|each\s+{_NOUN}|both\s+(?:of\s+them|{_NOUN}))\b",
    re.I,
)
_EXPORT_ALL = re.compile(r"\b(?:export|render|download)\s+(?:all|everything|them\s+all)\b|导出全部|全部导出", re.I)
_MONTAGE_EN = re.compile(r"\bmontage\b", re.I)
_ACTIVE_EN = re.compile(rf"\b(?:to\s+|for\s+|on\s+)?(?:this|that|the\s+current)\s+{_NOUN}\b", re.I)

_ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_ORDINAL_ZH = re.compile(
    r"(?:给|把|对|回到|切换到)?第\s*([一二两三四五六七八九十\d]{1,2})\s*个(?:视频|片段|文件|素材)?(?:上|里)?"
)
_LAST_ZH = re.compile(r"(?:给|把|对|回到)?最后(?:一)?个(?:视频|片段|文件|素材)?")
_ALL_ZH = re.compile(r"(?:给|把|对)?(?:每个|每一个|所有的?|全部的?)(?:视频|片段|文件|素材)?(?:都)?")
_MONTAGE_ZH = re.compile(r"(?:混剪|合集|拼接)")
_ACTIVE_ZH = re.compile(r"(?:这个|当前)(?:视频|片段|文件)")


@dataclass(frozen=True)
class Address:
    """What a message is about.

    Attributes:
        kind: "active" (nothing said: the active file), "one" (``index``), "all" or "montage".
        index: 0-based file index for "one".
        text: The message with the addressing words removed.
    """

    kind: Kind
    index: int | None = None
    text: str = ""


def parse_address(text: str, names: list[str], *, lang: str = "en") -> Address:
    """Find which of ``names`` (the files in upload order) ``text`` addresses.

    Args:
        text: The user's message.
        names: The files' names as uploaded ("beach.mp4"), in upload order.
        lang: "en" or "zh" (Chinese messages also accept the English forms).

    Returns:
        The address; an ordinal past the number of files is treated as no address (the caller
        then answers about the active file).
    """
    # Quoted words are a title ("add a title 'Beach day'"), never an address: mask them.
    masked = _QUOTED.sub(lambda q: q.group(0)[0] + "\x00" * (len(q.group(0)) - 2) + q.group(0)[-1], text)
    for finder in (_montage, _all, _ordinal, _by_name, _active):
        found = finder(masked, names, lang)
        if found is None:
            continue
        kind, index, m = found
        if kind == "one" and (index is None or not 0 <= index < len(names)):
            continue
        rest = text if m is None else " ".join((text[: m.start()] + " " + text[m.end() :]).split())
        return Address(kind, index, rest.strip(" ,，:：;；"))
    return Address("active", None, text)


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|“[^”]*”|‘[^’]*’|「[^」]*」|《[^》]*》")
Found = tuple[Kind, int | None, "re.Match[str] | None"]


def _ordinal(text: str, _names: list[str], lang: str) -> Found | None:
    m = _ORDINAL_EN.search(text)
    if m:
        k = _ORDINALS[m.group(1).lower()]
        return ("one", (len(_names) - 1) if k == -1 else k - 1, m)
    m = _NUMBERED_EN.search(text)
    if m:
        return ("one", int(m.group(1)) - 1, m)
    if lang == "zh":
        m = _ORDINAL_ZH.search(text)
        if m:
            tok = m.group(1)
            k = int(tok) if tok.isdigit() else _zh_small(tok)
            return ("one", k - 1, m)
        m = _LAST_ZH.search(text)
        if m:
            return ("one", len(_names) - 1, m)
    return None


def _zh_small(tok: str) -> int:
    if tok.startswith("十"):
        return 10 + _ZH_DIGITS.get(tok[1:], 0) if len(tok) > 1 else 10
    return _ZH_DIGITS.get(tok[0], 0) * (10 if tok.endswith("十") and len(tok) > 1 else 1)


def _all(text: str, _names: list[str], lang: str) -> Found | None:
    m = _ALL_EN.search(text) or (_ALL_ZH.search(text) if lang == "zh" else None)
    if m is None:
        m = _EXPORT_ALL.search(text)
        return ("all", None, None) if m else None
    return ("all", None, m)


def _montage(text: str, _names: list[str], lang: str) -> Found | None:
    m = _MONTAGE_EN.search(text) or (_MONTAGE_ZH.search(text) if lang == "zh" else None)
    return ("montage", None, None) if m else None


def _active(text: str, _names: list[str], lang: str) -> Found | None:
    m = _ACTIVE_EN.search(text) or (_ACTIVE_ZH.search(text) if lang == "zh" else None)
    return ("active", None, m) if m else None


def _by_name(text: str, names: list[str], _lang: str) -> Found | None:
    """A file named in the text: its full name ("beach.mp4"), or its stem's words said as a name
    ("the beach clip", "city walk video", "my beach one"), or a close misspelling of them
    ("the beech clip"). A bare word is not enough: "add calm music" is not about calm.mp4."""
    low = text.lower()
    stems = [" ".join(re.findall(r"[^\W_]+", PurePath(n).stem.lower())) for n in names]
    for i, name in enumerate(names):
        m = re.search(rf"(?:\b(?:to|for|on|in|of)\s+)?{re.escape(name.lower())}", low)
        if m and len(name) >= 3:
            return ("one", i, m)
    lead = r"(?:\b(?:back\s+)?(?:to|for|on|in|of)\s+)?"
    for i, stem in enumerate(stems):
        if len(stem) < 3:
            continue
        m = re.search(
            rf"{lead}(?:\b(?:the|my)\s+{re.escape(stem)}(?:\s+{_NOUN})?|\b{re.escape(stem)}\s+{_NOUN})\b", low
        )
        if m:
            return ("one", i, m)
    # A misspelt name: one or two words before a noun ("the beech clip").
    said = re.compile(rf"{lead}(?:\b(?:the|my)\s+)?\b([\w']+(?:\s[\w']+)?)\s+{_NOUN}\b")
    best: tuple[float, int, re.Match[str] | None] = (0.0, -1, None)
    for m in said.finditer(low):
        words = m.group(1).strip()
        for i, stem in enumerate(stems):
            if len(stem) < 3:
                continue
            score = (
                1.0
                if words == stem or words.endswith(" " + stem)
                else difflib.SequenceMatcher(None, stem, words).ratio()
            )
            if score >= 0.8 and score > best[0]:
                best = (score, i, m)
    if best[2] is not None:
        return ("one", best[1], best[2])
    return None
