"""The words of a title, found in the message as written (case kept), quoted or not.

Quoted: "…", “…”, 「…」, 『…』, 《…》, ‘…’, '…'. Unquoted, after a title word or a writing verb:
"a title that says Paris 2026", "add a caption saying Happy Birthday", "write Welcome Home at 0:20",
"title: Best Summer Ever", "title it Our Trip", "add the caption Lisbon 2024", "put The End on screen",
"标题写巴黎", "字幕写着生日快乐", "加个标题：巴黎2026", "标题叫海边". The unquoted words stop where the
instruction goes on: " at the top", " for 3 seconds", " at 0:20", ", and ...", "，放在底部".
The cues and stops are the lexicon's ``title_cues`` (regular expressions), not code.
"""

from __future__ import annotations

import re

from ab2n.intent.lexicons import lexicon

__all__ = ["find_titles"]

_QUOTES = [
    re.compile(r'"([^"]+)"'),
    re.compile(r"“([^”]+)”"),
    re.compile(r"「([^」]+)」"),
    re.compile(r"『([^』]+)』"),
    re.compile(r"《([^》]+)》"),
    re.compile(r"‘([^’]+)’"),
    re.compile(r"(?:(?<=\s)|^)'([^']+?)'(?=[\s,.!?;:，。]|$)"),
]


def _quoted(original: str) -> list[tuple[str, int, int]]:
    found: list[tuple[str, int, int]] = []
    for rx in _QUOTES:
        for m in rx.finditer(original):
            if not any(a <= m.start() < b for _, a, b in found):
                found.append((m.group(1).strip(), m.start(), m.end()))
    return sorted(found, key=lambda x: x[1])


def _unquoted(original: str, lang: str, after: str | None = None) -> tuple[str, int, int] | None:
    cues = lexicon("zh" if lang == "zh" else "en")["title_cues"]
    en = lexicon("en")["title_cues"]
    patterns = cues["patterns"] + (en["patterns"] if lang == "zh" else [])
    if after == "title":  # after a title, "change it to Bye", "make it say Hello": "it" is that title
        patterns = patterns + en.get("after_title_patterns", [])
    stops = cues["stops"] + (en["stops"] if lang == "zh" else [])
    for pat in patterns:
        m = re.search(pat, original, re.IGNORECASE)
        if not m:
            continue
        a = m.start("t")
        rest = original[a:]
        end = len(rest)
        for stop in stops:
            s = re.search(stop, rest, re.IGNORECASE)
            if s and s.start() < end:
                end = s.start()
        words = rest[:end].strip().rstrip(".!?,;:，。！？").lstrip(":：,，-— ")  # "标题写：毕业啦"
        words = re.sub(r"\s+(?:please|pls|plz)$", "", words, flags=re.IGNORECASE).strip()
        if words and not re.fullmatch(r"[\d:.\s]*", words) and not _about_music(words):
            return words, a, a + len(rest[:end].rstrip())
    return None


def _about_music(words: str) -> bool:
    """ "write music for this", "write me a song": music to be written, not a title's words."""
    head = re.sub(r"^(?:(?:me|us|a|an|some|the|my|new|little|short|nice)\s+)+", "", words.lower())
    music = lexicon("en")["objects"]["music"] + lexicon("zh")["objects"]["music"]
    return any(head == m or head.startswith(m + " ") for m in music)


def find_titles(original: str, lang: str, after: str | None = None) -> list[tuple[str, int, int]]:
    """Every title text in the message with where it is: (text, start, end) in ``original`` (``after``:
    what the previous turn changed, "title" letting "change it to Bye" name a title's words)."""
    quoted = _quoted(original)
    if quoted:
        return quoted
    one = _unquoted(original, lang, after)
    return [one] if one else []
