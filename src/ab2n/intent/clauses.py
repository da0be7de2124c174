"""A message cut into clauses, each one instruction with its own words, and their edits gathered.

"make the music quieter and fade it out over the last 3 s, then add a title 'Rome' at the start"
-> "make the music quieter" | "fade it out over the last 3 s" | "add a title 'Rome' at the start".
A clause ends at a punctuation mark, at a joining word ("then", "also", 然后, 并且: the lexicons'
``clause_breaks``) and at "and" when the words after it begin an instruction of their own (the
lexicon's ``clause_starts``: "and fade it out", "and make it louder"), never at the "and" of "the
title and the music", "fade in and out" or "between 10 and 20 seconds". A title's own words are
never cut ("Rome, Italy" is one title).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from ab2n.intent.lexicons import lexicon
from ab2n.intent.normal import normalise
from ab2n.intent.words import lexes
from ab2n.timeline.edits import Edit

__all__ = ["changed", "clause_spans", "complaint", "continues", "grouped", "in_order", "merged", "repeats"]

#: The order the families' extractors give their edits in (``parse._edits``), kept when clauses are read.
_OP_ORDER = (
    "add_music",
    "replace_music",
    "remove_music",
    "set_music_volume",
    "set_fades",
    "add_text",
    "remove_text",
    "set_text",
    "set_aspect",
    "set_original_audio",
    "trim",
    "set_loudness",
)
#: Edits a message asks once: two clauses giving one of them say the same thing twice.
_ONE_A_MESSAGE = ("set_music_volume", "set_aspect", "set_original_audio", "trim", "set_loudness", "remove_music")


@cache
def _breaks(lang: str) -> re.Pattern[str]:
    """One expression for every place a clause ends, in a message of ``lang``."""
    pats: list[str] = list(lexicon("en")["clause_breaks"])
    if lang == "zh":
        pats += lexicon("zh")["clause_breaks"]
    pats.append(rf"(?P<joint>\s*\band\s+(?=(?:{_alternatives(lexicon('en')['clause_starts'])})\b))")
    return re.compile("|".join(f"(?:{p})" for p in pats), re.IGNORECASE)


def _alternatives(phrases: list[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


@cache
def _subject() -> re.Pattern[str]:
    """A verb or an object: what the words before "and" need for "and" to end a clause ("quieter and
    fade out" is one clause, the music getting quieter as it fades; "quieter music and fade it out"
    is two)."""
    en = lexicon("en")
    objects = [p for k, ps in en["objects"].items() if k != "it" for p in ps]
    # "jazz for the first 20 seconds and a title ...": a genre or an instrument names the music asked for
    wishes = [p for table in ("genres", "instruments") for ps in en[table].values() for p in ps]
    return re.compile(rf"\b(?:{_alternatives(en['clause_starts'] + objects + wishes)})\b", re.IGNORECASE)


def clause_spans(text: str, keep: list[tuple[int, int]], lang: str) -> list[tuple[int, int]]:
    """(start, end) in ``text`` of each clause with words in it, in order; ``keep`` are spans never
    cut (a title's words)."""
    masked = text
    for a, b in keep:
        masked = masked[:a] + "\0" * (b - a) + masked[b:]  # no break, no space a break could take
    spans: list[tuple[int, int]] = []
    at = 0
    for m in _breaks(lang).finditer(masked):
        if m.group("joint") and not _subject().search(masked[at : m.start()]):
            continue
        if m.end() > m.start():
            spans.append((at, m.start()))
            at = m.end()
    spans.append((at, len(text)))
    if lang == "en":
        spans = [piece for a, b in spans for piece in _run_on(masked, a, b)]
    return [(a, b) for a, b in spans if re.search(r"\w", text[a:b])]


@cache
def _run_on_rx() -> re.Pattern[str]:
    en = lexicon("en")
    return re.compile(rf"(?<=\s)(?:{_alternatives(en['run_on_starts'])})\b", re.IGNORECASE)


def _run_on(masked: str, a: int, b: int) -> list[tuple[int, int]]:
    """A clause said without a break, cut before each verb that begins an instruction ("add jazz make
    it louder", "quieter music fade it out at the end"): only after words that include a verb or an
    object, never after a word that makes the verb part of the clause ("to add", "a slow fade", "let
    me add")."""
    pieces: list[tuple[int, int]] = []
    at = a
    not_after = {w.lower() for w in lexicon("en")["run_on_not_after"]}
    for m in _run_on_rx().finditer(masked, a, b):
        before = masked[at : m.start()].split()
        if len(before) >= 2 and before[-1].lower() not in not_after and _subject().search(masked[at : m.start()]):
            if not _complement(before):
                pieces.append((at, m.start()))
                at = m.start()
    return [*pieces, (at, b)]


def _complement(before: list[str]) -> bool:
    """Whether the verb that follows these words completes them ("let the music fade out", "make the
    song fade in"): a causative verb, then only its object."""
    en = lexicon("en")
    objects = {p for ps in en["objects"].values() for p in ps}
    head = before[0].lower()
    rest = " ".join(before[1:]).lower()
    # "can the music fade in": a question's modal binds its subject to the verb as a causative does
    heads = en["causative_verbs"] + en["question_modals"]
    return head in heads and re.sub(r"^(?:the|my|this|that)\s+", "", rest) in objects


def continues(clause: str) -> bool:
    """Whether a clause only goes on with the one before: it begins with a joining word ("and", "or",
    和) and has no verb of its own ("remove the title, and the music too")."""
    joins = lexicon("en")["clause_joins"] + lexicon("zh")["clause_joins"]
    head = clause.strip().lower()
    joined = any(head.startswith(j) and (not j.isalpha() or not head[len(j) : len(j) + 1].isalpha()) for j in joins)
    starts = re.compile(rf"\b(?:{_alternatives(lexicon('en')['clause_starts'])})\b", re.IGNORECASE)
    return joined and not starts.search(head)


def complaint(clause: str, lang: str) -> bool:
    """Whether a clause only complains ("too loud", "太吵了"): beside a clause that asks something it
    is the reason for that, not an edit of its own."""
    said = normalise(clause)
    return any(re.search(p, said) for lx, _lang in lexes(lang) for p in lx.get("complaint_patterns", []))


def grouped(spans: list[tuple[int, int]], asks: Callable[[tuple[int, int]], bool]) -> list[tuple[int, int]]:
    """The clauses with each one that asks nothing alone (``asks``: "from 0:10 to 0:20", "and the
    music") joined to the one before it (the first to the one after it)."""
    groups: list[tuple[int, int]] = []
    for a, b in spans:
        if groups and not asks((a, b)):
            groups[-1] = (groups[-1][0], b)
        else:
            groups.append((a, b))
    if len(groups) > 1 and not asks(groups[0]):
        groups[1] = (groups[0][0], groups[1][1])
        del groups[0]
    return groups


def changed(edits: list[Edit]) -> str | None:
    """What a clause's edits changed, for the "it" of the next clause."""
    ops = {e.op for e in edits}
    if ops & {"add_text", "set_text"} and not ops & {"add_music", "set_music_volume", "replace_music"}:
        return "title"
    if ops & {"add_music", "set_music_volume", "replace_music", "set_fades"}:
        return "music"
    return None


def repeats(edits: list[Edit], new: list[Edit]) -> bool:
    """Whether a clause asks again for an edit a message asks once."""
    return any(e.op in _ONE_A_MESSAGE and e.op in {x.op for x in edits} for e in new)


def merged(edits: list[Edit], new: list[Edit]) -> list[Edit]:
    """The edits of the clauses read so far with a clause's own: one add_music and one set_fades
    (their settings gathered), an absolute level folded into the music being added, a change of
    "it" after a new title folded into that title."""
    out = list(edits)
    for e in new:
        same = [i for i, x in enumerate(out) if x.op == e.op and e.op in ("add_music", "set_fades")]
        music = [i for i, x in enumerate(out) if x.op == "add_music"]
        titles = [i for i, x in enumerate(out) if x.op == "add_text"]
        if same:
            out[same[0]] = Edit(e.op, {**e.params, **out[same[0]].params})
        elif e.op == "set_music_volume" and "volume" in e.params and music and not _replacing(out + new):
            out[music[-1]] = Edit("add_music", {**out[music[-1]].params, **e.params})
        elif e.op == "set_text" and titles and "delta_ms" not in e.params:
            out[titles[-1]] = Edit("add_text", {**out[titles[-1]].params, **e.params})
        elif e not in out:
            out.append(e)
    return out


def _replacing(edits: list[Edit]) -> bool:
    """Whether the track is replaced: the level is then the new track's setting, said as its own edit
    ("换成lofi 音量调到20%")."""
    return any(e.op == "replace_music" for e in edits)


def in_order(edits: list[Edit]) -> list[Edit]:
    """The edits in the order the families' extractors give them."""
    return sorted(edits, key=lambda e: _OP_ORDER.index(e.op) if e.op in _OP_ORDER else len(_OP_ORDER))
