"""Cut-to-beat on the music alone (issue 4): the arrangement against naive placement, per track.

Usage: python -m bench.cut_to_beat [--seeds 8] [--seconds 60]

For each seed, a cut list with irregular gaps of 1.5-8 s (as a video with no audio would give),
the best-ranked bundled track arranged for it and rendered to a WAV bed; then the share of cuts
with a beat within ±50 ms by librosa's ``beat_track`` (an independent tracker), by ab2n's own
analyser run blind on the bed, and by the plan; the same track from its start, looped (the naive
way), measured by librosa too. A second table arranges every bundled track for every cut list
(plan only) to show how the reachable share grows with tempo, then renders each track on one of
those lists and on a held-out list of its own (seed HELD_OUT_SEEDS + its place), and a third arranges an ideal
metronome (even beats, 4/4, no audio needed) at several tempi: what the arrangement's rules
(whole beats between cuts, ±8 % stretch with ramps between runs, seams on beats) allow on these cut lists at each tempo,
beside an exhaustive search for the best any plan could do under the same rules.
Writes docs/cut-to-beat.md/.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ab2n.analyze.profile import Cut, VideoProfile
from ab2n.media.decode import decode_audio
from ab2n.music.arrange import AIM_TOL_S, MAX_STRETCH, BarSegment, MusicPlan, plan_music
from ab2n.music.beats import HOP, N_FFT, SR, TrackAnalysis, analyze_track, stft
from ab2n.music.bed import render_bed
from ab2n.music.catalog import Track, load_catalog
from ab2n.music.ramp import largest_step
from ab2n.music.select import MusicWishes, rank_tracks
from bench.measure import write_report
from bench.quality import librosa_beats

ROOT = Path(__file__).resolve().parent.parent
TOL_S = 0.05


def cut_list(seed: int, seconds: float) -> list[float]:
    """Irregular cut times, gaps uniform in 1.5-8 s, at least a second before the end."""
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.uniform(1.5, 8.0, int(seconds)))
    return [float(t) for t in times if t < seconds - 1]


def silent_profile(cuts: list[float], seconds: float) -> VideoProfile:
    """What ab2n would know of a video with these cuts and no audio (mood left to the ranker)."""
    return VideoProfile(
        duration_s=seconds,
        fps=30,
        cuts=tuple(Cut(t, round(t * 30), 1.0) for t in cuts),
        mood="happy",
        valence=[0.4] * int(seconds),
        arousal=[0.3] * int(seconds),
    )


def share_near(marks: np.ndarray | list[float], cuts: list[float]) -> float:
    """Share of cuts with a mark within ±50 ms."""
    arr = np.asarray(marks, float)
    return float(np.mean([len(arr) > 0 and np.min(np.abs(arr - c)) <= TOL_S for c in cuts]))


def offbeat_shares(beats: np.ndarray | list[float], cuts: list[float]) -> tuple[float, float]:
    """(share of cuts off a beat but within ±50 ms of an off-beat eighth, share 120 ms or more from
    both): a cut the music can't reach exactly is better on the eighth between two beats than
    120 ms off (issue 17). The eighths are the midpoints of consecutive beats."""
    arr = np.asarray(beats, float)
    if len(arr) < 2 or not cuts:
        return 0.0, 1.0 if cuts else 0.0
    mids = (arr[1:] + arr[:-1]) / 2
    off = far = 0
    for c in cuts:
        d_beat, d_mid = float(np.min(np.abs(arr - c))), float(np.min(np.abs(mids - c)))
        off += d_beat > TOL_S and d_mid <= TOL_S
        far += d_beat >= 0.12 and d_mid >= 0.12
    return off / len(cuts), far / len(cuts)


def seam_audibility(bed: Path, seams_s: list[float], beats_s: list[float]) -> list[float]:
    """How much each seam stands out against the music's own change at its beats.

    On a 1024/256 STFT (22.05 kHz) of the bed, the change at frame t is the mean absolute
    log-magnitude difference between frames t-2 and t+2 (windows 46 ms apart, not overlapping)
    plus the level difference in dB between them over 10 dB. Seams sit on beats, where the music
    changes anyway (a note, a drum hit), so a seam's score is its change divided by the median
    change at the bed's beats that are no seam (more than 0.1 s from one): about 1, the seam
    sounds like any other beat; 2, twice the change of a beat. One score per seam, in order; NaN
    for a seam too near either end of the bed to measure.
    """
    y = decode_audio(bed, sample_rate=SR)
    _freqs, z = stft(y, N_FFT, HOP)
    logmag = np.log1p(100.0 * np.abs(z))
    level = 10 * np.log10((np.abs(z) ** 2).mean(axis=0) + 1e-10)
    change = np.zeros(logmag.shape[1])
    change[2:-2] = np.abs(logmag[:, 4:] - logmag[:, :-4]).mean(axis=0) + np.abs(level[4:] - level[:-4]) / 10

    def at(t: float) -> float:
        f = round((t * SR - N_FFT / 2) / HOP)
        return float(change[max(0, f - 1) : f + 2].max()) if 2 <= f < len(change) - 2 else float("nan")

    seam_arr = np.asarray(seams_s, float)
    plain = [at(b) for b in beats_s if not len(seam_arr) or np.min(np.abs(seam_arr - b)) > 0.1]
    ref = float(np.nanmedian(plain)) if plain else 1.0
    return [at(t) / ref for t in seams_s]


def own_change(source: Path, plan: MusicPlan, beats_s: list[float]) -> list[float]:
    """For each seam of :func:`seams`, the change the source itself makes where the seam enters it,
    scored like :func:`seam_audibility` against the source's own beats: a seam's score minus this is
    what the edit adds to the music's own change there (about 0 for a join where the source runs
    on; a jump into a bar line that the music itself marks loudly is not a loud seam)."""
    entered = [s.src_start_s + s.crossfade_s / 2 * s.stretch for s in plan.segments[1:] if s.dst_start_s > 0]
    return seam_audibility(source, entered, beats_s)


def heard_tempo_change(beats_s: np.ndarray) -> float:
    """The largest change of tempo from one beat to the next that a tracker's beats show (a ratio;
    intervals smoothed over three beats so one misplaced beat isn't counted as two tempo changes)."""
    ibi = np.diff(np.asarray(beats_s, float))
    if len(ibi) < 5:
        return 0.0
    smooth = np.convolve(ibi, np.ones(3) / 3, mode="valid")
    return float(np.max(np.abs(smooth[1:] / smooth[:-1] - 1)))


def ends_with_video(plan: MusicPlan) -> bool:
    """The last segment reaches the end of the music (within 10 ms) or is faded out into it."""
    last = plan.segments[-1]
    return bool(abs(min(last.dst_end_s, plan.duration_s) - plan.duration_s) <= 0.01 or plan.fade_out_s > 0)


def seams(plan: MusicPlan) -> list[float]:
    """Each seam's centre on the output timeline (every segment after the first)."""
    return [s.dst_start_s + s.crossfade_s / 2 for s in plan.segments[1:] if s.dst_start_s > 0]


def jumps(plan: MusicPlan) -> list[bool]:
    """For each seam of :func:`seams`, whether the source jumps there (a loop back, the entry into
    the ending phrase) rather than running on at a new tempo (a landing's or a ramp's join)."""
    pairs = zip(plan.segments[:-1], plan.segments[1:], strict=True)
    return [abs(b.src_start_s - a.src_end_s) > 1e-3 for a, b in pairs if b.dst_start_s > 0]


def seam_summary(scores: list[float]) -> dict[str, float]:
    """Mean, largest and the share over 1 (a seam that changes the sound more than a beat does)."""
    if not scores:
        return {"mean": 0.0, "max": 0.0, "over_1": 0.0, "n": 0}
    arr = np.asarray(scores, float)
    return {"mean": float(arr.mean()), "max": float(arr.max()), "over_1": float(np.mean(arr > 1.0)), "n": len(arr)}


def plot_plan(plan: MusicPlan, cuts: list[float], heard: np.ndarray, audibility: list[float], out_png: Path) -> Path:
    """Cuts over beats (the plan's and librosa's on the bed), the tempo curve, and the seams' scores."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(14, 7), sharex=True, height_ratios=[2, 1.3, 1])
    ax1.vlines(plan.beats_s, 0.0, 0.45, color="0.6", lw=0.8, label="plan beats")
    ax1.vlines(plan.downbeats_s, 0.0, 0.45, color="k", lw=1.6, label="plan downbeats")
    ax1.vlines(heard, 0.55, 1.0, color="tab:blue", lw=0.8, label="librosa beats on the bed")
    for c in cuts:
        hit = len(heard) and np.min(np.abs(np.asarray(heard) - c)) <= TOL_S
        ax1.axvline(c, color="tab:green" if hit else "tab:red", lw=2, alpha=0.7)
    ax1.set_yticks([])
    ax1.set_title("cuts (green: a librosa beat within 50 ms, red: none) over the beats")
    ax1.legend(loc="upper right", fontsize=7, ncol=3)
    xs, ys = [], []
    for seg in plan.segments:
        xs += [seg.dst_start_s, min(seg.dst_end_s, plan.duration_s)]
        ys += [plan.tempo_bpm * seg.stretch] * 2
    ax2.plot(xs, ys, color="tab:purple")
    ax2.axhline(plan.tempo_bpm, color="0.5", ls=":", lw=1)
    ax2.set_ylabel("BPM")
    ax2.set_title("tempo curve (each segment's stretch x the track's tempo; ramps between runs)")
    ax3.bar(seams(plan)[: len(audibility)], audibility, width=0.15, color="tab:orange")
    ax3.axhline(1.0, color="0.5", ls=":", lw=1)
    ax3.set_ylabel("seam score")
    ax3.set_xlabel("music time (s)")
    ax3.set_title("seams: change across each join / the change at the bed's own beats (1 = like a beat)")
    fig.tight_layout()
    fig.savefig(out_png, dpi=80)
    plt.close(fig)
    return out_png


def looped(path: Path, length_s: float, seconds: float) -> tuple[BarSegment, ...]:
    """The naive bed: the file from 0 s, again and again, until the video ends."""
    segs, t = [], 0.0
    while t < seconds:
        take = min(length_s, seconds - t)
        segs.append(BarSegment(path, 0.0, take, t, 1.0, 0.0))
        t += take
    return tuple(segs)


def metronome(bpm: float, seconds: float = 30.0) -> TrackAnalysis:
    """The analysis of an ideal track: even beats at ``bpm``, 4/4, every bar alike."""
    period = 60.0 / bpm
    beats = [0.5 + i * period for i in range(int(seconds / period))]
    down = beats[::4]
    return TrackAnalysis(
        duration_s=beats[-1] + 1.0,
        tempo_bpm=bpm,
        beats_s=beats,
        downbeats_s=down,
        beats_per_bar=4,
        bar_energy=[1.0] * len(down),
        bar_chroma=[[1.0] + [0.0] * 11] * len(down),
        ending_s=down[-3],
        end_s=beats[-1] + 1.0,
    )


def rules_optimum(cuts: list[float], bpm: float, downbeat_weight: float, meter: int = 4) -> tuple[float, float]:
    """The best any plan could do on even beats: shares of cuts on a beat and on a downbeat.

    An exhaustive search over which cuts to land, the bar position each gets and any whole number
    of beats between consecutive landed cuts at a stretch within ±MAX_STRETCH (landing within
    AIM_TOL_S), with no ending phrase to reach and any bar phase at the start; a landing scores 1,
    on a downbeat ``downbeat_weight`` more (0: the most cuts on beats; large: the most on
    downbeats). A check on the arrangement's search, not a plan.
    """
    beat = 60.0 / bpm
    n = len(cuts)
    if n == 0:
        return 0.0, 0.0
    # best[j][pos] = (score, beats landed, downbeats landed) for paths whose last landing is cut j
    # at bar position pos.
    best = [[(1.0 + downbeat_weight * (pos == 0), 1, int(pos == 0)) for pos in range(meter)] for _ in cuts]
    for j in range(n):
        for i in range(j):
            gap = cuts[j] - cuts[i]
            counts = [
                k
                for k in range(1, int((gap + AIM_TOL_S) / (beat * (1 - MAX_STRETCH))) + 1)
                if k * beat * (1 - MAX_STRETCH) - AIM_TOL_S <= gap <= k * beat * (1 + MAX_STRETCH) + AIM_TOL_S
            ]
            for pos in range(meter):
                score, beats, downs = best[i][pos]
                for k in counts:
                    q = (pos + k) % meter
                    cand = (score + 1.0 + downbeat_weight * (q == 0), beats + 1, downs + int(q == 0))
                    if cand[0] > best[j][q][0]:
                        best[j][q] = cand
    _, beats, downs = max(state for row in best for state in row)
    return beats / n, downs / n


#: The measures of the best-ranked track's runs averaged in the report.
LIST_KEYS = (
    "plan_beat",
    "plan_downbeat",
    "librosa_beat",
    "librosa_offbeat_eighth",
    "librosa_120ms_off",
    "blind_beat",
    "blind_downbeat",
    "naive_librosa_beat",
    "largest_step",
    "heard_tempo_change",
    "seam_mean",
    "seam_max",
    "seam_over_1",
    "jump_seam_mean",
    "jump_seam_max",
)


def column_summary(per_track: list[dict[str, Any]], key: str) -> dict[str, float]:
    """One column of the all-tracks table (``key``: rendered or held_out) summed up: the shares
    averaged over the tracks, and every seam of its beds, all joins and the jumps alone."""
    out = {
        m: float(np.mean([r[f"{key}_{m}"] for r in per_track]))
        for m in ("librosa_beat", "blind_beat", "blind_downbeat", "plan_downbeat")
    }
    out["tracks_librosa_under_0.8"] = float(sum(r[f"{key}_librosa_beat"] < 0.8 for r in per_track))
    for kind in ("seams", "jump_seams", "jump_excess"):
        scores = [a for r in per_track for a in r[f"{key}_{kind}"]]
        out.update({f"{kind}_{k}": v for k, v in seam_summary(scores).items()})
    return out


#: The second cut list each track is rendered on in the all-tracks table: seed HELD_OUT_SEEDS + the
#: track's place in the catalogue (seeds nobody looked at while the arrangement was changed).
HELD_OUT_SEEDS = 800


def rendered_check(
    track: Track, analysis: TrackAnalysis, seed: int, seconds: float, work: Path, prefix: str = "rendered"
) -> dict[str, Any]:
    """One cut list (``seed``) arranged on ``track``, rendered and heard: librosa's beats and ab2n's
    analyser run blind, as on the best-ranked track above (the issue: every track, on the output)."""
    cuts = cut_list(seed, seconds)
    plan = plan_music(track, analysis, silent_profile(cuts, seconds), duration_s=seconds)
    bed = render_bed(plan, work / "track-bed.wav")
    heard = librosa_beats(bed)
    blind = analyze_track(bed)
    scored = list(zip(seam_audibility(bed, seams(plan), plan.beats_s), jumps(plan), strict=True))
    audibility = [a for a, _ in scored if not np.isnan(a)]
    jump_scores = [a for a, j in scored if j and not np.isnan(a)]
    own = own_change(track.path, plan, analysis.beats_s)
    excess = [a - o for (a, j), o in zip(scored, own, strict=True) if j and not np.isnan(a - o)]
    return {
        f"{prefix}_seed": seed,
        f"{prefix}_librosa_beat": share_near(heard, cuts),
        f"{prefix}_blind_beat": share_near(blind.beats_s, cuts),
        f"{prefix}_blind_downbeat": share_near(blind.downbeats_s, cuts),
        f"{prefix}_plan_downbeat": plan.cuts_on_downbeat / len(cuts),
        f"{prefix}_heard_change": heard_tempo_change(heard),
        f"{prefix}_seams": [round(a, 3) for a in audibility],
        f"{prefix}_jump_seams": [round(a, 3) for a in jump_scores],
        f"{prefix}_jump_excess": [round(a, 3) for a in excess],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and write the report."""
    ap = argparse.ArgumentParser(prog="python -m bench.cut_to_beat")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    ap.add_argument("--plot", type=int, default=0, help="only plot this seed's plan to OUT/cut-to-beat.png")
    ap.add_argument(
        "--part",
        choices=("all", "lists", "tracks"),
        default="all",
        help="lists: only the best-ranked track on each cut list; tracks: only every track on its two "
        "lists; either writes OUT/cut-to-beat-PART.json and a summary instead of the report",
    )
    args = ap.parse_args(argv)
    catalog = load_catalog()
    work = Path(tempfile.mkdtemp(prefix="bench-cut-to-beat-"))
    if args.plot:
        cuts = cut_list(args.plot, args.seconds)
        prof = silent_profile(cuts, args.seconds)
        best = rank_tracks(catalog, prof, MusicWishes(), seed=args.plot)[0]
        plan = plan_music(best.track, best.analysis, prof, duration_s=args.seconds)
        bed = render_bed(plan, work / "bed.wav")
        heard = librosa_beats(bed)
        plot_plan(plan, cuts, heard, seam_audibility(bed, seams(plan), plan.beats_s), args.out / "cut-to-beat.png")
        return 0
    rows = []
    for seed in range(1, args.seeds + 1 if args.part != "tracks" else 1):
        cuts = cut_list(seed, args.seconds)
        prof = silent_profile(cuts, args.seconds)
        best = rank_tracks(catalog, prof, MusicWishes(), seed=seed)[0]
        plan = plan_music(best.track, best.analysis, prof, duration_s=args.seconds)
        bed = render_bed(plan, work / f"bed{seed}.wav")
        blind = analyze_track(bed, cache_dir=work)
        heard = librosa_beats(bed)
        scored = list(zip(seam_audibility(bed, seams(plan), plan.beats_s), jumps(plan), strict=True))
        audibility = [a for a, _ in scored if not np.isnan(a)]
        jump_scores = [a for a, j in scored if j and not np.isnan(a)]
        naive = render_bed(
            MusicPlan(
                best.track.id,
                best.track.title,
                args.seconds,
                looped(best.track.path, best.analysis.duration_s, args.seconds),
            ),
            work / f"naive{seed}.wav",
        )
        row = {
            "seed": seed,
            "track": best.track.id,
            "tempo_bpm": round(best.analysis.tempo_bpm, 1),
            "cuts": len(cuts),
            "plan_beat": plan.cuts_on_beat / len(cuts),
            "plan_downbeat": plan.cuts_on_downbeat / len(cuts),
            "librosa_beat": share_near(heard, cuts),
            "librosa_offbeat_eighth": offbeat_shares(heard, cuts)[0],
            "librosa_120ms_off": offbeat_shares(heard, cuts)[1],
            "blind_beat": share_near(blind.beats_s, cuts),
            "blind_downbeat": share_near(blind.downbeats_s, cuts),
            "naive_librosa_beat": share_near(librosa_beats(naive), cuts),
            "largest_step": largest_step(plan.segments),
            "heard_tempo_change": heard_tempo_change(heard),
            "seam_mean": float(np.mean(audibility)) if audibility else 0.0,
            "seam_max": max(audibility, default=0.0),
            "seam_over_1": float(np.mean(np.asarray(audibility) > 1.0)) if audibility else 0.0,
            "jump_seam_mean": float(np.mean(jump_scores)) if jump_scores else 0.0,
            "jump_seam_max": max(jump_scores, default=0.0),
            "seams": len(audibility),
            "jump_seams": len(jump_scores),
            "seam_scores": [round(a, 3) for a in audibility],
            "ends_with_video": ends_with_video(plan),
        }
        rows.append(row)
        shown = {k: v for k, v in row.items() if not isinstance(v, list)}
        print(
            "  " + " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()),
            flush=True,
        )
    per_track: list[dict[str, Any]] = []
    for i, track in enumerate(catalog if args.part != "lists" else []):
        an = analyze_track(track.path)
        got = []
        for seed in range(1, args.seeds + 1):
            cuts = cut_list(seed, args.seconds)
            plan = plan_music(track, an, silent_profile(cuts, args.seconds), duration_s=args.seconds)
            got.append((plan.cuts_on_beat / len(cuts), plan.cuts_on_downbeat / len(cuts)))
        per_track.append(
            row := {
                "track": track.id,
                "tempo_bpm": round(an.tempo_bpm, 1),
                "plan_beat": float(np.mean([g[0] for g in got])),
                "plan_downbeat": float(np.mean([g[1] for g in got])),
                **rendered_check(track, an, i % args.seeds + 1, args.seconds, work),
                **rendered_check(track, an, HELD_OUT_SEEDS + i + 1, args.seconds, work, prefix="held_out"),
            }
        )
        print(f"  {track.id}: " + " ".join(f"{k}={v:.2f}" for k, v in row.items() if isinstance(v, float)), flush=True)
    per_track.sort(key=lambda r: -r["plan_beat"])
    columns = {key: column_summary(per_track, key) for key in ("rendered", "held_out")} if per_track else {}
    if args.part != "all":
        lists_mean = {k: float(np.mean([r[k] for r in rows])) for k in LIST_KEYS} if rows else {}
        if rows:
            lists_mean.update(
                {f"seam_{k}": v for k, v in seam_summary([a for r in rows for a in r["seam_scores"]]).items()}
            )
        partial = {"seconds": args.seconds, "seeds": args.seeds, "mean": lists_mean, "runs": rows}
        partial.update({"per_track": per_track, "columns": columns})
        out = args.out / f"cut-to-beat-{args.part}.json"
        out.write_text(json.dumps(partial, indent=1))
        print(json.dumps({"lists": lists_mean, "columns": columns}, indent=1))
        return 0
    ceiling: list[dict[str, Any]] = []
    for bpm in (80, 100, 110, 120, 133, 150, 170):
        got = []
        for seed in range(1, args.seeds + 1):
            cuts = cut_list(seed, args.seconds)
            plan = plan_music(catalog[0], metronome(bpm), silent_profile(cuts, args.seconds), duration_s=args.seconds)
            got.append((plan.cuts_on_beat / len(cuts), plan.cuts_on_downbeat / len(cuts)))
        lists = [cut_list(seed, args.seconds) for seed in range(1, args.seeds + 1)]
        most_beats = [rules_optimum(c, bpm, 0.0)[0] for c in lists]
        most_downbeats = [rules_optimum(c, bpm, 100.0)[1] for c in lists]
        ceiling.append(
            {
                "tempo_bpm": bpm,
                "plan_beat": float(np.mean([g[0] for g in got])),
                "plan_downbeat": float(np.mean([g[1] for g in got])),
                "optimum_beat": float(np.mean(most_beats)),
                "optimum_downbeat": float(np.mean(most_downbeats)),
            }
        )
    mean = {k: float(np.mean([r[k] for r in rows])) for k in LIST_KEYS}
    mean.update({f"all seams {k}": v for k, v in seam_summary([a for r in rows for a in r["seam_scores"]]).items()})
    report = {
        "seconds": args.seconds,
        "seeds": args.seeds,
        "tolerance_s": TOL_S,
        "mean": mean,
        "runs": rows,
        "per_track": per_track,
        "columns": columns,
        "metronome_ceiling": ceiling,
    }
    lines = [
        "# Cut-to-beat on the music alone",
        "",
        f"Generated by `python -m bench.cut_to_beat` ({args.seeds} cut lists of {args.seconds:g} s, gaps 1.5-8 s,",
        "no audio; the best-ranked bundled track arranged and rendered for each). Share of cuts with a beat",
        "within ±50 ms. librosa's tracker shares no code with ab2n; \"blind\" is ab2n's analyser on the",
        "rendered bed without the plan; naive is the same track from its start, looped.",
        "",
        "| measure | mean |",
        "|---|---:|",
        *[f"| {k.replace('_', ' ')} | {v:.2f} |" for k, v in mean.items()],
        "",
        "Largest step: the biggest change of stretch from one segment to the next in the plan (after the",
        "ramps); heard change: the biggest beat-to-beat tempo change in librosa's beats on the bed (three-beat",
        "smoothing); seams: every segment join, scored against the change at the bed's own beats (1 = like",
        "any beat; `seam_audibility`). Ends: the music's last segment ends with the video. Off-beat eighth:",
        "cuts off librosa's beats but within ±50 ms of the midpoint of two of them; 120 ms off: cuts at least",
        "120 ms from both (the issue: a cut the music can't reach is better on an eighth than 120 ms off).",
        "",
        "| seed | track | BPM | cuts | plan beat | plan downbeat | librosa beat | blind beat | blind downbeat "
        "| naive (librosa) | largest step | heard change | seams | seam mean | seam max | ends |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *[
            f"| {r['seed']} | {r['track']} | {r['tempo_bpm']} | {r['cuts']} | {r['plan_beat']:.2f} "
            f"| {r['plan_downbeat']:.2f} | {r['librosa_beat']:.2f} | {r['blind_beat']:.2f} "
            f"| {r['blind_downbeat']:.2f} | {r['naive_librosa_beat']:.2f} | {r['largest_step']:.3f} "
            f"| {r['heard_tempo_change']:.3f} | {r['seams']} | {r['seam_mean']:.2f} | {r['seam_max']:.2f} "
            f"| {'yes' if r['ends_with_video'] else 'no'} |"
            for r in rows
        ],
        "",
        "## Every bundled track on the same cut lists",
        "",
        "The plan's count over every cut list; then one cut list per track (the track's place in the",
        "catalogue, modulo the lists) arranged, rendered and heard: librosa's beats, ab2n's analyser run",
        "blind for downbeats, and the largest beat-to-beat tempo change librosa hears.",
        "",
        "| track | BPM | plan: on a beat | plan: on a downbeat | rendered list | librosa beat | blind downbeat "
        "| heard change | held-out list | librosa beat | blind downbeat |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {r['track']} | {r['tempo_bpm']} | {r['plan_beat']:.2f} | {r['plan_downbeat']:.2f} "
            f"| {r['rendered_seed']} | {r['rendered_librosa_beat']:.2f} | {r['rendered_blind_downbeat']:.2f} "
            f"| {r['rendered_heard_change']:.3f} | {r['held_out_seed']} | {r['held_out_librosa_beat']:.2f} "
            f"| {r['held_out_blind_downbeat']:.2f} |"
            for r in per_track
        ],
        "",
        *[
            f"All tracks, rendered on {name}: librosa beat {columns[key]['librosa_beat']:.2f}, blind beat "
            f"{columns[key]['blind_beat']:.2f}, blind downbeat {columns[key]['blind_downbeat']:.2f} (the plan's "
            f"downbeats: {columns[key]['plan_downbeat']:.2f}), tracks with librosa under 0.8: "
            f"{columns[key]['tracks_librosa_under_0.8']:.0f} of {len(per_track)}; seams: "
            f"{columns[key]['seams_n']:.0f}, mean {columns[key]['seams_mean']:.2f}, largest "
            f"{columns[key]['seams_max']:.2f}, {columns[key]['seams_over_1']:.2f} of them over 1; the jumps alone "
            f"({columns[key]['jump_seams_n']:.0f}): mean {columns[key]['jump_seams_mean']:.2f}, largest "
            f"{columns[key]['jump_seams_max']:.2f}, {columns[key]['jump_seams_over_1']:.2f} over 1; what the jumps add "
            f"to the source's own change where they enter it: mean {columns[key]['jump_excess_mean']:.2f}, largest "
            f"{columns[key]['jump_excess_max']:.2f}, {columns[key]['jump_excess_over_1']:.2f} over 1."
            for key, name in (
                ("rendered", "the bench's lists"),
                ("held_out", f"the held-out lists ({HELD_OUT_SEEDS}+)"),
            )
        ],
        "",
        "## The ceiling: an ideal metronome on the same cut lists",
        "",
        f"Even beats, 4/4, arranged by the same rules (whole beats between landed cuts, at most ±{MAX_STRETCH:.0%}",
        "stretch, seams at bar lines, a landing within 30 ms of its cut): what the arrangement reaches at",
        "each tempo with nothing else in the way. Real tracks land within a few points of their tempo's row",
        "(beats of slightly unequal length give the search a few more lengths to choose from).",
        "",
        '"Most possible" is an exhaustive search under the same stretch and landing rules with any bar',
        "phase and no ending phrase to reach (`rules_optimum`), for the most cuts on beats and, separately,",
        "the most on downbeats: no plan can do better on these cut lists.",
        "",
        "| BPM | on a beat | on a downbeat | most possible on a beat | most possible on a downbeat |",
        "|---:|---:|---:|---:|---:|",
        *[
            f"| {r['tempo_bpm']} | {r['plan_beat']:.2f} | {r['plan_downbeat']:.2f} | {r['optimum_beat']:.2f} "
            f"| {r['optimum_downbeat']:.2f} |"
            for r in ceiling
        ],
        "",
    ]
    write_report(args.out, "cut-to-beat", report, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
