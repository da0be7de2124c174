"""The profile of a timeline: per-media analysis mapped onto the draft's time axis (pure).

A montage's joins are cuts too (the strongest kind), and a trimmed clip only brings the cuts and
speech inside its kept span.
"""

from __future__ import annotations

from collections.abc import Mapping

from ab2n.analyze.profile import Cut, Interval, VideoProfile
from ab2n.timeline.draft import Draft


def timeline_profile(draft: Draft, profiles: Mapping[str, VideoProfile]) -> VideoProfile:
    """One VideoProfile on the draft's timeline.

    Args:
        draft: The timeline.
        profiles: Profile per media id (as analysed on the whole source).
    """
    cuts: list[Cut] = []
    speech: list[Interval] = []
    valence: list[float] = []
    arousal: list[float] = []
    classes: list[str] = []
    fps = 0.0
    moods: dict[str, float] = {}
    for idx, seg in enumerate(sorted(draft.video, key=lambda s: s.start_ms)):
        prof = profiles.get(seg.media_id)
        t0, src0 = seg.start_ms / 1000, seg.in_ms / 1000
        src1 = src0 + seg.duration_ms / 1000
        if idx > 0:
            cuts.append(Cut(t0, round(t0 * (fps or 30)), 1.0))
        if prof is None:
            classes += ["silence"] * max(1, round(seg.duration_ms / 1000))
            continue
        fps = fps or prof.fps
        for c in prof.cuts:
            if src0 < c.time_s < src1:
                cuts.append(Cut(t0 + c.time_s - src0, round((t0 + c.time_s - src0) * (prof.fps or 30)), c.strength))
        for iv in prof.speech:
            a, b = max(src0, iv.start_s), min(src1, iv.end_s)
            if b > a:
                speech.append(Interval(t0 + a - src0, t0 + b - src0))
        s0, s1 = int(src0), max(int(src0) + 1, round(src1))
        valence += (prof.valence[s0:s1] or prof.valence[-1:] or [0.0]) if prof.valence else []
        arousal += (prof.arousal[s0:s1] or prof.arousal[-1:] or [0.0]) if prof.arousal else []
        if prof.audio_classes:
            got = list(prof.audio_classes[s0:s1])
            classes += got + [got[-1] if got else prof.audio_classes[-1]] * (s1 - s0 - len(got))
        else:
            classes += ["silence"] * (s1 - s0)
        weight = seg.duration_ms / max(1, draft.duration_ms)
        for m, v in prof.mood_scores.items():
            moods[m] = moods.get(m, 0.0) + weight * v
    only = [profiles[s.media_id] for s in draft.video if s.media_id in profiles]
    single = len(draft.video) == 1 and only and draft.video[0].in_ms == 0
    mood = only[0].mood if single else (max(moods, key=lambda m: moods[m]) if moods else "calm")
    return VideoProfile(
        duration_s=draft.duration_ms / 1000,
        fps=fps,
        cuts=tuple(sorted(cuts, key=lambda c: c.time_s)),
        speech=tuple(speech),
        sections=only[0].sections if single else (),
        features=only[0].features if single else {},
        valence=valence,
        arousal=arousal,
        mood=mood,
        mood_scores=moods or (only[0].mood_scores if only else {}),
        audio_classes=tuple(classes) if any(p.audio_classes for p in only) else (),
    )
