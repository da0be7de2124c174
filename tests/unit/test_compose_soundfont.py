"""The score played on a SoundFont: every built-in voice has an instrument, the bed keeps the
score's promises (length, peak, cuts on beats an analyser hears blind, the ending), and naming a
SoundFont that isn't there is a one-line error.

Needs the ``tinysoundfont`` wheel and a General MIDI SoundFont on the system (CI installs
Debian's ``musescore-general-soundfont-small``); skipped without them unless
``AB2N_REQUIRE_SOUNDFONT`` is set, as CI sets it, so there they fail instead.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

from ab2n.analyze.profile import Cut, VideoProfile
from ab2n.errors import InvalidArgument
from ab2n.music.beats import analyze_track
from ab2n.music.compose import soundfont
from ab2n.music.compose.notes import Note
from ab2n.music.compose.score import compose, plan_for, render_score
from ab2n.music.compose.synth import DRUM_MIX, STEMS, VOICES
from ab2n.music.compose.synth import render_stem as synth_stem

FONT = soundfont.resolve("auto")
if FONT is None:
    if os.environ.get("AB2N_REQUIRE_SOUNDFONT"):
        raise RuntimeError("AB2N_REQUIRE_SOUNDFONT is set but no SoundFont or no tinysoundfont is installed")
    pytest.skip("tinysoundfont or a General MIDI SoundFont is not installed", allow_module_level=True)

# Cut spacings unlike test_compose's (a burst, long holds), and a length not a whole number of bars.
CUTS = [1.9, 3.1, 6.8, 7.6, 12.2, 17.5]
SECONDS = 21.3


def _profile(mood: str) -> VideoProfile:
    return VideoProfile(
        duration_s=SECONDS,
        fps=30,
        cuts=tuple(Cut(t, round(t * 30), 0.9) for t in CUTS),
        arousal=list(np.linspace(-0.2, 0.8, int(SECONDS))),
        valence=[0.3] * int(SECONDS),
        mood=mood,
    )


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wf:
        return np.frombuffer(wf.readframes(wf.getnframes()), "<i4").reshape(-1, 2) / 2**31


def test_every_built_in_voice_has_an_instrument_that_sounds() -> None:
    assert set(VOICES) <= set(soundfont.GM_PROGRAM)
    assert set(DRUM_MIX) <= set(soundfont.GM_DRUM)
    assert FONT is not None
    for voice in VOICES:
        assert soundfont._level(FONT, voice, False) > 0, voice  # the font has the program
    for drum in DRUM_MIX:
        assert soundfont._level(FONT, drum, True) > 0, drum


def test_a_voice_the_font_plays_out_of_tune_is_the_built_in_voice() -> None:
    assert FONT is not None
    in_tune = {v: soundfont.plays_in_tune(FONT, v) for v in VOICES}
    assert sum(in_tune.values()) >= len(VOICES) // 2  # a General MIDI font plays most of them
    n = 3 * 48000
    for voice, ok in in_tune.items():
        notes = [Note(0.2, 0.8, 60 if "bass" not in voice else 40, 0.7, voice), Note(1.1, 1.0, 67, 0.5, voice, 0.4)]
        played = soundfont.render_stem(notes, n, FONT)
        if ok:  # the font's instrument: not the built-in voice, and the note's pitch is there
            assert abs(float(np.corrcoef(played[:, 0], synth_stem(notes, n)[:, 0])[0, 1])) < 0.9, voice
        else:
            assert np.allclose(played, synth_stem(notes, n)), voice


@pytest.mark.parametrize(
    ("mood", "words"), [("happy", []), ("energetic", ["electronic"]), ("calm", ["cinematic"]), ("tender", ["piano"])]
)
def test_the_soundfont_bed_keeps_the_score(tmp_path: Path, mood: str, words: list[str]) -> None:
    plan = plan_for(_profile(mood), duration_s=SECONDS, words=words, seed=3)
    bed_path = render_score(plan, tmp_path / "bed.wav", soundfont=FONT)
    y = _read(bed_path)
    assert len(y) == round(SECONDS * 48000)
    assert 0.45 <= float(np.max(np.abs(y))) <= 0.51  # the bed's -6 dBFS peak, as the built-in synthesis
    notes = compose(plan)
    n = round(SECONDS * 48000)
    for stem in STEMS:  # recorded instruments, not the built-in voices
        if notes[stem]:
            played = soundfont.render_stem(notes[stem], n, FONT)
            built_in = synth_stem(notes[stem], n)
            assert float(np.max(np.abs(played))) > 0.01, stem
            # Not dull as a broken instrument: MuseScore_General_Lite's acoustic piano, unpitched
            # from C6 up, left the piano piece's melody 32 dB darker above 2 kHz than the built-in
            # voice; instruments that work differ by up to 23 dB (a music box against the
            # synthesized bell, a square lead), so the guard sits at 30.
            assert _above_2k_db(played) > _above_2k_db(built_in) - 30, stem
    heard = analyze_track(bed_path)  # blind: the analyser never sees the plan
    beats = np.asarray(heard.beats_s)
    on_beat = np.mean([np.min(np.abs(beats - c)) <= 0.05 for c in CUTS])
    assert on_beat >= 0.8, (plan.style, on_beat)
    assert abs(heard.tempo_bpm - plan.tempo_bpm) / plan.tempo_bpm <= 0.08, (heard.tempo_bpm, plan.tempo_bpm)
    frame = 960
    rms = np.sqrt((y[: len(y) // frame * frame, 0].reshape(-1, frame) ** 2).mean(axis=1))
    loud = np.flatnonzero(rms > np.max(rms) * 10 ** (-40 / 20))
    assert SECONDS - (loud[-1] + 1) * frame / 48000 <= 0.25  # rings into the last frame


def _above_2k_db(y: np.ndarray) -> float:
    """Share of the energy above 2 kHz, in dB."""
    spec = np.abs(np.fft.rfft(y[:, 0].astype(np.float64))) ** 2
    f = np.fft.rfftfreq(len(y), 1 / 48000)
    return float(10 * np.log10(spec[f > 2000].sum() / spec.sum() + 1e-12))


def test_naming_a_missing_or_wrong_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="not found"):
        soundfont.resolve(tmp_path / "nope.sf2")
    text = tmp_path / "notes.txt"
    text.write_text("not a soundfont")
    with pytest.raises(InvalidArgument, match="is not a SoundFont"):
        soundfont.resolve(text)
    fake = tmp_path / "broken.sf2"
    fake.write_bytes(b"RIFF\x04\x00\x00\x00sfbk")
    with pytest.raises(InvalidArgument, match="could not read the SoundFont"):
        soundfont._font(fake)
    assert soundfont.resolve("none") is None
    assert soundfont.resolve("auto") == FONT
