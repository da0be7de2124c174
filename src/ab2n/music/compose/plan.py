"""The score's plan from the video: a tempo map that puts cuts on beats, sections, accents, ending (pure).

A film composer's first pass, automated:

1. **Anchors.** The music's start, every cut and the video's end. Cuts closer together than one
   beat at the fastest tempo allowed are thinned (the weaker one is let go).
2. **Beats between anchors.** A dynamic programme over the anchors chooses how many beats each gap
   holds and so where each anchor falls in its 4/4 bar: a hit (:func:`strong_cuts`: a clear cut
   beside a held shot, hits a bar apart; a run of quick cuts is a rhythm, its cuts go on beats)
   off a downbeat costs ``HIT_OFF_DOWNBEAT`` plus its strength, a cut that is not a hit may sit up
   to 40 ms before its beat or 15 ms after it where no whole number of beats fits its gap
   (``SLACK_SHIFTS_S``), a tempo step between neighbouring gaps costs its squared log ratio, a
   tempo away from the piece's centre costs its squared log ratio times ``CENTRE_WEIGHT``
   (dear: the piece holds one prevailing tempo and leaves it only to land cuts), a departure that
   goes on from gap to gap on one side of the centre more (``RUN_WEIGHT``), a cut passed over
   (not on a beat) costs its strength plus two, and the end must be a bar line. The piece's centre
   tempo is searched over the style's range and each gap's mean tempo kept within ±``SWING`` of
   it. Where a hit cannot reach its downbeat near the centre, one bar before it may be 2, 3 or 5
   beats long (at ``BAR_CHANGE_COST``, at most one a phrase): ab2n's analyser follows a bar-phase change beat by
   beat (music/beats.py ``bar_positions``), so it hears the new bar lines.
3. **A smooth curve.** Beat lengths are then solved by least squares (scipy sparse KKT): as even as
   possible from beat to beat, each gap's beats summing exactly to the gap, so every anchor stays on
   its beat (or its shift) to the sample and the tempo glides instead of stepping at the cuts.
4. **Sections** from the video's energy (arousal) per bar blended with a slow arc (intro, build,
   peak, outro), on bar lines; **accents** on the strongest cuts that fall on downbeats (a crash, a
   hit; the one entering the peak drops out for a beat first); **space** under speech.
5. **Ending.** The last bar line is the video's end; the final chord is struck one bar before it
   and rings into the last frame.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ab2n.analyze.profile import VideoProfile

#: A cut at least this strong may be a hit the bar lines are written to (as music/arrange.py
#: counts "strong"); which of them are is :func:`strong_cuts`' choice.
STRONG_CUT = 0.3
#: A hit opens or closes a shot at least this long (a held picture), and two hits are at least
#: MIN_HIT_GAP_S apart (about a bar at the styles' fastest tempi: a bar of 4 beats at 132 BPM is
#: 1.8 s). A run of quick cuts is a rhythm, not a row of downbeats: its cuts go on beats, and the
#: cut that starts or ends the run (after or before a held shot) is the hit.
HOLD_S = 1.5
MIN_HIT_GAP_S = 1.8
BEATS_PER_BAR = 4
#: Weight of a tempo step between neighbouring gaps: a 10 % step costs 0.03 of a strong cut off its
#: downbeat. Cheap on purpose: the curve is smoothed afterwards, and on the bench's cut lists librosa
#: and ab2n's tracker still found a beat at every cut with steps this size (a weight of 40 held the
#: tempo steadier but put 0.60 of cuts on downbeats instead of 0.72 at 90-125 BPM).
STEP_WEIGHT = 3.0
#: Weight of a tempo away from the piece's centre, per 4 s of gap (4 % away costs 0.08, 8 % 0.30,
#: 16 % 1.1: a gap moves 8 % only where that saves a changed bar, 16 % where it saves a strong cut
#: off its downbeat). The piece holds one tempo, and librosa hears it: at 1.0 (20 % away cost 0.03)
#: the maps glided over their whole ±16 % and only 0.21-0.66 of each bench piece was within 4 % of
#: its median tempo; librosa's tempo missed the median by more than 4 % on 19 of 40 bench plans
#: rendered as bare clicks (the music aside), on 14 of 24 rendered beds. At 50: 0.58 of the time
#: within 4 %, 2 of 40 click tracks and 0 of 24 beds off by more than 4 %; strong cuts planned on
#: downbeats 0.87 -> 0.82, the rest by changed bars (2.4 -> 3.2 a minute).
CENTRE_WEIGHT = 50.0
#: Weight of a departure from the centre that goes on: a gap off the centre on the same side as
#: the gap before it pays the product of their log deviations (two 10 % gaps in a row: 0.009 x
#: RUN_WEIGHT), in full for a gap of up to RUN_BEATS beats and by RUN_BEATS / beats for a longer
#: one. So a run of quick cuts can't walk the tempo off for bars on end, while a gap off for one
#: cut, gaps that swing either side of the centre, or a long gap's glide pay nothing more.
#: Why: librosa's tracker keeps one period and loses its phase over a stretch off it (a tuning
#: video with cuts 0.4-1.2 s apart: librosa's beats 0.15-0.19 s off two cuts after 4 s at 8-13 %
#: under the median). Rendered beds of the 8 tuning videos' cut lists (no speech), librosa's beats
#: on cuts, mean 0.861 -> 0.880, hits on downbeats heard blind 0.685 -> 0.685, librosa's tempo off
#: the map 0.019 -> 0.015. Per beat (x beats, not capped) at 60: 0.889 / 0.719, and at 150 per
#: gap uncapped 0.889 / 0.710, but both pushed the 4/4-only plans of the 1.5-8 s lists under 0.6
#: of hits on downbeats (tests/unit/test_compose_plan.py): long gaps off the centre land hits.
RUN_WEIGHT = 150.0
RUN_BEATS = 2
#: Smoothing of the beat lengths: larger keeps each gap closer to its own even tempo.
EVEN_WEIGHT = 0.05
ON_BEAT_TOL_S = 0.05


@dataclass(frozen=True)
class ScoreSection:
    """A stretch of the score on bar lines.

    Attributes:
        name: "intro", "build", "peak", "verse" or "outro".
        start_bar, end_bar: Bar indices (end exclusive; bar 0 is the first whole bar).
        start_s, end_s: The same in music time.
        level: 0..1 dynamics (how full and loud the arrangement is).
    """

    name: str
    start_bar: int
    end_bar: int
    start_s: float
    end_s: float
    level: float


@dataclass(frozen=True)
class Accent:
    """A hit written to a cut: ``kind`` is "crash", "hit" or "drop" (a beat of silence, then a crash)."""

    time_s: float
    bar: int
    kind: str
    strength: float


@dataclass(frozen=True, eq=False)
class ScorePlan:
    """The plan a composition is written to (all times in music seconds, 0 = music start).

    Attributes:
        seed: Seed of every random choice (the same plan and seed, the same piece).
        style, mood: What the music is ("lo-fi", "acoustic", ...) and the mood it was asked for.
        tonic, mode: Key: pitch class 0-11 (0 = C) and "major" or "minor".
        duration_s: Length of the music (its last bar line).
        beats_s: Every beat before the end, smooth tempo; ``phase`` is the bar position of beat 0
            (0 = it is a downbeat; 3 = a one-beat pickup).
        tempo_bpm: Median tempo of the map.
        sections, accents: See the classes.
        speech: Spans where someone speaks (the arrangement thins out there).
        bar_levels: Dynamics per bar (0..1), aligned with ``downbeats_s``.
        cuts_on_beat, cuts_on_downbeat, cuts_total: Video cuts within 50 ms of a beat / downbeat.
        bar_lengths: The bars that are not ``beats_per_bar`` long, as (bar index, beats): a 2/4,
            3/4 or 5/4 bar that puts a strong cut on a downbeat (empty: every bar is whole).
    """

    seed: int
    style: str
    mood: str
    tonic: int
    mode: str
    duration_s: float
    beats_s: tuple[float, ...]
    phase: int
    tempo_bpm: float
    sections: tuple[ScoreSection, ...] = ()
    accents: tuple[Accent, ...] = ()
    speech: tuple[tuple[float, float], ...] = ()
    bar_levels: tuple[float, ...] = ()
    cuts_on_beat: int = 0
    cuts_on_downbeat: int = 0
    cuts_total: int = 0
    beats_per_bar: int = BEATS_PER_BAR
    tempo_range: tuple[float, float] = (0.0, 0.0)
    bar_lengths: tuple[tuple[int, int], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def bar_starts(self) -> list[int]:
        """Index in ``beats_s`` of every bar's first beat (the bars of ``bar_lengths`` counted at their length)."""
        return bar_starts(len(self.beats_s), self.first_bar_beat, self.beats_per_bar, self.bar_lengths)

    @property
    def downbeats_s(self) -> list[float]:
        """Bar starts (beats at bar position 0)."""
        return [self.beats_s[i] for i in self.bar_starts]

    @property
    def first_bar_beat(self) -> int:
        """Index in ``beats_s`` of the first downbeat."""
        return (-self.phase) % self.beats_per_bar

    def tempo_map(self) -> list[dict[str, float]]:
        """Tempo per bar: ``[{"bar_s": start, "bpm": tempo}]`` (beats of the bar averaged)."""
        out = []
        downs = self.downbeats_s
        for i, d in enumerate(downs):
            nxt = downs[i + 1] if i + 1 < len(downs) else self.duration_s
            k = sum(1 for t in self.beats_s if d <= t < nxt)
            if k:
                out.append({"bar_s": round(d, 4), "bpm": round(60.0 * k / (nxt - d), 2)})
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (stored as the ``score`` of the draft's music plan)."""
        r = lambda x: round(float(x), 4)  # noqa: E731
        return {
            "seed": self.seed,
            "style": self.style,
            "mood": self.mood,
            "tonic": self.tonic,
            "mode": self.mode,
            "duration_s": r(self.duration_s),
            "beats_s": [r(b) for b in self.beats_s],
            "phase": self.phase,
            "beats_per_bar": self.beats_per_bar,
            "bar_lengths": [[b, k] for b, k in self.bar_lengths],
            "tempo_bpm": round(self.tempo_bpm, 2),
            "tempo_range": [round(x, 1) for x in self.tempo_range],
            "tempo_map": self.tempo_map(),
            "sections": [
                {
                    "name": s.name,
                    "start_bar": s.start_bar,
                    "end_bar": s.end_bar,
                    "start_s": r(s.start_s),
                    "end_s": r(s.end_s),
                    "level": round(s.level, 3),
                }
                for s in self.sections
            ],
            "accents": [
                {"time_s": r(a.time_s), "bar": a.bar, "kind": a.kind, "strength": round(a.strength, 3)}
                for a in self.accents
            ],
            "speech": [[r(a), r(b)] for a, b in self.speech],
            "bar_levels": [round(x, 3) for x in self.bar_levels],
            "cuts_on_beat": self.cuts_on_beat,
            "cuts_on_downbeat": self.cuts_on_downbeat,
            "cuts_total": self.cuts_total,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ScorePlan:
        """Inverse of :meth:`to_json`."""
        return cls(
            seed=int(d["seed"]),
            style=str(d["style"]),
            mood=str(d.get("mood", "")),
            tonic=int(d["tonic"]) % 12,
            mode=str(d.get("mode", "major")),
            duration_s=float(d["duration_s"]),
            beats_s=tuple(float(b) for b in d["beats_s"]),
            phase=int(d.get("phase", 0)),
            tempo_bpm=float(d.get("tempo_bpm", 0.0)),
            sections=tuple(
                ScoreSection(
                    str(s["name"]),
                    int(s["start_bar"]),
                    int(s["end_bar"]),
                    float(s["start_s"]),
                    float(s["end_s"]),
                    float(s["level"]),
                )
                for s in d.get("sections", [])
            ),
            accents=tuple(
                Accent(float(a["time_s"]), int(a["bar"]), str(a["kind"]), float(a.get("strength", 1.0)))
                for a in d.get("accents", [])
            ),
            speech=tuple((float(a), float(b)) for a, b in d.get("speech", [])),
            bar_levels=tuple(float(x) for x in d.get("bar_levels", [])),
            cuts_on_beat=int(d.get("cuts_on_beat", 0)),
            cuts_on_downbeat=int(d.get("cuts_on_downbeat", 0)),
            cuts_total=int(d.get("cuts_total", 0)),
            beats_per_bar=int(d.get("beats_per_bar", BEATS_PER_BAR)),
            tempo_range=tuple(float(x) for x in d.get("tempo_range", (0.0, 0.0)))[:2],  # type: ignore[arg-type]
            bar_lengths=tuple((int(b), int(k)) for b, k in d["bar_lengths"])
            if "bar_lengths" in d
            else _bar_lengths_from_marks(d),
        )


def _bar_lengths_from_marks(d: dict[str, Any]) -> tuple[tuple[int, int], ...]:
    """The changed bars of a score stored without ``bar_lengths`` (a 4/4 draft from before them:
    none; a score whose field a client dropped: read back from its marks). Every changed bar ends
    on a strong cut on its downbeat (an accent) or on the end, and the accents and sections record
    bar and time, so the beats between two marks, less four a bar, is the length of the bar
    before the later mark."""
    beats = np.asarray([float(b) for b in d.get("beats_s", [])])
    meter = int(d.get("beats_per_bar", BEATS_PER_BAR))
    if not len(beats) or meter != BEATS_PER_BAR:
        return ()
    first = (-int(d.get("phase", 0))) % meter
    marks = {0: first}
    for a in d.get("accents", []):
        marks[int(a["bar"])] = int(np.argmin(np.abs(beats - float(a["time_s"]))))
    for sec in d.get("sections", []):
        marks[int(sec["start_bar"])] = int(np.argmin(np.abs(beats - float(sec["start_s"]))))
    if d.get("sections"):
        marks[int(d["sections"][-1]["end_bar"])] = len(beats)
    out: list[tuple[int, int]] = []
    ordered = sorted(marks.items())
    for (b0, i0), (b1, i1) in itertools.pairwise(ordered):
        extra = (i1 - i0) - meter * (b1 - b0)
        if extra and b1 > b0 and 1 <= meter + extra <= 12:
            out.append((b1 - 1, meter + extra))
    return tuple(out)


def bar_starts(n_beats: int, first: int, meter: int, bar_lengths: Sequence[tuple[int, int]] = ()) -> list[int]:
    """Beat indices of the bar lines: from ``first``, ``meter`` beats a bar except the bars listed."""
    lens = dict(bar_lengths)
    out: list[int] = []
    i, bar = first, 0
    while i < n_beats:
        out.append(i)
        i += max(1, lens.get(bar, meter))
        bar += 1
    return out


def strong_cuts(cuts: Sequence[tuple[float, float]], duration_s: float | None = None) -> list[bool]:
    """Which cuts are hits (the plan puts them on downbeats; the others on beats), from the
    picture alone: a clear cut (strength >= STRONG_CUT) that opens or closes a shot of at least
    HOLD_S, and of two such cuts closer than MIN_HIT_GAP_S the one beside the longer shot (then
    the stronger, then the earlier) stays a hit. ``cuts`` are (time_s, strength) in time order;
    the shot after the last cut ends at ``duration_s`` (None: it counts as held)."""
    times = [t for t, _ in cuts]
    n = len(times)
    if not n:
        return []
    bounds = [0.0, *times, duration_s if duration_s is not None else math.inf]
    hold = [max(bounds[i + 1] - bounds[i], bounds[i + 2] - bounds[i + 1]) for i in range(n)]
    cand = [i for i in range(n) if cuts[i][1] >= STRONG_CUT and hold[i] >= HOLD_S]
    kept: list[int] = []
    for i in sorted(cand, key=lambda i: (-min(hold[i], 8.0), -cuts[i][1], times[i])):
        if all(abs(times[i] - times[j]) >= MIN_HIT_GAP_S for j in kept):
            kept.append(i)
    mask = [False] * n
    for i in kept:
        mask[i] = True
    return mask


@dataclass(frozen=True)
class _Anchor:
    time_s: float
    strength: float  # 0 for the start; the end is marked by ``end``
    end: bool = False
    strong: bool = False  # a hit (strong_cuts): wants a downbeat


def _anchors(cuts: Sequence[tuple[float, float]], duration_s: float, min_gap_s: float) -> list[_Anchor]:
    """Start, cuts and end, each cut marked a hit or not (:func:`strong_cuts`); of two cuts closer
    than ``min_gap_s`` (or a cut that close to the start or the end) the weaker is let go (a hit
    before a cut that is not)."""
    ordered = sorted(cuts)
    hits = strong_cuts(ordered, duration_s)
    kept: list[_Anchor] = [_Anchor(0.0, 0.0)]
    for (t, s), hit in zip(ordered, hits, strict=True):
        if not min_gap_s <= t <= duration_s - min_gap_s:
            continue
        if t - kept[-1].time_s < min_gap_s:
            if len(kept) > 1 and (hit, s) > (kept[-1].strong, kept[-1].strength):
                kept[-1] = _Anchor(t, s, strong=hit)
            continue
        kept.append(_Anchor(t, s, strong=hit))
    while len(kept) > 1 and duration_s - kept[-1].time_s < min_gap_s:
        kept.pop()
    kept.append(_Anchor(duration_s, 1.0, end=True))
    return kept


#: Cuts a gap may pass over (each let go costs its strength plus SKIP_EXTRA: it is on no planned beat).
LOOKAHEAD = 4
#: Three: letting a cut go stays dearer than a hit off its downbeat (0.5 + strength) by more than
#: it was when that cost the strength alone (two); at one, letting a cut go was as cheap as putting two others on their
#: downbeats, and the plans did.
SKIP_EXTRA = 3.0
#: How far the tempo may swing around the piece's own centre (±16 %). ab2n's analyser tracks one
#: tempo with some drift: at ±22 % (the whole style range) it dropped or added beats where the
#: tempo was far from its own, and every later bar line moved (blind downbeats 0.0-0.5 where the
#: plan had 0.8-1.0); at ±16 % it heard the plan's downbeats on 6 of 6 pieces tried (±12 %: the
#: same, but the plans reached 0.05-0.1 fewer downbeats).
SWING = 0.16
#: Beyond the swing, a gap may go this much further (never outside the style's range) at
#: STRETCH_COST a gap: only where that lands a strong cut on its downbeat. With the swing itself
#: at ±22 % the plans used the edges to save a little smoothness cost too, and the analyser lost
#: beats there (bench seed 1, lo-fi: blind downbeats 0.55 of 0.73 planned). At 0.6 a gap, seed 1's
#: plans stay as they were and seed 2's reach 0.71 of cuts on downbeats instead of 0.64 (lo-fi,
#: ambient, piano), heard so blind; at 0.4 seed 1's moved to the edges for nothing.
STRETCH = 0.06
STRETCH_COST = 0.6

#: A changed bar (2, 3 or 5 beats) ending on a cut costs this: only where it lands a strong cut
#: (strength >= STRONG_CUT, 1.0 on the bench's lists) on its downbeat that the tempo range
#: could not. At most one per phrase: PHRASE_BEATS whole beats between two of them.
BAR_CHANGE_COST = 0.5
BAR_CHANGES = (2, 3, 5)
PHRASE_BEATS = 12

#: Where a cut that is not a hit may sit off its beat (seconds; the beat early, or a little late)
#: when no whole number of beats fits its gap: the tempo window's holes (at 109 BPM a gap of
#: 0.67-0.9 s is neither one beat nor two) shrink by the tolerance of a listener, who hears a beat
#: 40 ms before a cut, or 15 ms after it, as on it. Lopsided because librosa's beats sit ~30 ms
#: after the onsets (0.027-0.040 s median on the tuning videos; ab2n's analyser within 6 ms).
#: Hits and the end stay exact; a shift costs SLACK_COST.
SLACK_SHIFTS_S = (0.0, -0.04, 0.015)
#: A hit off its downbeat costs this plus its strength (was the strength alone, when every clear
#: cut was a hit). Plans of the tuning videos put 0.69 of hits on downbeats at 0 and 0.5, 0.71 at
#: 1.0, but at 1.0 the bench's 60 s video's lo-fi map held its median within 4 % only 0.35 of the
#: time (0.56 at 0.5) and librosa heard 101 BPM for 92 (lo-fi, ambient and piano).
HIT_OFF_DOWNBEAT = 0.5
SLACK_COST = 0.3

#: (anchor index, bar position after it, tempo of the gap into it, beats since the last changed
#: bar ended capped at PHRASE_BEATS, index in SLACK_SHIFTS_S of the anchor's shift)
_State = tuple[int, int, float, int, int]
#: How a gap was taken: (beats, length of a changed bar ending on its anchor or 0, the shift index)
_Step = tuple[int, int, int]


def _gap_counts(g: float, lo: float, hi: float) -> list[int]:
    return list(range(max(1, math.ceil(g * lo / 60 - 1e-9)), math.floor(g * hi / 60 + 1e-9) + 1))


def _beat_counts(
    anchors: list[_Anchor],
    lo: float,
    hi: float,
    centre: float,
    inner: tuple[float, float] = (0.0, math.inf),
    changes: Sequence[int] = (),
) -> tuple[list[tuple[int, int, int, float]], int, float]:
    """The dynamic programme of step 2 over the anchors, passing over at most LOOKAHEAD cuts at a
    time: the gaps taken as (anchor index, beats, length of a changed bar ending on the anchor or
    0, the anchor's shift in seconds), the bar position of the start, and the cost. A gap's tempo
    is within [lo, hi]; outside ``inner`` it costs STRETCH_COST more. ``changes``: the bar lengths
    allowed besides 4."""
    m = BEATS_PER_BAR
    best: dict[_State, tuple[float, _State | None, _Step]] = {
        (0, p, 0.0, PHRASE_BEATS, 0): (0.02 * (p != 0), None, (0, 0, 0)) for p in range(m)
    }
    by_anchor: dict[int, list[_State]] = {0: list(best)}
    last = len(anchors) - 1
    for j in range(last):
        for state in by_anchor.get(j, []):
            cost0, _, _ = best[state]
            _, p, prev_t, since, sh0 = state
            skipped = 0.0
            for jj in range(j + 1, min(last, j + 1 + LOOKAHEAD) + 1):
                target = anchors[jj]
                shifts = (0,) if target.end or target.strong else range(len(SLACK_SHIFTS_S))
                for sh in shifts:
                    g = target.time_s + SLACK_SHIFTS_S[sh] - anchors[j].time_s - SLACK_SHIFTS_S[sh0]
                    counts = _gap_counts(g, lo, hi)
                    if sh and _gap_counts(target.time_s - anchors[j].time_s - SLACK_SHIFTS_S[sh0], lo, hi):
                        continue  # a shift only where no whole number of beats fits the gap as it is
                    for k in counts:
                        t = 60 * k / g
                        c = cost0 + skipped + CENTRE_WEIGHT * math.log(t / centre) ** 2 * (g / 4.0)
                        c += STRETCH_COST * (not inner[0] <= t <= inner[1]) + SLACK_COST * (sh != 0)
                        if prev_t:
                            c += STEP_WEIGHT * math.log(t / prev_t) ** 2
                            # A departure that goes on: this gap off the centre on the same side
                            # as the one before it (the beat drifts from the prevailing grid).
                            run = max(0.0, math.log(t / centre) * math.log(prev_t / centre))
                            c += RUN_WEIGHT * run * min(1.0, RUN_BEATS / k)
                        tk = round(t * 2) / 2  # tempi within 0.25 BPM share a state
                        # 0: bars of four; else a bar of that many beats ends on the anchor (its
                        # first beat a downbeat inside the gap, the phrase clear of the last one).
                        for bl in (0, *changes):
                            if bl and (k < bl or (p + k - bl) % m or since + k - bl < PHRASE_BEATS):
                                continue
                            if bl and not (target.end or target.strong):
                                continue
                            q = 0 if bl else (p + k) % m
                            if target.end and q != 0:
                                continue
                            cc = c + BAR_CHANGE_COST * (bl != 0)
                            if not target.end and q != 0 and target.strong:
                                cc += HIT_OFF_DOWNBEAT + target.strength
                            key = (jj, q, tk, 0 if bl else min(PHRASE_BEATS, since + k), sh)
                            if cc < best.get(key, (math.inf, None, (0, 0, 0)))[0]:
                                if key not in best:
                                    by_anchor.setdefault(jj, []).append(key)
                                best[key] = (cc, state, (k, bl, sh))
                if not target.end:
                    skipped += target.strength + SKIP_EXTRA
    ends = by_anchor.get(last, [])
    if not ends:
        raise ValueError("no tempo map fits")
    at = min(ends, key=lambda st: best[st][0])
    cost = best[at][0]
    gaps: list[tuple[int, int, int, float]] = []
    while True:
        _, back, (k, bl, sh) = best[at]
        if back is None:
            break
        gaps.append((at[0], k, bl, SLACK_SHIFTS_S[sh]))
        at = back
    return gaps[::-1], at[1], cost


def _smooth_beats(anchors: list[_Anchor], counts: list[int], lo: float, hi: float) -> np.ndarray:
    """Beat times (step 3): each gap's beats sum to the gap, beat lengths as even as they can be."""
    from scipy.sparse import bmat, csr_matrix, diags, identity
    from scipy.sparse.linalg import spsolve

    n = sum(counts)
    gaps = np.array([b.time_s - a.time_s for a, b in itertools.pairwise(anchors)])
    mean = np.repeat(gaps / np.asarray(counts), counts)
    if n < 3:
        return np.concatenate([[0.0], np.cumsum(mean)])
    d = diags([np.ones(n - 1), -np.ones(n - 1)], [0, 1], shape=(n - 1, n))
    q = (d.T @ d + EVEN_WEIGHT * identity(n)).tocsr()
    rows = np.repeat(np.arange(len(counts)), counts)
    a = csr_matrix((np.ones(n), (rows, np.arange(n))), shape=(len(counts), n))
    kkt = bmat([[2 * q, a.T], [a, None]]).tocsc()
    rhs = np.concatenate([2 * EVEN_WEIGHT * mean, gaps])
    ibi = np.asarray(spsolve(kkt, rhs))[:n]
    # The glide must stay a tempo (positive, within 5 % of the range): else keep each gap even.
    if not np.all(np.isfinite(ibi)) or ibi.min() < 60 / (hi * 1.05) or ibi.max() > 60 / (lo * 0.95):
        ibi = mean
    return np.concatenate([[0.0], np.cumsum(ibi)])


def tempo_map_bars(
    cuts: Sequence[tuple[float, float]],
    duration_s: float,
    tempo_range: tuple[float, float],
    *,
    swing: float = SWING,
    stretch: float = STRETCH,
    changes: Sequence[int] = (),
) -> tuple[np.ndarray, int, list[tuple[int, int]]]:
    """Beat times (the last one is ``duration_s``, a bar line), the bar position of beat 0 and the
    changed bars as (index of their first beat, beats); ``changes`` are the lengths allowed.

    The piece's own centre is searched over the style's range (every ~3 %), its tempo allowed to
    swing ±SWING around it; the cheapest plan wins, a centre near the style's a little preferred.

    Args:
        cuts: (time_s, strength) of the video's cuts, music time.
        duration_s: Length of the music.
        tempo_range: (lowest, highest) BPM the style allows.
        swing: How far the tempo may move from the piece's centre (a ratio, default SWING).
        stretch: How much further a gap may go at STRETCH_COST (a ratio, default STRETCH).
    """
    lo, hi = tempo_range
    style_centre = math.sqrt(lo * hi)
    anchors = _anchors(cuts, duration_s, min_gap_s=60.0 / hi)
    a, b = lo * (1 + swing), hi / (1 + swing)
    centres = np.geomspace(a, b, max(1, round(math.log(b / a) / 0.03)) + 1) if b > a else np.array([style_centre])
    best: tuple[float, list[tuple[int, int, int, float]], int, float] | None = None
    for c in centres:
        inner = (c / (1 + swing), c * (1 + swing))
        outer = (max(lo, c / (1 + swing + stretch)), min(hi, c * (1 + swing + stretch)))
        try:
            gaps, phase, cost = _beat_counts(anchors, *outer, float(c), inner, changes)
        except ValueError:
            continue
        cost += 0.5 * math.log(c / style_centre) ** 2
        if best is None or cost < best[0]:
            best = (cost, gaps, phase, float(c))
    if best is None:  # no window fits (a very short piece): the whole range
        gaps, phase, _ = _beat_counts(anchors, lo * 0.8, hi * 1.2, style_centre, changes=changes)
        best = (0.0, gaps, phase, style_centre)
    _, gaps, phase, centre = best
    used = [anchors[0], *(_Anchor(anchors[j].time_s + d, anchors[j].strength) for j, _, _, d in gaps)]
    beats = _smooth_beats(
        used, [k for _, k, _, _ in gaps], centre / (1 + swing + stretch), centre * (1 + swing + stretch)
    )
    beats[-1] = duration_s
    ends = np.cumsum([k for _, k, _, _ in gaps])
    changed = [(int(e) - bl, bl) for e, (_, _, bl, _) in zip(ends, gaps, strict=True) if bl]
    return beats, phase, changed


def _bar_energy(profile: VideoProfile, downbeats: Sequence[float], duration_s: float, offset_s: float) -> np.ndarray:
    """Energy per bar, 0..1: the video's arousal (rescaled to its own range) blended with an arc
    rising to ~70 % of the piece and falling to the end, so a flat video still gets a shape."""
    n = len(downbeats)
    if n == 0:
        return np.zeros(0)
    bounds = [*downbeats, duration_s]
    ar = np.asarray(profile.arousal, float)
    if len(ar):
        vals = [
            float(ar[min(len(ar) - 1, int(a + offset_s)) : max(int(a + offset_s) + 1, int(b + offset_s))].mean())
            for a, b in itertools.pairwise(bounds)
        ]
        v = np.asarray(vals)
        span = float(v.max() - v.min())
        video = (v - v.min()) / span if span > 0.15 else np.full(n, 0.5) + (v - v.mean())
    else:
        video = np.full(n, 0.5)
    x = (np.arange(n) + 0.5) / n
    arc = np.where(x < 0.7, 0.25 + 0.75 * x / 0.7, 1.0 - 1.5 * (x - 0.7))
    e = 0.55 * np.clip(video, 0, 1) + 0.45 * arc
    return np.clip(np.convolve(np.pad(e, 1, mode="edge"), np.ones(3) / 3, mode="valid"), 0, 1)


def _sections(energy: np.ndarray, downbeats: Sequence[float], duration_s: float) -> list[ScoreSection]:
    """Intro (first bars), outro (the final bar or two), and between them stretches of two or more
    bars at a level: the top third of energy is the peak, rising stretches build."""
    n = len(energy)
    if n == 0:
        return []
    bounds = [*downbeats, duration_s]
    intro = min(2 if n >= 8 else 1, max(0, n - 2))
    outro = 2 if n >= 10 else 1 if n >= 3 else 0
    hi = float(np.quantile(energy[intro : n - outro], 0.66)) if n - outro > intro else 1.0
    names: list[str] = []
    for i in range(n):
        if i < intro:
            names.append("intro")
        elif i >= n - outro:
            names.append("outro")
        elif energy[i] >= hi:
            names.append("peak")
        else:
            names.append("build" if i + 1 < n and energy[min(n - 1, i + 2)] > energy[i] + 0.03 else "verse")
    # Stretches of at least two bars: a lone bar joins its left neighbour.
    for i in range(1, n - 1):
        if names[i] != names[i - 1] and names[i] != names[i + 1] and names[i] not in ("intro", "outro"):
            names[i] = names[i - 1] if names[i - 1] not in ("intro",) else names[i + 1]
    out: list[ScoreSection] = []
    start = 0
    for i in range(1, n + 1):
        if i == n or names[i] != names[start]:
            level = float(energy[start:i].mean())
            out.append(ScoreSection(names[start], start, i, float(bounds[start]), float(bounds[i]), level))
            start = i
    return out


def _accents(
    cuts: Sequence[tuple[float, float]], downbeats: Sequence[float], sections: Sequence[ScoreSection]
) -> list[Accent]:
    """A crash on the strongest cuts that fall on downbeats (at most one per two bars, the top
    third by strength, every section start that is a cut), a hit on the other landed strong ones,
    and a drop-out before the cut that opens the first peak."""
    down = np.asarray(downbeats, float)
    landed = []
    for t, s in cuts:
        if s < STRONG_CUT or not len(down):
            continue
        i = int(np.argmin(np.abs(down - t)))
        if abs(down[i] - t) <= ON_BEAT_TOL_S and i > 0:
            landed.append((float(down[i]), i, s))
    if not landed:
        return []
    strengths = sorted((s for _, _, s in landed), reverse=True)
    top = strengths[max(0, len(strengths) // 3 - 1)]
    starts = {s.start_bar for s in sections}
    peak_bar = next((s.start_bar for s in sections if s.name == "peak"), -1)
    out: list[Accent] = []
    last_crash = -10
    for t, bar, s in landed:
        if bar == peak_bar:
            out.append(Accent(t, bar, "drop", s))
            last_crash = bar
        elif (s >= top or bar in starts) and bar - last_crash >= 2:
            out.append(Accent(t, bar, "crash", s))
            last_crash = bar
        else:
            out.append(Accent(t, bar, "hit", s))
    return out


def count_on(marks: Sequence[float], cuts: Sequence[float], tol: float = ON_BEAT_TOL_S) -> int:
    """How many cuts have a mark within ``tol``."""
    arr = np.asarray(marks, float)
    return int(sum(1 for c in cuts if len(arr) and float(np.min(np.abs(arr - c))) <= tol))


def plan_score(
    profile: VideoProfile,
    *,
    duration_s: float,
    style: str,
    mood: str,
    tonic: int,
    mode: str,
    tempo_range: tuple[float, float],
    seed: int = 0,
    start_s: float = 0.0,
    swing: float = SWING,
    stretch: float = STRETCH,
    bar_changes: Sequence[int] = BAR_CHANGES,
) -> ScorePlan:
    """The score's plan for the music over ``[start_s, start_s + duration_s)`` of the profile's timeline.

    Args:
        profile: The timeline's profile (cuts, speech, arousal).
        duration_s: Length of the music; its last bar line.
        style, mood, tonic, mode: What to write (see music/compose/style.py).
        tempo_range: (lowest, highest) BPM.
        seed: Recorded for the composer (the plan itself has no random choice).
        start_s: Where the music starts on the timeline.
        swing, stretch: How far the tempo may move around the piece's centre (see :func:`tempo_map_bars`).
        bar_changes: Bar lengths (beats) allowed besides 4 where a strong cut needs one (none: 4/4).
    """
    cuts = sorted((c.time_s - start_s, c.strength) for c in profile.cuts if 0 < c.time_s - start_s < duration_s)
    beats, phase, changed = tempo_map_bars(
        cuts, duration_s, tempo_range, swing=swing, stretch=stretch, changes=bar_changes
    )
    body = tuple(float(b) for b in beats[:-1])
    bar_lengths = _bar_lengths(len(body), phase, changed)
    downs = [body[i] for i in bar_starts(len(body), (-phase) % BEATS_PER_BAR, BEATS_PER_BAR, bar_lengths)]
    energy = _bar_energy(profile, downs, duration_s, start_s)
    sections = _sections(energy, downs, duration_s)
    ibi = np.diff(beats)
    speech = tuple(
        (max(0.0, iv.start_s - start_s), min(duration_s, iv.end_s - start_s))
        for iv in profile.speech
        if iv.end_s > start_s and iv.start_s < start_s + duration_s
    )
    cut_times = [t for t, _ in cuts]
    hits = [t for t, hit in zip(cut_times, strong_cuts(cuts, duration_s), strict=True) if hit]
    return ScorePlan(
        seed=seed,
        style=style,
        mood=mood,
        tonic=tonic % 12,
        mode=mode,
        duration_s=duration_s,
        beats_s=body,
        phase=phase,
        tempo_bpm=float(60.0 / np.median(ibi)) if len(ibi) else 0.0,
        sections=tuple(sections),
        accents=tuple(_accents(cuts, downs, sections)),
        speech=speech,
        bar_levels=tuple(float(x) for x in energy),
        cuts_on_beat=count_on(body, cut_times),
        cuts_on_downbeat=count_on(downs, cut_times),
        cuts_total=len(cut_times),
        tempo_range=tempo_range,
        bar_lengths=tuple(bar_lengths),
        extra={"hits_on_downbeat": count_on(downs, hits), "hits": len(hits)},
    )


def _bar_lengths(n_beats: int, phase: int, changed: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """(bar index, beats) of the changed bars, from their first beats' indices."""
    at = dict(changed)
    out: list[tuple[int, int]] = []
    i, bar = (-phase) % BEATS_PER_BAR, 0
    while i < n_beats:
        k = at.get(i, BEATS_PER_BAR)
        if k != BEATS_PER_BAR:
            out.append((bar, k))
        i += k
        bar += 1
    if len(out) != len(at):
        raise AssertionError("a changed bar off the bar lines")
    return out
