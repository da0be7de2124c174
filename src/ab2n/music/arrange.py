"""Remix a track into a MusicPlan that fits the video: beats on cuts, ending with the video.

How it works (a music editor's moves, automated):
1. The track is a sequence of source beats. The *body* is the track up to its final phrase
   (``TrackAnalysis.ending_s``); the *tail* is that final phrase, so the music really ends.
2. We walk the body beat by beat. Between two strong cuts of the video we play a whole number of
   beats, time-stretched by at most ±MAX_STRETCH (10 %) (pitch kept) so that the cut lands exactly on a beat —
   preferring a count that puts the cut on a downbeat. A cut that no count can reach within that
   is let go (the next interval is longer and easier).
3. When the walk reaches the end of the body it jumps back to an earlier downbeat whose bar sounds
   most like the bar it replaces (chroma + energy), phrase-aligned, with a short equal-power
   crossfade — rotating among the best few targets so a long video doesn't loop the same bars.
   The seam's audibility (``music/seams.py``) can weigh in on the loops and on the entry into the
   ending phrase (``SEAM_COST``, ``LOOP_LEAVE_BARS``); measured, it cost landings, so it is off.
4. The tail is placed so the track's last note ends at the video's end (trimmed with a short fade
   if it would overrun), cut at the beats that land the cuts inside it into pieces stretched
   apart; the walk enters it on its downbeat, dropping the rest of a bar if need be.
   A recording that stops at full level (a loop, an excerpt: about half of the bundled library)
   has no ending to use, so its last bar fades instead.
5. A video the track can cover in one go (a short) may instead get one stretch of the track,
   placed and stretched to land the most cuts; whichever plan lands more is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ab2n.analyze.profile import VideoProfile
from ab2n.music.beats import TrackAnalysis
from ab2n.music.catalog import Track
from ab2n.music.ramp import output_grid, ramp_tempo
from ab2n.music.seams import SeamCosts

#: Largest stretch of a run between landed cuts. At 4 % no plan could pass ~0.78 of cuts on a beat
#: at 110 BPM; at 8 % ab2n's analyser run blind on the bed heard 0.48 of cuts on a downbeat, at 10 %
#: 0.60 (bench.cut_to_beat, 8 cut lists) while the largest beat-to-beat tempo change librosa hears
#: went from 0.06 to 0.07 (at 12 %: 0.11). Steps between runs are spread over ramps (music/ramp.py).
MAX_STRETCH = 0.10
STRONG_CUT = 0.3
JUMP_XFADE_S = 0.06
JOIN_XFADE_S = 0.012
ON_BEAT_TOL_S = 0.05
# A landing may miss its cut by this much, inside the 50 ms that counts as on the beat (15 ms landed
# 0.02 fewer cuts on an independent tracker's beats in bench.cut_to_beat: 0.68 against 0.70).
AIM_TOL_S = 0.03
#: Landing a cut on a downbeat is worth one more cut on a beat. 1.5-3 put 0.58-0.60 of cuts on the
#: plan's downbeats (0.56) and the blind downbeats at 0.49-0.51 (0.49/0.48), but librosa's on-beat
#: share fell under 0.80 on the bench lists (0.796-0.799 against 0.814; docs/music-engine.md).
DOWNBEAT_BONUS = 1.0
#: What a run's stretch costs in the search, per unit of |stretch - 1| (a landed cut is worth 1).
STRETCH_COST = 1.0
DROP_COST = 0.5
#: What landing a cut on a beat no other plausible reading shares is worth, against 1 on a beat they
#: all share (``beat_certainty``); above 0 so a track where no beat is sure still lands its cuts.
UNSURE_WORTH = 0.2  # dropping the rest of a bar to enter the ending phrase on its downbeat
#: What a jump's audibility costs in the search, per unit of ``music/seams.py``'s score (1: the
#: seam departs from the music as much as one of its beats changes the sound; a landed cut is
#: worth 1-2), and how many bars before the end of the body a loop may leave it (each bar skipped
#: costing LEAVE_EARLY_COST). Off: measured on all 28 bundled tracks (bench.cut_to_beat, bench and
#: held-out lists, analyser v9), 0.5 with loops leaving up to 2 bars early made the jumps quieter
#: (bench's seam score 1.32/1.46 -> 1.21/1.15, worst 6.2/8.8 -> 4.6/3.4) but librosa heard fewer
#: cuts on its beats (0.81/0.84 -> 0.79/0.81; the 8 best-ranked lists 0.91 -> 0.88) and the blind
#: downbeats fell (0.49/0.48 -> 0.43/0.48); 0.5 with loops leaving only at the end changed the
#: seams by nothing measurable and lost landings too (docs/music-engine.md, "Seams").
SEAM_COST = 0.0
LOOP_LEAVE_BARS = 0
LEAVE_EARLY_COST = 0.1


@dataclass(frozen=True)
class BarSegment:
    """A run of whole bars of a source track placed on the output timeline.

    Attributes:
        src_path: Source audio file.
        src_start_s, src_end_s: Span in the source (both on the beat grid).
        dst_start_s: Where it starts in the output (music timeline, 0 = music start).
        stretch: Tempo ratio applied (1.0 = none; 1.02 = 2 % faster), pitch kept; within
            ±MAX_STRETCH (a ramp's pieces up to ±(MAX_STRETCH + RAMP_OVERSHOOT), music/ramp.py).
        crossfade_s: Equal-power crossfade with the previous segment (0 for the first).
        fade_out_s: Fade at the end of this segment (a song of a medley ending before the next).
    """

    src_path: Path
    src_start_s: float
    src_end_s: float
    dst_start_s: float
    stretch: float = 1.0
    crossfade_s: float = 0.0
    fade_out_s: float = 0.0

    @property
    def dst_end_s(self) -> float:
        """End on the output timeline."""
        return self.dst_start_s + (self.src_end_s - self.src_start_s) / self.stretch


@dataclass(frozen=True)
class MedleySong:
    """One song of a medley: where it starts on the music timeline, and which track it is."""

    start_s: float
    track_id: str
    title: str


@dataclass(frozen=True, eq=False)
class MusicPlan:
    """How the music is built for one video.

    Attributes:
        track_id: The (main) track's id; track_title for people.
        duration_s: Length of the music (equals the span it covers on the video, to the frame).
        segments: Bar segments in output order.
        fade_out_s: Fade on the last tail only (the track's real ending carries the rest).
        beats_s, downbeats_s: The beat grid on the output timeline (for plots and checks).
        cuts_on_beat, cuts_on_downbeat: How many video cuts land within 50 ms of a beat/downbeat.
        cuts_total: Cuts considered.
        mood, tempo_bpm: Of the chosen music.
        songs: For a medley (several tracks one after another), where each song starts on the
            music timeline, its track id and title; empty for one track.
    """

    track_id: str
    track_title: str
    duration_s: float
    segments: tuple[BarSegment, ...]
    fade_out_s: float = 0.0
    beats_s: list[float] = field(default_factory=list)
    downbeats_s: list[float] = field(default_factory=list)
    cuts_on_beat: int = 0
    cuts_on_downbeat: int = 0
    cuts_total: int = 0
    mood: str | None = None
    tempo_bpm: float = 0.0
    songs: tuple[MedleySong, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (stored in the draft's BGM segment)."""
        songs = [{"start_s": round(m.start_s, 4), "track_id": m.track_id, "title": m.title} for m in self.songs]
        return {
            "track_id": self.track_id,
            "track_title": self.track_title,
            "duration_s": round(self.duration_s, 4),
            "segments": [
                {
                    "src": str(s.src_path),
                    "src_start_s": round(s.src_start_s, 4),
                    "src_end_s": round(s.src_end_s, 4),
                    "dst_start_s": round(s.dst_start_s, 4),
                    "stretch": round(s.stretch, 5),
                    "crossfade_s": round(s.crossfade_s, 4),
                    **({"fade_out_s": round(s.fade_out_s, 3)} if s.fade_out_s else {}),
                }
                for s in self.segments
            ],
            "fade_out_s": round(self.fade_out_s, 3),
            "beats_s": [round(b, 4) for b in self.beats_s],
            "downbeats_s": [round(b, 4) for b in self.downbeats_s],
            "cuts_on_beat": self.cuts_on_beat,
            "cuts_on_downbeat": self.cuts_on_downbeat,
            "cuts_total": self.cuts_total,
            "mood": self.mood,
            "tempo_bpm": round(self.tempo_bpm, 2),
            **({"songs": songs} if songs else {}),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MusicPlan:
        """Inverse of :meth:`to_json`."""
        return cls(
            track_id=d["track_id"],
            track_title=d.get("track_title", d["track_id"]),
            duration_s=float(d["duration_s"]),
            segments=tuple(
                BarSegment(
                    src_path=Path(s["src"]),
                    src_start_s=float(s["src_start_s"]),
                    src_end_s=float(s["src_end_s"]),
                    dst_start_s=float(s["dst_start_s"]),
                    stretch=float(s.get("stretch", 1.0)),
                    crossfade_s=float(s.get("crossfade_s", 0.0)),
                    fade_out_s=float(s.get("fade_out_s", 0.0)),
                )
                for s in d["segments"]
            ),
            fade_out_s=float(d.get("fade_out_s", 0.0)),
            beats_s=list(d.get("beats_s", [])),
            downbeats_s=list(d.get("downbeats_s", [])),
            cuts_on_beat=int(d.get("cuts_on_beat", 0)),
            cuts_on_downbeat=int(d.get("cuts_on_downbeat", 0)),
            cuts_total=int(d.get("cuts_total", 0)),
            mood=d.get("mood"),
            tempo_bpm=float(d.get("tempo_bpm", 0.0)),
            songs=tuple(MedleySong(float(m["start_s"]), m["track_id"], m["title"]) for m in d.get("songs", [])),
        )


@dataclass
class _Walk:
    """Mutable state of the beat walk (internal)."""

    beats: list[float]
    down_idx: set[int]
    loop_end: int  # beat index where the body ends (a downbeat)
    targets: list[tuple[int, int]]  # loops, best first: (downbeat left, earlier downbeat entered)
    k: int  # current source beat index
    jumps: int = 0

    def step(self) -> tuple[int, int]:
        """Advance one beat: returns (beat played, next beat index). The walk takes its loops in
        turn; one whose bar it is already past is taken at the end of the body."""
        cur = self.k
        nxt = cur + 1
        leave, enter = self.targets[self.jumps % len(self.targets)] if self.targets else (self.loop_end,) * 2
        if nxt == leave or nxt >= self.loop_end:
            nxt = enter
            self.jumps += 1
        self.k = nxt
        return cur, nxt

    def beat_len(self, i: int) -> float:
        return self.beats[i + 1] - self.beats[i]

    def peek(self, n: int) -> tuple[float, list[tuple[int, int]]]:
        """Source seconds and the beats of the next ``n`` steps, without moving the walk."""
        saved = (self.k, self.jumps)
        steps = [self.step() for _ in range(n)]
        self.k, self.jumps = saved
        return sum(self.beat_len(cur) for cur, _ in steps), steps


def plan_music(
    track: Track,
    analysis: TrackAnalysis,
    profile: VideoProfile,
    *,
    duration_s: float,
    start_s: float = 0.0,
    enter_on_downbeat: bool = False,
) -> MusicPlan:
    """Arrange ``track`` to last exactly ``duration_s`` with the video's strong cuts on beats.

    Args:
        track: The chosen track.
        analysis: Its analysis.
        profile: The video's profile (cuts are in video time).
        duration_s: Length of the music.
        start_s: Where the music starts on the video (cuts are shifted by it).
        enter_on_downbeat: Start on the track's first downbeat exactly at ``start_s``, with no
            pickup before it (a medley's next song, starting on the cut where the last one ended).
    """
    cuts = sorted(c.time_s - start_s for c in profile.cuts if c.strength >= STRONG_CUT)
    cuts = [c for c in cuts if 0 < c < duration_s]
    plan = _walk_plan(
        track, analysis, profile, cuts, duration_s=duration_s, start_s=start_s, enter_on_downbeat=enter_on_downbeat
    )
    end_s = analysis.end_s or analysis.duration_s
    fits_once = bool(analysis.downbeats_s) and duration_s * (1 - MAX_STRETCH) <= end_s - analysis.downbeats_s[0]
    if len(plan.segments) > 1 and fits_once and not enter_on_downbeat:
        # A video the track can cover in one stretch: near the short-plan threshold most of its cuts
        # fall inside the ending phrase, where only the tail's few beats can land them; one placed
        # stretch of the track may land more.
        single = _short_plan(track, analysis, profile, start_s, cuts, duration_s)

        def landed(p: MusicPlan) -> float:
            return p.cuts_on_beat + DOWNBEAT_BONUS * p.cuts_on_downbeat

        if landed(single) > landed(plan):
            return single
    return plan


def _walk_plan(
    track: Track,
    analysis: TrackAnalysis,
    profile: VideoProfile,
    cuts: list[float],
    *,
    duration_s: float,
    start_s: float,
    enter_on_downbeat: bool = False,
) -> MusicPlan:
    """The arrangement of the module docstring: the beat walk, its landings, the anchored tail.
    ``cuts`` are the strong cuts inside the music, in music time."""
    beats = list(analysis.beats_s)
    meter = max(1, analysis.beats_per_bar)
    end_s = analysis.end_s or analysis.duration_s
    if len(beats) < 2 * meter + 2 or duration_s <= 0:
        return _straight_plan(track, analysis, duration_s)
    period = float(np.median(np.diff(beats)))
    down = [i for i, b in enumerate(beats) if any(abs(b - d) < 1e-3 for d in analysis.downbeats_s)]
    if not down:
        down = list(range(0, len(beats), meter))
    first = down[0]
    ending_idx = next((i for i in down if beats[i] >= analysis.ending_s - 1e-3), down[-1])
    tail_s = max(0.0, end_s - beats[ending_idx])
    body_bars = (ending_idx - first) // meter

    if (duration_s < tail_s + 2 * meter * period or body_bars < 2) and not enter_on_downbeat:
        return _short_plan(track, analysis, profile, start_s, cuts, duration_s)
    body_end = duration_s - tail_s  # where the tail should start at stretch 1
    # The tail is anchored at the video's end, in pieces that land the cuts falling inside it.
    tail_idx = [i for i in range(ending_idx, len(beats)) if beats[i] < end_s]
    tail_beats = [beats[i] - beats[ending_idx] for i in tail_idx]
    down_idx = set(down)
    sure = _certainty(analysis)
    tail_options = _tail_options(
        cuts, tail_beats, [i in down_idx for i in tail_idx], tail_s, duration_s, worth=[sure[i] for i in tail_idx]
    )
    latest_tail = max(o.latest for o in tail_options)
    # The walk's sequence of source beats doesn't depend on where the cuts land (it only steps and
    # jumps back at the end of the body), so the beats it will play are known in advance and the
    # choice of landings below uses their real lengths (some tracks swing or drift).
    # The music may start up to a bar before the walk's first downbeat, unless it must start on it.
    max_lead = 0.0 if enter_on_downbeat else meter * period
    start = next((d for d in down if beats[d] >= max_lead - 1e-9 and d < ending_idx - 2 * meter), first)
    seam_cost = SeamCosts(analysis) if SEAM_COST > 0 else None
    targets = _jump_targets(analysis, down, first, ending_idx, meter, seam_cost)
    walk = _Walk(beats=[*beats, end_s], down_idx=down_idx, loop_end=ending_idx, targets=targets, k=start)
    n_ahead = int(latest_tail / (period * (1 - MAX_STRETCH))) + 4 * meter
    lengths, on_down, worth, source = _walk_ahead(walk, n_ahead, sure)
    # Entering the ending phrase after p beats of the walk leaves the source where the p-th beat ends.
    into_tail = (
        np.array([SEAM_COST * seam_cost(int(source[p - 1]) + 1, ending_idx) if p else 0.0 for p in range(len(lengths))])
        if seam_cost is not None
        else None
    )
    lead, hits, chosen = _choose_hits(
        [c for c in cuts if c < latest_tail],
        lengths,
        on_down,
        worth=worth,
        finals=[(o.earliest, o.latest, o.score) for o in tail_options],
        max_lead=max_lead,
        into_tail=into_tail,
    )

    out = _Output(track.path, walk)
    next_xf = _play_lead(out, beats[start], lead)
    next_xf = _play_hits(out, hits, lengths, next_xf)
    if chosen is None:
        # No whole number of beats reaches the tail within the stretch limit: fill to about where it
        # starts, in whole beats, and let the tail overrun (trimmed with a fade) or end a beat early.
        _fill_to(out, body_end, period, meter, next_xf)
    landings = tail_options[chosen].landings if chosen is not None else ()
    marks = [(c, tail_beats[r]) for c, r in landings] + [(duration_s, tail_s)]
    overrun = _place_tail(out, beats[ending_idx], list(zip(tail_idx, tail_beats, strict=True)), marks, duration_s)
    fade = float(min(1.5, max(0.25, overrun + 0.25))) if overrun > 0.05 else 0.1
    fade = _ending_fade(analysis, fade, meter * period)
    segments, out_beats, out_down = tuple(out.segments), out.beats, out.downbeats
    ramped = ramp_tempo(segments, walk.beats, max_stretch=MAX_STRETCH)
    if len(ramped) != len(segments):  # the ramps move the beats inside them
        grid_b, grid_d = output_grid(ramped, walk.beats[:-1], analysis.downbeats_s)
        out_beats = [b for b in grid_b if b < duration_s]
        out_down = [b for b in grid_d if b < duration_s]
    return _finish(track, analysis, profile, start_s, duration_s, ramped, out_beats, out_down, fade)


@dataclass
class _Output:
    """The arrangement as the walk writes it (internal): segments, the output beat grid, the clock.

    Attributes:
        t: Output time of the next beat.
        emitted_t: Output time where the next segment starts.
        pending: Beats of the current run, (index, successor), not yet written as segments.
    """

    path: Path
    walk: _Walk
    segments: list[BarSegment] = field(default_factory=list)
    beats: list[float] = field(default_factory=list)
    downbeats: list[float] = field(default_factory=list)
    t: float = 0.0
    emitted_t: float = 0.0
    pending: list[tuple[int, int]] = field(default_factory=list)

    def emit(self, a: int, b: int, stretch: float, xf: float) -> None:
        """Source beats ``a`` up to ``b`` as one segment at ``emitted_t``."""
        if b <= a:
            return
        w = self.walk
        seg = BarSegment(self.path, w.beats[a], w.beats[b], self.emitted_t, stretch, xf if self.segments else 0.0)
        self.segments.append(seg)
        self.emitted_t = seg.dst_end_s

    def flush(self, stretch: float, xfade_first: float) -> None:
        """Write the pending run at one stretch, split at jumps: each continuous stretch of source
        is one segment."""
        run_start = self.pending[0][0]
        prev_end: int | None = None
        xf = xfade_first
        for cur, nxt in self.pending:
            if prev_end is not None and cur != prev_end:
                self.emit(run_start, prev_end, stretch, xf)
                run_start, xf = cur, JUMP_XFADE_S
            self.beats.append(self.t)
            if cur in self.walk.down_idx:
                self.downbeats.append(self.t)
            self.t += self.walk.beat_len(cur) / stretch
            prev_end = cur + 1
            if nxt != cur + 1:
                self.emit(run_start, cur + 1, stretch, xf)
                run_start, xf, prev_end = nxt, JUMP_XFADE_S, None
        if prev_end is not None:
            self.emit(run_start, prev_end, stretch, xf)
        self.pending.clear()


def _play_lead(out: _Output, first_beat_s: float, lead: float) -> float:
    """The pickup before the walk's first downbeat (``lead`` seconds of source, unstretched).

    Returns:
        The crossfade the next segment starts with.
    """
    if lead <= 1e-3:
        return 0.0
    src0 = max(0.0, first_beat_s - lead)
    out.segments.append(BarSegment(out.path, src0, first_beat_s, lead - (first_beat_s - src0), 1.0, 0.0))
    out.t = out.emitted_t = lead
    return JOIN_XFADE_S


def _play_hits(out: _Output, hits: list[tuple[float, int, int]], lengths: np.ndarray, next_xf: float) -> float:
    """Walk to each chosen landing: ``n`` beats stretched so the cut falls on the next, then the
    ``dropped`` beats skipped (the rest of a bar, to enter the ending phrase on its downbeat)."""
    played = 0  # beats of the walk played so far (an index into ``lengths``)
    for c, n, dropped in hits:
        gap = c - out.t
        src = float(lengths[played + n] - lengths[played])
        played += n + dropped
        stretch = min(1 + MAX_STRETCH, max(1 - MAX_STRETCH, src / gap))
        out.pending.extend(out.walk.step() for _ in range(n))
        out.flush(stretch, next_xf)
        for _ in range(dropped):
            out.walk.step()
        next_xf = JUMP_XFADE_S if dropped else JOIN_XFADE_S
        out.emitted_t = out.t
    return next_xf


def _fill_to(out: _Output, body_end: float, period: float, meter: int, next_xf: float) -> None:
    """Whole beats at stretch 1 up to about ``body_end``, preferring to stop on a downbeat."""
    walk = out.walk
    while True:
        src, steps = walk.peek(1)
        lands_down = steps[0][1] in walk.down_idx
        if out.t + src > body_end + 1e-6 and (lands_down or out.t + src > body_end + meter * period):
            break
        out.pending.append(walk.step())
        if lands_down and body_end - (out.t + sum(walk.beat_len(b) for b, _ in out.pending)) < period * 0.5:
            break
    if out.pending:
        out.flush(1.0, next_xf)


def _place_tail(
    out: _Output,
    ending_s: float,
    tail: list[tuple[int, float]],
    marks: list[tuple[float, float]],
    duration_s: float,
) -> float:
    """The tail, in pieces: from the ending downbeat (``ending_s`` in the source) to each cut it
    lands, then to the end of sound, each piece stretched within ±MAX_STRETCH to reach its mark (the source
    runs on; only the tempo changes at a mark), the last anchored at the video's end and trimmed if
    it overruns.

    Args:
        out: The arrangement so far.
        ending_s: Source time of the ending phrase's downbeat.
        tail: (source beat index, its time from ``ending_s``) of the tail's beats.
        marks: (output time, tail position) to reach, in order; the last is the end of sound.
        duration_s: Length of the music.

    Returns:
        How much the last piece overran the music (seconds; 0 if none).
    """
    pos, overrun = 0.0, 0.0
    xf = JUMP_XFADE_S if out.segments else 0.0
    t = out.t
    for mark_t, mark_pos in marks:
        src, span = mark_pos - pos, mark_t - t
        if src <= 1e-6:
            continue
        if duration_s - t <= 1e-3:
            break
        stretch = min(1 + MAX_STRETCH, max(1 - MAX_STRETCH, src / span)) if span > 1e-6 else 1 + MAX_STRETCH
        end_t, src_end = t + src / stretch, mark_pos
        if end_t > duration_s:
            overrun = end_t - duration_s
            src_end = pos + (duration_s - t) * stretch
        out.segments.append(BarSegment(out.path, ending_s + pos, ending_s + src_end, t, stretch, xf))
        for i, tb in tail:
            bt = t + (tb - pos) / stretch
            if pos - 1e-9 <= tb < mark_pos - 1e-9 and bt < duration_s:
                out.beats.append(bt)
                if i in out.walk.down_idx:
                    out.downbeats.append(bt)
        t, pos, xf = end_t, mark_pos, JOIN_XFADE_S
    out.t = t
    return overrun


def _walk_ahead(walk: _Walk, n: int, sure: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The next ``n`` beats the walk will play: cumulative source seconds (n + 1 values, from 0),
    whether each beat is a downbeat, its certainty (``sure``, per source beat), and the source
    beat each is. The walk itself doesn't move."""
    saved = (walk.k, walk.jumps)
    lengths, on_down, worth, source = [0.0], [], [], []
    for _ in range(n):
        cur, _nxt = walk.step()
        lengths.append(lengths[-1] + walk.beat_len(cur))
        on_down.append(cur in walk.down_idx)
        worth.append(sure[cur] if cur < len(sure) else 1.0)
        source.append(cur)
    walk.k, walk.jumps = saved
    return (
        np.asarray(lengths),
        np.asarray([*on_down, False]),
        np.asarray([*worth, 1.0]),
        np.asarray(source, int),
    )


def _certainty(analysis: TrackAnalysis) -> list[float]:
    """Per source beat, what landing a cut on it is worth (UNSURE_WORTH..1): how surely a listener
    hears a beat there, by the plausible metrical readings that share it (``beat_certainty``; 1
    where the analysis has none)."""
    n = len(analysis.beats_s)
    sure = analysis.beat_certainty if len(analysis.beat_certainty) == n else [1.0] * n
    return [UNSURE_WORTH + (1 - UNSURE_WORTH) * c for c in sure]


def _choose_hits(
    cuts: list[float],
    lengths: np.ndarray,
    on_down: np.ndarray,
    *,
    worth: np.ndarray | None = None,
    finals: Sequence[tuple[float, float, float]] = (),
    max_lead: float = 0.0,
    into_tail: np.ndarray | None = None,
) -> tuple[float, list[tuple[float, int, int]], int | None]:
    """Which cuts to land, and on how many beats each: dynamic programming over (cut, beats played).

    Between two landed cuts we play a whole number of the walk's beats (``lengths`` is their
    cumulative source time) stretched by at most ±MAX_STRETCH, and the beat may fall up to ``AIM_TOL_S``
    off the cut; landing a cut scores 1, on a downbeat ``DOWNBEAT_BONUS`` more. Cuts in between may
    be let go. From the start the music may begin up to ``max_lead`` before its first beat, so the
    first landed cut can take any beat at stretch 1; with ``max_lead`` 0 the start is itself a
    landing (the first beat, at 0 s) and the first cut is reached like any other. Each cut keeps
    its best few states (a beam), so long videos stay linear in the number of cuts.

    ``finals`` are the ways the track's ending phrase can be placed (``_tail_options``): the
    earliest and latest time it may start, and what its own landings score. The walk must reach
    one (the best, if any can be reached) on a downbeat, or arrive mid-bar and drop the rest of that
    bar (``DROP_COST``), since the seam into the tail is a jump anyway. Requiring the downbeat fixed
    the bar phase of every landing by the tail's (metronome at 110 BPM: 0.21 of cuts on a downbeat,
    0.37 with the drop). ``into_tail[p]`` is what the seam into the ending phrase after ``p`` beats
    of the walk costs (its audibility by ``music/seams.py`` times ``SEAM_COST``; 0 where the walk
    arrives at the phrase by itself).

    Returns:
        The lead (seconds of music before the first beat); for each landed cut in order, (cut time,
        beats played since the previous landed cut, beats then dropped), ending with (the time the
        tail starts, beats, dropped) when a final was reached; and the index of that final, or None.
    """
    times = [0.0, *cuts]
    last_beat = len(lengths) - 1
    if worth is None:
        worth = np.ones(len(on_down))
    # best[node][beats played] = (score, (previous node, beats played then), landing time, beats dropped)
    best: list[dict[int, tuple[float, tuple[int, int] | None, float, int]]] = [{} for _ in times]
    best[0][0] = (0.0, None, 0.0, 0)
    lookahead, beam = 8, 12
    for j in range(1, len(times)):
        for i in range(max(0, j - lookahead), j):
            for m, (score0, _, t0, _) in best[i].items():
                for n, stretch, miss, lead in _beat_counts(lengths, m, times[j] - t0, i == 0, max_lead):
                    if miss > AIM_TOL_S:
                        continue
                    score = (
                        score0
                        + worth[m + n] * (1.0 + DOWNBEAT_BONUS * bool(on_down[m + n]))
                        - STRETCH_COST * abs(stretch - 1)
                        - miss / ON_BEAT_TOL_S
                        - (0.1 * lead / max_lead if max_lead else 0.0)
                    )
                    t_landed = times[j] if i == 0 and max_lead > 0 else t0 + (lengths[m + n] - lengths[m]) / stretch
                    key = m + n
                    if key not in best[j] or score > best[j][key][0]:
                        best[j][key] = (score, (i, m), t_landed, 0)
        if len(best[j]) > beam:
            keep = sorted(best[j].items(), key=lambda kv: kv[1][0], reverse=True)[:beam]
            best[j] = dict(keep)
    # Beats from each walk position to the next downbeat (0 on a downbeat): how many a drop skips.
    to_down = np.zeros(len(on_down), int)
    for k in range(len(on_down) - 2, -1, -1):
        to_down[k] = 0 if on_down[k] else to_down[k + 1] + 1
    # The tail: from one of the last few landings before its earliest start, into its window.
    reach: tuple[float, int, tuple[int, int], float, int, int] | None = None  # score, final, state, t, n, drop
    for f, (f_lo, f_hi, bonus) in enumerate(finals):
        before = int(np.searchsorted(times, f_lo))
        for i in range(max(0, before - lookahead), before):
            for m, (score0, _, t0, _) in best[i].items():
                for n, t_land, stretch, lead in _tail_entries(lengths, m, t0, f_lo, f_hi, i == 0, max_lead):
                    if m + n > last_beat:
                        continue
                    drop = int(to_down[m + n]) if (i > 0 or max_lead == 0) else 0
                    if drop == 0 and not on_down[m + n]:
                        continue  # the lead can place the walk's first downbeat anywhere: no drop needed
                    if m + n + drop > last_beat:
                        continue
                    score = (
                        score0
                        + bonus
                        - STRETCH_COST * abs(stretch - 1)
                        - (DROP_COST if drop else 0.0)
                        - (0.1 * lead / max_lead if max_lead else 0.0)
                        - (float(into_tail[m + n]) if into_tail is not None else 0.0)
                    )
                    if reach is None or score > reach[0]:
                        reach = (score, f, (i, m), t_land, n, drop)
    path: list[tuple[float, int, int]] = []
    node: tuple[int, int] | None
    if reach is not None:
        _, chosen, node, t_tail, n, drop = reach
        path.append((t_tail, n, drop))
    else:
        chosen = None
        states = [(k, m) for k in range(1, len(times)) for m in best[k]]
        node = max(states, key=lambda st: best[st[0]][st[1]][0]) if states else None
    while node is not None and node[0] > 0:
        _, prev_state, _, dropped = best[node[0]][node[1]]
        assert prev_state is not None
        path.append((times[node[0]], node[1] - prev_state[1] - dropped, dropped))
        node = prev_state
    path.reverse()
    lead = path[0][0] - float(lengths[path[0][1]]) if path and max_lead > 0 else 0.0
    return max(0.0, lead), path, chosen


def _beat_counts(
    lengths: np.ndarray, m: int, gap: float, from_start: bool, max_lead: float
) -> list[tuple[int, float, float, float]]:
    """Beat counts that can fill ``gap`` seconds from walk position ``m``: (beats, stretch, how far
    the landing misses, lead). From the start with a lead allowed, at stretch 1 with up to
    ``max_lead`` of music before the first beat; otherwise stretched within ±MAX_STRETCH."""
    last_beat = len(lengths) - 1
    if gap <= 0:
        return []
    if from_start and max_lead > 0:
        lo = int(np.searchsorted(lengths, gap - max_lead - 1e-9))
        hi = int(np.searchsorted(lengths, gap + 1e-9, side="right")) - 1
        return [(n, 1.0, 0.0, gap - lengths[n]) for n in range(max(1, lo), min(hi, last_beat) + 1)]
    n0 = int(np.searchsorted(lengths, lengths[m] + gap)) - m
    options = []
    for n in range(max(1, n0 - 2), n0 + 3):
        if m + n > last_beat:
            break
        src = lengths[m + n] - lengths[m]
        landed = min(src / (1 - MAX_STRETCH), max(src / (1 + MAX_STRETCH), gap))
        options.append((n, src / landed, abs(landed - gap), 0.0))
    return options


def _tail_entries(
    lengths: np.ndarray, m: int, t0: float, lo: float, hi: float, from_start: bool, max_lead: float
) -> list[tuple[int, float, float, float]]:
    """Beat counts from walk position ``m`` (reached at ``t0``) that end inside ``[lo, hi]``: (beats,
    time the tail starts, stretch, lead); the stretch as close to 1 as the window allows."""
    last_beat = len(lengths) - 1
    out = []
    if from_start and max_lead > 0:
        first = int(np.searchsorted(lengths, lo - max_lead - 1e-9))
        for n in range(max(1, first), last_beat + 1):
            if lengths[n] > hi:
                break
            t = max(lo, float(lengths[n]))
            out.append((n, t, 1.0, t - float(lengths[n])))
        return out
    first = int(np.searchsorted(lengths, lengths[m] + (lo - t0) * (1 - MAX_STRETCH) - 1e-9))
    for k in range(max(m + 1, first), last_beat + 1):
        src = float(lengths[k] - lengths[m])
        if src > (hi - t0) * (1 + MAX_STRETCH):
            break
        earliest, latest = max(lo, t0 + src / (1 + MAX_STRETCH)), min(hi, t0 + src / (1 - MAX_STRETCH))
        if earliest > latest + 1e-9:
            continue
        t = min(latest, max(earliest, t0 + src))
        out.append((k - m, t, src / (t - t0), 0.0))
    return out


def _landed(marks: np.ndarray, cuts: list[float], tol: float = AIM_TOL_S) -> int:
    """How many cuts have one of ``marks`` (beat times) within ``tol``."""
    if not len(marks):
        return 0
    return sum(float(np.min(np.abs(marks - c))) <= tol for c in cuts)


@dataclass(frozen=True)
class _TailOption:
    """One way to place the ending phrase, anchored so its last note ends with the music.

    Attributes:
        earliest, latest: When it may start (the stretch of its first piece decides).
        score: What its own landings are worth (1 a cut, a downbeat ``DOWNBEAT_BONUS`` more).
        landings: (cut time, index of the tail beat it lands on), in order.
    """

    earliest: float
    latest: float
    score: float
    landings: tuple[tuple[float, int], ...]


def _tail_options(
    cuts: list[float],
    tail_beats: list[float],
    tail_down: list[bool],
    tail_s: float,
    duration_s: float,
    *,
    worth: Sequence[float] | None = None,
) -> list[_TailOption]:
    """The ways to land the cuts that can fall inside the ending phrase: the phrase is cut at the
    beats that land them into pieces, each stretched on its own within ±MAX_STRETCH (the source runs on,
    only the tempo changes), the last ending at ``duration_s``. Dynamic programming from the end
    over (cut, tail beat); the first option lands nothing (the whole phrase at one stretch)."""
    lo_s, hi_s = 1 - MAX_STRETCH, 1 + MAX_STRETCH

    def fits(src: float, out: float) -> bool:
        return src > 0 and src / hi_s - AIM_TOL_S <= out <= src / lo_s + AIM_TOL_S

    inside = [c for c in cuts if duration_s - tail_s / lo_s < c < duration_s]
    # best[(cut, tail beat)] = (score of landing there and after, the landings from there)
    best: dict[tuple[int, int], tuple[float, tuple[tuple[float, int], ...]]] = {}
    for j in reversed(range(len(inside))):
        c = inside[j]
        for r, tb in enumerate(tail_beats):
            onward: list[tuple[float, tuple[tuple[float, int], ...]]] = (
                [(0.0, ())] if fits(tail_s - tb, duration_s - c) else []
            )
            onward += [
                later
                for (j2, r2), later in best.items()
                if j2 > j and r2 > r and fits(tail_beats[r2] - tb, inside[j2] - c)
            ]
            if onward:
                score, rest = max(onward, key=lambda o: o[0])
                value = (worth[r] if worth is not None else 1.0) * (1.0 + DOWNBEAT_BONUS * tail_down[r])
                best[(j, r)] = (value + score, ((c, r), *rest))
    options = [_TailOption(duration_s - tail_s / lo_s, duration_s - tail_s / hi_s, 0.0, ())]
    for (j, r), (score, landings) in best.items():
        c, tb = inside[j], tail_beats[r]
        # Landing on the tail's first beat is landing the tail's start itself (within the aim).
        earliest, latest = (c - AIM_TOL_S, c + AIM_TOL_S) if r == 0 else (c - tb / lo_s, c - tb / hi_s)
        options.append(_TailOption(earliest, latest, score, landings))
    return options


def _jump_targets(
    analysis: TrackAnalysis,
    down: list[int],
    first: int,
    ending_idx: int,
    meter: int,
    seam_cost: SeamCosts | None = None,
    *,
    seam_weight: float = SEAM_COST,
    leave_bars: int = LOOP_LEAVE_BARS,
) -> list[tuple[int, int]]:
    """Loops back, best first, as (downbeat left, earlier downbeat entered): the walk may leave the
    body at its end or up to ``leave_bars`` bars before it, into a bar that sounds like the one it
    replaces (chroma + energy), phrase-aligned, with the jump least audible (``seam_cost``,
    ``seam_weight`` per unit); each bar of the body skipped by leaving early costs LEAVE_EARLY_COST."""
    leaves = [i for i in down if ending_idx - leave_bars * meter <= i <= ending_idx and i > first + 2 * meter]
    if ending_idx not in leaves:
        leaves.append(ending_idx)
    chroma = analysis.bar_chroma
    energy = analysis.bar_energy
    bar_of = {d: j for j, d in enumerate(down)}

    def sim(pair: tuple[int, int]) -> float:
        leave, enter = pair
        ref, j = bar_of.get(leave, len(down) - 1), bar_of.get(enter, 0)
        s = 0.0
        if chroma and j < len(chroma) and ref < len(chroma):
            s += float(np.dot(chroma[j], chroma[ref]))
        if energy and j < len(energy) and ref < len(energy):
            s -= abs(energy[j] - energy[ref])
        phrase = (ref - j) % 4 == 0
        heard = seam_weight * seam_cost(leave, enter) if seam_cost is not None else 0.0
        early = LEAVE_EARLY_COST * (ending_idx - leave) / max(1, meter)
        return s + (0.5 if phrase else 0.0) - heard - early

    pairs = [(leave, i) for leave in leaves for i in down if first <= i <= leave - 2 * meter]
    if not pairs:
        return [(ending_idx, first)]
    return sorted(pairs, key=sim, reverse=True)[:3]


def _short_plan(
    track: Track,
    analysis: TrackAnalysis,
    profile: VideoProfile,
    start_s: float,
    cuts: list[float],
    duration_s: float,
) -> MusicPlan:
    """A video shorter than the track's ending phrase plus two bars (a 5-15 s short): one stretch of
    the track from a downbeat, stretched by at most ±MAX_STRETCH, chosen to land the most cuts on beats
    (downbeats count double) while keeping as much of the track's real ending as it can (each bar
    of ending cut off costs half a landed cut; what is cut off is faded instead)."""
    beats = np.asarray(analysis.beats_s)
    down = np.asarray(analysis.downbeats_s)
    end_s = analysis.end_s or analysis.duration_s
    bar_s = max(1, analysis.beats_per_bar) * analysis.beat_period_s
    best: tuple[float, float, float] | None = None  # (score, source start, stretch)
    for src0 in down:
        for stretch in np.linspace(1 - MAX_STRETCH, 1 + MAX_STRETCH, 17):
            cut_off = end_s - (src0 + duration_s * stretch)
            if cut_off < -1e-6:
                continue  # the music would run out before the video ends
            grid = (beats[beats >= src0 - 1e-6] - src0) / stretch
            bars = (down[down >= src0 - 1e-6] - src0) / stretch
            score = (
                _landed(grid, cuts)
                + DOWNBEAT_BONUS * _landed(bars, cuts)
                - abs(stretch - 1)
                - 0.5 * max(0.0, cut_off) / bar_s
            )
            if best is None or score > best[0]:
                best = (score, float(src0), float(stretch))
    if best is None:  # the whole track is shorter than the video even at +4 %
        best = (0.0, float(down[0]) if len(down) else 0.0, 1.0 + MAX_STRETCH)
    _, src0, stretch = best
    src_end = min(end_s, src0 + duration_s * stretch)
    seg = BarSegment(track.path, src0, src_end, 0.0, stretch, 0.0)
    out_beats = [float(b - src0) / stretch for b in beats if src0 - 1e-6 <= b < src0 + duration_s * stretch]
    out_down = [float(b - src0) / stretch for b in down if src0 - 1e-6 <= b < src0 + duration_s * stretch]
    # Cut off before its own ending: fade about a bar; ending with the track: only a short guard.
    fade = min(2.0, max(0.5, bar_s)) if end_s - src_end > 0.1 else 0.1
    fade = min(duration_s / 3, _ending_fade(analysis, fade, bar_s))
    return _finish(track, analysis, profile, start_s, duration_s, (seg,), out_beats, out_down, fade)


def _ending_fade(analysis: TrackAnalysis, fade: float, bar_s: float) -> float:
    """The fade on the plan's last seconds: ``fade`` when the track rings out by itself; when the
    recording stops at full level (a loop or an excerpt), its last bar, 1.5-3 s, fades instead, so
    the music ends with the video rather than stopping dead."""
    if not analysis.ends_abruptly:
        return fade
    return max(fade, min(3.0, max(1.5, bar_s)))


def _straight_plan(track: Track, analysis: TrackAnalysis, duration_s: float) -> MusicPlan:
    """No usable beat grid (ambient, speech...): the track from its start, faded at the end."""
    seg = BarSegment(track.path, 0.0, min(analysis.duration_s, duration_s), 0.0, 1.0, 0.0)
    return MusicPlan(
        track.id,
        track.title,
        duration_s,
        (seg,),
        min(2.0, duration_s / 4),
        mood=track.mood,
        tempo_bpm=analysis.tempo_bpm,
    )


def _finish(
    track: Track,
    analysis: TrackAnalysis,
    profile: VideoProfile,
    start_s: float,
    duration_s: float,
    segments: tuple[BarSegment, ...],
    out_beats: list[float],
    out_down: list[float],
    fade: float,
) -> MusicPlan:
    on_beat, on_downbeat, total = count_landings(profile, start_s, duration_s, out_beats, out_down)
    return MusicPlan(
        track_id=track.id,
        track_title=track.title,
        duration_s=duration_s,
        segments=segments,
        fade_out_s=round(fade, 3),
        beats_s=[round(b, 4) for b in out_beats],
        downbeats_s=[round(b, 4) for b in out_down],
        cuts_on_beat=on_beat,
        cuts_on_downbeat=on_downbeat,
        cuts_total=total,
        mood=track.mood,
        tempo_bpm=analysis.tempo_bpm,
    )


def count_landings(
    profile: VideoProfile, start_s: float, duration_s: float, beats_s: list[float], downbeats_s: list[float]
) -> tuple[int, int, int]:
    """Cuts of ``profile`` inside the music (music time: video time - ``start_s``) with a beat, and
    with a downbeat, within ``ON_BEAT_TOL_S``; and how many cuts there are."""
    cuts = [c.time_s - start_s for c in profile.cuts if 0 < c.time_s - start_s < duration_s]
    on_beat = _landed(np.asarray(beats_s), cuts, ON_BEAT_TOL_S)
    return on_beat, _landed(np.asarray(downbeats_s), cuts, ON_BEAT_TOL_S), len(cuts)
