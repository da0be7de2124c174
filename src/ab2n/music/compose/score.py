"""The composer: profile + wishes -> ScorePlan -> notes per stem -> a bed WAV (and the stems).

plan_for(profile, ...)  ->  ScorePlan       (style, key, tempo map, sections, accents; pure)
compose(plan)           ->  {stem: [Note]}  (harmony, bass, melody, drums; pure, seeded)
render_score(plan, wav) ->  the bed          (synth.py; stems summed, the drop-outs and the
                                              final fade applied, 6 dB under full scale)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ab2n.analyze.profile import VideoProfile
from ab2n.music.compose import COMPOSE
from ab2n.music.compose.drums import drop_windows, drum_notes
from ab2n.music.compose.harmony import bass_notes, chords, harmony_notes
from ab2n.music.compose.melody import make_motif, melody_notes
from ab2n.music.compose.notes import Clock, Note
from ab2n.music.compose.plan import ScorePlan, plan_score
from ab2n.music.compose.soundfont import render_stem as play_on_soundfont
from ab2n.music.compose.style import STYLES, choose_key, choose_style, tempo_range
from ab2n.music.compose.synth import PEAK, SR, STEMS, render_stem, room, voice_pocket, write_wav

#: Stem levels and their sends to the room, per stem (the room's level set per style).
STEM_GAIN = {"drums": 0.8, "bass": 0.75, "harmony": 0.5, "melody": 0.55}
ROOM_SEND = {"drums": 0.08, "bass": 0.0, "harmony": 0.35, "melody": 0.3}
#: Stems that step out of the voice's band under speech (synth.voice_pocket); the drums and the
#: bass keep the pulse and the bar lines a listener (and a tracker) follows through the talk.
POCKET_STEMS = ("harmony", "melody")
#: Under speech the drum stem is left as it is: the mix ducks a composed bed stem by stem
#: (mix/stem_duck.py: the drums and bass go down less outside the voice's band than the rest).
#: Until it did, the drums were written 6 dB louder outside the voice's band under speech to
#: carry through a duck of the whole bed (``DRUM_LIFT_DB`` 6, dropped).


#: A piece whose plan puts fewer of the cuts than this on beats (quick cuts: gaps of 0.6-0.9 s are
#: neither one beat nor two at 100-130 BPM) is planned again in a range this much faster (a
#: montage gets a faster tempo), and the plan that puts more cuts on beats is kept. No
#: tempo word given only: "slower" or "120" is the user's choice. On the tuning videos' quick cut
#: lists (0.4-1.2 s) the acoustic range put 0.67 of cuts on beats, 25 % faster 0.92.
PACE_ON_BEAT = 0.9
PACE_LIFT = 1.25
#: The lifted range stops here (or at the style's own top): librosa heard a 164 BPM electronic
#: plan at 110 (its tempo prior is centred on 120).
PACE_TOP_BPM = 160.0


def plan_for(
    profile: VideoProfile,
    *,
    duration_s: float,
    start_s: float = 0.0,
    mood: str | None = None,
    words: Sequence[str] = (),
    tempo: str | None = None,
    seed: int = 0,
) -> ScorePlan:
    """The score's plan for a span of a timeline: style and mode from the mood (the wished one, or
    the video's) and the words, a key from the seed, the tempo map from the cuts.

    Raises:
        InvalidArgument: A tempo wish out of range.
    """
    want = mood or profile.mood
    style, mode = choose_style(want, words)

    def plan_in(rng: tuple[float, float]) -> ScorePlan:
        return plan_score(
            profile,
            duration_s=duration_s,
            style=style.name,
            mood=want,
            tonic=choose_key(mode, seed),
            mode=mode,
            tempo_range=rng,
            seed=seed,
            start_s=start_s,
            swing=style.tempo_swing,
            stretch=style.tempo_stretch,
        )

    rng = tempo_range(style, tempo)
    plan = plan_in(rng)
    if tempo or plan.cuts_on_beat >= PACE_ON_BEAT * plan.cuts_total:
        return plan
    # Cuts the style's tempi can't follow: a faster range (a montage) if it puts more cuts on
    # beats (then more hits on downbeats); the style's own on a tie. A slower range (x0.85) was
    # tried too and dropped: the two tuning videos that took it (lo-fi at 72, acoustic at 94)
    # were heard at twice the tempo or 15 % off it.
    lo, hi = rng[0] * PACE_LIFT, min(rng[1] * PACE_LIFT, max(rng[1], PACE_TOP_BPM))
    if hi <= lo * 1.2:
        return plan
    other = plan_in((lo, hi))

    def landed(p: ScorePlan) -> tuple[int, int]:
        return p.cuts_on_beat, p.extra.get("hits_on_downbeat", 0)

    return other if landed(other) > landed(plan) else plan


def compose(plan: ScorePlan) -> dict[str, list[Note]]:
    """The notes of every stem (deterministic for a plan, its seed included)."""
    style = STYLES[plan.style]
    rng = np.random.default_rng([plan.seed, 23])
    clock = Clock(plan)
    chord_list = chords(clock, style, rng)
    motif = make_motif(style, rng)
    stems = {
        "harmony": harmony_notes(clock, style, chord_list, rng),
        "bass": bass_notes(clock, style, chord_list),
        "melody": melody_notes(clock, style, chord_list, motif),
        "drums": drum_notes(clock, style.drums, style.swing, rng),
    }
    drops = drop_windows(clock)
    if drops:
        stems = {
            k: [n for n in v if not any(a - 0.02 <= n.start_s < b - 0.01 for a, b in drops)] for k, v in stems.items()
        }
    return stems


def _gain_envelope(plan: ScorePlan, n: int, clock: Clock) -> np.ndarray:
    """Drop-outs (20 ms ramps) and the final fade: a quarter cosine over the last half bar, reaching
    silence on the last sample so the final chord rings into the last frame."""
    g = np.ones(n, np.float32)
    ramp = int(0.02 * SR)
    for a, b in drop_windows(clock):
        i0, i1 = int(a * SR), int(b * SR)
        g[i0:i1] = 0.0
        g[max(0, i0 - ramp) : i0] *= np.linspace(1, 0, min(ramp, i0))[-(i0 - max(0, i0 - ramp)) :]
    bar_s = plan.duration_s - (plan.downbeats_s[-1] if plan.downbeats_s else 0.0)
    fade = int(min(1.2, max(0.3, bar_s / 2)) * SR)
    fade = min(fade, n)
    g[n - fade :] *= np.cos(0.5 * np.pi * (np.arange(fade) + 1) / fade).astype(np.float32)
    return g


def render_stems(
    plan: ScorePlan, cancel: threading.Event | None = None, soundfont: Path | None = None
) -> dict[str, np.ndarray]:
    """Each stem as stereo float32 (n, 2) at 48 kHz, levelled, with its share of the room, the
    drop-outs and the ending applied (their sum is the bed before its peak level); the notes are
    played on ``soundfont`` when one is given, else by the built-in synthesis."""
    from scipy import signal  # here, not at the top: scipy.signal costs every face ~1.5 s to import

    style = STYLES[plan.style]
    n = round(plan.duration_s * SR)
    notes = compose(plan)
    clock = Clock(plan)
    if soundfont is not None:
        dry = {k: play_on_soundfont(notes[k], n, soundfont, cancel) * STEM_GAIN[k] for k in STEMS}
    else:
        dry = {k: render_stem(notes[k], n, cancel) * STEM_GAIN[k] for k in STEMS}
    send = sum(dry[k] * ROOM_SEND[k] * (1.6 if style.reverb_s > 2 else 1.0) for k in STEMS)
    wet = room(np.asarray(send, np.float32), style.reverb_s, plan.seed)
    total_send = sum(ROOM_SEND.values())
    env = _gain_envelope(plan, n, clock)[:, None]
    out: dict[str, np.ndarray] = {}
    for k in STEMS:
        share = ROOM_SEND[k] / total_send
        y = dry[k] + wet * share
        if plan.style == "lo-fi" and k in ("harmony", "melody"):  # the lo-fi colour: dark keys, crisp drums
            y = np.asarray(signal.sosfilt(signal.butter(2, 6500, fs=SR, output="sos"), y, axis=0), np.float32)
        if k in POCKET_STEMS:
            y = voice_pocket(y, plan.speech)
        out[k] = y * env
    return out


def render_score(
    plan: ScorePlan,
    out_wav: Path,
    *,
    stems_dir: Path | None = None,
    cancel: threading.Event | None = None,
    soundfont: Path | None = None,
) -> Path:
    """Write the composed bed (and, with ``stems_dir``, one WAV per stem at the same scale).

    The bed has exactly ``round(plan.duration_s * 48000)`` samples, peak at -6 dBFS. ``soundfont``:
    play the notes on it (``ab2n.music.compose.soundfont``) instead of the built-in synthesis.
    """
    stems = bed_stems(plan, cancel, soundfont)
    if stems_dir is not None:
        stems_dir.mkdir(parents=True, exist_ok=True)
        for k, y in stems.items():
            write_wav(y, stems_dir / f"{k}.wav")
    return write_wav(np.asarray(sum(stems.values()), np.float32), out_wav)


def bed_stems(
    plan: ScorePlan, cancel: threading.Event | None = None, soundfont: Path | None = None
) -> dict[str, np.ndarray]:
    """The stems (:func:`render_stems`) scaled together so that their sum, the bed, peaks at
    -6 dBFS: what the mix takes to treat the stems apart under speech."""
    stems = render_stems(plan, cancel, soundfont)
    bed = np.asarray(sum(stems.values()), np.float32)
    peak = float(np.max(np.abs(bed))) if bed.size else 0.0
    scale = PEAK / peak if peak > 0 else 1.0
    return {k: np.asarray(y * scale, np.float32) for k, y in stems.items()}


PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def score_title(score: ScorePlan) -> str:
    """For people: "Composed lo-fi in D minor, 88 BPM"."""
    return f"Composed {score.style} in {PITCH_NAMES[score.tonic]} {score.mode}, {score.tempo_bpm:.0f} BPM"


def music_plan_json(score: ScorePlan) -> dict[str, Any]:
    """The draft's music plan for a composed bed: the keys every reader of a MusicPlan uses (no
    segments: nothing is cut from a recording) and the score itself under ``"score"``."""
    return {
        "track_id": f"{COMPOSE}:{score.style}:{score.seed}",
        "track_title": score_title(score),
        "duration_s": round(score.duration_s, 4),
        "segments": [],
        "fade_out_s": 0.0,
        "beats_s": [round(b, 4) for b in score.beats_s],
        "downbeats_s": [round(b, 4) for b in score.downbeats_s],
        "cuts_on_beat": score.cuts_on_beat,
        "cuts_on_downbeat": score.cuts_on_downbeat,
        "cuts_total": score.cuts_total,
        "mood": score.mood,
        "tempo_bpm": round(score.tempo_bpm, 2),
        "score": score.to_json(),
    }


def is_composed(plan: Mapping[str, Any] | None) -> bool:
    """Whether a draft's music plan is a composed score (else a catalog arrangement)."""
    return bool(plan) and isinstance(plan.get("score"), dict)  # type: ignore[union-attr]


def render_plan_bed(
    plan: Mapping[str, Any],
    out_wav: Path,
    *,
    cancel: threading.Event | None = None,
    soundfont: Path | None = None,
) -> Path:
    """The bed of a composed music plan (see :func:`music_plan_json`), on ``soundfont`` if given."""
    return render_score(ScorePlan.from_json(dict(plan["score"])), out_wav, cancel=cancel, soundfont=soundfont)


def render_plan_stems(
    plan: Mapping[str, Any], *, cancel: threading.Event | None = None, soundfont: Path | None = None
) -> dict[str, np.ndarray]:
    """The stems of a composed music plan (:func:`bed_stems`): stereo float32 at 48 kHz, summing to
    its bed."""
    return bed_stems(ScorePlan.from_json(dict(plan["score"])), cancel, soundfont)
