"""Times said in a message, in milliseconds: spans, lengths, moments and places in the video.

"from 0:05 to 0:30", "between 10 and 25 seconds", "the first 10 seconds", "the last 5 s",
"after 3 seconds", "前10秒", "从5秒到20秒", "最后5秒" (a span; a negative start counts from the end);
"for 3 seconds", "显示5秒" (a length); "at 0:20", "在10秒" (a moment); "at the start", "at the end",
"开头", "结尾" (a place). Text arrives normalised (``normal.normalise``): number words are digits.
"""

from __future__ import annotations

import re

__all__ = ["TIME", "at", "duration", "fade_length", "place", "span", "to_ms"]

TIME = r"(\d+(?::\d{1,2})?(?:\.\d+)?)"
_U = r"(s|sec|secs|seconds?|min|mins|minutes?)"
_ZU = r"(秒|分钟|分)"
#: A moment a title appears at: "3秒后出现", "10秒时显示".
_APPEARS = TIME + r"\s*" + _ZU + r"\s*(?:后|之后|以后|时)?\s*(?:出现|显示|弹出)"
#: A unit of a fade's length, English or (in a mixed message: "fade in 3秒") Chinese.
_FU = r"(?:(s|sec|secs|seconds?|min|mins|minutes?)\b|(秒))"


def to_ms(token: str, unit: str | None = None) -> int:
    """ "0:05" or "5" (+ a unit word) -> ms."""
    if ":" in token:
        mm, ss = token.split(":", 1)
        return round((int(mm) * 60 + float(ss)) * 1000)
    v = float(token)
    if unit and unit.startswith(("min", "分")):
        v *= 60
    return round(v * 1000)


def _span_zh(text: str) -> tuple[int | None, int | None]:
    m = re.search(
        r"从\s*第?\s*"
        + TIME
        + r"\s*"
        + _ZU
        + r"?\s*(?:剪|截|裁|保留|播放|放)?\s*(?:到|至|-)\s*第?\s*"
        + TIME
        + r"\s*"
        + _ZU
        + "?",
        text,
    )  # "从5秒到20秒", "从第5秒剪到第25秒"
    if m:
        return to_ms(m.group(1), m.group(2) or m.group(4)), to_ms(m.group(3), m.group(4))
    m = re.search(TIME + r"\s*" + _ZU + r"?\s*(?:到|至|-|~)\s*第?\s*" + TIME + r"\s*" + _ZU + "?", text)
    if m and (m.group(4) or ":" in m.group(1) + m.group(3)):  # "保留10秒到30秒", "截取0:10到0:40" (a clock: no unit)
        return to_ms(m.group(1), m.group(2) or m.group(4)), to_ms(m.group(3), m.group(4))
    m = re.search(r"(?:前面?的?|开头的?)\s*" + TIME + r"\s*" + _ZU, text)
    if m:
        return 0, to_ms(m.group(1), m.group(2))
    m = re.search(r"(?:最后|后|结尾)\s*" + TIME + r"\s*" + _ZU, text)
    if m:
        return -to_ms(m.group(1), m.group(2)), None
    m = re.search(r"(?<![从\d])到\s*" + TIME + r"\s*" + _ZU + r"\s*(?:结束|为止|停|截止)", text)
    if m:  # "音乐到20秒结束", "音乐停在30秒": up to there
        return 0, to_ms(m.group(1), m.group(2))
    m = re.search(TIME + r"\s*" + _ZU + r"\s*(?:之后|以后|后)的?\S{0,3}(?:剪掉|不要|删掉|去掉|删除)", text)
    if m:  # "20秒之后的都剪掉": keep what comes before
        return 0, to_ms(m.group(1), m.group(2))
    m = re.search(r"(?:从\s*)?第?\s*" + TIME + r"\s*" + _ZU + r"\s*(?:之后|以后|后|开始|起)", text)
    if m:
        return to_ms(m.group(1), m.group(2)), None
    m = re.search(r"(?:从\s*)?(\d+:\d{1,2})\s*(?:之后|以后|后|开始|起)", text)
    if m:  # "音乐从0:15开始": a clock time needs no unit
        return to_ms(m.group(1)), None
    cut = r"(?:剪到|剪成|裁到|截到|缩短到|剪短到|只要|只留|只保留|控制在|"
    cut += r"(?:cut|trim|shorten|chop)\s*(?:it\s*)?(?:到|成))"  # "trim 到 20 秒": an English verb, a Chinese 到
    m = re.search(cut + r"\s*" + TIME + r"\s*" + _ZU, text)
    if m:
        return 0, to_ms(m.group(1), m.group(2))
    return None, None


#: Spans from the start up to a time said, tried in order: "until 20 s", "trim it to 1:30" (a clock
#: time needs no unit), "1 minute max", "keep it under 30 seconds", "make it 15 secs".
_UP_TO = (
    rf"\b(?:end|stop|finish|cut)\b(?: (?:the|my) (?:music|song|track|bgm))? (?:at|by)\s+{TIME}\s*{_U}?(?!\w)",
    rf"(?:until|till|up to|to|down to|like)\s+{TIME}\s*{_U}\b",
    r"\b(?:until|till|up to|to|down to)\s+(\d+:\d{1,2})\b",
    rf"\b{TIME}\s*{_U}\s+(?:long|max|maximum|tops|at most|or less|or shorter)\b",
    rf"\b(?:max|maximum|at most|no (?:longer|more) than|under|less than|shorter than)\s+{TIME}\s*{_U}\b",
    rf"\bmake (?:it|the video|this|the clip) {TIME}\s*{_U}(?!\s*(?:longer|shorter|later|earlier|fade))\b",
)
_CUT = (
    r"\b(?:cut|trim|drop|remove|delete|lose|chop)\b(?: off)?(?: (?:everything|anything|all|the rest|whatever comes))?"
)


#: "the music starts at 0 and stops at 10 seconds": a start and a stop, each with its verb.
_START_STOP = (
    rf"\b(?:start(?:s|ing)?|begin(?:s|ning)?|comes? in|kicks? in)\s+(?:at|from)\s+{TIME}\s*{_U}?\b.{{0,30}}?"
    rf"\b(?:stop(?:s|ping)?|end(?:s|ing)?|finish(?:es|ing)?|cuts? out|goes out)\s+(?:at|by)\s+{TIME}\s*{_U}?"
)


def _span_between(text: str) -> tuple[int, int] | None:
    """ "from 0:05 to 0:30", "between 10 and 25 seconds", "0:10 to 0:40", "5-10 s", "starts at 5 and
    stops at 20 seconds"."""
    m = re.search(_START_STOP, text)
    if m:
        return to_ms(m.group(1), m.group(2) or m.group(4)), to_ms(m.group(3), m.group(4))
    m = re.search(rf"(?:from|between)\s+{TIME}\s*{_U}?\s*(?:to|and|until|till|-)\s*{TIME}\s*{_U}?", text)
    if m:
        return to_ms(m.group(1), m.group(2) or m.group(4)), to_ms(m.group(3), m.group(4))
    m = re.search(rf"\b{TIME}\s*{_U}?\s*(?:-|to|until|till|through)\s*{TIME}\s*{_U}?(?!\w)", text)
    if m and ((":" in m.group(1) and ":" in m.group(3)) or m.group(4)):
        return to_ms(m.group(1), m.group(2) or m.group(4)), to_ms(m.group(3), m.group(4))
    return None


def span(text: str, lang: str) -> tuple[int | None, int | None]:
    """(start_ms, end_ms) of a time span in the text; negative start = counted from the end."""
    if lang == "zh":
        return _span_zh(text)
    between = _span_between(text)
    if between:
        return between
    m = re.search(rf"first\s+{TIME}\s*{_U}\b", text)
    if m:
        return 0, to_ms(m.group(1), m.group(2))
    m = re.search(rf"last\s+{TIME}\s*{_U}\b", text)
    if m:
        return -to_ms(m.group(1), m.group(2)), None
    m = re.search(rf"{_CUT} (?:after|past|beyond) {TIME}\s*{_U}?\b", text)
    if m:  # "cut everything after 0:20": keep what comes before
        return 0, to_ms(m.group(1), m.group(2))
    m = re.search(rf"(?:after|from|starting at|start at|starting from|in at|come in at)\s+{TIME}\s*{_U}?\b", text)
    if m:
        return to_ms(m.group(1), m.group(2)), None
    for rx in _UP_TO:
        m = re.search(rx, text)
        if m:
            return 0, to_ms(m.group(1), m.group(2) if m.lastindex and m.lastindex > 1 else None)
    return None, None


def duration(text: str, lang: str) -> int | None:
    """A length: "for 3 seconds", "lasting 2 s", "a 3 second title", "显示5秒"."""
    if lang == "zh":
        # "显示5秒", not the moment of "第10秒" or the start of "5秒开始"
        since = r"(?!\s*(?:开始|起|之后|以后))"
        m = re.search(r"(?:持续|显示|停留)?\s*(?<![第\d:.])" + TIME + r"\s*(秒|分钟)(?:钟)?" + since, text)
        return to_ms(m.group(1), m.group(2)) if m else None
    m = re.search(rf"(?:for|lasting|during|over)\s+(?:the\s+)?(?:first\s+|last\s+)?{TIME}\s*{_U}\b", text)
    if m:
        return to_ms(m.group(1), m.group(2))
    m = re.search(TIME + r"[\s-]*(?:s|sec|secs|second|seconds)\s+(?:long|title|fade|caption)", text)
    return to_ms(m.group(1)) if m else None


def at(text: str, lang: str) -> int | None:
    """A moment: "at 0:20", "at 5 seconds", "在10秒"."""
    if lang == "zh":
        m = (
            re.search(r"在\s*(?:第\s*)?" + TIME + r"\s*" + _ZU, text)
            or re.search(r"(?<!从)第\s*" + TIME + r"\s*" + _ZU + r"(?!\s*(?:到|至|-))", text)  # "第10秒出现字幕"
            or re.search(r"在\s*(\d+:\d{1,2})", text)
            # "3秒后出现" (not "最后5秒显示", a span)
            or re.search(r"(?<![后前第\d.:])" + _APPEARS, text)
        )
        return to_ms(m.group(1), m.group(2) if m.lastindex and m.lastindex > 1 else None) if m else None
    # "at 0:20", "at 5 seconds", "at the 0:15 mark", "at the 20 second point"
    m = re.search(rf"\bat\s+(?:the\s+)?{TIME}[\s-]*{_U}?\s*(mark|point)?\b", text)
    if m and (m.group(2) or ":" in m.group(1) or m.group(3)):
        return to_ms(m.group(1), m.group(2))
    return None


def place(text: str, places: dict[str, list[str]]) -> str | None:
    """ "start" or "end" when the text says where in the video ("at the start", "at the end", "开头")."""
    for key in ("start", "end"):
        for p in places.get(key, []):
            if (p in text) if re.search(r"[\u4e00-\u9fff]", p) else re.search(rf"\b{re.escape(p)}\b", text):
                return key
    return None


def fade_length(text: str, lang: str) -> int | None:
    """The length of a fade when the number is said with the fade ("fade out over 3 s", "a 5 second
    fade", "fade-out 4s", "淡出5秒", "最后3秒淡出"), not any number of the sentence."""
    if lang == "zh":
        m = re.search(r"(?:淡入|淡出|渐入|渐出|渐弱)\s*(?:各|都|均)?\s*" + TIME + r"\s*秒", text) or re.search(
            TIME + r"\s*秒\s*(?:的)?\s*(?:淡入|淡出|渐入|渐出|渐弱)", text
        )
        if m:
            return to_ms(m.group(1))
    # "fade out over 3 s", "slow fade out, like 6 seconds", "fade out for the final 4 seconds"
    m = re.search(
        rf"\bfades?\b(?:[\s,-]+\w+){{0,3}}?[\s,-]+(?:(?:over|for|in|during|of)\s+)?"
        rf"(?:the (?:last|final)\s+)?{TIME}\s*{_FU}",
        text,
    )
    if m:
        return to_ms(m.group(1), m.group(2))
    bare = r"\bfad(?:e|es|ing)\b(?:[\s,-]+\w+){0,3}?\s+(?:over|for|in)\s+(\d+(?:\.\d+)?)\s*(?:[,.;!?]|$)"
    m = re.search(bare, text)
    if m:  # "fade it out over 4": a fade's bare number is seconds
        return to_ms(m.group(1))
    m = re.search(rf"{TIME}\s*{_FU}?[\s-]*(?:long\s+)?fades?\b", text)
    return to_ms(m.group(1), m.group(2)) if m else None
