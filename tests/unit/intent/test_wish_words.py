"""Single wish words (a mood, genre, instrument or tempo given alone) read through the lexicons."""

from __future__ import annotations

import pytest

from ab2n.intent.lexicons import canonical_word
from ab2n.timeline.draft import AUTO_MOOD, wished_mood

#: Words the music selection has always understood alone, and what they mean.
KNOWN = {
    "欢快": "happy",
    "快乐": "happy",
    "开心": "happy",
    "安静": "calm",
    "平静": "calm",
    "舒缓": "calm",
    "浪漫": "romantic",
    "怀旧": "nostalgic",
    "动感": "energetic",
    "激昂": "energetic",
    "史诗": "epic",
    "温柔": "tender",
    "伤感": "sad",
    "钢琴": "piano",
    "吉他": "guitar",
    "电子": "electronic",
    "原声": "acoustic",
    "lofi": "lo-fi",
    "lo fi": "lo-fi",
    "低保真": "lo-fi",
    "更慢": "slower",
    "更快": "faster",
    "慢": "slow",
    "快": "fast",
}


@pytest.mark.parametrize(("word", "key"), KNOWN.items())
def test_known_words(word: str, key: str) -> None:
    assert canonical_word(word) == key
    assert canonical_word(f" {word.upper()} ") == key


def test_english_words_are_the_catalogs_own() -> None:
    # An English synonym would move a word between the selection's families (ambient is a genre
    # that implies calm there, edm one that implies energetic): English words stay as they are.
    for word in ("ambient", "edm", "calm", "Piano", "120", "faster"):
        assert canonical_word(word) == word.lower()


def test_every_chinese_mood_word_of_the_parser_is_understood_alone() -> None:
    from ab2n.intent.lexicons import lexicon

    for key, phrases in lexicon("zh")["moods"].items():
        for p in phrases:
            assert canonical_word(p) == key


def test_auto_is_no_mood() -> None:
    assert wished_mood(AUTO_MOOD) is None and wished_mood(None) is None and wished_mood("") is None
    assert wished_mood("calm") == "calm"
    assert wished_mood(canonical_word("符合视频")) is None
