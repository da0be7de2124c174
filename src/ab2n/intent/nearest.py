"""The honest answer to a message nothing mapped: what was understood, and the two nearest edits.

"Nearest" is word overlap between the message and each edit's examples in the lexicon
(``examples``), with the families the message did touch (a music word, a title word, a time, a
percentage) counted double; Chinese is compared by character pairs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ab2n.intent.lexicons import lexicon

if TYPE_CHECKING:
    from ab2n.intent.words import Words

__all__ = ["not_understood"]

_HINTS = {
    "music": ("add_music", "set_music_volume", "replace_music", "remove_music"),
    "title": ("add_text", "set_text", "remove_text"),
    "original": ("set_original_audio",),
    "result": ("export",),
}


def _grams(text: str) -> set[str]:
    words = set(re.findall(r"[a-z]{3,}", text.lower()))
    cjk = re.sub(r"[^\u4e00-\u9fff]", "", text)
    return words | {cjk[i : i + 2] for i in range(len(cjk) - 1)}


def _understood(w: Words) -> list[str]:
    """The pieces of the message that were read, as short phrases in the message's language."""
    zh = w.lang == "zh"
    names = {
        "music": ("the music", "音乐"),
        "title": ("a title", "标题"),
        "original": ("the original sound", "原声"),
        "result": ("the video", "视频"),
    }
    seen: list[str] = []
    for _a, _b, k in w.objects():
        if k in names and names[k][zh] not in seen:
            seen.append(names[k][zh])
    for m in re.finditer(r"\d+(?:\.\d+)?\s*(?:%|seconds?|secs?|s\b|db|秒|分贝)|\d+:\d{2}", w.t):
        seen.append(m.group(0).strip())
    return seen


def _op_of(label: str) -> str:
    """The edit (or export) a class of the learned fallback belongs to."""
    for prefix, op in _CLASS_OPS.items():
        if label.startswith(prefix):
            return op
    return label


#: Classes of the learned fallback (``fallback.py``) by the edit whose examples stand for them.
_CLASS_OPS = {
    "quieter": "set_music_volume",
    "louder": "set_music_volume",
    "music_volume": "set_music_volume",
    "fade_": "set_fades",
    "title_": "set_text",
    "aspect_": "set_aspect",
    "original_": "set_original_audio",
}


def not_understood(text: str, w: Words, ranked: tuple[tuple[str, float], ...] = ()) -> tuple[str, tuple[str, str]]:
    """(the answer, the two nearest edits' example phrasings) for a message that mapped to nothing.

    ``ranked`` is the learned fallback's vote (classes, best first), which weighs in beside the
    word overlap with the examples.
    """
    zh = w.lang == "zh"
    examples: dict[str, list[str]] = lexicon("zh" if zh else "en")["examples"]
    mine = _grams(w.t)
    touched = {op for _a, _b, k in w.objects() for op in _HINTS.get(k, ())}
    # the vote as shares of at most 0.5: the families the message names still weigh more
    total = sum(v for _c, v in ranked) or 1.0
    voted: dict[str, float] = {}
    for label, vote in ranked:
        voted.setdefault(_op_of(label), 0.5 * vote / total)
    scored = []
    for op, phrases in examples.items():
        best = max(len(mine & _grams(p)) / (1 + len(_grams(p))) for p in phrases)
        scored.append((best + (1.0 if op in touched else 0.0) + voted.get(op, 0.0), op, phrases[0]))
    scored.sort(key=lambda s: -s[0])
    two = (scored[0][2], next(s[2] for s in scored[1:] if s[1] != scored[0][1]))
    got = _understood(w)
    said = text.strip()
    if zh:
        part = f"我听懂了：{'、'.join(got)}，但" if got else ""
        return f"抱歉，{part}没能把“{said}”对应到编辑。你是想说“{two[0]}”还是“{two[1]}”？", two
    part = f"I understood {', '.join(got)}, but" if got else "I"
    return (
        f'Sorry, {part} couldn\'t map "{said}" to an edit. Did you mean "{two[0]}" or "{two[1]}"? '
        f"I can also {lexicon_caps()}.",
        two,
    )


def lexicon_caps() -> str:
    """The short list of what can be asked (English)."""
    from ab2n.intent.parse import CAPABILITIES

    return CAPABILITIES
