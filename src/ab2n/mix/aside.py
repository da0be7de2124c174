"""Where the original already has music, the added music steps aside (pure).

Two songs at once is the mix's worst failure: a clip filmed at a concert, or a screen recording
with a song, had the added track 10.6 dB over its own music. Where the original's audio classes
(analyze/audio_classes.py) say music, the bed goes ``ASIDE_DB`` down (out, in effect) with slow
ramps, unless the original is muted (then the added music is all there is).
"""

from __future__ import annotations

from collections.abc import Sequence

from ab2n.analyze.audio_classes import music_regions

ASIDE_DB = 40.0  # the bed under the original's own music: out, in effect (>= 15 dB asked)
ASIDE_RAMP_S = 1.0  # slow enough to sound like a choice, not a duck


def aside_regions(audio_classes: Sequence[str], *, start_s: float, end_s: float) -> list[tuple[float, float]]:
    """Programme spans inside the music's span where the original is music."""
    out = []
    for a, b in music_regions(audio_classes):
        a, b = max(a, start_s), min(b, end_s)
        if b > a:
            out.append((a, b))
    return out


def _clock(t_s: float) -> str:
    s = round(t_s)
    return f"{s // 60}:{s % 60:02d}"


def aside_note(regions: Sequence[tuple[float, float]], *, zh: bool = False) -> str | None:
    """What was done, for ``--json`` notes and the chat ("your clip already has music ...")."""
    if not regions:
        return None
    spans = ", ".join(f"{_clock(a)} to {_clock(b)}" for a, b in regions)
    if zh:
        spans_zh = "、".join(f"{_clock(a)}–{_clock(b)}" for a, b in regions)
        return f"你的视频在 {spans_zh} 已经有音乐，所以那里不再叠加背景音乐（想换成新音乐，请把原声静音）。"
    return (
        f"your clip already has music from {spans}, so the added music stays out there "
        "(mute the original audio to hear the new music instead)"
    )
