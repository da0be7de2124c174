"""The composed notes played by a SoundFont (General MIDI) instead of the built-in synthesis.

A SoundFont holds recorded instruments; the built-in voices (``synth.py``) are a few lines of
synthesis each. When the MIT-licensed ``tinysoundfont`` wheel is installed and a SoundFont is
given or found, the composer's notes are played on it, stem by stem; the rest of the score
(levels, room, voice pocket, ending) is unchanged. Which one: :func:`resolve`, called by the faces
(``ab2n add --soundfont``, which also reads ``AB2N_SOUNDFONT``); the core is handed a path or None.

- a path: that file (an error if it or the wheel is missing);
- "none": the built-in synthesis;
- "auto" (the default): the first of :data:`SYSTEM_SOUNDFONTS` present (Debian's MIT-licensed
  ``musescore-general-soundfont-small`` and ``fluid-soundfont-gm``) if the wheel is installed, else
  the built-in synthesis.

``tinysoundfont`` declares PyAudio as a dependency, which only its live playback uses and which
needs PortAudio's headers to build; install it with ``pip install --no-deps tinysoundfont``.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ab2n.errors import Cancelled, InvalidArgument
from ab2n.music.compose.notes import Note
from ab2n.music.compose.synth import DRUM_MIX, SR
from ab2n.music.compose.synth import render_stem as builtin_stem

AUTO = "auto"
OFF = ("none", "off", "synth", "builtin")

#: Looked for in this order when none is named (Debian paths; the first is a symlink that
#: update-alternatives points at the installed General MIDI font).
SYSTEM_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf3/default-GM.sf3"),
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
)

#: General MIDI program (0-based) for each built-in voice: the nearest instrument of the same role.
GM_PROGRAM = {
    "piano": 0,  # Acoustic Grand Piano
    "piano_pedal": 0,
    "piano_bass_pedal": 0,
    "piano_bass": 0,
    "epiano": 4,  # Electric Piano 1
    "epiano_lead": 4,
    "guitar": 25,  # Acoustic Guitar (steel)
    "strings": 48,  # String Ensemble 1
    "spiccato": 45,  # Pizzicato Strings
    "saw_pad": 90,  # Pad 3 (polysynth)
    "glass_pad": 89,  # Pad 2 (warm)
    "arp_pluck": 46,  # Orchestral Harp
    "bell": 10,  # Music Box
    "horn": 60,  # French Horn
    "square_lead": 80,  # Lead 1 (square)
    "pluck_lead": 24,  # Acoustic Guitar (nylon)
    "round_bass": 33,  # Electric Bass (finger)
    "sub_bass": 38,  # Synth Bass 1
    "synth_bass": 39,  # Synth Bass 2
}

#: General MIDI percussion key for each built-in drum (channel 10).
GM_DRUM = {
    "kick": 36,  # Bass Drum 1
    "snare": 38,  # Acoustic Snare
    "clap": 39,  # Hand Clap
    "hat": 42,  # Closed Hi-Hat
    "open_hat": 46,  # Open Hi-Hat
    "shaker": 70,  # Maracas
    "crash": 49,  # Crash Cymbal 1
    "taiko": 41,  # Low Floor Tom
    "tom": 45,  # Low Tom
    "boom": 35,  # Acoustic Bass Drum
}

_DRUM_CHANNEL = 9
_PROBE_S = 2.0  # a level probe's length: its note and the ring after it


def installed() -> bool:
    """Whether the ``tinysoundfont`` wheel can be imported."""
    return importlib.util.find_spec("tinysoundfont") is not None


def resolve(choice: str | Path | None = AUTO) -> Path | None:
    """The SoundFont to play the score on, or None for the built-in synthesis.

    Args:
        choice: A path, "none" (also "off", "synth", "builtin"), or "auto"/None for the system's
            General MIDI font when ``tinysoundfont`` is installed.

    Raises:
        InvalidArgument: A SoundFont was named but is missing, is not one, or ``tinysoundfont`` is
            not installed.
    """
    named = str(choice or AUTO).strip()
    if named.lower() in OFF:
        return None
    if named.lower() == AUTO:
        found = next((p for p in SYSTEM_SOUNDFONTS if p.is_file()), None) if installed() else None
        return found.resolve() if found else None  # the file, not the alternatives symlink: its name says which
    path = Path(named).expanduser()
    if not path.is_file():
        raise InvalidArgument(f"SoundFont {named!r} not found")
    if path.suffix.lower() not in (".sf2", ".sf3", ".sfo"):
        raise InvalidArgument(f"{path.name} is not a SoundFont (.sf2, .sf3 or .sfo)")
    if not installed():
        raise InvalidArgument("playing a SoundFont needs tinysoundfont: pip install --no-deps tinysoundfont")
    return path


@dataclass
class _Font:
    """A loaded SoundFont: one synthesizer (loading a compressed .sf3 takes seconds) and a lock,
    since a synthesizer plays one score at a time."""

    synth: Any
    sfid: int
    lock: threading.RLock  # re-entered: a voice's first use measures it with the lock held


@lru_cache(maxsize=2)
def _font(path: Path) -> _Font:
    import tinysoundfont

    synth = tinysoundfont.Synth(samplerate=SR)
    try:
        sfid = synth.sfload(str(path))
    except Exception as exc:  # the wheel raises its own exception type for unreadable files
        raise InvalidArgument(f"could not read the SoundFont {path.name}: {exc}") from None
    return _Font(synth, sfid, threading.RLock())


def render_stem(notes: Iterable[Note], n: int, soundfont: Path, cancel: threading.Event | None = None) -> np.ndarray:
    """Stereo float32 samples (n, 2) of ``notes`` played on ``soundfont``.

    Each voice (and each drum) is played in a pass of its own and scaled like a built-in voice:
    a note at velocity 1 peaks near 1 (the font's level for that instrument is measured once),
    then the note's velocity; drums also get their level from ``synth.DRUM_MIX``. Pan comes from
    the notes (MIDI pan, one channel per pan position), drums keep the kit's own. A voice whose
    instrument the font does not play in tune (:func:`plays_in_tune`) is played by the built-in
    voice instead, on the same scale.
    """
    font = _font(soundfont)
    by_voice: dict[str, list[Note]] = {}
    for nt in notes:
        by_voice.setdefault(nt.voice, []).append(nt)
    out = np.zeros((n, 2), np.float32)
    with font.lock:
        for voice, group in by_voice.items():
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
            drum = voice in GM_DRUM and all(nt.pitch == 0 for nt in group)
            if not drum and voice not in GM_PROGRAM:
                raise ValueError(f"no General MIDI instrument for the voice {voice!r}")
            if not drum and not plays_in_tune(soundfont, voice):
                out += builtin_stem(group, n, cancel)
                continue
            scale = _level(soundfont, voice, drum)
            out += _play(font, voice, group, n, drum) * scale
    return out


#: Probe pitches per register: a voice must sound each in tune to be played on the font.
PROBE_PITCHES = {"bass": (28, 40, 52), "other": (48, 60, 72, 84)}
IN_TUNE_SHARE = 0.3  # of a probe note's energy within 3 % of its first four harmonics


@lru_cache(maxsize=256)
def plays_in_tune(soundfont: Path, voice: str) -> bool:
    """Whether the font plays the voice's instrument at the expected pitches across its register.

    Fonts are not all whole: through tinysoundfont, MuseScore_General_Lite's acoustic pianos come
    out 20-40 dB quieter than its other instruments and without pitch from C6 up (0.00 of the
    energy at the note's harmonics, against 0.8-1.0 for its electric pianos, guitars and pads).
    """
    from scipy import signal

    font = _font(soundfont)
    pitches = PROBE_PITCHES["bass" if "bass" in voice else "other"]
    with font.lock:
        for pitch in pitches:
            y = _play(font, voice, [Note(0.0, 0.5, pitch, 0.8, voice)], SR, False)[:, 0]
            if float(np.max(np.abs(y))) < 1e-3:
                return False
            f, pxx = signal.welch(y, fs=SR, nperseg=8192)
            f0 = 440.0 * 2 ** ((pitch - 69) / 12)
            near = sum(float(pxx[(f > f0 * k * 0.97) & (f < f0 * k * 1.03)].sum()) for k in (1, 2, 3, 4))
            if near < IN_TUNE_SHARE * float(pxx.sum()):
                return False
    return True


def _channels(font: _Font, voice: str, group: list[Note], drum: bool) -> dict[float, int]:
    """Select the voice's instrument on one channel per pan position (MIDI pan is per channel)."""
    synth = font.synth
    synth.sounds_off()
    if drum:
        synth.program_select(_DRUM_CHANNEL, font.sfid, 128, 0, True)
        return {0.0: _DRUM_CHANNEL}
    pans = sorted({round(nt.pan, 1) for nt in group})
    melodic = [c for c in range(16) if c != _DRUM_CHANNEL]
    channels: dict[float, int] = {}
    for i, pan in enumerate(pans[: len(melodic)]):
        chan = melodic[i]
        synth.program_select(chan, font.sfid, 0, GM_PROGRAM[voice])
        synth.control_change(chan, 10, round(64 + 63 * max(-1.0, min(1.0, pan))))
        channels[pan] = chan
    return channels


def _play(font: _Font, voice: str, group: list[Note], n: int, drum: bool) -> np.ndarray:
    """One voice's notes through the synthesizer, sample-accurate (events between generated blocks)."""
    channels = _channels(font, voice, group, drum)
    events: list[tuple[int, int, int, int, int]] = []  # (sample, order, channel, key, velocity); offs first
    for nt in group:
        key = GM_DRUM[voice] if drum else min(127, max(0, int(nt.pitch)))  # MIDI keys are 7 bits
        pan = min(channels, key=lambda p: abs(p - round(nt.pan, 1)))
        chan = channels[pan]
        start = max(0, round(nt.start_s * SR))
        if start >= n:
            continue
        vel = max(1, min(127, round(127 * nt.vel)))
        events.append((start, 1, chan, key, vel))
        events.append((min(n, start + max(1, round(nt.dur_s * SR))), 0, chan, key, 0))
    events.sort()
    synth = font.synth
    out = np.zeros((n, 2), np.float32)
    pos = 0
    for sample, _, chan, key, vel in events:
        if sample > pos:
            out[pos:sample] = _generate(synth, sample - pos)
            pos = sample
        if vel:
            synth.noteon(chan, key, vel)
        else:
            synth.noteoff(chan, key)
    if pos < n:
        out[pos:] = _generate(synth, n - pos)
    synth.sounds_off()
    return out


def _generate(synth: Any, count: int) -> np.ndarray:
    """``count`` stereo frames from the synthesizer as (count, 2) float32."""
    return np.frombuffer(synth.generate(count), np.float32).reshape(count, 2)


@lru_cache(maxsize=256)
def _level(soundfont: Path, voice: str, drum: bool) -> float:
    """Gain that brings the font's instrument to the built-in voices' scale (cached per font)."""
    font = _font(soundfont)
    probe = Note(0.0, 0.5, 0 if drum else (40 if "bass" in voice else 60), 1.0, voice)
    with font.lock:
        y = _play(font, voice, [probe], int(_PROBE_S * SR), drum)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    level = DRUM_MIX[voice][0] if drum else 1.0
    return level / peak if peak > 1e-6 else 0.0
