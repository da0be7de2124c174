"""The numpy loudness meter (mix/meter.py) against FFmpeg's ebur128 filter, the reference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ab2n.mix.loudness import measure
from ab2n.mix.meter import SAMPLE_RATE, LoudnessMeter, measure_audio
from mediagen import cached, click_track_wav, write_wav


def _stereo(name: str, make: Callable[[np.random.Generator], np.ndarray]) -> Path:
    out, ok = cached("meter", ".wav", name=name)
    if not ok:
        write_wav(out, make(np.random.default_rng(7)), SAMPLE_RATE)
    return out


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE


def _bursts(rng: np.random.Generator) -> np.ndarray:
    """Tone bursts with silences between them: the gates decide the integrated loudness."""
    t = _t(20)
    on = (t % 4) < 1.5
    left = 0.5 * np.sin(2 * np.pi * 440 * t) * on
    right = 0.05 * np.sin(2 * np.pi * 3000 * t) + 0.001 * rng.standard_normal(len(t))
    return np.stack([left, right], axis=1)


def _limited_noise(rng: np.random.Generator) -> np.ndarray:
    """White noise hard against a ceiling: energy up to 24 kHz, the widest inter-sample peaks."""
    x = np.tanh(3 * rng.standard_normal((len(_t(8)), 2))) * 0.7
    return x


def _swell(rng: np.random.Generator) -> np.ndarray:
    """Pink-ish noise rising 30 dB over 30 s: a wide loudness range."""
    t = _t(30)
    white = rng.standard_normal((len(t), 2))
    pink = np.cumsum(white, axis=0)
    pink -= np.convolve(pink[:, 0], np.ones(64) / 64, mode="same")[:, None]
    pink /= np.abs(pink).max()
    return pink * 10 ** ((-30 + t / 30 * 30) / 20)[:, None] * 0.8


SIGNALS = {"bursts": _bursts, "limited_noise": _limited_noise, "swell": _swell}


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_meter_agrees_with_ffmpeg_ebur128(name: str) -> None:
    path = _stereo(name, SIGNALS[name])
    ref = measure(path, "wav")
    got = measure_audio(path, "wav")
    assert got.integrated_lufs == pytest.approx(ref.integrated_lufs, abs=0.1)
    assert got.true_peak_dbtp == pytest.approx(ref.true_peak_dbtp, abs=0.25)
    assert got.lra_lu == pytest.approx(ref.lra_lu, abs=0.3)


def test_meter_agrees_on_music_at_another_rate() -> None:
    """A mono 44.1 kHz click-and-chord track, read as the mix hears it: 48 kHz stereo, each channel
    3 dB down (FFmpeg's mono-to-stereo), so the same loudness and a true peak 3 dB lower."""
    path = click_track_wav(100, duration_s=20, sample_rate=44100)[0]
    ref, got = measure(path, "wav"), measure_audio(path, "wav")
    assert got.integrated_lufs == pytest.approx(ref.integrated_lufs, abs=0.1)
    assert got.true_peak_dbtp == pytest.approx(ref.true_peak_dbtp - 3.01, abs=0.25)


def test_meter_is_the_same_whatever_the_blocks() -> None:
    x = _limited_noise(np.random.default_rng(1))[: SAMPLE_RATE * 5] * np.linspace(0.1, 1, SAMPLE_RATE * 5)[:, None]
    whole = LoudnessMeter()
    whole.feed(x)
    pieces = LoudnessMeter()
    for a, b in zip([0, 777, 30_000, 150_001], [777, 30_000, 150_001, len(x)], strict=True):
        pieces.feed(x[a:b])
    assert pieces.report() == whole.report()


def test_silence_is_under_the_gate() -> None:
    m = LoudnessMeter()
    m.feed(np.zeros((SAMPLE_RATE * 3, 2)))
    r = m.report()
    assert r.integrated_lufs == -70.0
    assert r.true_peak_dbtp == -120.0


def test_a_full_scale_sine_reads_its_own_level() -> None:
    """BS.1770's calibration: a 997 Hz sine at 0 dBFS in one channel reads -3.01 LUFS."""
    m = LoudnessMeter()
    t = _t(5)
    m.feed(np.stack([np.sin(2 * np.pi * 997 * t), np.zeros_like(t)], axis=1))
    r = m.report()
    assert r.integrated_lufs == pytest.approx(-3.01, abs=0.05)
    assert r.true_peak_dbtp == pytest.approx(0.0, abs=0.05)


def test_a_bed_metered_while_it_renders_reads_as_the_file(tmp_path: Path) -> None:
    """The mix meters the arranged bed from render_bed's blocks instead of reading the WAV again."""
    from ab2n.analyze.profile import Cut, VideoProfile
    from ab2n.music.arrange import plan_music
    from ab2n.music.bed import render_bed
    from ab2n.music.catalog import load_catalog
    from ab2n.music.select import MusicWishes, rank_tracks

    cuts = [2.5, 6.1, 9.0, 13.4]
    prof = VideoProfile(duration_s=16.0, fps=30, cuts=tuple(Cut(t, round(t * 30), 1.0) for t in cuts))
    best = rank_tracks(load_catalog(), prof, MusicWishes(), seed=3)[0]
    plan = plan_music(best.track, best.analysis, prof, duration_s=16.0)
    meter = LoudnessMeter()
    bed = render_bed(plan, tmp_path / "bed.wav", on_block=meter.feed)
    got, ref = meter.report(), measure_audio(bed, "wav")
    assert meter.fed
    assert got.integrated_lufs == pytest.approx(ref.integrated_lufs, abs=0.02)
    assert got.true_peak_dbtp == pytest.approx(ref.true_peak_dbtp, abs=0.02)
    assert got.lra_lu == pytest.approx(ref.lra_lu, abs=0.05)


def test_the_loudness_only_reading_is_the_full_readings_loudness(tmp_path: Path) -> None:
    """What the mix reads of its inputs (no true peak) is the same loudness, and a loudness-only
    meter refuses to make up a peak."""
    from ab2n.mix.meter import measure_lufs

    t = np.arange(SAMPLE_RATE * 6) / SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * 997 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    path = write_wav(tmp_path / "tone.wav", np.stack([tone, 0.5 * tone], axis=1), SAMPLE_RATE)
    assert measure_lufs(path, "wav") == measure_audio(path, "wav").integrated_lufs
    with pytest.raises(ValueError):
        LoudnessMeter(true_peak=False).report()
