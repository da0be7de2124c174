"""A message cut into clauses, each one instruction with its own words.

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
from functools import cache

from ab2n.intent.lexicons import lexicon

__all__ = ["clause_spans", "continues"]


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
    return re.compile(rf"\b(?:{_alternatives(en['clause_starts'] + objects)})\b", re.IGNORECASE)


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
    return head in en["causative_verbs"] and re.sub(r"^(?:the|my|this|that)\s+", "", rest) in objects


def continues(clause: str) -> bool:
    """Whether a clause only goes on with the one before: it begins with a joining word ("and", "or",
    和) and has no verb of its own ("remove the title, and the music too")."""
    joins = lexicon("en")["clause_joins"] + lexicon("zh")["clause_joins"]
    head = clause.strip().lower()
    joined = any(head.startswith(j) and (not j.isalpha() or not head[len(j) : len(j) + 1].isalpha()) for j in joins)
    starts = re.compile(rf"\b(?:{_alternatives(lexicon('en')['clause_starts'])})\b", re.IGNORECASE)
    return joined and not starts.search(head)
