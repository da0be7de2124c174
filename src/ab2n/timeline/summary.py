"""The one-line human summary of a draft (SPEC.md):

Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)
"""

from __future__ import annotations

from ab2n.timeline.draft import Draft


def _s(ms: int) -> str:
    sec = ms / 1000
    return f"{sec:.0f}" if abs(sec - round(sec)) < 0.05 else f"{sec:.1f}"


def _span(start_ms: int, dur_ms: int) -> str:
    return f"{_s(start_ms)}-{_s(start_ms + dur_ms)}s"


def summarize(draft: Draft) -> str:
    """The draft in one line."""
    parts: list[str] = []
    if draft.video:
        names = ", ".join(s.name or s.media_id for s in draft.video)
        parts.append(f"Video: {names} ({_span(0, draft.duration_ms)})")
    if draft.music is not None:
        m = draft.music
        label = m.track_title or (", ".join([*m.genres, *m.instruments]) or m.mood or "auto").capitalize()
        if not m.track_title and (m.genres or m.mood):
            label = (" ".join([m.mood or "", *m.genres, *m.instruments]).strip() or "auto").capitalize()
        vol = "auto" if m.volume is None else f"{m.volume * 100:.0f}%"
        parts.append(f"BGM: {label} ({_span(m.start_ms, m.duration_ms)}, {vol})")
    for t in draft.texts:
        parts.append(f'Title: "{t.text}" ({_span(t.start_ms, t.duration_ms)})')
    extra = []
    if draft.settings.aspect != "source":
        extra.append(f"aspect {draft.settings.aspect}")
    if draft.settings.original_audio == "mute":
        extra.append("original audio muted")
    body = " ".join(f"{i + 1}. {p}" for i, p in enumerate(parts))
    tail = f" [{', '.join(extra)}]" if extra else ""
    return f"Timeline ({len(parts)} tracks): {body}{tail}" if parts else "Timeline (0 tracks): empty"
