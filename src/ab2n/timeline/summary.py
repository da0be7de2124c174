"""The one-line human summary of a draft (SPEC.md):

Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)

and the same in Chinese for a Chinese conversation:
时间线（3 条轨道）：1. 视频：city timelapse（0-10秒） 2. 背景音乐：Lo-fi（0-10秒，35%） 3. 标题：“Urban Dreams”（0-3秒）
"""

from __future__ import annotations

from ab2n.music.compose import COMPOSE
from ab2n.timeline.draft import Draft


def _s(ms: int) -> str:
    sec = ms / 1000
    return f"{sec:.0f}" if abs(sec - round(sec)) < 0.05 else f"{sec:.1f}"


def _span(start_ms: int, dur_ms: int) -> str:
    return f"{_s(start_ms)}-{_s(start_ms + dur_ms)}s"


_WORDS = {
    False: ("Video", "BGM", "Title", "auto", "aspect", "original audio muted", "Timeline", "tracks", "empty"),
    True: ("视频", "背景音乐", "标题", "自动", "画幅", "原声已静音", "时间线", "条轨道", "空"),
}


#: How a composed piece's ending wish reads in the summary (English, Chinese).
_ENDINGS = {
    False: {"build": "building to the end", "settle": "calmer at the end"},
    True: {"build": "结尾渐强", "settle": "结尾舒缓"},
}


def summarize(draft: Draft, *, zh: bool = False) -> str:
    """The draft in one line (in Chinese with ``zh``)."""
    video, bgm, title, auto, aspect, muted, timeline, tracks, empty = _WORDS[zh]
    sec = "秒" if zh else "s"

    def span(a: int, d: int) -> str:
        return _span(a, d)[:-1] + sec

    def brackets(inner: str) -> str:
        return f"（{inner}）" if zh else f" ({inner})"

    parts: list[str] = []
    colon = "：" if zh else ": "
    if draft.video:
        names = ", ".join(s.name or s.media_id for s in draft.video)
        parts.append(f"{video}{colon}{names}{brackets(span(0, draft.duration_ms))}")
    if draft.music is not None:
        m = draft.music
        label = m.track_title or (", ".join([*m.genres, *m.instruments]) or m.mood or auto).capitalize()
        if not m.track_title and (m.genres or m.mood):
            label = (" ".join([m.mood or "", *m.genres, *m.instruments]).strip() or auto).capitalize()
        vol = auto if m.volume is None else f"{m.volume * 100:.0f}%"
        sep = "，" if zh else ", "
        ending = _ENDINGS[zh].get(m.ending or "") if m.source == COMPOSE else None  # shapes composed music only
        details = span(m.start_ms, m.duration_ms) + sep + vol + (sep + ending if ending else "")
        parts.append(f"{bgm}{colon}{label}{brackets(details)}")
    for t in draft.texts:
        quoted = f"“{t.text}”" if zh else f'"{t.text}"'
        parts.append(f"{title}{colon}{quoted}{brackets(span(t.start_ms, t.duration_ms))}")
    extra = []
    if draft.settings.aspect != "source":
        extra.append(f"{aspect} {draft.settings.aspect}")
    if draft.settings.original_audio == "mute":
        extra.append(muted)
    body = " ".join(f"{i + 1}. {p}" for i, p in enumerate(parts))
    tail = f" [{', '.join(extra)}]" if extra else ""
    if zh:
        return f"{timeline}（{len(parts)} {tracks}）：{body}{tail}" if parts else f"{timeline}（0 {tracks}）：{empty}"
    return f"{timeline} ({len(parts)} {tracks}): {body}{tail}" if parts else f"{timeline} (0 {tracks}): {empty}"
