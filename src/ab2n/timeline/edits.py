"""Edits: pure functions Draft -> Draft, each with a name and parameters.

An :class:`Edit` is data (``{"op": "set_music_volume", "volume": 0.35}``); :func:`apply_edit`
dispatches it. Any edit that changes what the music should be, or its span, clears the arranged
plan so the pipeline chooses/arranges again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ab2n.errors import InvalidArgument
from ab2n.timeline.draft import ASPECTS, ENDINGS, FITS, Draft, MusicSegment, TextSegment, VideoSegment

POSITIONS = ("top", "center", "bottom")


@dataclass(frozen=True)
class Edit:
    """One edit: an op name and its parameters."""

    op: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"op": ..., **params}``."""
        return {"op": self.op, **self.params}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Edit:
        """Inverse of :meth:`to_json`."""
        params = {k: v for k, v in d.items() if k != "op"}
        return cls(str(d["op"]), params)


def _music(draft: Draft) -> MusicSegment:
    if draft.music is None:
        raise InvalidArgument("there is no music yet; say 'add background music' first")
    return draft.music


def _clear_plan(m: MusicSegment, **changes: Any) -> MusicSegment:
    return dataclasses.replace(m, plan=None, track_id=None, track_title=None, **changes)


def wish_music(
    draft: Draft,
    *,
    mood: str | None = None,
    genre: Sequence[str] | str | None = None,
    instruments: Sequence[str] | None = None,
    tempo: str | None = None,
    volume: float | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    source: str | None = None,
    ending: str | None = None,
) -> Draft:
    """Add (or re-wish) background music over the draft or a span of it (the "add_music" edit).

    ``ending``: "build" or "settle", how composed music ends (kept when not said again).
    """
    if ending is not None and ending not in ENDINGS:
        raise InvalidArgument(f"unknown ending {ending!r}; use one of {', '.join(ENDINGS)}")
    d = draft.duration_ms
    # A negative start counts from the end ("the last 5 seconds").
    start = max(0, d + int(start_ms)) if start_ms is not None and start_ms < 0 else max(0, int(start_ms or 0))
    end = min(d, int(end_ms)) if end_ms is not None else d
    if end <= start:
        raise InvalidArgument("the music span is empty")
    genres = (genre,) if isinstance(genre, str) else tuple(genre or ())
    old = draft.music
    m = MusicSegment(
        start_ms=start,
        duration_ms=end - start,
        volume=_check_volume(volume) if volume is not None else (old.volume if old else None),
        fade_in_ms=old.fade_in_ms if old else None,
        fade_out_ms=old.fade_out_ms if old else None,
        mood=mood if mood is not None else (old.mood if old and not genres else None),
        genres=genres or (old.genres if old and mood is None else ()),
        instruments=tuple(instruments or ()) or (old.instruments if old and mood is None and not genres else ()),
        tempo=tempo if tempo is not None else (old.tempo if old else None),
        source=source if source is not None else (old.source if old else None),
        seed=old.seed if old else 0,
        tried=old.tried if old else (),
        ending=ending if ending is not None else (old.ending if old else None),
    )
    if old is not None and old.plan and _same_wishes(old, m):
        m = dataclasses.replace(m, plan=old.plan, track_id=old.track_id, track_title=old.track_title)
    return dataclasses.replace(draft, music=m)


def _same_wishes(a: MusicSegment, b: MusicSegment) -> bool:
    keys = ("start_ms", "duration_ms", "mood", "genres", "instruments", "tempo", "source", "ending")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _check_volume(v: float) -> float:
    v = float(v)
    if not 0 <= v <= 2:
        raise InvalidArgument(f"music volume must be between 0% and 200%, not {v * 100:.0f}%")
    return v


def set_music_volume(draft: Draft, *, volume: float | None = None, delta_db: float | None = None) -> Draft:
    """Set the music level (1.0 = 100 %) or change it by ``delta_db``."""
    m = _music(draft)
    if volume is None and delta_db is None:
        raise InvalidArgument("say a level (35%) or a change (a bit quieter)")
    if volume is None:
        base = m.volume if m.volume is not None else 0.5 if draft.settings.original_audio == "keep" else 1.0
        volume = min(2.0, max(0.0, base * 10 ** (float(delta_db or 0) / 20)))
    return dataclasses.replace(draft, music=dataclasses.replace(m, volume=_check_volume(volume)))


def remove_music(draft: Draft) -> Draft:
    """Take the music out."""
    return dataclasses.replace(draft, music=None)


def replace_music(draft: Draft) -> Draft:
    """Another track with the same wishes: remember the current one as tried and choose again."""
    m = _music(draft)
    tried = m.tried + ((m.track_id,) if m.track_id and m.track_id not in m.tried else ())
    return dataclasses.replace(draft, music=_clear_plan(m, tried=tried, seed=m.seed + 1))


def set_fades(draft: Draft, *, in_ms: int | None = None, out_ms: int | None = None) -> Draft:
    """Music fade-in/fade-out lengths."""
    m = _music(draft)
    for v in (in_ms, out_ms):
        if v is not None and not 0 <= int(v) <= m.duration_ms:
            raise InvalidArgument("a fade must be between 0 and the music's length")
    return dataclasses.replace(
        draft,
        music=dataclasses.replace(
            m,
            fade_in_ms=m.fade_in_ms if in_ms is None else int(in_ms),
            fade_out_ms=m.fade_out_ms if out_ms is None else int(out_ms),
        ),
    )


def add_text(
    draft: Draft,
    *,
    text: str,
    start_ms: int = 0,
    duration_ms: int = 3000,
    position: str = "center",
    size: str = "large",
) -> Draft:
    """Add a title/caption (a negative ``start_ms`` counts from the end: "at the end", "the last 5 s")."""
    if not text.strip():
        raise InvalidArgument("a title needs some text")
    if position not in POSITIONS:
        raise InvalidArgument(f"position must be one of {', '.join(POSITIONS)}")
    dur = max(200, int(duration_ms))
    start = max(0, draft.duration_ms + int(start_ms)) if int(start_ms) < 0 else int(start_ms)
    if draft.duration_ms:
        start = min(start, max(0, draft.duration_ms - 200))
        dur = min(dur, draft.duration_ms - start)
    seg = TextSegment(text.strip(), start, dur, position, size)  # type: ignore[arg-type]
    return dataclasses.replace(draft, texts=(*draft.texts, seg))


def set_text(
    draft: Draft,
    *,
    index: int = -1,
    duration_ms: int | None = None,
    delta_ms: int | None = None,
    start_ms: int | None = None,
    position: str | None = None,
) -> Draft:
    """Change a title already there (-1 = the last one): its length (or by ``delta_ms``), start, place."""
    if not draft.texts:
        raise InvalidArgument("there is no title yet; say 'add a title that says ...' first")
    texts = list(draft.texts)
    try:
        t = texts[int(index)]
    except IndexError:
        raise InvalidArgument(f"there is no title number {index + 1}") from None
    if position is not None and position not in POSITIONS:
        raise InvalidArgument(f"position must be one of {', '.join(POSITIONS)}")
    start = t.start_ms if start_ms is None else max(0, int(start_ms))
    dur = t.duration_ms if duration_ms is None else int(duration_ms)
    dur = max(200, dur + int(delta_ms or 0))
    if draft.duration_ms:
        start = min(start, max(0, draft.duration_ms - 200))
        dur = min(dur, draft.duration_ms - start)
    texts[int(index)] = dataclasses.replace(t, start_ms=start, duration_ms=dur, position=position or t.position)  # type: ignore[arg-type]
    return dataclasses.replace(draft, texts=tuple(texts))


def remove_text(draft: Draft, *, index: int = -1) -> Draft:
    """Remove a title (by position in the list; -1 = the last one)."""
    if not draft.texts:
        raise InvalidArgument("there is no title to remove")
    texts = list(draft.texts)
    try:
        texts.pop(int(index))
    except IndexError:
        raise InvalidArgument(f"there is no title number {index + 1}") from None
    return dataclasses.replace(draft, texts=tuple(texts))


def set_aspect(draft: Draft, *, preset: str, fit: str | None = None) -> Draft:
    """Output shape: source, 1080p, vertical, square, portrait; fit pad (blurred) or crop."""
    if preset not in ASPECTS:
        raise InvalidArgument(f"aspect must be one of {', '.join(ASPECTS)}")
    if fit is not None and fit not in FITS:
        raise InvalidArgument(f"fit must be one of {', '.join(FITS)}")
    s = dataclasses.replace(draft.settings, aspect=preset, fit=fit or draft.settings.fit)
    return dataclasses.replace(draft, settings=s)


def set_original_audio(draft: Draft, *, mode: str) -> Draft:
    """Keep or mute the video's own sound."""
    if mode not in ("keep", "mute"):
        raise InvalidArgument("original audio is keep or mute")
    return dataclasses.replace(draft, settings=dataclasses.replace(draft.settings, original_audio=mode))  # type: ignore[arg-type]


def set_loudness(draft: Draft, *, target_lufs: float) -> Draft:
    """Programme loudness target."""
    if not -40 <= float(target_lufs) <= -5:
        raise InvalidArgument("loudness target must be between -40 and -5 LUFS")
    return dataclasses.replace(draft, settings=dataclasses.replace(draft.settings, target_lufs=float(target_lufs)))


def trim(draft: Draft, *, start_ms: int = 0, end_ms: int | None = None) -> Draft:
    """Keep only [start_ms, end_ms) of the timeline; music and titles follow."""
    d = draft.duration_ms
    end = d if end_ms is None else min(d, int(end_ms))
    start = max(0, int(start_ms))
    if end - start < 200:
        raise InvalidArgument("the trimmed video would be shorter than 0.2 s")
    segs: list[VideoSegment] = []
    for s in sorted(draft.video, key=lambda v: v.start_ms):
        a, b = max(start, s.start_ms), min(end, s.start_ms + s.duration_ms)
        if b > a:
            segs.append(dataclasses.replace(s, start_ms=a - start, duration_ms=b - a, in_ms=s.in_ms + a - s.start_ms))
    texts = tuple(
        dataclasses.replace(
            t,
            start_ms=max(0, t.start_ms - start),
            duration_ms=min(t.start_ms + t.duration_ms, end) - max(t.start_ms, start),
        )
        for t in draft.texts
        if t.start_ms < end and t.start_ms + t.duration_ms > start
    )
    music = draft.music
    if music is not None:
        a, b = max(start, music.start_ms), min(end, music.start_ms + music.duration_ms)
        music = _clear_plan(music, start_ms=a - start, duration_ms=b - a) if b > a else None
    return dataclasses.replace(draft, video=tuple(segs), texts=texts, music=music)


def snap_montage_to_beats(draft: Draft, downbeats_s: Sequence[float], media: Mapping[str, Any] | None = None) -> Draft:
    """Move montage joins onto the nearest downbeats (each segment stays >= 1 s and within its source)."""
    if len(draft.video) < 2 or not downbeats_s:
        return draft
    segs = sorted(draft.video, key=lambda s: s.start_ms)
    beats_ms = [round(b * 1000) for b in downbeats_s]
    out: list[VideoSegment] = []
    t = 0
    for i, s in enumerate(segs):
        natural_end = t + s.duration_ms
        if i == len(segs) - 1:
            end = natural_end
        else:
            info = media.get(s.media_id) if media else None
            # A clip can only be shortened (its source ends); a photo can be held longer.
            limit = t + round(info.duration_s * 1000) - s.in_ms if info is not None and info.kind == "video" else None
            cands = [b for b in beats_ms if b - t >= 1000 and (limit is None or b <= limit)]
            end = min(cands, key=lambda b: abs(b - natural_end)) if cands else natural_end
        out.append(dataclasses.replace(s, start_ms=t, duration_ms=max(1000, end - t)))
        t += max(1000, end - t)
    return dataclasses.replace(draft, video=tuple(out))


_OPS: dict[str, Callable[..., Draft]] = {
    "add_music": wish_music,
    "set_music_volume": set_music_volume,
    "remove_music": remove_music,
    "replace_music": replace_music,
    "set_fades": set_fades,
    "add_text": add_text,
    "set_text": set_text,
    "remove_text": remove_text,
    "set_aspect": set_aspect,
    "set_original_audio": set_original_audio,
    "set_loudness": set_loudness,
    "trim": trim,
}


#: Edits of the music that, said to a timeline without music, mean "add music, then do this".
_NEEDS_MUSIC = ("set_music_volume", "set_fades", "replace_music")


def apply_said_edit(draft: Draft, edit: Edit) -> Draft:
    """Apply an edit a person said: "a bit quieter" with no music yet first adds an automatic bed.

    The chat (service and terminal) and ``--prompt`` use this; :func:`apply_edit` stays strict.
    """
    if edit.op in _NEEDS_MUSIC and draft.music is None:
        draft = apply_edit(draft, Edit("add_music", {}))
    return apply_edit(draft, edit)


def apply_edit(draft: Draft, edit: Edit) -> Draft:
    """Apply one edit by name.

    Raises:
        InvalidArgument: Unknown op or bad parameters.
    """
    fn = _OPS.get(edit.op)
    if fn is None:
        raise InvalidArgument(f"unknown edit {edit.op!r}")
    try:
        return fn(draft, **edit.params)
    except TypeError as exc:
        raise InvalidArgument(f"bad parameters for {edit.op}: {exc}") from None


__all__ = [
    "Edit",
    "add_text",
    "apply_edit",
    "apply_said_edit",
    "remove_music",
    "remove_text",
    "replace_music",
    "set_aspect",
    "set_fades",
    "set_loudness",
    "set_music_volume",
    "set_original_audio",
    "set_text",
    "snap_montage_to_beats",
    "trim",
    "wish_music",
]
