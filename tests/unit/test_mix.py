"""The mix, measured on the encoded output: ducking depth, speech-to-music ratio, loudness, levels."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from ab2n.analyze import analyze
from ab2n.analyze.profile import Interval, VideoProfile
from ab2n.media.decode import decode_audio
from ab2n.media.probe import probe
from ab2n.mix.duck import duck_gain_db, duck_regions
from ab2n.mix.loudness import measure
from ab2n.mix.mixdown import MixSettings, plan_mix, render_audio
from mediagen import cached, click_track_wav, noise_wav, speech_wav, tone_wav, write_wav
from separation import rms_db, split

SR = 48000


@pytest.fixture(scope="module")
def speech() -> tuple[Path, list[tuple[float, float]]]:
    return speech_wav(
        [
            "Good morning, this is the harbour.",
            "The boats go out early.",
            "By noon the market is full of fish.",
            "We will come back tomorrow.",
        ],
        pauses_s=[0.3, 3.0, 0.3],
        lead_s=2.0,
        tail_s=2.0,
    )


@pytest.fixture(scope="module")
def bed() -> Path:
    return click_track_wav(100, duration_s=30, sample_rate=48000)[0]


def _split(out: Path, orig: Path) -> tuple[np.ndarray, np.ndarray]:
    """(gain-scaled original, music estimate) in the output, by least squares on the known original."""
    y = decode_audio(out, sample_rate=SR, channels=2).mean(axis=1)
    o = decode_audio(orig, sample_rate=SR)
    n = min(len(y), len(o))
    y, o = y[:n].astype(np.float64), o[:n].astype(np.float64)
    g = float(np.dot(y, o) / np.dot(o, o))
    return g * o, y - g * o


def test_duck_envelope_shape() -> None:
    from ab2n.analyze.profile import Interval

    regions = duck_regions([Interval(1.0, 2.0), Interval(2.3, 3.0), Interval(6.0, 7.0)])
    assert regions == [(1.0, 3.0), (6.0, 7.0)]  # the 0.3 s pause is held, the 3 s one is not
    t = np.array([0.8, 0.99, 1.0, 2.15, 3.0, 3.6, 4.5])
    g = duck_gain_db(t, regions, 12.0)
    assert g[0] == 0 and -12 < g[1] < -10 and g[2] == -12 and g[3] == -12 and g[4] == -12
    assert g[5] == 0 and g[6] == 0


@pytest.fixture(scope="module")
def speech_from_start() -> tuple[Path, list[tuple[float, float]]]:
    """A German voice from the file's first 50 ms, a one-word utterance, pauses 0.5-4 s."""
    return speech_wav(
        ["Hallo.", "Heute zeige ich euch den Hafen.", "Ja.", "Am Abend ist es hier sehr ruhig."],
        pauses_s=[0.5, 4.0, 1.2],
        lead_s=0.05,
        tail_s=2.5,
        voice="de",
    )


def _bundled_bed(tmp_path: Path, index: int, duration_s: float, start_s: float) -> Path:
    import immich_memories_music

    tracks = sorted(Path(immich_memories_music.tracks_dir()).glob("*/*.opus"))
    bed = tmp_path / f"bed{index}.wav"
    write_wav(bed, decode_audio(tracks[index], sample_rate=SR, channels=2, start_s=start_s, duration_s=duration_s), SR)
    return bed


@pytest.mark.parametrize("case", ["lead-2s-click-bed", "from-start-bundled-track"])
def test_ducking_depth_and_speech_clarity(
    tmp_path: Path, case: str, speech: tuple[Path, list], speech_from_start: tuple[Path, list], bed: Path
) -> None:
    """With the defaults (-14 LUFS, the limiter working on espeak-ng's peaky voice), measured on the
    encoded file by subtracting the known voice and bed (tests/separation.py, strict by 0-4 dB):
    over each whole utterance the music is >= 15 dB under the voice, the duck is >= 12 dB deep,
    and in pauses under 0.8 s the music stays down."""
    sp, spans = speech if case.startswith("lead") else speech_from_start
    info = probe(sp)
    prof = analyze(info)
    if not case.startswith("lead"):
        bed = _bundled_bed(tmp_path, 4, info.duration_s + 1, 20.0)
    plan = plan_mix(prof, MixSettings(), duration_s=info.duration_s, has_original_audio=True)
    out = tmp_path / "mix.m4a"
    rep = render_audio(original=info, bed_wav=bed, plan=plan, out_path=out, work_dir=tmp_path)
    # One encode is a rate, not a promise per file (test_one_encode_meets_loudness_and_peak): how
    # far AAC overshoots the limiter moves 0.5-1.6 dB with a 0.1 dB change of gain on this click bed.
    assert rep.encodes <= 2
    y = decode_audio(out, sample_rate=SR, channels=2)
    assert np.abs(y).max() < 0.999  # no clipped samples
    voice, music = split(y.mean(axis=1), decode_audio(sp, sample_rate=SR), decode_audio(bed, sample_rate=SR), SR)
    seg = lambda x, a, b: x[int(a * SR) : int(b * SR)]  # noqa: E731
    over = [rms_db(seg(voice, a, b)) - rms_db(seg(music, a, b)) for a, b in spans]
    assert min(over) >= 15.0, over
    under = rms_db(np.concatenate([seg(music, a, b) for a, b in spans]))
    gaps = [(b0, a1) for (_, b0), (a1, _) in itertools.pairwise(spans)]
    long_pause = next((b0 + 1.0, a1 - 0.7) for b0, a1 in gaps if a1 - b0 >= 3.0)
    assert rms_db(seg(music, *long_pause)) - under >= 12.0
    # No pumping: in pauses under 0.8 s the music stays within 3 dB of its level under speech.
    for b0, a1 in gaps:
        if a1 - b0 < 0.8:
            assert rms_db(seg(music, b0 + 0.05, a1 - 0.05)) - under <= 3.0


def _source(level: str) -> Path:
    path, ok = cached("loud-src", ".wav", level=level, v=2)
    if not ok:
        sp, _ = speech_wav(["Testing the levels of this recording.", "One more sentence to measure."], pauses_s=[1.0])
        y = decode_audio(sp, sample_rate=SR)
        noise = decode_audio(noise_wav(duration_s=len(y) / SR), sample_rate=SR)[: len(y)]
        y = y + 0.05 * noise
        if level == "quiet":
            y = y * 10 ** (-20 / 20)
        else:
            y = np.clip(y * 10 ** (20 / 20), -1, 1)  # hot and clipped
        write_wav(path, y, SR)
    return path


@pytest.mark.parametrize("target", [-14.0, -16.0, -23.0])
@pytest.mark.parametrize("level", ["quiet", "loud"])
def test_loudness_targets_on_encoded_output(tmp_path: Path, bed: Path, target: float, level: str) -> None:
    src = _source(level)
    info = probe(src)
    src_lufs = measure(src, "wav").integrated_lufs
    assert (src_lufs < -30) if level == "quiet" else (src_lufs > -10)
    prof = analyze(info)
    plan = plan_mix(prof, MixSettings(target_lufs=target), duration_s=info.duration_s, has_original_audio=True)
    out = tmp_path / f"{level}{target}.m4a"
    render_audio(original=info, bed_wav=bed, plan=plan, out_path=out)
    rep = measure(out, "mov")
    assert abs(rep.integrated_lufs - target) <= 0.5, rep
    assert rep.true_peak_dbtp <= -1.0, rep
    assert abs(probe(out).duration_s - info.duration_s) < 0.03


def test_volume_35_vs_100_is_9_1_db(tmp_path: Path, bed: Path) -> None:
    # A low tone: AAC codes it almost perfectly, so what remains after removing it is the music.
    orig = tone_wav(997.0, duration_s=12, amplitude=0.1)  # no note of the bed near it
    info = probe(orig)
    prof = VideoProfile(duration_s=info.duration_s)  # no speech: no ducking
    levels = {}
    for vol in (1.0, 0.35):
        plan = plan_mix(
            prof,
            MixSettings(volume=vol, target_lufs=-23.0),
            duration_s=info.duration_s,
            has_original_audio=True,
        )
        out = tmp_path / f"v{vol}.m4a"
        render_audio(original=info, bed_wav=bed, plan=plan, out_path=out)
        voice, music = _split(out, orig)
        levels[vol] = rms_db(music[SR:-SR]) - rms_db(voice[SR:-SR])
    assert abs((levels[1.0] - levels[0.35]) - 9.1) <= 0.5, levels


def test_no_click_at_fades(tmp_path: Path, bed: Path) -> None:
    prof = VideoProfile(duration_s=10.0)
    plan = plan_mix(prof, MixSettings(music_start_s=2.0, music_end_s=8.0), duration_s=10.0, has_original_audio=False)
    out = tmp_path / "fades.m4a"
    render_audio(original=None, bed_wav=bed, plan=plan, out_path=out)
    y = decode_audio(out, sample_rate=SR)
    src = decode_audio(bed, sample_rate=SR)
    assert np.abs(np.diff(y)).max() <= np.abs(np.diff(src)).max() * 2.5
    assert np.abs(y[: int(1.9 * SR)]).max() < 1e-3 and np.abs(y[int(8.1 * SR) :]).max() < 1e-3


def test_silent_and_music_only(tmp_path: Path, bed: Path) -> None:
    prof = VideoProfile(duration_s=4.0)
    plan = plan_mix(prof, MixSettings(), duration_s=4.0, has_original_audio=False)
    out = tmp_path / "silent.m4a"
    render_audio(original=None, bed_wav=None, plan=plan, out_path=out)
    assert abs(probe(out).duration_s - 4.0) < 0.03


def test_quiet_ambience_is_not_raised_to_programme_loudness(tmp_path: Path, bed: Path) -> None:
    # A -44 LUFS tone stands in for room tone or wind: with no speech it is ambience, and lifting it
    # to the target would put it level with the music (the music's beats drown in hiss).
    orig = tone_wav(997.0, duration_s=12, amplitude=0.01)
    info = probe(orig)
    assert measure(orig, "wav").integrated_lufs < -40
    plan = plan_mix(VideoProfile(duration_s=info.duration_s), MixSettings(), duration_s=12.0, has_original_audio=True)
    assert plan.keep_original and not plan.original_speech
    out = tmp_path / "ambience.m4a"
    render_audio(original=info, bed_wav=bed, plan=plan, out_path=out)
    ambience, music = _split(out, orig)
    # Kept (not muted), and still far under the music: about where it was relative to the target.
    assert -60 < rms_db(ambience[SR:-SR]) < -35
    assert rms_db(music[SR:-SR]) - rms_db(ambience[SR:-SR]) >= 20


def test_mix_graph_is_pure_data_from_levelled_inputs(tmp_path: Path) -> None:
    from ab2n.mix.mixdown import LevelledInput, MixPlan, build_mix_graph, original_gain_db

    plan = MixPlan(duration_s=10.0, music_start_s=2.0, music_end_s=10.0, music_volume=0.5, keep_original=True)
    speech_plan = dataclasses.replace(plan, original_speech=True)
    assert original_gain_db(speech_plan, -20.0) == pytest.approx(6.0)  # speech is raised to the target
    assert original_gain_db(plan, -20.0) == 0.0  # ambience is never raised
    assert original_gain_db(plan, -8.0) == pytest.approx(-6.0)  # but is brought down
    assert original_gain_db(speech_plan, -70.0) == 0.0  # silence is left alone
    orig = LevelledInput(tmp_path / "a.wav", "wav", 6.0, -14.0)
    bed = LevelledInput(tmp_path / "b.wav", "wav", 0.0, -20.0, delay_s=2.0)
    both = build_mix_graph(plan, original=orig, bed=bed)
    assert "volume=6.000dB[a0]" in both.graph and "adelay=2000:all=1[a1]" in both.graph
    assert "amix=inputs=2" in both.graph and both.graph.endswith("atrim=end=10.000000[mix]")
    # Two inputs at -14 and -20 LUFS sum to about -13.0 LUFS: the first gain takes the difference.
    assert both.gain_db == pytest.approx(-14.0 - 10 * np.log10(10 ** (-14 / 10) + 10 ** (-20 / 10)))
    assert not both.silent and both.inputs.count("-i") == 2
    assert build_mix_graph(plan, original=orig, bed=bed) == both  # same inputs, same graph
    silent = build_mix_graph(plan, original=None, bed=None)
    assert silent.silent and "anullsrc" in " ".join(silent.inputs) and silent.gain_db == 0.0


def test_pauses_hold_halfway_or_release() -> None:
    """Under 0.8 s the regions merge (no release at all); 0.8-1.6 s pauses come back halfway (no
    pumping to full level for a moment); longer pauses come all the way back."""
    from ab2n.analyze.profile import Interval as _iv

    assert duck_regions([_iv(1, 2), _iv(2.5, 3)]) == [(1, 3)]
    regions = duck_regions([_iv(1, 2), _iv(3.2, 4), _iv(6.5, 7)])
    mid_short, mid_long = np.array([2.6]), np.array([5.25])
    assert duck_gain_db(mid_short, regions, 12.0)[0] == pytest.approx(-6.0)
    assert duck_gain_db(mid_long, regions, 12.0)[0] == pytest.approx(0.0)
    t = np.linspace(2.0, 3.2, 500)  # the halfway pause never rises above half the depth
    assert duck_gain_db(t, regions, 12.0).max() <= -6.0 + 1e-9


def test_one_encode_meets_loudness_and_peak(tmp_path: Path, speech: tuple[Path, list]) -> None:
    """The gain is solved on the limiter's model and the limiter sits AAC_MARGIN_DB under the peak
    target, so a speech video with a bundled track takes one AAC encode for -14 +-0.5 LUFS and
    <= -1 dBTP: on at least 6 of 7 tracks spread over the library (the codec's overshoot has a
    tail: 33 of 34 programmes in the sweep, docs/mix.md), and every file meets both targets,
    measured by FFmpeg's ebur128."""
    sp, spans = speech
    dur = probe(sp).duration_s
    prof = VideoProfile(duration_s=dur, speech=tuple(Interval(a - 0.05, b + 0.2) for a, b in spans))
    plan = plan_mix(prof, MixSettings(), duration_s=dur, has_original_audio=True)
    encodes = []
    for track in range(0, 28, 4):
        bed = _bundled_bed(tmp_path, track, dur, 10.0)
        out = tmp_path / f"a{track}.m4a"
        rep = render_audio(original=probe(sp), bed_wav=bed, plan=plan, out_path=out, work_dir=tmp_path)
        encodes.append(rep.encodes)
        m = measure(out, "mov")
        assert abs(m.integrated_lufs + 14) <= 0.5 and m.true_peak_dbtp <= -1.0, (track, m)
    assert sum(e == 1 for e in encodes) >= 6, encodes
