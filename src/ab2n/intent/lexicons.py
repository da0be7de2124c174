"""The per-language word lists (``lexicon/en.json``, ``lexicon/zh.json``) and what one wish word means.

The parser reads sentences with them; the music selection reads single words with them (a mood,
genre, instrument or tempo given as a word, e.g. ``--mood 欢快`` or a client's draft), so every
Chinese word ab2n understands is written once, in the Chinese lexicon.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

#: Tables of the Chinese lexicon whose words name a wish the catalog speaks of in English.
_WISH_TABLES = ("moods", "genres", "instruments", "tempo")


@lru_cache(maxsize=2)
def lexicon(lang: str) -> dict[str, Any]:
    """The lexicon of a language ("en" or "zh")."""
    text = resources.files("ab2n.intent").joinpath(f"lexicon/{lang}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def _wish_words() -> dict[str, str]:
    """Word -> its English key: the Chinese wish tables, then both lexicons' ``wish_aliases``.

    English words map to themselves (the catalog's vocabulary) except the spellings listed in
    ``wish_aliases``; an English synonym table would move words between the selection's own
    mood/genre/tag families. ``wish_aliases`` also holds words that name a wish only when given
    alone (in a sentence, 原声 is the original sound, not acoustic music).
    """
    zh = lexicon("zh")
    words: dict[str, str] = {}
    for table in _WISH_TABLES:
        for key, phrases in zh.get(table, {}).items():
            for p in phrases:
                words.setdefault(p.lower(), key)
    for lang in ("en", "zh"):
        for key, phrases in lexicon(lang).get("wish_aliases", {}).items():
            for p in phrases:
                words[p.lower()] = key
    return words


def canonical_word(word: str) -> str:
    """The English key of a mood/genre/instrument/tempo word ("欢快" -> "happy", "lofi" -> "lo-fi")."""
    w = word.strip().lower()
    return _wish_words().get(w, w)
