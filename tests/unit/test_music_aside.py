"""Music already in the clip: detected per second, and the added music steps aside for it.

Classes are checked on generated audio with known content (bundled tracks, a synthesized chord
progression with drums, a click track with chords; pink/white/brown noise, wind-like modulated
noise, a steady 440 Hz tone, silence; espeak-ng speech clean, over music and over noise). The
mix claim is measured on the encoded output of ``add_music`` by subtracting the known original.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ab2n.analyze.audio_classes import classify_seconds, music_regions
from ab2n.analyze.speech import AudioListener
from ab2n.media.decode import decode_audio
from ab2n.pipeline import AddOptions, add_music
from mediagen import cached, click_track_wav, clip_with_cuts, espeak_available, write_wav
from speechset import _pink, make_scene, music_bed

SR = 16000


def _classes(x: np.ndarray) -> list[str]:
    listener = AudioListener()
    for i in range(0, len(x), SR * 2):
        listener.feed(x[i : i + SR * 2])
    listener.finish()
    return classify_seconds(listener.classifier, listener.probs, listener.hop_s, int(np.ceil(len(x) / SR)))


def _bundled(i: int) -> np.ndarray:
    import immich_memories_music

    tracks = sorted(Path(immich_memories_music.tracks_dir()).glob("*/*.opus"))
    return decode_audio(tracks[i * 5 % len(tracks)], sample_rate=SR, start_s=15, duration_s=12)


def test_music_is_told_from_noise_tone_silence() -> None:
    rng = np.random.default_rng(3)
    n = 12 * SR
    music = [_bundled(i) * 0.5 for i in range(4)] + [music_bed(12, SR, s) * 3 for s in (11, 12)]
    music.append(decode_audio(click_track_wav(132, duration_s=12)[0], sample_rate=SR))
    noise = [
        _pink(n, rng) * 0.05,
        (rng.standard_normal(n) * 0.03).astype(np.float32),
        _pink(n, rng) * 0.05 * (1 + 0.8 * np.sin(2 * np.pi * 0.3 * np.arange(n) / SR)).astype(np.float32),
        (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / SR)).astype(np.float32),
    ]
    music_labels = [lab for x in music for lab in _classes(x)]
    other_labels = [lab for x in noise for lab in _classes(x)] + _classes(np.zeros(n, np.float32))
    assert music_labels.count("music") / len(music_labels) >= 0.9, music_labels
    assert "music" not in other_labels, other_labels
    assert all(music_regions(_classes(x)) for x in music)


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed")
def test_speech_is_not_music_and_speech_over_music_is_not_noise() -> None:
    for i in range(3):
        sp = make_scene(70 + i).speech
        level = np.std(sp[np.abs(sp) > 1e-4])
        m = music_bed(len(sp) / SR, SR, i)[: len(sp)]
        over_music = _classes(sp + m / np.std(m) * level * 10 ** (-10 / 20))
        alone = _classes(sp)
        assert "music" not in alone, alone
        assert over_music.count("noise") + over_music.count("silence") <= 0.1 * len(over_music), over_music
        assert music_regions(over_music), over_music


def _music_clip() -> tuple[Path, Path]:
    wav, ok = cached("musicclip", ".wav", v=1)
    if not ok:
        x = music_bed(20.0, 48000, 5)
        write_wav(wav, x / np.abs(x).max() * 0.5, 48000)
    clip, _ = clip_with_cuts([4, 9, 15], duration_s=20, audio=wav)
    return clip, wav


def test_added_music_steps_aside_for_the_clips_own_music(tmp_path: Path) -> None:
    clip, wav = _music_clip()
    out = tmp_path / "out.mp4"
    res = add_music([clip], out, AddOptions(cache_dir=tmp_path / "cache"))
    mix = res.to_json()["mix"]
    assert mix["original_music"] and mix["original_music"][0]["start_s"] <= 1.0
    assert mix["original_music"][-1]["end_s"] >= 19.0
    assert any("already has music from 0:00" in n for n in res.notes), res.notes
    y = decode_audio(out, sample_rate=48000, channels=2).mean(axis=1).astype(np.float64)
    o = decode_audio(wav, sample_rate=48000).astype(np.float64)
    k = min(len(y), len(o))
    y, o = y[:k], o[:k]
    g = float(np.dot(y, o) / np.dot(o, o))
    rest = y - g * o  # what is not the clip's own music: the added track (and codec noise)
    ratio = 10 * np.log10(np.mean((g * o) ** 2) / np.mean(rest**2))
    assert ratio >= 15.0, f"the clip's music is only {ratio:.1f} dB over the added music"
