"""Titles as ASS subtitles, burned in with libass (the ``subtitles`` filter).

Why ASS: libass shapes text with HarfBuzz and falls back through fontconfig, so Chinese titles
render as glyphs when a CJK font is present; fades (``\\fad``) and outlines come for free.
A CJK-capable font is looked for in the usual system folders (Debian: fonts-noto-cjk); without
one, Latin titles still render, and a CJK title is refused with a one-line error naming the package
(libass would otherwise draw boxes for every character).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ab2n.errors import ProcessingError
from ab2n.timeline.draft import TextSegment

FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".fonts",
    Path.home() / ".local/share/fonts",
    Path("/System/Library/Fonts"),
    Path("/Library/Fonts"),
)
CJK_FONT_FILES = (
    "NotoSansCJK-Bold.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Bold.otf",
    "NotoSansSC-Bold.otf",
    "wqy-zenhei.ttc",
    "PingFang.ttc",
    "DroidSansFallbackFull.ttf",
)
CJK_FONT_NAME = "Noto Sans CJK SC"
FALLBACK_FONT_NAME = "DejaVu Sans"


#: Where the error sends people: the Debian/Ubuntu package with the font ``find_cjk_font`` prefers.
CJK_FONT_PACKAGE = "fonts-noto-cjk"


def find_cjk_font(font_dirs: Sequence[Path] = FONT_DIRS) -> Path | None:
    """A font file covering Chinese in ``font_dirs``, or None."""
    for root in font_dirs:
        if not root.is_dir():
            continue
        for name in CJK_FONT_FILES:
            hits = sorted(root.rglob(name))
            if hits:
                return hits[0]
    return None


def needs_cjk_font(texts: Sequence[TextSegment]) -> bool:
    """Whether any title has CJK (or other East Asian) characters, which Latin fonts lack."""
    return any(ord(ch) > 0x2E80 for t in texts for ch in t.text)


def title_font(texts: Sequence[TextSegment], font_dirs: Sequence[Path] = FONT_DIRS) -> Path | None:
    """The CJK font file to burn these titles with, or None when there is none and none is needed.

    Args:
        texts: The draft's titles.
        font_dirs: Folders to search (the system's by default).

    Raises:
        ProcessingError: A title has CJK characters and no CJK font is installed.
    """
    font = find_cjk_font(font_dirs)
    if font is None and needs_cjk_font(texts):
        raise ProcessingError(
            f"no CJK font to draw the title's Chinese characters: install {CJK_FONT_PACKAGE} "
            f"(Debian/Ubuntu: apt-get install {CJK_FONT_PACKAGE})"
        )
    return font


def _ass_time(ms: int) -> str:
    cs = max(0, ms) // 10
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def _escape(text: str) -> str:
    # ASS override blocks start with "{"; a literal newline is "\N".
    return text.replace("\\", "\\\\").replace("{", "(").replace("}", ")").replace("\n", "\\N")


def build_ass(texts: Sequence[TextSegment], width: int, height: int, *, font_name: str) -> str:
    """The ASS document for the titles, in the output's pixel space."""
    sizes = {"small": 0.045, "medium": 0.065, "large": 0.09}
    align = {"top": 8, "center": 5, "bottom": 2}
    margin_v = round(height * 0.07)
    styles = []
    for size_name, frac in sizes.items():
        fs = max(12, round(min(width, height) * frac * (1.0 if width >= height else 1.2)))
        outline = max(2, round(fs * 0.06))
        styles.append(
            f"Style: {size_name},{font_name},{fs},&H00FFFFFF,&H00FFFFFF,&H00101010,&H64000000,"
            f"-1,0,0,0,100,100,0,0,1,{outline},{max(1, outline // 2)},5,40,40,{margin_v},1"
        )
    events = []
    for t in texts:
        events.append(
            f"Dialogue: 0,{_ass_time(t.start_ms)},{_ass_time(t.start_ms + t.duration_ms)},{t.size},,0,0,0,,"
            f"{{\\an{align.get(t.position, 5)}\\fad(300,300)}}{_escape(t.text)}"
        )
    return "\n".join(
        [
            "[Script Info]",
            "ScriptType: v4.00+",
            f"PlayResX: {width}",
            f"PlayResY: {height}",
            "WrapStyle: 0",
            "ScaledBorderAndShadow: yes",
            "",
            "[V4+ Styles]",
            "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
            "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
            "Alignment, MarginL, MarginR, MarginV, Encoding",
            *styles,
            "",
            "[Events]",
            "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
            *events,
            "",
        ]
    )


def filter_path(p: Path) -> str:
    """Escape a path for use inside an FFmpeg filter argument."""
    return str(p).replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'").replace(",", "\\,")
