"""Title fonts: a Chinese title without a CJK font is a one-line error naming the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from ab2n.errors import Ab2nError, ProcessingError
from ab2n.render.overlay import CJK_FONT_PACKAGE, find_cjk_font, title_font
from ab2n.timeline.draft import TextSegment


def _title(text: str) -> TextSegment:
    return TextSegment(text=text, start_ms=0, duration_ms=2000)


def test_chinese_title_without_cjk_font_names_the_package(tmp_path: Path) -> None:
    # An empty folder stands for a system with no CJK font installed.
    with pytest.raises(ProcessingError) as caught:
        title_font([_title("Lisbon"), _title("城市之梦")], font_dirs=[tmp_path])
    exc = caught.value
    assert isinstance(exc, Ab2nError) and exc.code == 500
    assert CJK_FONT_PACKAGE == "fonts-noto-cjk" and CJK_FONT_PACKAGE in exc.message
    assert "\n" not in exc.message


def test_latin_title_needs_no_cjk_font(tmp_path: Path) -> None:
    assert title_font([_title("Urban Dreams")], font_dirs=[tmp_path]) is None


def test_cjk_font_is_found_in_the_given_folders(tmp_path: Path) -> None:
    font = tmp_path / "opentype" / "noto" / "NotoSansCJK-Bold.ttc"
    font.parent.mkdir(parents=True)
    font.write_bytes(b"")
    assert find_cjk_font([tmp_path / "missing", tmp_path]) == font
    assert title_font([_title("配上欢快的音乐")], font_dirs=[tmp_path]) == font
