"""Music engine: tempo/beat/key accuracy on generated music, arrangement and bed on the output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bench.cut_to_beat import cut_list, looped, metronome, share_near, silent_profile
from bench.music_analysis import generator_labels
from bench.quality import librosa_beats

from ab2n.media.decode import decode_audio
from ab2n.music.arrange import MAX_STRETCH, MusicPlan, plan_music
from ab2n.music.beats import PITCHES, analyze_samples, analyze_track
from ab2n.music.bed import render_bed
from ab2n.music.catalog import load_catalog
from ab2n.music.medley import plan_medley
from ab2n.music.ramp import RAMP_OVERSHOOT
from ab2n.music.select import MusicWishes, rank_tracks
from mediagen import cached, click_track_wav, write_wav

SR = 22050
#: The stretch any segment may have: the arrangement's limit, and a ramp's overshoot past it.
LIMIT = MAX_STRETCH + RAMP_OVERSHOOT


def f_measure(est: list[float], ref: list[float], tol: float = 0.07) -> float:
    ref_left = list(ref)
    hits = 0
    for e in est:
        best = min(ref_left, key=lambda r: abs(r - e), default=None)
        if best is not None and abs(best - e) <= tol:
            hits += 1
            ref_left.remove(best)
    p = hits / max(1, len(est))
    r = hits / max(1, len(ref))
    return 2 * p * r / max(1e-9, p + r)


@pytest.mark.parametrize(("bpm", "drift"), [(72, 0.0), (96, 0.0), (120, 0.0), (140, 0.0), (100, 0.04), (128, -0.03)])
def test_tempo_and_beats_on_click_music(bpm: float, drift: float) -> None:
    path, beats, downbeats = click_track_wav(bpm, duration_s=30, drift=drift)
    a = analyze_track(path)
    mean_bpm = bpm * (1 + drift / 2)
    assert abs(a.tempo_bpm - mean_bpm) / mean_bpm <= 0.04 + abs(drift) / 2, a.tempo_bpm
    assert f_measure(a.beats_s, beats) >= 0.9
    # Downbeats: most estimated bar starts are real bar starts.
    assert f_measure(a.downbeats_s, downbeats) >= 0.8


def _tonal_piece(tonic: int, minor: bool) -> np.ndarray:
    """I-IV-V-I (or i-iv-V-i) with harmonic tones, 2 s a chord, 16 s."""
    third = 3 if minor else 4
    chords = [(0, third, 7), (5, 5 + third, 12), (7, 11, 14), (0, third, 7)] * 2
    t = np.arange(int(2 * SR)) / SR
    out = []
    for root, mid, top in chords:
        y = np.zeros_like(t)
        for semis in (root - 12, root, mid, top):
            f = 261.63 * 2 ** ((tonic + semis) / 12)
            for h in range(1, 5):
                y += np.sin(2 * np.pi * f * h * t) / h**1.5
        env = np.minimum(1, t / 0.02) * np.exp(-t * 0.8)
        out.append(0.05 * y * env)
    return np.concatenate(out).astype(np.float32)


def test_key_and_mode_on_24_generated_pieces() -> None:
    right = 0
    misses = []
    for tonic in range(12):
        for minor in (False, True):
            a = analyze_samples(_tonal_piece(tonic, minor))
            if a.key == PITCHES[tonic] and a.mode == ("minor" if minor else "major"):
                right += 1
            else:
                misses.append((PITCHES[tonic], minor, a.key, a.mode))
    assert right >= 22, misses


def test_arrangement_lengths_seams_and_counts() -> None:
    track = next(t for t in load_catalog() if t.id == "bundled:energetic_acoustic_1")
    an = analyze_track(track.path)
    for duration in (5.0, 12.3, 60.0, 600.0):
        cuts = cut_list(3, duration)
        plan = plan_music(track, an, silent_profile(cuts, duration), duration_s=duration)
        assert plan.segments[0].dst_start_s == 0
        end = max(s.dst_end_s for s in plan.segments)
        assert abs(min(end, duration) - duration) < 1e-6 or plan.fade_out_s > 0
        for s in plan.segments:
            assert abs(s.stretch - 1) <= LIMIT + 1e-9
        # Every seam is on the source's beat grid (within 10 ms); the first segment is the start
        # (a lead-in of up to a bar before the first downbeat), not a seam.
        for s in plan.segments[1:]:
            assert min(abs(b - s.src_start_s) for b in an.beats_s) <= 0.01
        if duration >= 600:
            # A long video does not loop the same few bars: many different source spans are used.
            spans = {(round(s.src_start_s, 2), round(s.src_end_s, 2)) for s in plan.segments}
            assert len(spans) >= 10


def test_short_videos_land_cuts_too(tmp_path: Path) -> None:
    """A 6-15 s short is shorter than a track's ending phrase: one stretch of the track, placed and
    stretched to land its cuts. Heard by librosa on the rendered bed, against the track's last
    seconds played as they are (what a short got before: 0.14 of cuts on the plan's beats). Measured
    here: 0.62 against 0.33 (librosa loses the beat in the fades of the shortest beds)."""
    catalog = {t.id: t for t in load_catalog()}
    track = catalog["bundled:energetic_acoustic_s522"]  # a clear beat (pulse clarity 0.81)
    an = analyze_track(track.path)
    landed, naive = [], []
    for seed, duration in ((1, 6.0), (2, 8.0), (3, 9.0), (4, 11.0)):
        rng = np.random.default_rng(seed)
        cuts = [float(c) for c in np.cumsum(rng.uniform(1.5, 4.0, 8)) if c < duration - 0.5]
        plan = plan_music(track, an, silent_profile(cuts, duration), duration_s=duration)
        assert all(abs(seg.stretch - 1) <= LIMIT + 1e-9 for seg in plan.segments)
        bed = render_bed(plan, tmp_path / f"short{seed}.wav")
        assert len(decode_audio(bed, sample_rate=48000)) == round(duration * 48000)
        landed.append(share_near(_librosa_beats(bed), cuts))
        tail = MusicPlan(track.id, track.title, duration, looped(track.path, an.duration_s, duration))
        naive.append(share_near(_librosa_beats(render_bed(tail, tmp_path / f"naive{seed}.wav")), cuts))
    assert np.mean(landed) >= 0.5, (landed, naive)
    assert np.mean(landed) > np.mean(naive) + 0.2, (landed, naive)


def test_bed_exact_length_no_clicks_and_ending(tmp_path: Path) -> None:
    track = next(t for t in load_catalog() if t.id == "bundled:happy_acoustic_1")
    an = analyze_track(track.path)
    duration = 47.0
    cuts = cut_list(11, duration)
    plan = plan_music(track, an, silent_profile(cuts, duration), duration_s=duration)
    out = render_bed(plan, tmp_path / "bed.wav", sample_rate=48000)
    y = decode_audio(out, sample_rate=48000, channels=2)
    assert len(y) == round(duration * 48000)
    mono = y.mean(axis=1)
    # No click at a seam: the largest sample-to-sample jump is not above the source's own.
    src = decode_audio(track.path, sample_rate=48000)
    assert np.abs(np.diff(mono)).max() <= 1.2 * 0.5 * np.abs(np.diff(src)).max() + 1e-3
    # The music sounds until near the end, and its last note ends within 0.25 s of the end.
    frame = 480
    rms = np.sqrt((mono[: len(mono) // frame * frame].reshape(-1, frame) ** 2).mean(axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (-40 / 20))
    assert duration - loud[-1] * frame / 48000 <= 0.25


def test_cuts_inside_the_ending_phrase_land_piece_by_piece() -> None:
    """Two cuts inside the ending phrase that no single stretch of the phrase can land together:
    the phrase is cut at the first into pieces stretched apart, and both land."""
    track = load_catalog()[0]  # only its name is used: the analysis is an ideal 110 BPM metronome
    an = metronome(110.0)
    period = 60 / 110
    tail_s = an.end_s - an.ending_s  # ten beats and a second of decay
    tail_beats = np.asarray([b - an.ending_s for b in an.beats_s if b >= an.ending_s - 1e-9])
    duration = 40.0
    # B on the tail's 8th beat with the rest of the phrase 3 % slow; A four beats before B, 3.5 % fast.
    b_cut = duration - (tail_s - 7 * period) / 0.97
    a_cut = b_cut - 4 * period / 1.035
    cuts = [a_cut, b_cut]
    one_stretch = max(
        sum(float(np.min(np.abs(duration - (tail_s - tail_beats) / s - c))) <= 0.05 for c in cuts)
        for s in np.linspace(0.96, 1.04, 81)
    )
    assert one_stretch == 1  # the case this test is about
    plan = plan_music(track, an, silent_profile(cuts, duration), duration_s=duration)
    beats = np.asarray(plan.beats_s)
    assert all(float(np.min(np.abs(beats - c))) <= 0.05 for c in cuts), (cuts, beats[-14:])
    assert plan.segments[-1].dst_end_s == pytest.approx(duration, abs=0.01)  # still ends with the video


def test_long_music_is_a_medley_handing_over_on_cuts(tmp_path: Path) -> None:
    """Several songs of one mood under long music, each change on a strong cut and on the new song's
    first downbeat; the old song really ends there; exact length, no click, and a JSON round trip."""
    duration = 150.0
    cuts = cut_list(4, duration)
    prof = silent_profile(cuts, duration)
    ranked = rank_tracks(load_catalog(), prof, MusicWishes(), seed=2)
    plan = plan_medley(ranked, prof, duration_s=duration)
    assert len(plan.songs) >= 2 and len({s.track_id for s in plan.songs}) >= 2, plan.songs
    assert len({sg.src_path for sg in plan.segments}) >= 2
    by_id = {r.track.id: r for r in ranked}
    assert {by_id[s.track_id].track.mood for s in plan.songs} == {ranked[0].track.mood}
    ends = {sg.src_path: by_id[s.track_id].analysis.end_s for s in plan.songs for sg in plan.segments}
    for song in plan.songs[1:]:
        assert min(abs(c - song.start_s) for c in cuts) < 1e-6  # on a cut
        assert min(abs(d - song.start_s) for d in plan.downbeats_s) < 1e-3  # on the new song's downbeat
        # The outgoing song plays its ending up to the cut: its last segment reaches the track's
        # end of sound (or fades, for a recording that stops at full level).
        before = max(
            (sg for sg in plan.segments if sg.dst_start_s < song.start_s - 1e-6), key=lambda sg: sg.dst_start_s
        )
        assert before.src_end_s >= ends[before.src_path] - 0.3 or before.fade_out_s > 0
    assert plan.cuts_on_beat / plan.cuts_total >= 0.6
    assert MusicPlan.from_json(plan.to_json()).to_json() == plan.to_json()
    out = render_bed(plan, tmp_path / "medley.wav", sample_rate=48000)
    y = decode_audio(out, sample_rate=48000, channels=2).mean(axis=1)
    assert len(y) == round(duration * 48000)
    worst_source = max(np.abs(np.diff(decode_audio(p, sample_rate=48000))).max() for p in ends)
    assert np.abs(np.diff(y)).max() <= 1.2 * 0.5 * worst_source + 1e-3
    # Each new song is heard from its start: the 0.5 s after a change is not silent.
    for song in plan.songs[1:]:
        i = round(song.start_s * 48000)
        assert np.sqrt(np.mean(y[i : i + 24000] ** 2)) > 0.01


def _librosa_beats(path: Path) -> np.ndarray:
    pytest.importorskip("librosa")
    return librosa_beats(path)


def test_cut_to_beat_rate_on_output_beats_naive(tmp_path: Path) -> None:
    """Cuts on beats in the rendered bed, by an independent tracker (librosa), against naive placement."""
    catalog = load_catalog()
    rates, naive_rates, down_rates = [], [], []
    for seed in (1, 2, 3, 4):
        duration = 60.0
        cuts = cut_list(seed, duration)
        prof = silent_profile(cuts, duration)
        best = rank_tracks(catalog, prof, MusicWishes(), seed=seed)[0]
        plan = plan_music(best.track, best.analysis, prof, duration_s=duration)
        bed = render_bed(plan, tmp_path / f"bed{seed}.wav")
        rates.append(share_near(_librosa_beats(bed), cuts))
        # librosa has no downbeat tracker: ab2n's analyser, run blind on the output audio (no plan).
        down_rates.append(share_near(analyze_track(bed).downbeats_s, cuts))
        # Naive: the same track from its start, looped, heard by the same tracker.
        naive_plan = MusicPlan(
            best.track.id, best.track.title, duration, looped(best.track.path, best.analysis.duration_s, duration)
        )
        naive = render_bed(naive_plan, tmp_path / f"naive{seed}.wav")
        naive_rates.append(share_near(_librosa_beats(naive), cuts))
    # Measured here (these 4 seeds, 60 s, the 110 BPM "happy" tracks the ranker picks): 0.93 of
    # cuts on a librosa beat (0.91, 0.86, 0.93, 1.00) with runs stretched up to +-10 % and ramps
    # between them (0.88 at +-8 %, 0.72 at +-4 % without ramps); naive placement 0.14. On a blind
    # downbeat 0.58 (0.64, 0.43, 0.64, 0.60; 0.51 at +-8 %). The floors: issue 17's goals (0.8 on
    # librosa's beats, 0.5 on blind downbeats), both under what was measured.
    assert np.mean(rates) > np.mean(naive_rates) + 0.5, (rates, naive_rates)
    assert np.mean(rates) >= 0.8, rates
    assert np.mean(down_rates) >= 0.5, down_rates


def test_selection_follows_words_and_is_seeded() -> None:
    catalog = load_catalog()
    prof = silent_profile(cut_list(5, 30), 30)
    calm = rank_tracks(catalog, prof, MusicWishes(mood="calm"), seed=0)
    assert calm[0].track.mood == "calm"
    electro = rank_tracks(catalog, prof, MusicWishes(genres=("electronic",)), seed=0)
    assert "electronic" in electro[0].track.tags
    zh = rank_tracks(catalog, prof, MusicWishes(mood="安静"), seed=0)
    assert zh[0].track.mood == "calm"
    a = [r.track.id for r in rank_tracks(catalog, prof, MusicWishes(), seed=4)[:3]]
    b = [r.track.id for r in rank_tracks(catalog, prof, MusicWishes(), seed=4)[:3]]
    assert a == b
    first = calm[0].track.id
    again = rank_tracks(catalog, prof, MusicWishes(mood="calm", exclude_ids=(first,)), seed=0)
    assert again[0].track.id != first


def test_wav_cache_roundtrip(tmp_path: Path) -> None:
    path, ok = cached("sine-music", ".wav", v=1)
    if not ok:
        write_wav(path, _tonal_piece(0, False), SR)
    a1 = analyze_track(path, cache_dir=tmp_path)
    a2 = analyze_track(path, cache_dir=tmp_path)
    assert a1.tempo_bpm == a2.tempo_bpm and a1.beats_s == a2.beats_s
    assert len(list(tmp_path.glob("track-*.json"))) == 1


def _with_tail(y: np.ndarray, seconds: float, *, decay: bool) -> np.ndarray:
    """The last ``seconds`` of ``y`` either faded to silence (a real ending) or left at full level."""
    out = y.copy()
    if decay:
        n = int(seconds * SR)
        out[-n:] *= np.linspace(1.0, 0.0, n) ** 3
    return out


def test_abrupt_end_is_detected_and_faded() -> None:
    path, _, _ = click_track_wav(110, duration_s=30)
    y = decode_audio(path, sample_rate=SR)
    stops = analyze_samples(_with_tail(y, 2.0, decay=False))
    rings = analyze_samples(_with_tail(y, 2.0, decay=True))
    assert stops.ends_abruptly and not rings.ends_abruptly
    # A recording that stops dead gets its last bar faded; one that rings out keeps its own ending.
    track = next(iter(load_catalog()))
    cuts = cut_list(3, 40.0)
    stop_plan = plan_music(track, stops, silent_profile(cuts, 40.0), duration_s=40.0)
    ring_plan = plan_music(track, rings, silent_profile(cuts, 40.0), duration_s=40.0)
    assert stop_plan.fade_out_s >= 1.5
    assert ring_plan.fade_out_s < 1.5


def test_pulse_clarity_orders_clear_ambiguous_and_uneven_beats() -> None:
    """A click on every beat is clearer than the same clicks with equally loud off-beats (another
    listener may hear the beat on the "and") or than beats that alternate between two lengths."""
    rng = np.random.default_rng(3)
    n = 30 * SR

    def clicks(times: list[float]) -> np.ndarray:
        y = np.zeros(n)
        burst = np.exp(-np.arange(600) / 110.0)
        for t in times:
            s = int(t * SR)
            k = max(0, min(600, n - s))  # the last click may run past the end
            y[s : s + k] += 0.5 * burst[:k] * rng.standard_normal(600)[:k]
        return y + 0.002 * rng.standard_normal(n)

    beat = 0.5
    on = [0.3 + i * beat for i in range(58)]
    clear = analyze_samples(clicks(on)).pulse_clarity
    ambiguous = analyze_samples(clicks(on + [t + beat / 2 for t in on])).pulse_clarity
    uneven_times, t = [], 0.3
    for i in range(50):
        uneven_times.append(t)
        t += 0.5 if i % 3 else 0.68
    uneven = analyze_samples(clicks(uneven_times)).pulse_clarity
    assert clear >= 0.6, clear
    assert ambiguous < clear - 0.3, (ambiguous, clear)
    assert uneven < clear - 0.3, (uneven, clear)


def test_tempo_against_the_generators_asked_tempo() -> None:
    """The bundled tracks' tempo from their samples alone, against the tempo their generator was
    asked for (the music package's LICENSE-MUSIC; issue 4 notes some labels are wrong). Measured:
    27 of 28 within 4 % here since analyser version 8 (23 before), the other at 2:1
    (docs/music-analysis.md); issue 17 asks 26. The floor is 26: one 68 BPM track scores its
    double and its 4:3 figure almost alike, and which wins flips with the decode's rounding (26 on
    the bench's 16-bit WAVs)."""
    labels = generator_labels()
    if not labels:
        pytest.skip("the music package ships no LICENSE-MUSIC")
    same = related = 0
    for track in load_catalog():
        asked = labels[track.path.stem][0]
        # Samples only: no name, folder or tag reaches the estimate.
        bpm = analyze_samples(decode_audio(track.path, sample_rate=SR)).tempo_bpm
        same += abs(bpm / asked - 1) <= 0.04
        related += any(abs(bpm / (asked * r) - 1) <= 0.04 for r in (0.5, 2.0, 2 / 3, 1.5))
    assert same >= 26, same
    assert same + related >= 28, (same, related)
