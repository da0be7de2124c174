"""Words -> a command or a list of timeline edits, in English and Chinese.

A rule-based parser over per-language lexicons (``lexicon/en.json``, ``lexicon/zh.json``: add a
word there, not here). It reads numbers ("35%", "百分之三十五", "-6 dB", "ten seconds"), times
("from 0:05 to 0:30", "the first 10 seconds", "前10秒"), quoted titles, moods, genres,
instruments, tempo and aspect words, and can find several edits in one sentence. What it cannot
map gets an honest answer listing what it can do: never a silent no-op.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ab2n.intent.lexicons import lexicon
from ab2n.timeline.draft import AUTO_MOOD
from ab2n.timeline.edits import Edit

__all__ = ["CAPABILITIES", "COMMANDS", "ParseResult", "detect_lang", "lexicon", "normalise", "parse"]

COMMANDS = ("export", "credits", "status", "upload", "help", "undo", "redo")

CAPABILITIES = (
    "add or change background music (a mood, genre or instrument: 'calm piano', 'upbeat acoustic'), "
    "set its volume ('35%', 'a bit quieter'), try another track, remove it, fade it, "
    "add a title ('title \"Lisbon\" for 3 seconds'), change the shape ('vertical for TikTok', 'square'), "
    "mute or keep the original sound, trim ('the first 10 seconds'), undo/redo, "
    "and 'export', 'credits' or 'status'"
)
CAPABILITIES_ZH = (
    "添加或更换背景音乐（如“欢快的钢琴”）、调整音量（“35%”“小声一点”）、换一首、去掉音乐、淡入淡出、"
    "添加标题（标题“城市之梦”3秒）、改画幅（竖屏、方形）、静音/保留原声、剪辑（前10秒）、撤销/重做，"
    "以及“导出”“积分”“状态”"
)


@dataclass(frozen=True)
class ParseResult:
    """The meaning of one message.

    Attributes:
        command: "export", "credits", "status", "upload", "help", "undo", "redo" or None.
        edits: Timeline edits in the order to apply them.
        unrecognised: An honest message when (part of) the text could not be mapped.
        lang: "en" or "zh".
    """

    command: str | None = None
    edits: list[Edit] = field(default_factory=list)
    unrecognised: str | None = None
    lang: str = "en"

    def to_json(self) -> dict[str, Any]:
        """``{"command": ...}`` or ``{"edits": [...]}`` (plus ``unrecognised`` when set)."""
        d: dict[str, Any] = {"command": self.command} if self.command else {"edits": [e.to_json() for e in self.edits]}
        if self.unrecognised:
            d["unrecognised"] = self.unrecognised
        return d

    def describe(self) -> str:
        """A line for people."""
        if self.command:
            return f"command: {self.command}"
        if self.edits:
            return "; ".join(f"{e.op}({', '.join(f'{k}={v!r}' for k, v in e.params.items())})" for e in self.edits)
        return self.unrecognised or "nothing understood"


_CJK = re.compile(r"[\u4e00-\u9fff]")
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
_EN_NUMBERS = {
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
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "half a": 0.5,
}


def _zh_number(s: str) -> int:
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


def normalise(text: str) -> str:
    """Lower case, ASCII digits/punctuation, Chinese and English number words as digits."""
    t = text.strip()
    t = t.translate(str.maketrans("０１２３４５６７８９％：，。！？（）", "0123456789%:,.!?()"))
    t = re.sub(r"百分之([零〇一二两三四五六七八九十百]+)", lambda m: f"{_zh_number(m.group(1))}%", t)
    t = re.sub(
        r"([零〇一二两三四五六七八九十百]+)(?=\s*(秒|分钟|分|%|db|分贝|倍))",
        lambda m: str(_zh_number(m.group(1))),
        t,
    )
    t = t.lower()

    def en_num(m: re.Match[str]) -> str:
        words = m.group(0).split()
        val = sum(_EN_NUMBERS[w] for w in words if w in _EN_NUMBERS)
        return f"{val:g}"

    names = "|".join(sorted((k for k in _EN_NUMBERS if k != "half a"), key=len, reverse=True))
    t = re.sub(
        rf"\b(?:(?:{names})[\s-]?)+(?=\s*(?:seconds?|secs?|s\b|%|percent|db|minutes?))",
        lambda m: en_num(re.match(r".*", m.group(0).replace("-", " ")) or m) + " ",
        t,
    )
    t = re.sub(r"\bhalf a (second|minute)", r"0.5 \1", t)
    return re.sub(r"\s+", " ", t)


def _has(text: str, phrases: list[str], lang: str) -> bool:
    for p in phrases:
        if lang == "zh" or _CJK.search(p) or not p[:1].isalnum():
            if p in text:
                return True
        elif re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text):
            return True
    return False


def _first_key(text: str, table: dict[str, list[str]], lang: str) -> str | None:
    best: tuple[int, str] | None = None
    for key, phrases in table.items():
        for p in phrases:
            idx = _find(text, p, lang)
            if idx >= 0 and (best is None or idx < best[0]):
                best = (idx, key)
    return best[1] if best else None


def _all_keys(text: str, table: dict[str, list[str]], lang: str) -> list[str]:
    hits = []
    for key, phrases in table.items():
        positions = [i for i in (_find(text, p, lang) for p in phrases) if i >= 0]
        if positions:
            hits.append((min(positions), key))
    return [k for _, k in sorted(hits)]


def _find(text: str, phrase: str, lang: str) -> int:
    if lang == "zh" or _CJK.search(phrase) or not phrase[:1].isalnum():
        return text.find(phrase)
    m = re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text)
    return m.start() if m else -1


_QUOTES = [
    re.compile(r'"([^"]+)"'),
    re.compile(r"“([^”]+)”"),
    re.compile(r"「([^」]+)」"),
    re.compile(r"『([^』]+)』"),
    re.compile(r"《([^》]+)》"),
    re.compile(r"‘([^’]+)’"),
    re.compile(r"(?:(?<=\s)|^)'([^']+?)'(?=[\s,.!?;:]|$)"),
]
_TIME = r"(\d+(?::\d{1,2})?(?:\.\d+)?)"
_UNIT_EN = r"(?:\s*(?:seconds?|secs?|s)\b)?"


def _to_ms(token: str, unit: str | None = None) -> int:
    if ":" in token:
        mm, ss = token.split(":", 1)
        return round((int(mm) * 60 + float(ss)) * 1000)
    v = float(token)
    if unit and unit.startswith(("min", "分")):
        v *= 60
    return round(v * 1000)


def _quoted(original: str) -> list[tuple[str, int, int]]:
    found: list[tuple[str, int, int]] = []
    for rx in _QUOTES:
        for m in rx.finditer(original):
            if not any(a <= m.start() < b for _, a, b in found):
                found.append((m.group(1).strip(), m.start(), m.end()))
    return sorted(found, key=lambda x: x[1])


def _span(text: str, lang: str) -> tuple[int | None, int | None]:
    """(start_ms, end_ms) of a time span in the text; negative start = counted from the end."""
    if lang == "zh":
        m = re.search(r"从\s*" + _TIME + r"\s*(秒|分钟|分)?\s*(?:到|至|-)\s*" + _TIME + r"\s*(秒|分钟|分)?", text)
        if m:
            return _to_ms(m.group(1), m.group(2) or m.group(4)), _to_ms(m.group(3), m.group(4))
        m = re.search(r"前\s*" + _TIME + r"\s*(秒|分钟|分)", text)
        if m:
            return 0, _to_ms(m.group(1), m.group(2))
        m = re.search(r"(?:最后|后)\s*" + _TIME + r"\s*(秒|分钟|分)", text)
        if m:
            return -_to_ms(m.group(1), m.group(2)), None
        m = re.search(_TIME + r"\s*(秒|分钟|分)\s*(?:之后|以后|后|开始)", text)
        if m:
            return _to_ms(m.group(1), m.group(2)), None
        return None, None
    m = re.search(
        r"(?:from|between)\s+"
        + _TIME
        + r"\s*(s|sec|secs|seconds?|min|minutes?)?\s*(?:to|and|until|till|-)\s*"
        + _TIME
        + r"\s*(s|sec|secs|seconds?|min|minutes?)?",
        text,
    )
    if m:
        return _to_ms(m.group(1), m.group(2) or m.group(4)), _to_ms(m.group(3), m.group(4))
    m = re.search(r"\b" + _TIME + r"\s*-\s*" + _TIME + r"\b", text)
    if m and ":" in m.group(0):
        return _to_ms(m.group(1)), _to_ms(m.group(2))
    m = re.search(r"first\s+" + _TIME + r"\s*(s|sec|secs|seconds?|min|minutes?)\b", text)
    if m:
        return 0, _to_ms(m.group(1), m.group(2))
    m = re.search(r"last\s+" + _TIME + r"\s*(s|sec|secs|seconds?|min|minutes?)\b", text)
    if m:
        return -_to_ms(m.group(1), m.group(2)), None
    m = re.search(
        r"(?:after|from|starting at|start at|starting from)\s+" + _TIME + r"\s*(s|sec|secs|seconds?|min|minutes?)?\b",
        text,
    )
    if m:
        return _to_ms(m.group(1), m.group(2)), None
    m = re.search(r"(?:until|till|up to|to)\s+" + _TIME + r"\s*(s|sec|secs|seconds?|min|minutes?)\b", text)
    if m:
        return 0, _to_ms(m.group(1), m.group(2))
    return None, None


def _duration(text: str, lang: str) -> int | None:
    if lang == "zh":
        m = re.search(r"(?:持续|显示|停留)?\s*" + _TIME + r"\s*(秒|分钟)(?:钟)?", text)
        return _to_ms(m.group(1), m.group(2)) if m else None
    m = re.search(
        r"(?:for|lasting|during|over)\s+(?:the\s+)?(?:first\s+)?" + _TIME + r"\s*(s|sec|secs|seconds?|min|minutes?)\b",
        text,
    )
    if not m:
        m = re.search(_TIME + r"[\s-]*(?:s|sec|secs|second|seconds)\s+(?:long|title|fade|caption)", text)
        return _to_ms(m.group(1)) if m else None
    return _to_ms(m.group(1), m.group(2))


def _at(text: str, lang: str) -> int | None:
    if lang == "zh":
        m = re.search(r"在\s*" + _TIME + r"\s*(秒|分钟|分)", text)
        return _to_ms(m.group(1), m.group(2)) if m else None
    m = re.search(r"\bat\s+" + _TIME + r"\s*(s|sec|secs|seconds?|min|minutes?)?\b", text)
    if m and (m.group(2) or ":" in m.group(1)):
        return _to_ms(m.group(1), m.group(2))
    return None


def detect_lang(text: str) -> str:
    """ "zh" when the text has Chinese characters, else "en"."""
    return "zh" if _CJK.search(text) else "en"


def parse(text: str) -> ParseResult:
    """Understand one message (see the module docstring)."""
    if not text or not text.strip():
        return ParseResult(unrecognised="I didn't get any words. I can " + CAPABILITIES)
    lang = detect_lang(text)
    quotes = _quoted(text)
    # Quoted text is a title, not instructions: remove it before reading words.
    plain = text
    for _q, a, b in reversed(quotes):
        plain = plain[:a] + " " + plain[b:]
    t = normalise(plain)
    lexes = [lexicon(lang)] + ([lexicon("en")] if lang == "zh" else [])
    edits = _edits(t, lexes, lang, [q for q, _, _ in quotes])
    cmd = None
    for lx in lexes:
        cmd = cmd or _first_key(t, lx["commands"], "zh" if lx is lexicon("zh") else "en")
    if edits and cmd in ("undo", "redo", "help", "status", "credits"):
        cmd = None  # "undo the title" style sentences are edits with words that look like commands
    if cmd and not edits:
        return ParseResult(command=cmd, lang=lang)
    if edits:
        return ParseResult(edits=edits, lang=lang)
    caps = CAPABILITIES_ZH if lang == "zh" else CAPABILITIES
    msg = (
        f"抱歉，我没理解“{text.strip()}”。我可以：{caps}"
        if lang == "zh"
        else f'Sorry, I couldn\'t map "{text.strip()}" to an edit. I can {caps}.'
    )
    return ParseResult(unrecognised=msg, lang=lang)


@dataclass(frozen=True)
class _Words:
    """One normalised message and the lexicons to read it with (what every extractor asks)."""

    t: str
    lexes: list[dict[str, Any]]
    lang: str
    quotes: list[str]

    def _lang_of(self, lx: dict[str, Any]) -> str:
        return "zh" if lx is lexicon("zh") else "en"

    def has(self, key: str) -> bool:
        """Whether any phrase of the lexicon list ``key`` is in the text."""
        return any(_has(self.t, lx.get(key, []), self._lang_of(lx)) for lx in self.lexes)

    def keys(self, key: str) -> list[str]:
        """The keys of the lexicon table ``key`` found in the text, in order of appearance."""
        out: list[str] = []
        for lx in self.lexes:
            for k in _all_keys(self.t, lx.get(key, {}), self._lang_of(lx)):
                if k not in out:
                    out.append(k)
        return out

    def first(self, key: str) -> str | None:
        """The first key of the table ``key`` found in the text."""
        ks = self.keys(key)
        return ks[0] if ks else None

    def says(self, phrases: list[str]) -> bool:
        """Whether one of these phrases (of the message's language) is in the text."""
        return _has(self.t, phrases, self.lang)


@dataclass(frozen=True)
class _Span:
    """The time span the message names (ms; a negative start counts from the end)."""

    start_ms: int | None
    end_ms: int | None

    @property
    def said(self) -> bool:
        return self.start_ms is not None or self.end_ms is not None


def _edits(t: str, lexes: list[dict[str, Any]], lang: str, quotes: list[str]) -> list[Edit]:
    """Every edit the message asks for, one extractor per family, in the order to apply them."""
    w = _Words(t, lexes, lang, quotes)
    span = _Span(*_span(t, lang))
    return [
        *_music_edits(w, span),
        *_fade_edits(w),
        *_title_edits(w, span),
        *_shape_edits(w),
        *_original_audio_edits(w),
        *_trim_edits(w, span),
        *_loudness_edits(w),
    ]


def _fading(w: _Words) -> tuple[bool, bool]:
    """(fade in, fade out) asked."""
    fade_in = w.has("fade_in") or re.search(r"\bfade\b(?:\s+\w+){0,3}\s+in\b", w.t) is not None
    fade_out = w.has("fade_out") or re.search(r"\bfade\b(?:\s+\w+){0,3}\s+out\b", w.t) is not None
    return fade_in, fade_out


def _music_wishes(w: _Words) -> dict[str, Any]:
    """The mood, genres, instruments and tempo asked for (only those said)."""
    moods = [m for m in w.keys("moods") if m != AUTO_MOOD]
    return {
        k: v
        for k, v in (
            ("mood", moods[0] if moods else None),
            ("genre", w.keys("genres")),
            ("instruments", w.keys("instruments")),
            ("tempo", w.first("tempo")),
        )
        if v
    }


def _wishes_said(w: _Words, wish: dict[str, Any]) -> bool:
    """Whether the wishes are enough to mean music: an instrument word like "keys" or "drums" alone
    is too weak, it needs a music word, a mood or a genre beside it."""
    named = "mood" in wish or "genre" in wish
    return named or "tempo" in wish or ("instruments" in wish and (w.has("music_words") or named))


def _adding_music(w: _Words, span: _Span, wish: dict[str, Any], percent: re.Match[str] | None) -> bool:
    """Whether the message asks for music (as opposed to changing or removing it)."""
    if w.has("remove_music"):
        return False
    if _wishes_said(w, wish):
        return True
    if not w.has("music_words") or w.has("replace_music"):
        return False
    add_verb = w.says(["add", "put", "give", "want", "need", "加", "配", "添加", "来", "要"])
    strong_add = w.says(["add", "加", "添加", "配"])
    span_said = span.said or _at(w.t, w.lang) is not None
    return (
        AUTO_MOOD in w.keys("moods")
        or (add_verb and (percent is None or strong_add))
        or (span_said and not w.has("title_words") and not w.quotes and not w.has("trim"))
    )


def _volume(w: _Words, percent: re.Match[str] | None, adding: bool) -> tuple[float | None, float | None]:
    """(absolute level, change in dB) asked: "35%", "-6 dB", "a bit quieter", "lower it by 10%"."""
    volume: float | None = float(percent.group(1)) / 100 if percent else None
    delta: float | None = None
    db = re.search(r"([+-]?\d+(?:\.\d+)?)\s*(?:db\b|分贝)", w.t)
    quieter, louder = w.has("quieter"), w.has("louder")
    if db and not percent:
        v = float(db.group(1))
        delta = -abs(v) if quieter and not db.group(1).startswith("+") else abs(v) if louder else v
    elif (quieter or louder) and not percent:
        step = 2.0 if w.has("little") else 6.0 if w.has("lot") else 3.0
        delta = -step if quieter else step
    if volume is not None and ("%" in w.t or "percent" in w.t) and (quieter or louder) and not adding:
        # "lower it by 10%": a relative change in level, not an absolute 10 %.
        if w.says(["by", "降低", "调低", "减少"]):
            sign = -1 if quieter else 1
            delta = sign * abs(20 * math.log10(max(1e-3, 1 + (-volume if quieter else volume))))
            volume = None
    return volume, delta


def _music_edits(w: _Words, span: _Span) -> list[Edit]:
    """add_music / replace_music / remove_music / set_music_volume."""
    edits: list[Edit] = []
    wish = _music_wishes(w)
    percent = re.search(r"(\d+(?:\.\d+)?)\s*(?:%|percent|per cent)", w.t)
    adding = _adding_music(w, span, wish, percent)
    removing, replacing = w.has("remove_music"), w.has("replace_music")
    volume, delta = _volume(w, percent, adding)
    if adding:
        params: dict[str, Any] = dict(wish)
        if volume is not None:
            params["volume"] = volume
        if not (w.has("title_words") or w.quotes) and not w.has("trim"):
            start_ms = span.start_ms if span.said else _at(w.t, w.lang)
            if start_ms is not None:
                params["start_ms"] = start_ms
            if span.end_ms is not None:
                params["end_ms"] = span.end_ms
        edits.append(Edit("add_music", params))
    if replacing and not removing:
        if _wishes_said(w, wish) and not adding:
            edits.append(Edit("add_music", dict(wish)))
        edits.append(Edit("replace_music", {}))
    if removing:
        edits.append(Edit("remove_music", {}))
    fading = w.has("fade_in") or w.has("fade_out") or re.search(r"\bfade\b", w.t) is not None
    if not adding and not removing and (volume is not None or delta is not None) and not fading:
        edits.append(Edit("set_music_volume", {"volume": volume} if volume is not None else {"delta_db": delta}))
    return edits


def _fade_edits(w: _Words) -> list[Edit]:
    """set_fades: "fade out over 3 seconds", "淡入"."""
    fade_in, fade_out = _fading(w)
    if not (fade_in or fade_out):
        return []
    dur = _duration(w.t, w.lang)
    num = re.search(r"(\d+(?:\.\d+)?)\s*(?:s\b|sec|seconds?|秒)", w.t)
    ms = dur if dur is not None else (_to_ms(num.group(1)) if num else 2000)
    fp: dict[str, Any] = {}
    if fade_in:
        fp["in_ms"] = ms
    if fade_out:
        fp["out_ms"] = ms
    return [Edit("set_fades", fp)]


def _title_edits(w: _Words, span: _Span) -> list[Edit]:
    """add_text for each quoted text, or remove_text."""
    if w.has("remove_title") and not w.quotes:
        return [Edit("remove_text", {})]
    edits: list[Edit] = []
    for q in w.quotes:
        tp: dict[str, Any] = {"text": q}
        dur = _duration(w.t, w.lang)
        if dur is not None:
            tp["duration_ms"] = dur
        at = _at(w.t, w.lang)
        if at is None and span.start_ms is not None and span.start_ms > 0 and not w.has("trim"):
            at = span.start_ms
        if at is not None:
            tp["start_ms"] = at
        pos = w.first("positions")
        if pos:
            tp["position"] = pos
        edits.append(Edit("add_text", tp))
    return edits


def _shape_edits(w: _Words) -> list[Edit]:
    """set_aspect: "vertical for TikTok", "square, cropped"."""
    aspect = w.first("aspect")
    if not aspect:
        return []
    ap: dict[str, Any] = {"preset": aspect}
    if w.has("fit_crop"):
        ap["fit"] = "crop"
    elif w.has("fit_pad"):
        ap["fit"] = "pad"
    return [Edit("set_aspect", ap)]


def _original_audio_edits(w: _Words) -> list[Edit]:
    """set_original_audio: mute or keep the video's own sound."""
    if w.has("mute_original"):
        return [Edit("set_original_audio", {"mode": "mute"})]
    if w.has("keep_original"):
        return [Edit("set_original_audio", {"mode": "keep"})]
    return []


def _trim_edits(w: _Words, span: _Span) -> list[Edit]:
    """trim: "keep the first 10 seconds", "剪掉前5秒"."""
    if not (w.has("trim") and span.said):
        return []
    tr: dict[str, Any] = {}
    if span.start_ms is not None:
        tr["start_ms"] = span.start_ms
    if span.end_ms is not None:
        tr["end_ms"] = span.end_ms
    return [Edit("trim", tr)]


def _loudness_edits(w: _Words) -> list[Edit]:
    """set_loudness: "-16 LUFS", "loudness for podcasts"."""
    lufs = re.search(r"(-\d+(?:\.\d+)?)\s*lufs", w.t)
    target = float(lufs.group(1)) if lufs else None
    if target is None and w.says(["loudness", "loud", "响度", "mastered", "master"]):
        key = w.first("loudness")
        target = float(key) if key else None
    return [Edit("set_loudness", {"target_lufs": target})] if target is not None else []
