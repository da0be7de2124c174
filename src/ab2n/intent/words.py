"""The reading machinery: where a lexicon's phrases are in a message, and what goes with what.

``Words`` is one normalised message and the lexicons to read it with; every extractor of
``parse.py`` asks it questions: is a phrase of this list said (``has``), which keys of this table
(``keys``, the longest of overlapping phrases winning), is this verb said of that object (``acts``:
"lose the soundtrack", "music off", "no background music", "把背景音乐删了").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from ab2n.intent.lexicons import lexicon

__all__ = ["Words", "detect_lang", "lexes", "longest", "matches"]

_CJK = re.compile(r"[\u4e00-\u9fff]")


def detect_lang(text: str) -> str:
    """ "zh" when the text has Chinese characters, else "en"."""
    return "zh" if _CJK.search(text) else "en"


def _is_zh(p: str) -> bool:
    return bool(_CJK.search(p)) or not p[:1].isalnum()


@cache
def _word_rx(phrase: str) -> re.Pattern[str]:
    # ASCII edges: in a mixed message "适合youtube", "加lofi音乐" the English word is a word of its own
    return re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(phrase)}(?![A-Za-z0-9_-])")


def matches(text: str, phrases: list[str], lang: str) -> list[tuple[int, int]]:
    """Where the phrases are in the text (English phrases as whole words)."""
    out: list[tuple[int, int]] = []
    for p in phrases:
        if lang == "zh" or _is_zh(p):
            i = text.find(p)
            while i >= 0:
                out.append((i, i + len(p)))
                i = text.find(p, i + 1)
        else:
            out += [m.span() for m in _word_rx(p).finditer(text)]
    return out


def longest(hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Of overlapping matches keep the longest ("youtube shorts" over "youtube", "background noise"
    over "background"), in order of appearance."""
    kept: list[tuple[int, int, str]] = []
    for a, b, k in sorted(hits, key=lambda h: (h[0] - h[1], h[0])):
        if all(b <= x or a >= y for x, y, _ in kept):
            kept.append((a, b, k))
    return sorted(kept)


@dataclass(frozen=True)
class Words:
    """One normalised message and the lexicons to read it with (what every extractor asks)."""

    t: str
    lexes: list[tuple[dict[str, Any], str]]
    lang: str
    titles: list[str]
    after: str | None = None

    def lists(self, key: str) -> list[tuple[list[str], str]]:
        return [(lx.get(key, []), lang) for lx, lang in self.lexes]

    def has(self, key: str) -> bool:
        """Whether any phrase of the lexicon list ``key`` is in the text."""
        return any(matches(self.t, ps, lang) for ps, lang in self.lists(key))

    def pattern(self, key: str, sub: str | None = None, *, free: bool = False) -> bool:
        """Whether one of the lexicon's regular expressions ``key`` (``[sub]``) matches (``free``: in
        the text without the particles other verbs have taken, see ``taken``)."""
        text = self.free if free else self.t
        for lx, _lang in self.lexes:
            pats = lx.get(key, {})
            pats = pats.get(sub, []) if sub is not None else pats
            if any(re.search(p, text) for p in pats):
                return True
        return False

    @cached_property
    def taken(self) -> list[tuple[int, int]]:
        """Particles that belong to another verb ("drowns out", "fade away", "cut it down"): they are
        not "take it out" or "turn it down" (the lexicon's ``particle_patterns``)."""
        out: list[tuple[int, int]] = []
        for lx, _lang in self.lexes:
            for p in lx.get("particle_patterns", []):
                out += [m.span("p") for m in re.finditer(p, self.t)]
        return out

    @cached_property
    def free(self) -> str:
        """The text with the taken particles blanked (same length, so places still agree)."""
        t = self.t
        for a, b in self.taken:
            t = t[:a] + " " * (b - a) + t[b:]
        return t

    def hits(self, key: str) -> list[tuple[int, int, str]]:
        """(start, end, key) of every phrase of the table ``key``, the longest of overlapping ones."""
        found: list[tuple[int, int, str]] = []
        for lx, lang in self.lexes:
            for k, phrases in lx.get(key, {}).items():
                found += [(a, b, k) for a, b in matches(self.t, phrases, lang)]
        return longest(found)

    def keys(self, key: str) -> list[str]:
        """The keys of the lexicon table ``key`` found in the text, in order of appearance."""
        out: list[str] = []
        for _a, _b, k in self.hits(key):
            if k not in out:
                out.append(k)
        return out

    def first(self, key: str) -> str | None:
        """The first key of the table ``key`` found in the text."""
        ks = self.keys(key)
        return ks[0] if ks else None

    def says(self, phrases: list[str]) -> bool:
        """Whether one of these phrases is in the text."""
        return bool(matches(self.t, phrases, self.lang))

    def objects(self) -> list[tuple[int, int, str]]:
        """What the message talks about, with "it" read as the last turn's topic when there is one."""
        objs = self.hits("objects")
        return [(a, b, (self.after or "it") if k == "it" else k) for a, b, k in objs]

    def acts(self, verb: str, obj: str) -> bool:
        """Whether a verb of class ``verb`` is said of an object of class ``obj`` ("lose the soundtrack",
        "turn the original audio back on", "把背景音乐删了")."""
        return (verb, obj) in self.pairs

    @cached_property
    def pairs(self) -> set[tuple[str, str]]:
        """(verb class, object class) said together: English verb then object within four words (or a
        particle after it: "music off"); Chinese in either order within six characters."""
        objs = self.objects()
        out: set[tuple[str, str]] = set()
        verbs = self.hits("verbs")
        for a, b, verb in verbs:
            if self.t[b:].startswith("把"):
                continue  # "不要把我的声音去掉": the 把 phrase's object goes with the verb after it
            if verb == "remove" and self.negated(a):
                verb = "keep"  # "don't mute my voice", "别删音乐": a remove verb said in the negative
            near = [o for o in objs if self._close(a, b, o[0], o[1])]
            if near:
                first = self._head(min(near, key=lambda o: abs(o[0] - b)), objs)
                out |= {(verb, k) for k in self._joined(first, objs)}
            elif verb in ("remove", "change") and self.after and not objs and len(verbs) == 1:
                out.add((verb, self.after))  # "去掉吧" after a title, "换" after music: said of the last topic
        for a, b, verb in self.hits("postfix_verbs"):
            if any(x <= a and b <= y for x, y in self.taken):
                continue
            before = [o for o in objs if o[1] <= a and len(self.t[o[1] : a].split()) <= 2]
            if before:
                out.add((verb, before[-1][2]))
        return out | {("remove", k) for k in self._refused(objs)}

    def _refused(self, objs: list[tuple[int, int, str]]) -> list[str]:
        """Objects a negation says no to ("no background music", "不要原声"): the first within two words
        after each negation, not one a 把 phrase gives to a later verb ("不要把我的声音去掉"), and for a
        bare "no" not one behind a determiner ("no cap the music is too loud": "no" names nothing)."""
        out: list[str] = []
        for a, b, _n in self._negations():
            bare = self.t[a:b] == "no"
            after = [
                o
                for o in objs
                if o[0] >= b
                and o[2] not in ("it", self.after)
                and len(self.t[b : o[0]].split()) <= 2
                and not self.t[b : o[0]].lstrip().startswith("把")
                and not (bare and re.search(r"\b(?:the|this|that|my|a)\b", self.t[b : o[0]]))
            ]
            out += [after[0][2]] if after else []
        return out

    def negated(self, at: int) -> bool:
        """Whether the words just before ``at`` say it in the negative ("don't mute", "不要静音")."""
        before = self.t[max(0, at - 16) : at]
        # "别把我的声音静音": a 把 phrase names the object between the negation and its verb
        if self.lang == "zh" and re.search(r"(?:不要|别|不用|不需要|不必)\s*(?:把[^,，。;；]{1,10})?$", before):
            return True
        return re.search(r"\b(?:don'?t|do not|never|no need to|not)\s+$", before) is not None

    def _head(self, obj: tuple[int, int, str], objs: list[tuple[int, int, str]]) -> tuple[int, int, str]:
        """The object a possessive names ("视频原来的声音", "the video's audio"): the one right after it."""
        if obj[2] != "result":
            return obj
        nxt = [o for o in objs if o[0] >= obj[1] and re.fullmatch(r"\s*(?:的|'s)?\s*", self.t[obj[1] : o[0]])]
        return nxt[0] if nxt else obj

    def _joined(self, first: tuple[int, int, str], objs: list[tuple[int, int, str]]) -> list[str]:
        """The object and those joined to it: "remove the title and the music", "去掉标题和音乐"."""
        kinds = [first[2]]
        end = first[1]
        for a, b, k in objs:
            if a >= end and re.fullmatch(
                r"\s*(?:,\s*and|,|and|&|和|跟|与|、)\s*(?:also\s+)?(?:the\s+|my\s+)?", self.t[end:a]
            ):
                if self._own_verb(b):
                    break  # "去掉原声，音乐调大一点": the music has a verb of its own
                kinds.append(k)
                end = b
        return kinds

    def _own_verb(self, at: int) -> bool:
        """Whether the clause that goes on from ``at`` (to the next comma or the end) has a verb or a
        volume word of its own."""
        stop = re.search(r"[,;.!?]|\band\b|\bthen\b|和|然后", self.t[at:])
        end = at + stop.start() if stop else len(self.t)
        starts = [a for a, _b, _k in self.hits("verbs")]
        starts += [
            a for key in ("quieter", "louder") for ps, lang in self.lists(key) for a, _b in matches(self.t, ps, lang)
        ]
        return any(at <= a < end for a in starts)

    def _negations(self) -> list[tuple[int, int, str]]:
        found: list[tuple[int, int, str]] = []
        for ps, lang in self.lists("negations"):
            found += [(a, b, "no") for a, b in matches(self.t, ps, lang)]
        return found

    def _close(self, va: int, vb: int, oa: int, ob: int) -> bool:
        """Whether a verb and an object are near enough to go together, in one clause ("原声关掉，只留背景音乐":
        the music is not what 关掉 turns off)."""
        if re.search(r"[,;，；。]", self.t[min(vb, ob) : max(va, oa)]):
            return False
        if self.lang == "zh":
            return (oa >= vb and oa - vb <= 6) or (ob <= va and va - ob <= 6)
        return oa >= vb and len(self.t[vb:oa].split()) <= 4

    def has_verb(self, verb: str) -> bool:
        """Whether a verb of this class is said."""
        return any(k == verb for _a, _b, k in self.hits("verbs"))

    def about(self, obj: str) -> bool:
        """Whether the message names an object of this class (or leans on it as the last topic)."""
        return any(k == obj for _a, _b, k in self.objects())


def lexes(lang: str) -> list[tuple[dict[str, Any], str]]:
    """The lexicons a message in ``lang`` is read with (Chinese messages also read English words)."""
    return [(lexicon(lang), lang)] + ([(lexicon("en"), "en")] if lang == "zh" else [])
