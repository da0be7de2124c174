"""Which file a message addresses, in the words people use (English and Chinese)."""

from __future__ import annotations

import pytest

from ab2n.intent.address import parse_address

NAMES = ["intro.mp4", "beach.mp4", "city_walk.mov"]


@pytest.mark.parametrize(
    ("text", "kind", "index", "rest"),
    [
        ("add calm music to the second video only", "one", 1, "add calm music"),
        ("back to the first video, make the music quieter", "one", 0, "make the music quieter"),
        ("the beach clip: a bit quieter", "one", 1, "a bit quieter"),
        ("the beech clip louder", "one", 1, "louder"),  # a misspelt name
        ("city walk video: epic music", "one", 2, "epic music"),
        ("make beach.mp4 vertical", "one", 1, "make vertical"),
        ("for the last one add a title 'Hi'", "one", 2, "add a title 'Hi'"),
        ("video 3 vertical", "one", 2, "vertical"),
        ("add music to all of them", "all", None, "add music"),
        ("every clip gets calm piano", "all", None, "gets calm piano"),
        ("export all", "all", None, "export all"),
        ("make a montage of all my clips", "montage", None, "make a montage of all my clips"),
        ("this one quieter", "active", None, "quieter"),
        ("add calm music", "active", None, "add calm music"),  # no address: the active file
        ("trim to the first 10 seconds", "active", None, "trim to the first 10 seconds"),
        ("add a title 'the beach clip'", "active", None, "add a title 'the beach clip'"),  # a title, not an address
        ("the fifth video", "active", None, "the fifth video"),  # there are three
        ("给第二个视频配上欢快的音乐", "one", 1, "配上欢快的音乐"),
        ("回到第一个视频，音乐小声一点", "one", 0, "音乐小声一点"),
        ("最后一个视频竖屏", "one", 2, "竖屏"),
        ("每个视频都加上音乐", "all", None, "加上音乐"),
        ("导出全部", "all", None, "导出"),
    ],
)
def test_addresses(text: str, kind: str, index: int | None, rest: str) -> None:
    lang = "zh" if any(ord(c) > 0x2E80 for c in text) else "en"
    a = parse_address(text, NAMES, lang=lang)
    assert (a.kind, a.index, a.text) == (kind, index, rest)


def test_names_with_spaces_and_misspellings() -> None:
    names = ["intro.mp4", "beach.mp4", "city walk.mp4"]
    assert parse_address("the city walk clip: epic music", names).index == 2
    assert parse_address("the citty walk video louder", names).index == 2


def test_a_calm_file_is_not_every_calm_word() -> None:
    assert parse_address("add calm music", ["calm.mp4", "b.mp4"]).kind == "active"
    assert parse_address("the calm clip: louder", ["calm.mp4", "b.mp4"]).index == 0
