"""A small learned reader beside the grammar: nearest labelled sentences by their letters.

The grammar (``parse.py``) reads what its lexicon and rules cover; a sentence made of other words
("i need the mp4 now", "halp", "我要成片") maps to nothing there. This reader compares such a
sentence with labelled sentences (``lexicon/examples.json``, written from the tuning halves of the
test sets, and the lexicons' own phrases) by TF-IDF cosine over English words, their letter
trigrams (so a typo still shares most of its trigrams) and Chinese characters and character pairs,
and votes among the nearest. It is asked only when the grammar found nothing, and its answer is
taken only when the nearest sentence is close enough (``ACCEPT``); otherwise its ranking gives the
two nearest edits the honest answer offers.

Pure Python over ~1,600 short sentences: the index is built on the first message the grammar can't
map (~0.4 s), a query then takes well under a millisecond.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ab2n.intent.lexicons import lexicon
from ab2n.intent.normal import normalise

__all__ = ["ACCEPT", "Guess", "guess"]

#: The cosine of the nearest labelled sentence above which its class is taken. Chosen with AGREE by
#: leaving each labelled sentence out in turn (tests/unit/intent/test_fallback.py) and by scoring
#: round 6's tuning half with an index built without it: lower takes more sentences that are no
#: edit ("thank you so much"), higher leaves more for the grammar's "not understood".
ACCEPT = 0.4
#: How many nearest sentences vote (by their cosine).
K = 3
#: The share of the vote the best class needs (the nearest sentences must mostly agree).
AGREE = 0.67

#: Lexicon tables whose phrases are labelled sentences of one class (en and zh alike).
_PHRASE_CLASSES = {
    "remove_music": "remove_music",
    "replace_music": "replace_music",
    "mute_original": "original_mute",
    "keep_original": "original_keep",
    "remove_title": "remove_text",
    "fade_in": "fade_in",
    "fade_out": "fade_out",
    "quieter": "quieter",
    "louder": "louder",
}

#: Objects whose words are replaced by their kind before comparing: "让标题跳个舞" is not near "去掉标题"
#: for sharing 标题; what is done to the title has to be near too.
_MASKED = ("music", "title", "original")

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class Guess:
    """The classes nearest a sentence, best first, with their vote, and the best cosine."""

    ranked: tuple[tuple[str, float], ...]
    nearest: float

    @property
    def label(self) -> str | None:
        """The class to take, or None when no sentence is close enough or the nearest say "none"."""
        if not self.ranked or self.nearest < ACCEPT or self.ranked[0][0] == "none":
            return None
        if self.ranked[0][1] < AGREE * sum(v for _c, v in self.ranked):
            return None
        return self.ranked[0][0]


@lru_cache(maxsize=1)
def _object_phrases() -> list[tuple[re.Pattern[str], str]]:
    """The music, title and original-sound words of both lexicons, longest first."""
    out = []
    for lang in ("en", "zh"):
        for kind, phrases in lexicon(lang)["objects"].items():
            if kind in _MASKED:
                out += [(p, kind) for p in phrases]
    out.sort(key=lambda pk: -len(pk[0]))
    return [(re.compile(re.escape(p) if _CJK_RUN.search(p) else rf"\b{re.escape(p)}\b"), k) for p, k in out]


@lru_cache(maxsize=1)
def _filler() -> frozenset[str]:
    """Words (and Chinese characters) that say nothing about what is asked: ``filler_words``."""
    return frozenset(p for lang in ("en", "zh") for p in lexicon(lang).get("filler_words", []))


def features(text: str, after: str | None = None) -> Counter[str]:
    """The sentence as counted features: words, each word's letter trigrams (with its edges),
    Chinese characters and character pairs, the kinds of objects named (music, title, original
    sound: their words are not compared), a number's presence and the previous turn's topic."""
    t = re.sub(r"\d+(?:\.\d+)?", " 0 ", normalise(text))
    f: Counter[str] = Counter()
    for rx, kind in _object_phrases():
        t, n = rx.subn(" | ", t)
        if n:
            f["o:" + kind] += n
    filler = _filler()
    for w in re.findall(r"[a-z']+", t):
        w = w.strip("'")
        if not w or w in filler:
            continue  # "please", "the", "my": said in every kind of sentence, evidence of none
        if len(w) >= 2:
            f["w:" + w] += 1
        edged = f"<{w}>"
        for i in range(len(edged) - 2):
            f["c:" + edged[i : i + 3]] += 1
    for run in _CJK_RUN.findall(t):
        for i, ch in enumerate(run):
            if ch not in filler:
                f["z:" + ch] += 1
            if i + 1 < len(run):
                f["zz:" + run[i : i + 2]] += 1
    f.update("n:" + m for m in re.findall(r"0|%|:", t))
    if after:
        f["@" + after] += 1
    return f


def _labelled() -> list[tuple[str, str | None, str]]:
    """(text, after, class): the examples file, then the lexicons' single-class phrases."""
    text = resources.files("ab2n.intent").joinpath("lexicon/examples.json").read_text(encoding="utf-8")
    rows: list[tuple[str, str | None, str]] = [(r[0], r[1], r[2]) for r in json.loads(text)["rows"]]
    for lang in ("en", "zh"):
        lx: dict[str, Any] = lexicon(lang)
        for name, phrases in lx["commands"].items():
            rows += [(p, None, name) for p in phrases]
        for table, cls in _PHRASE_CLASSES.items():
            rows += [(p, None, cls) for p in lx.get(table, [])]
        for preset, phrases in {**lx["aspect"], **lx["platforms"]}.items():
            rows += [(p, None, f"aspect_{preset}") for p in phrases]
        rows += [(p, None, "none") for p in lx.get("small_talk", [])]  # what is not an edit at all
    return rows


class _Index:
    """TF-IDF vectors of the labelled sentences, with an inverted index for the cosine."""

    def __init__(self, rows: list[tuple[str, str | None, str]]) -> None:
        self.labels = [cls for _t, _a, cls in rows]
        feats = [features(t, a) for t, a, _c in rows]
        df: Counter[str] = Counter(k for f in feats for k in f)
        n = len(rows)
        self.idf = {k: math.log((1 + n) / (1 + c)) + 1.0 for k, c in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, f in enumerate(feats):
            for k, w in self._vector(f).items():
                self.postings[k].append((i, w))

    def _vector(self, f: Counter[str]) -> dict[str, float]:
        # sublinear counts: "undo undo" is not twice as much undo
        v = {k: (1 + math.log(c)) * self.idf.get(k, 0.0) for k, c in f.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {k: x / norm for k, x in v.items() if x}

    def cosines(self, f: Counter[str]) -> dict[int, float]:
        """Cosine of the sentence with every labelled sentence that shares at least two of its words,
        trigrams or characters with it (one shared character, "个", makes a short phrase look near)."""
        sims: dict[int, float] = defaultdict(float)
        shared: Counter[int] = Counter()
        for k, w in self._vector(f).items():
            for i, x in self.postings.get(k, ()):
                sims[i] += w * x
                shared[i] += k[0] not in "o@"
        return {i: s for i, s in sims.items() if shared[i] >= 2}


@lru_cache(maxsize=1)
def _index() -> _Index:
    return _Index(_labelled())


def rank(sims: dict[int, float], labels: list[str]) -> Guess:
    """The vote of the ``K`` nearest sentences: each class the sum of its sentences' cosines."""
    top = sorted(sims.items(), key=lambda s: -s[1])[:K]
    votes: dict[str, float] = defaultdict(float)
    for i, s in top:
        votes[labels[i]] += s
    ranked = tuple(sorted(votes.items(), key=lambda v: -v[1]))
    return Guess(ranked, top[0][1] if top else 0.0)


def guess(text: str, after: str | None = None) -> Guess:
    """The classes the labelled sentences nearest ``text`` have (see the module docstring)."""
    index = _index()
    return rank(index.cosines(features(text, after)), index.labels)
