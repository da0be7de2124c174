"""Output presets: named frame sizes, and the pure size computation for a source."""

from __future__ import annotations

from ab2n.errors import InvalidArgument

#: Named output sizes (SPEC.md platform sizes). "source" keeps the source's shape.
PRESETS: dict[str, tuple[int, int] | None] = {
    "source": None,
    "1080p": (1920, 1080),
    "vertical": (1080, 1920),
    "square": (1080, 1080),
    "portrait": (1080, 1350),
}
MAX_LANDSCAPE = (1920, 1080)
MAX_PORTRAIT = (1080, 1920)


def _even(x: float) -> int:
    return max(2, round(x / 2) * 2)


def output_size(preset: str, src_w: int, src_h: int) -> tuple[int, int]:
    """Frame size for ``preset`` given a source's display size.

    "source" fits the source inside 1920x1080 (landscape) or 1080x1920 (portrait), keeping its
    aspect, never upscaling, with even dimensions (H.264 4:2:0 needs them).

    Raises:
        InvalidArgument: Unknown preset.
    """
    if preset not in PRESETS:
        raise InvalidArgument(f"unknown preset {preset!r}; use one of {', '.join(PRESETS)}")
    fixed = PRESETS[preset]
    if fixed is not None:
        return fixed
    if src_w <= 0 or src_h <= 0:
        return MAX_LANDSCAPE
    box_w, box_h = MAX_PORTRAIT if src_h > src_w else MAX_LANDSCAPE
    scale = min(1.0, box_w / src_w, box_h / src_h)
    return _even(src_w * scale), _even(src_h * scale)
