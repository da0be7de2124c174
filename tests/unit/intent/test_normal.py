"""Typos, number words and comparatives made regular before a message is read."""

from __future__ import annotations

import pytest

from ab2n.intent.normal import comparatives, correct, normalise


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("musc", "music"), ("muisc", "music"), ("vertcal", "vertical"), ("exprot", "export"), ("happpy", "happy")],
)
def test_one_slip_of_a_lexicon_word_is_mended(typed: str, meant: str) -> None:
    assert correct(typed) == meant


@pytest.mark.parametrize(
    "word",
    [
        "fad",  # shorter than four letters: never touched
        "mute",  # a lexicon word stays itself (not "cute")
        "come",  # the first letter is never the slip ("some")
        "real",  # four letters: no wrong letter allowed ("reel")
        "least",  # a common word the lexicon lists ("last")
        "lowder",  # two lexicon words one slip away (lower, louder): left alone
    ],
)
def test_words_that_are_not_typos_stay(word: str) -> None:
    assert correct(word) == word


def test_ordinary_english_is_left_alone() -> None:
    sentence = "every time we come back the right kind of real power is such a gain"
    assert correct(sentence) == sentence


def test_numbers_in_words_and_chinese_numerals() -> None:
    assert normalise("Fade in over THREE seconds") == "fade in over 3 seconds"
    assert normalise("from ten to twenty-five seconds at thirty percent") == "from 10 to 25 seconds at 30 percent"
    assert normalise("another one") == "another one"  # "one" alone is a word
    assert normalise("9 by 16") == "9:16"
    assert normalise("前十五秒，音量百分之三十五") == "前15秒,音量35%"
    assert normalise("gimme the mp4 pls") == "give me the mp4 please"


def test_comparatives_read_as_wishes() -> None:
    words = ["calm", "happy", "sad", "jazzy"]
    assert comparatives("something calmer and happier", words) == "something calm and happy"
    assert comparatives("sadder, jazzier", words) == "sad, jazzy"
    assert comparatives("softer", ["soft"]) == "softer"  # a lexicon word (quieter) stays
