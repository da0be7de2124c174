"""One message made regular before it is read: case, digits, number words, typos, comparatives.

``normalise`` turns "Fade in over THREE seconds" into "fade in over 3 seconds", "百分之三十五" into
"35%", "9 by 16" into "9:16"; ``correct`` mends one-letter typos of the lexicon's words ("musc",
"vertcal", "exprot") but never a word shorter than four letters, never a word the lexicon knows,
never its first letter, and never a common word listed in the lexicon's ``never_corrected``; ``comparatives`` reads
"calmer", "happier", "jazzier" as the wish words "calm", "happy", "jazzy"; ``base_forms`` reads
"lowering", "muted", "fades" as the lexicon's "lower", "mute", "fade".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from ab2n.intent.lexicons import lexicon

__all__ = ["base_forms", "comparatives", "correct", "normalise", "vocabulary", "zh_number"]

_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_NUM = "零〇一二两三四五六七八九十百"
_EN_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_EN_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_UNIT_AHEAD = r"(?=\s*(?:seconds?|secs?|s\b|%|percent|per cent|db|minutes?|mins?))"


def zh_number(s: str) -> int:
    """Chinese numeral up to 999 -> int ("三十五" -> 35, "十" -> 10, "一百" -> 100)."""
    total, cur = 0, 0
    for ch in s:
        if ch in _ZH_DIGITS:
            cur = _ZH_DIGITS[ch]
        elif ch == "十":
            total += (cur or 1) * 10
            cur = 0
        elif ch == "百":
            total += (cur or 1) * 100
            cur = 0
    return total + cur


def _en_numbers(t: str) -> str:
    """English number words as digits: "twenty five percent" -> "25 percent", "ten to twenty seconds"
    -> "10 to 20 seconds". A lone "one" stays a word unless a unit follows ("another one", "day one")."""
    tens = "|".join(_EN_TENS)
    units = "|".join(sorted(_EN_UNITS, key=len, reverse=True))
    rx = re.compile(rf"\b(?:(?:({tens})(?:[\s-]({units}))?)|({units}))(?:\s+hundred)?\b")

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "one" and not re.match(_UNIT_AHEAD, t[m.end() :]):
            return m.group(0)
        val = _EN_TENS.get(m.group(1) or "", 0) + _EN_UNITS.get(m.group(2) or m.group(3) or "", 0)
        return str(val * 100 if m.group(0).endswith("hundred") else val)

    t = rx.sub(sub, t)
    t = re.sub(r"\bhalf an? (second|minute)", r"0.5 \1", t)
    # "a minute and a half", "2 minutes and a half": said before "a minute" is read as 1 minute
    t = re.sub(r"\b(?:a|one|1) minute and a half\b", "90 seconds", t)
    t = re.sub(r"\b(\d+) minutes? and a half\b", lambda m: f"{int(m.group(1)) * 60 + 30} seconds", t)
    t = re.sub(r"\ba (second|minute)\b", r"1 \1", t)
    t = re.sub(r"\b(?:(to|at) )?(?:a |one )?quarter (?:volume|of the volume|level)\b", r"\1 25%", t)
    t = re.sub(r"\b(?:(to|at) )?half (?:volume|of the volume|level)\b", r"\1 50%", t)
    return re.sub(r"\b(to|at) half\b(?! a)", r"\1 50%", t)


def _minutes_and_seconds(t: str) -> str:
    """ "1分05秒", "2分钟30秒" -> "65秒", "150秒"; "1分半", "一分半钟" -> "90秒" (digits already)."""
    t = re.sub(r"(\d+)\s*分(?:钟)?\s*(\d+)\s*秒", lambda m: f"{int(m.group(1)) * 60 + int(m.group(2))}秒", t)
    return re.sub(r"(\d+)\s*分(?:钟)?半(?:钟)?", lambda m: f"{int(m.group(1)) * 60 + 30}秒", t)


def _ratio(m: re.Match[str]) -> str:
    """A frame size as its shape: "1080x1920" -> "9:16", "1920 by 1080" -> "16:9"."""
    w, h = int(m.group(1)), int(m.group(2))
    g = math.gcd(w, h)
    return f"{w // g}:{h // g}"


def normalise(text: str) -> str:
    """Lower case, ASCII digits/punctuation, Chinese and English number words as digits."""
    t = text.strip()
    t = t.translate(str.maketrans("０１２３４５６７８９％：，。！？（）", "0123456789%:,.!?()"))
    t = re.sub(rf"百分之([{_ZH_NUM}]+)", lambda m: f"{zh_number(m.group(1))}%", t)
    t = re.sub(rf"(?<![{_ZH_NUM}\d])半分钟", "30秒", t)  # "剪成半分钟": half a minute
    t = re.sub(
        rf"([{_ZH_NUM}]+)(?=\s*(秒|分钟|分|%|db|分贝|倍|成(?!为|功|了)))", lambda m: str(zh_number(m.group(1))), t
    )
    # "音量调到三十": a level said in numerals with no unit after it
    t = re.sub(
        rf"(?<=调到|调成|调为|设为|设成|降到|升到|改成)([{_ZH_NUM}]+)(?![{_ZH_NUM}]|半|成)",
        lambda m: str(zh_number(m.group(1))),
        t,
    )
    if re.search(r"[\u4e00-\u9fff]", t):  # "淡出 3s", "前10s加音乐": English units in a Chinese message
        t = re.sub(r"(\d)\s*(?:s|sec|secs|seconds?)(?![A-Za-z])", r"\1秒", t)
        t = re.sub(r"(\d)\s*(?:min|mins|minutes?)(?![A-Za-z])", r"\1分钟", t)
    t = _minutes_and_seconds(t)
    t = t.lower()
    spell = lexicon("en")["spellings"]  # "gimme" -> "give me", "pls" -> "please"
    t = re.sub(r"(?<![A-Za-z0-9_'-])[a-z]+(?![A-Za-z0-9_'-])", lambda m: spell.get(m.group(0), m.group(0)), t)
    t = _en_numbers(t)
    t = re.sub(r"\b(\d{1,2}):(\d{2}):(\d{2})\b", lambda m: f"{int(m[1]) * 60 + int(m[2])}:{m[3]}", t)  # 00:01:15
    for lang in ("en", "zh"):  # "the 20 second mark", "half a minute", "minus 14", "调到一半": phrases made regular
        for rx, repl in lexicon(lang).get("rewrites", []):
            t = re.sub(rx, repl, t)
    t = re.sub(r"\b(\d{1,2})\s*(?:by|x)\s*(\d{1,2})\b", r"\1:\2", t)  # "9 by 16"
    t = re.sub(r"\b(\d{3,4})\s*(?:by|x|\*|×)\s*(\d{3,4})\b", _ratio, t)  # "1080x1920" is 9:16
    for rx in lexicon("en")["decade_patterns"]:  # "like the 80s" is a style, not 80 seconds
        t = re.sub(rx, "retro", t)
    return re.sub(r"\s+", " ", t)


def _one_typo(typed: str, word: str) -> bool:
    """Whether ``typed`` is ``word`` with one slip of the hand: a letter dropped, doubled or added,
    or (in words of five letters or more) one letter wrong or two neighbours swapped. The first
    letter is never the slip: "come"/"some", "power"/"lower", "every"/"very" are different words."""
    if typed == word or abs(len(typed) - len(word)) > 1 or typed[0] != word[0]:
        return False
    if len(typed) == len(word):
        if len(typed) < 5:
            return False
        diff = [i for i in range(len(typed)) if typed[i] != word[i]]
        if len(diff) == 1:
            return True
        i, j = diff if len(diff) == 2 else (0, 0)
        return j == i + 1 and typed[i] == word[j] and typed[j] == word[i]
    short, long_ = (typed, word) if len(typed) < len(word) else (word, typed)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _words_of(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield from re.findall(r"[a-z]+", value.lower())
    elif isinstance(value, dict):
        for k, v in value.items():
            if not k.startswith("_"):
                yield from _words_of(v)
    elif isinstance(value, list):
        for v in value:
            yield from _words_of(v)


@lru_cache(maxsize=2)
def vocabulary(lang: str) -> frozenset[str]:
    """Every word of a lexicon (the words a typo may be mended to are those of four letters or more)."""
    lex = lexicon(lang)
    # Regular expressions and examples are not words people type; small talk and filler are read by
    # the learned fallback only, and a typo is never mended towards them.
    skip = {"never_corrected", "title_cues", "examples", "small_talk", "filler_words", "rewrites", "verb_rewrites"}
    # the words that tie clauses and verbs together are grammar, not what a typo was meant to be
    skip |= {"clause_breaks", "clause_starts", "clause_joins", "run_on_starts", "run_on_not_after", "causative_verbs"}
    return frozenset(w for k, v in lex.items() if k not in skip and not k.endswith("_patterns") for w in _words_of(v))


def correct(t: str, lang: str = "en") -> str:
    """Mend one-letter typos of the lexicon's words in normalised text (see the module docstring).

    A word is changed only when exactly one lexicon word is one edit away: "lowder" (lower? louder?)
    stays as it is.
    """
    known = vocabulary(lang)
    targets = [v for v in known if len(v) >= 4]
    never = set(lexicon(lang).get("never_corrected", []))

    def fix(m: re.Match[str]) -> str:
        w = m.group(0)
        if len(w) < 4 or w in known or w in never:
            return w
        near = [v for v in targets if _one_typo(w, v)]
        return near[0] if len(near) == 1 else w

    return re.sub(r"(?<![A-Za-z0-9_'-])[a-z]+(?![A-Za-z0-9_'-])", fix, t)


@lru_cache(maxsize=2)
def _single_words(lang: str) -> frozenset[str]:
    """The lexicon's one-word phrases."""
    lex = lexicon(lang)
    skip = ("never_corrected", "title_cues", "examples", "spellings")
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, str):
            if re.fullmatch(r"[a-z]+", v):
                found.add(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for k, v in lex.items():
        if k not in skip and not k.endswith("_patterns"):
            walk(v)
    return frozenset(found)


def comparatives(t: str, words: Iterable[str], lang: str = "en") -> str:
    """ "calmer" -> "calm", "happier" -> "happy", "sadder" -> "sad" when the plain form is one of
    ``words`` (the wish words) and the comparative is not a word of its own in the lexicon ("softer",
    "louder" are; "calmer" only inside "calmer tempo")."""
    plain = set(words)
    known = _single_words(lang)

    def sub(m: re.Match[str]) -> str:
        w = m.group(0)
        if w in known:
            return w
        stem = w[:-2]
        for cand in (stem, stem[:-1] + "y" if w.endswith("ier") else "", stem[:-1] if len(stem) > 2 else ""):
            if cand and cand in plain:
                return cand
        return w

    return re.sub(r"\b[a-z]{3,}er\b", sub, t)


@lru_cache(maxsize=2)
def _pattern_words(lang: str) -> frozenset[str]:
    """The words the lexicon's regular expressions spell out ("is playing", "drowned"): a form they
    read as written is never taken back to its base."""
    lex = lexicon(lang)
    return frozenset(w for k, v in lex.items() if k.endswith("_patterns") or k == "title_cues" for w in _words_of(v))


@lru_cache(maxsize=2)
def _verb_words(lang: str) -> frozenset[str]:
    """The lexicon's one-word verbs (its verb classes and the verb-like lists: "lower", "mute",
    "fade", "trim"): only these have their inflected forms read as them, never a noun ("tuning" is
    no "tune", "scored" no "score")."""
    lex = lexicon(lang)
    tables = [lex.get(k, []) for k in ("add_verbs", "quieter", "louder", "trim", "compose", "loudness_words")]
    tables += [lex.get("verbs", {}), lex.get("postfix_verbs", {}), lex.get("clause_starts", [])]
    tables += [["fade"]] if lex.get("fade_in") else []
    nouns = set(_words_of(lex.get("objects", {}))) | set(_words_of(lex.get("music_words", [])))
    return (frozenset(w for v in tables for w in _words_of(v) if len(w) >= 3) & _single_words(lang) | {"fade"}) - nouns


def _bases(w: str) -> list[str]:
    """The base forms an inflected English word may have: "lowering" -> lower, "muted" -> mute,
    "dropping" -> drop, "fades" -> fade."""
    for end in ("ing", "ed", "es", "s"):
        if w.endswith(end) and len(w) - len(end) >= 3:
            stem = w[: -len(end)]
            doubled = [stem[:-1]] if len(stem) > 3 and stem[-1] == stem[-2] else []
            if end == "s":
                return [stem] if len(stem) >= 4 else []
            return [stem, stem + "e", *doubled] if end != "es" else [stem, stem + "e"]
    return []


def base_forms(t: str, lang: str = "en") -> str:
    """Inflected forms of the lexicon's one-word phrases read as those words ("would you mind
    lowering the music", "muted", "fading"), unless the inflected form is itself a lexicon word
    ("ending", "tracks") or one its patterns spell out ("is playing")."""
    single = _verb_words(lang)
    known = vocabulary(lang) | _pattern_words(lang)

    def sub(m: re.Match[str]) -> str:
        w = m.group(0)
        if w in known:
            return w
        return next((b for b in _bases(w) if b in single), w)

    return re.sub(r"(?<![A-Za-z0-9_'-])[a-z]{5,}(?![A-Za-z0-9_'-])", sub, t)
