"""Words -> a command or a list of timeline edits, in English and Chinese.

A rule-based reader over per-language lexicons (``lexicon/en.json``, ``lexicon/zh.json``: add a
word there, not here). The message is made regular first (``normal``: case, number words, "9 by 16",
one-letter typos of lexicon words), its title words are taken out (``titles``: quoted or not), and
then one extractor per edit family reads it: music, volume, fades, titles, shape, original sound,
trim, loudness. The grammar is verb classes and objects ("remove/delete/lose/take off" + "the
music/bgm/soundtrack"; "mute/turn off" + "the original sound/my voice"; "keep" + "my voice"),
negations ("no background music", "不要原声"), platforms (Shorts/Reels/TikTok -> 9:16, feed -> 4:5),
places ("at the start", "at the end") and follow-ups that lean on what the last turn changed
(``after="music"``: "remove it"; ``after="title"``: "longer", "move it to the top").

What it cannot map gets an honest answer: what it did understand and the two nearest edits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ab2n.intent.clauses import changed, clause_spans, complaint, continues, grouped, in_order, merged, repeats
from ab2n.intent.lexicons import lexicon
from ab2n.intent.normal import base_forms, comparatives, correct, normalise
from ab2n.intent.times import at, duration, fade_length, place, span, to_ms
from ab2n.intent.titles import find_titles
from ab2n.intent.words import Words, detect_lang, lexes, longest, matches
from ab2n.timeline.draft import AUTO_MOOD
from ab2n.timeline.edits import Edit

__all__ = ["CAPABILITIES", "COMMANDS", "ParseResult", "detect_lang", "lexicon", "normalise", "parse"]

COMMANDS = ("export", "credits", "status", "upload", "help", "undo", "redo")

CAPABILITIES = (
    "add or change background music (a mood, genre or instrument: 'calm piano', 'upbeat acoustic'), "
    "set its volume ('35%', 'a bit quieter'), try another track, remove it, fade it, "
    "add a title ('a title that says Lisbon', 'title \"Lisbon\" for 3 seconds'), make it longer or move it, "
    "change the shape ('vertical for TikTok', 'square', 'Instagram feed'), "
    "mute or keep the original sound, trim ('the first 10 seconds'), undo/redo, "
    "and 'export', 'credits' or 'status'"
)
CAPABILITIES_ZH = (
    "添加或更换背景音乐（如“欢快的钢琴”）、调整音量（“35%”“小声一点”）、换一首、去掉音乐、淡入淡出、"
    "添加标题（标题“城市之梦”3秒、标题写巴黎）、标题加长或移动、改画幅（竖屏、方形、抖音）、静音/保留原声、"
    "剪辑（前10秒）、撤销/重做，以及“导出”“积分”“状态”"
)

#: What a follow-up may lean on: the family the previous turn changed.
TOPICS = ("music", "title")


@dataclass(frozen=True)
class ParseResult:
    """The meaning of one message.

    Attributes:
        command: "export", "credits", "status", "upload", "help", "undo", "redo" or None.
        edits: Timeline edits in the order to apply them.
        unrecognised: An honest message when (part of) the text could not be mapped.
        lang: "en" or "zh".
        nearest: When nothing mapped, the two nearest edits as examples of how to say them.
    """

    command: str | None = None
    edits: list[Edit] = field(default_factory=list)
    unrecognised: str | None = None
    lang: str = "en"
    nearest: tuple[str, ...] = ()

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


def _read(text: str, lang: str, titles: list[tuple[str, int, int]]) -> tuple[str, list[str]]:
    """The message normalised, its titles (found by ``find_titles``) taken out, typos mended,
    comparatives read."""
    plain = text
    for _q, a, b in reversed(titles):
        plain = plain[:a] + " " + plain[b:]
    t = correct(normalise(plain), "en")
    wish = [p for table in ("moods", "genres") for ps in lexicon("en")[table].values() for p in ps]
    t = comparatives(t, wish, "en")
    t = base_forms(t, "en")
    for rx, verb in lexicon("en")["verb_rewrites"]:  # "pop some music in": a wish word used as a verb
        t = re.sub(rx, verb, t)
    mods = "|".join(map(re.escape, lexicon("en")["fade_modifiers"] + lexicon("zh")["fade_modifiers"]))
    # "a slow fade", "fade out slowly": how to fade, not the music's tempo.
    t = re.sub(rf"\b(?:{mods})\s+(?=fades?\b)", "", t)
    t = re.sub(rf"\b(fade (?:in|out)) (?:{mods})\b", r"\1", t)
    return t, [q for q, _, _ in titles]


def _words(text: str, titles: list[tuple[str, int, int]], lang: str, after: str | None) -> Words:
    """What every extractor reads: the message (or one clause of it) made regular."""
    t, quoted = _read(text, lang, titles)
    return Words(t, lexes(lang), lang, quoted, after if after in TOPICS else None)


def parse(text: str, *, after: str | None = None) -> ParseResult:
    """Understand one message (see the module docstring).

    Args:
        text: What the person said.
        after: What the previous turn changed ("music" or "title"), for follow-ups like "louder",
            "remove it", "longer", "move it to the top".
    """
    if not text or not text.strip():
        return ParseResult(unrecognised="I didn't get any words. I can " + CAPABILITIES)
    lang = detect_lang(text)
    titles = find_titles(text, lang, after)
    w = _words(text, titles, lang, after)
    edits = _clause_edits(text, titles, lang, w.after) or _edits(w)
    cmd, strong = _command(w)
    if cmd and not strong and edits:
        cmd = None  # "give it a retro feel": a verb that only exports when nothing else is asked
    if cmd == "export" and edits and all(_weak(w, e) for e in edits):
        edits = []  # "i'm happy with it, render it": praise, not a wish for happy music
    if cmd == "status" and strong and all(e.op == "add_music" and not e.params for e in edits):
        edits = []  # "which music is on it now": a question about the music, not a wish for some
    if edits and cmd in ("undo", "redo", "help", "status", "credits"):
        cmd = None  # "undo the title" style sentences are edits with words that look like commands
    if cmd and not edits:
        return ParseResult(command=cmd, lang=lang)
    if edits:
        return ParseResult(edits=edits, lang=lang)
    from ab2n.intent.fallback import guess
    from ab2n.intent.nearest import not_understood

    # Nothing the grammar knows: the nearest labelled sentences decide when they are close enough.
    g = guess(text, w.after)
    taken = _guessed(w, g.label) if g.label else None
    if isinstance(taken, str):
        return ParseResult(command=taken, lang=lang)
    if taken:
        return ParseResult(edits=taken, lang=lang)
    message, nearest = not_understood(text, w, g.ranked)
    return ParseResult(unrecognised=message, lang=lang, nearest=nearest)


def _clause_edits(text: str, titles: list[tuple[str, int, int]], lang: str, after: str | None) -> list[Edit]:
    """The edits of a message of several clauses, each clause read on its own with its own span,
    level and object ("quieter music and fade it out over 3 seconds", "cut to 20 secs then add chill
    music"); [] for a message of one clause (``clauses``: how clauses are cut, joined and gathered).
    "it" in a clause is what the clause before it changed ("add a title 'Rome', make it 5 seconds
    long")."""

    def read(clause: tuple[int, int], topic: str | None) -> list[Edit]:
        a, b = clause
        own = [(q, x - a, y - a) for q, x, y in titles if a <= x and y <= b]
        return _edits(_words(text[a:b], own, lang, topic))

    spans = clause_spans(text, [(a, b) for _q, a, b in titles], lang)
    reasons = [(a, b) for a, b in spans if complaint(text[a:b], lang)]
    dropped = bool(reasons) and len(reasons) < len(spans)
    if dropped:
        spans = [c for c in spans if c not in reasons]  # "把原声去掉吧，太吵了": why, not what
    groups = grouped(spans, lambda c: not continues(text[c[0] : c[1]]) and bool(read(c, None)))
    if len(groups) < 2 and not dropped:
        return []
    edits: list[Edit] = []
    topic = after
    for clause in groups:
        found = read(clause, topic)
        if repeats(edits, found):
            return []  # "太吵了，音乐小声点": two clauses say one thing; the whole message is read as one
        edits = merged(edits, found)
        topic = changed(found) or topic
    return in_order(edits)


def _guessed(w: Words, label: str) -> str | list[Edit] | None:
    """The command or edits a class of the learned fallback stands for, with what the grammar can
    still read (a length, "a bit"); None for a class whose meaning is in numbers the grammar did not
    find (a title's text, a trim's span, a level)."""
    if label in COMMANDS:
        return label
    family, _, key = label.partition("_")
    if label in ("add_music", "replace_music", "remove_music", "remove_text"):
        return [Edit(label, {})]
    if label in ("quieter", "louder"):
        step = 2.0 if w.has("little") else 6.0 if w.has("lot") else 3.0
        return [Edit("set_music_volume", {"delta_db": -step if label == "quieter" else step})]
    if family == "fade":
        ms = fade_length(w.t, w.lang) or 2000
        return [Edit("set_fades", {f"{k}_ms": ms for k in ("in", "out") if key in (k, "both")})]
    if label in ("title_longer", "title_shorter"):
        return [Edit("set_text", {"delta_ms": 1000 if key == "longer" else -1000})]
    if family == "title" and key in ("top", "bottom", "center"):
        return [Edit("set_text", {"position": key})]
    if family == "aspect":
        ap: dict[str, Any] = {"preset": key}
        if w.has("fit_pad") or w.has("fit_crop"):
            ap["fit"] = "pad" if w.has("fit_pad") else "crop"
        return [Edit("set_aspect", ap)]
    if family == "original":
        return [Edit("set_original_audio", {"mode": key})]
    return None


def _weak(w: Words, e: Edit) -> bool:
    """An add_music read from a mood word alone, with no music, genre or instrument said."""
    return e.op == "add_music" and not w.about("music") and set(e.params) <= {"mood"}


def _command(w: Words) -> tuple[str | None, bool]:
    """(the command the message asks for, whether it is said strongly enough to beat an edit): a
    phrase, a pattern or an export verb is strong; a delivering verb with its object ("send it",
    "give me the mp4") is weak."""
    if w.pattern("command_patterns", "redo"):
        return "redo", True  # "恢复刚才撤销的", "bring back what i undid": undoing an undo
    hits = w.hits("commands")
    named = [k for a, b, k in hits if w.t[a:b] == k]  # "put it back, redo": the command said by name wins
    if hits:
        return (named or [hits[0][2]])[0], True
    for name in ("help", "status", "undo", "upload", "export"):
        if w.pattern("command_patterns", name):
            return name, True
    if w.has_verb("export"):
        return "export", True
    pairs = w.pairs
    if ("deliver", "result") in pairs or ("deliver", "it") in pairs:
        return "export", False
    if ("show", "timeline") in pairs:
        return "status", False
    if w.has_verb("deliver") and not w.objects():
        return "export", False  # "done. send": a delivering verb with nothing else to deliver
    return None, False


def _edits(w: Words) -> list[Edit]:
    """Every edit the message asks for, one extractor per family, in the order to apply them."""
    sp = span(w.t, w.lang)
    return [
        *_music_edits(w, sp),
        *_fade_edits(w),
        *_title_edits(w, sp),
        *_text_change_edits(w),
        *_shape_edits(w),
        *_original_audio_edits(w),
        *_trim_edits(w, sp),
        *_loudness_edits(w),
    ]


def _fading(w: Words) -> tuple[bool, bool]:
    """(fade in, fade out) asked."""
    # "fade the music in", "ease it out": a fading verb with its particle
    fade_in = w.has("fade_in") or re.search(r"\b(?:fade|ease)\b(?:\s+\w+){0,3}\s+in\b", w.t) is not None
    fade_out = w.has("fade_out") or re.search(r"\b(?:fade|ease)\b(?:\s+\w+){0,3}\s+out\b", w.t) is not None
    # "the music ends too abruptly", "开头太突然": a problem a fade mends
    fade_in = fade_in or w.pattern("fade_patterns", "in")
    fade_out = fade_out or w.pattern("fade_patterns", "out")
    if not (fade_in or fade_out) and re.search(r"\bfad(?:e|es|ing)\b", w.t):
        where = place(w.t, _places(w))  # "fade the music at the end": the end fades out, the start in
        return where == "start", where == "end"
    return fade_in, fade_out


def _said_no(w: Words, key: str) -> bool:
    """Whether every fade of this kind is said in the negative ("no fade in", "don't fade it out")."""
    starts = [a for ps, lang in w.lists(key) for a, _b in matches(w.t, ps, lang)]
    return bool(starts) and all(w.negated(a) or re.search(r"\b(?:no|without)\s+(?:a\s+)?$", w.t[:a]) for a in starts)


def _music_wishes(w: Words) -> dict[str, Any]:
    """The mood, genres, instruments, tempo and ending asked for (only those said)."""
    endings = _endings(w)
    # "more energy at the end" shapes the ending; its "energy" is not a wish for an energetic piece.
    moods = [
        k
        for a, b, k in w.hits("moods")
        if k != AUTO_MOOD and not any(a < y and x < b for x, y, _e in endings) and not _described(w, a)
    ]
    return {
        k: v
        for k, v in (
            ("mood", moods[0] if moods else None),
            ("genre", w.keys("genres")),
            ("instruments", w.keys("instruments")),
            ("tempo", _tempo(w)),
            ("ending", endings[0][2] if endings else None),
        )
        if v
    }


def _described(w: Words, at: int) -> bool:
    """Whether a mood word only describes something ("my cat is so cute", "the view was epic"): said
    after a copula, in a message that asks for no music (no music word, no adding or changing verb)."""
    before = w.t[:at]
    if not any(re.search(p, before) for lx, _lang in w.lexes for p in lx.get("copula_patterns", [])):
        return False
    asks = lexicon("en")["add_verbs"] + lexicon("en")["causative_verbs"]  # "make it feel epic" asks
    return not (w.has("music_words") or w.about("music") or w.says(asks) or w.has_verb("change"))


def _endings(w: Words) -> list[tuple[int, int, str]]:
    """Where the ending is shaped ("a bigger finish", "ramp up the energy at the end") and how."""
    found = list(w.hits("ending"))
    for lx, _lang in w.lexes:
        for key, pats in lx.get("ending_patterns", {}).items():
            found += [(m.start(), m.end(), key) for p in pats for m in re.finditer(p, w.t)]
    return longest(found)


def _tempo(w: Words) -> str | None:
    """The tempo asked, unless its word begins inside a mood word said before it ("轻快一点" is a light,
    happy piece; "快一点" alone is faster)."""
    moods = w.hits("moods")
    for a, b, k in w.hits("tempo"):
        if not any(x < a < y < b for x, y, _m in moods):
            return k
    return None


def _wishes_said(w: Words, wish: dict[str, Any]) -> bool:
    """Whether the wishes are enough to mean music: an instrument word that is also an ordinary
    word ("keys", "drums", "strings": the lexicon's ``weak_instruments``) needs a music word, a mood
    or a genre beside it; "piano" or "钢琴曲" alone is enough."""
    named = "mood" in wish or "genre" in wish
    if named or "tempo" in wish or "ending" in wish:
        return True
    if "instruments" not in wish:
        return False
    weak = {p for lx, _lang in w.lexes for p in lx.get("weak_instruments", [])}
    strong = any(w.t[a:b] not in weak for a, b, _k in w.hits("instruments"))
    return strong or w.has("music_words") or w.about("music")


def _removing(w: Words) -> bool:
    # "fade the music out": the particle belongs to the fade; "drop the music 2 db" is a level.
    amount = re.search(r"\d\s*(?:db\b|分贝|%|percent)", w.t) is not None
    if amount or w.pattern("until_patterns"):
        return False  # "stop the song at 20 seconds": it plays until then
    return w.has("remove_music") or (w.acts("remove", "music") and not any(_fading(w)))


def _replacing(w: Words) -> bool:
    """ "another track", "change it to something happier", "swap the song for a jazz one"."""
    if (w.titles or w.about("title")) and not w.about("music"):
        return False  # "add a new one that says Hello": another title, not another track
    if w.has("replace_music") or w.pattern("replace_patterns") or w.acts("change", "music"):
        return True
    if not _wishes_said(w, _music_wishes(w)):
        return False
    # "change to lofi", "换成钢琴曲": a change verb with only music wishes after it
    others = {k for _a, _b, k in w.objects()} - {"music", "it"}
    return w.acts("change", "it") or (w.has_verb("change") and not others)


def _claimed(w: Words) -> bool:
    """Whether the music word belongs to another family's sentence ("fade the music out", "no sound
    from the video, just music", "turn the music down")."""
    fade_in, fade_out = _fading(w)
    db = re.search(r"\d\s*(?:db\b|分贝)", w.t) is not None
    return fade_in or fade_out or db or bool(_original_audio_edits(w)) or _quieter(w) or _louder(w)


def _adding_music(w: Words, sp: tuple[int | None, int | None], wish: dict[str, Any], percent: bool) -> bool:
    """Whether the message asks for music (as opposed to changing or removing it)."""
    if _removing(w):
        return False
    if _wishes_said(w, wish):
        return True
    if w.after == "music" and _retimed(w, sp):
        return True  # after music, "start it at 5 seconds", "从5秒开始": the music, placed again
    if not w.about("music") or _replacing(w) or (w.after == "music" and not w.has("music_words")):
        return False
    if w.pattern("statement_patterns"):
        return False  # "the music is kinda quiet", "the current music doesn't fit": the music there is
    if AUTO_MOOD in w.keys("moods"):
        return True
    if percent:
        return w.says(lexicon("en")["strong_add"])
    return not _claimed(w) and not (w.titles and w.has("trim"))


def _retimed(w: Words, sp: tuple[int | None, int | None]) -> bool:
    """Whether a follow-up only says when the music plays: a span or a moment, no other family's words
    (no trim word, no title, no fade, no level)."""
    timed = sp != (None, None) or at(w.t, w.lang) is not None
    others = w.has("trim") or w.pattern("trim_patterns") or w.about("title") or w.titles or any(_fading(w))
    return timed and not others and _direction(w) is None


def _direction(w: Words) -> str | None:
    """ "quieter" or "louder": the longest of overlapping words decides ("太小声" is not "小声");
    "move it down" moves a title, it does not turn anything down."""
    if w.pattern("volume_patterns", "quieter_always"):
        return "quieter"  # "i can't hear myself over the music"
    hits: list[tuple[int, int, str]] = []
    for key in ("quieter", "louder"):
        for ps, lang in w.lists(key):
            hits += [(a, b, key) for a, b in matches(w.t, ps, lang)]
    # "pump up music" is a mood, "raise the title up" moves a title: not a level
    wishes = [(a, b, "wish") for table in ("moods", "genres", "tempo") for a, b, _k in w.hits(table)]
    # "put the title lower", "move the caption down": a place word, when the title is named and the music is not
    placed = (w.about("title") or w.after == "title" or bool(w.titles)) and not w.about("music")
    places = {(a, b) for a, b, _k in w.hits("positions")} if placed else set()
    blocks = wishes + [(a, b, "wish") for a, b in places]  # "a lower third": a place, longer than "lower"
    keys = {k for a, b, k in longest(hits + blocks) if k != "wish" and not _of_title(w, a, b) and (a, b) not in places}
    if not keys and not w.has_verb("move"):
        keys = {k for k in ("quieter", "louder") if w.pattern("volume_patterns", k, free=True)}
    return "quieter" if "quieter" in keys else "louder" if "louder" in keys else None


def _of_title(w: Words, start: int, end: int) -> bool:
    """Whether the object a volume word is said of (the next one, within four words) is a title."""
    objs = [(a, k) for a, _b, k in w.objects() if a >= start]
    if not objs or w.lang == "zh":
        return False
    a, k = objs[0]
    between = w.t[end:a]
    # "music quieter and remove the title": a new clause begins, the title is another verb's object
    return k == "title" and len(between.split()) <= 4 and not re.search(r"\b(?:and|then)\b|[,;]", between)


def _quieter(w: Words) -> bool:
    return _direction(w) == "quieter"


def _louder(w: Words) -> bool:
    return _direction(w) == "louder"


def _volume(w: Words, percent: re.Match[str] | None, adding: bool) -> tuple[float | None, float | None]:
    """(absolute level, change in dB) asked: "35%", "-6 dB", "a bit quieter", "lower it by 10%"."""
    volume: float | None = float(percent.group(1)) / 100 if percent else None
    delta: float | None = None
    db = re.search(r"([+-]?\d+(?:\.\d+)?)\s*(?:db\b|分贝)", w.t)
    quieter, louder = _quieter(w), _louder(w)
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


def _music_edits(w: Words, sp: tuple[int | None, int | None]) -> list[Edit]:
    """add_music / replace_music / remove_music / set_music_volume."""
    edits: list[Edit] = []
    wish = _music_wishes(w)
    percent = re.search(r"(\d+(?:\.\d+)?)\s*(?:%|percent|per cent)", w.t)
    # "compose music for it", "作一首曲子", "an original track", "write a custom soundtrack": written for the video
    composing = w.has("compose") or w.pattern("compose_patterns")
    adding = composing or _adding_music(w, sp, wish, percent is not None)
    removing, replacing = _removing(w), _replacing(w)
    volume, delta = _volume(w, percent, adding)
    if adding:
        params: dict[str, Any] = dict(wish, source="compose") if composing else dict(wish)
        if volume is not None and not replacing:  # "换成lofi 音量调到20%": the new track's level, said of its own
            params["volume"] = volume
        edits.append(Edit("add_music", {**params, **_music_times(w, sp)}))
    if replacing and not removing:
        if _wishes_said(w, wish) and not adding:
            edits.append(Edit("add_music", dict(wish)))
        edits.append(Edit("replace_music", {}))
    if removing and sp[0] == 0 and sp[1] is not None and not adding:
        edits.append(Edit("add_music", {"start_ms": sp[1]}))  # "no music for the first 5 s": from 5 s on
    elif removing:
        edits.append(Edit("remove_music", {}))
    if not (adding or removing) or (adding and replacing and volume is not None):
        edits += _level_edit(w, volume, delta)
    return edits


def _music_times(w: Words, sp: tuple[int | None, int | None]) -> dict[str, int]:
    """When the music plays: the span or moment said, unless it belongs to a title or a trim."""
    if w.about("title") or w.titles or w.has("trim"):
        return {}
    start_ms = sp[0] if sp[0] is not None or sp[1] is not None else at(w.t, w.lang)
    times = {"start_ms": start_ms} if start_ms is not None else {}
    return {**times, "end_ms": sp[1]} if sp[1] is not None else times


def _level_edit(w: Words, volume: float | None, delta: float | None) -> list[Edit]:
    """set_music_volume, unless the level words belong to a fade ("fade the music out") or to muting
    the original sound ("drop the original audio")."""
    of_original = w.acts("remove", "original") and not w.about("music") and volume is None
    if (volume is None and delta is None) or any(_fading(w)) or of_original:
        return []
    return [Edit("set_music_volume", {"volume": volume} if volume is not None else {"delta_db": delta})]


def _fade_edits(w: Words) -> list[Edit]:
    """set_fades: "fade out over 3 seconds", "a 5 second fade out", "淡入"."""
    fade_in, fade_out = _fading(w)
    if not (fade_in or fade_out):
        return []
    whole = fade_length(w.t, w.lang)
    fp: dict[str, Any] = {}
    for key, asked, part in (
        ("in_ms", fade_in, _fade_part(w, "fade_in")),
        ("out_ms", fade_out, _fade_part(w, "fade_out")),
    ):
        if asked and _said_no(w, "fade_" + key[:-3]):
            fp[key] = 0  # "no fade in": none at all
        elif asked:
            own = fade_length(part, w.lang) if part else None
            fp[key] = own if own is not None else whole if whole is not None else 2000
    return [Edit("set_fades", fp)]


def _fade_part(w: Words, key: str) -> str | None:
    """The words from a fade of this kind to the next fade ("fade in 2s fade out 4s": each its own length)."""
    starts = {
        k: [_lead(w.t, a) for ps, lang in w.lists(k) for a, _b in matches(w.t, ps, lang)]
        for k in ("fade_in", "fade_out")
    }
    if not starts[key]:
        return None
    a = min(starts[key])
    later = [x for xs in starts.values() for x in xs if x > a]
    return w.t[a : min(later) if later else len(w.t)]


def _lead(t: str, at: int) -> int:
    """Where a fade's words begin: at a length said right before it ("a 2 second fade in and a 4 second
    fade out": each length is its own fade's), else at the fade."""
    m = re.search(r"\d+(?:\.\d+)?\s*(?:s|sec|secs|seconds?|秒)?[\s-]*(?:long\s+)?$", t[:at])
    return m.start() if m else at


def _title_edits(w: Words, sp: tuple[int | None, int | None]) -> list[Edit]:
    """add_text for each title text, or remove_text."""
    if not w.titles:
        remove = w.has("remove_title") or w.acts("remove", "title")
        return [Edit("remove_text", {})] if remove else []
    edits: list[Edit] = []
    for q in w.titles:
        tp: dict[str, Any] = {"text": q}
        dur = duration(w.t, w.lang)
        if dur is not None:
            tp["duration_ms"] = dur
        start = at(w.t, w.lang)
        if start is None and sp[0] is not None and not w.has("trim"):
            start = sp[0]
            if dur is None and sp[1] is not None and sp[0] >= 0:
                dur = tp["duration_ms"] = sp[1] - sp[0]  # "title 'Hi' from 0:05 to 0:10": shown for 5 s
        where = place(w.t, _places(w)) if start is None else None
        if where == "start":
            start = 0
        elif where == "end":
            start = -(dur or 3000)
        if start is not None:
            tp["start_ms"] = start
        pos = _positions(w)
        if pos:
            tp["position"] = pos[0][2]
        edits.append(Edit("add_text", tp))
    return edits


def _places(w: Words) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"start": [], "end": []}
    for lx, _lang in w.lexes:
        for k, ps in lx.get("places", {}).items():
            out.setdefault(k, []).extend(ps)
    return out


def _text_change_edits(w: Words) -> list[Edit]:
    """set_text on the last title: "make the title longer", after a title "2 seconds longer",
    "move it to the top", "make the caption 5 seconds long"."""
    if w.titles or not (w.about("title") or w.after == "title") or w.acts("remove", "title"):
        return []
    if w.about("music") and not w.acts("move", "title"):
        return _title_clause_edits(w)
    if w.after != "title" and not w.about("title"):
        return []
    tp: dict[str, Any] = {}
    change = w.first("text_change")
    unit = r"\s*(?:more |extra )?(?:s|sec|secs|seconds?|秒)\b"  # "2 seconds longer", "2 more seconds"
    num = re.search(r"(\d+(?:\.\d+)?)" + unit, w.t) or re.search(r"(\d+(?:\.\d+)?)\s*秒", w.t)
    moment = _title_moment(w)
    moving = w.after == "title" or w.has_verb("move")
    where = place(w.t, _places(w)) if moment is None and moving else None
    if where is not None:  # after a title, "at the end instead"
        moment = 0 if where == "start" else -3000
    if moment is not None:
        tp["start_ms"] = moment
    if change:
        step = to_ms(num.group(1)) if num else 1000
        tp["delta_ms"] = step if change == "longer" else -step
    elif (
        num
        and moment is None
        and at(w.t, w.lang) is None
        and (w.about("title") or re.search(r"\blong\b|for\s+\d", w.t))
    ):
        tp["duration_ms"] = to_ms(num.group(1))
    pos = _moved_to(w)
    if pos and (w.has_verb("move") or w.about("title") or w.after == "title"):
        tp["position"] = pos
    return [Edit("set_text", tp)] if tp else []


def _title_moment(w: Words) -> int | None:
    """When the last title is to appear: a moment said with a verb of timing or moving ("make the
    title show up at 10 seconds", "move the title to 0:10", "标题在第三秒出现"); "make the title spin
    at 0:05" asks nothing the title can do."""
    named_at = re.search(r"\b(?:title|caption|text|heading|subtitle)\s+(?:at|from)\s+\d", w.t)  # "title at 20 seconds"
    timed = w.has_verb("move") or named_at or any(matches(w.t, ps, lang) for ps, lang in w.lists("title_timing"))
    if not timed:
        return None
    moved = re.search(r"\bto\s+(\d+:\d{1,2})\b", w.t) if w.has_verb("move") else None
    moment = at(w.t, w.lang)
    return to_ms(moved.group(1)) if moment is None and moved else moment


def _title_clause_edits(w: Words) -> list[Edit]:
    """ "make the title longer and the music quieter", "音乐小一点，标题放下面": the change of the title is
    read from the clause that names the title and not the music."""
    for clause in re.split(r"[,;，；。]|\band\b|\bthen\b|然后|并且", w.t):
        c = Words(clause.strip(), w.lexes, w.lang, [], None)
        if c.t and c.about("title") and not c.about("music"):
            found = _text_change_edits(c)
            if found:
                return found
    return []


def _moved_to(w: Words) -> str | None:
    """Where the title goes: the first place word after a move verb ("lower the music and move the
    title to the top": top), else the first place word."""
    moves = [a for a, _b, k in w.hits("verbs") if k == "move"]
    places = _positions(w)
    after = [k for a, _b, k in places if moves and a > moves[0]]
    return after[0] if after else places[0][2] if places else None


def _positions(w: Words) -> list[tuple[int, int, str]]:
    """The place words said ("at the top", "lower third"), not a particle another verb has taken
    ("keep the text up for 8 seconds")."""
    return [(a, b, k) for a, b, k in w.hits("positions") if not any(x <= a and b <= y for x, y in w.taken)]


def _shape_edits(w: Words) -> list[Edit]:
    """set_aspect: "vertical for TikTok", "square, cropped", "Instagram feed" (a platform decides)."""
    # "normalize the loudness for youtube" names a loudness, not a shape.
    taken = [(a, b) for a, b, _k in w.hits("loudness")] if w.has("loudness_words") else []
    platforms = [k for a, b, k in w.hits("platforms") if all(b <= x or a >= y for x, y in taken)]
    shape = w.first("aspect")
    # a platform makes "portrait" or "vertical" precise ("portrait for Shorts" is 9:16); "square" is precise already
    exact = shape in lexicon("en")["shape_over_platform"]
    aspect = shape if exact else (platforms[0] if platforms else None) or shape
    if not aspect:
        return []
    ap: dict[str, Any] = {"preset": aspect}
    crops = [a for ps, lang in w.lists("fit_crop") for a, _b in matches(w.t, ps, lang)]
    if w.has("fit_pad") or (crops and all(w.negated(a) for a in crops)):
        ap["fit"] = "pad"  # "don't crop it", "不要裁剪": a crop said in the negative keeps the whole picture
    elif crops:
        ap["fit"] = "crop"
    return [Edit("set_aspect", ap)]


def _original_audio_edits(w: Words) -> list[Edit]:
    """set_original_audio: mute or keep the video's own sound."""
    muted = [a for ps, lang in w.lists("mute_original") for a, _b in matches(w.t, ps, lang)]
    if w.after != "music":  # "mute it" with no music to mean: the video's own sound is what mutes
        muted += [a for ps, lang in w.lists("mute_it") for a, _b in matches(w.t, ps, lang)]
    if muted and all(w.negated(a) for a in muted):
        return [Edit("set_original_audio", {"mode": "keep"})]  # "不要静音", "don't mute the original"
    if muted or w.acts("remove", "original"):
        return [Edit("set_original_audio", {"mode": "mute"})]
    if w.has("keep_original") or w.acts("keep", "original"):
        return [Edit("set_original_audio", {"mode": "keep"})]
    return []


def _trim_edits(w: Words, sp: tuple[int | None, int | None]) -> list[Edit]:
    """trim: "keep the first 10 seconds", "cut it down to 15 seconds", "cut the first 5 seconds"."""
    # "keep 0:10 to 0:40", "保留10秒到30秒": keeping a span of the video is a trim
    kept = w.has_verb("keep") and None not in sp and not (w.about("original") or w.about("music"))
    if not ((w.has("trim") or w.pattern("trim_patterns") or kept) and (sp[0] is not None or sp[1] is not None)):
        if not w.pattern("cut_away_patterns") or sp[0] != 0 or sp[1] is None:
            return []
    if w.about("title") or w.titles or (w.about("music") and not w.has("trim")):
        return []
    if sp[0] == 0 and sp[1] is not None and w.pattern("cut_away_patterns"):
        return [Edit("trim", {"start_ms": sp[1]})]  # "cut the first 5 seconds": keep what follows
    tr: dict[str, Any] = {}
    if sp[0] is not None:
        tr["start_ms"] = sp[0]
    if sp[1] is not None:
        tr["end_ms"] = sp[1]
    return [Edit("trim", tr)]


def _loudness_edits(w: Words) -> list[Edit]:
    """set_loudness: "-16 LUFS", "loudness for podcasts"."""
    lufs = re.search(r"(-\d+(?:\.\d+)?)\s*lufs", w.t)
    target = float(lufs.group(1)) if lufs else None
    if target is None and w.has("loudness_words"):
        key = w.first("loudness")
        bare = re.search(r"(?<![A-Za-z0-9_:])(-\d+(?:\.\d+)?)(?!\s*(?:db|分贝|%|\d))", w.t)  # "master it to -14"
        target = float(key) if key else float(bare.group(1)) if bare else None
    return [Edit("set_loudness", {"target_lufs": target})] if target is not None else []
