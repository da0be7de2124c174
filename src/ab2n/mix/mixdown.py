"""Levels and the final audio: original audio + ducked music bed -> normalised AAC."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MixSettings:
    """What the user asked of the mix (all optional; defaults are what a pro would pick).

    Attributes:
        volume: Music level relative to a full-level bed (1.0 = 100 %); None = automatic
            (music-only video: 1.0; video with speech: a lower bed).
        keep_original: Keep the input's own audio under the music.
        duck_depth_db: How much lower the music sits under speech.
        duck_preset: "default" (speech >= 15 dB above the bed) or "wcag" (20 dB, WCAG G56) or "off".
        fade_in_s, fade_out_s: Music fades (None = automatic).
        music_start_s, music_end_s: Span of the music on the video (None = whole video).
        target_lufs: Integrated loudness of the programme (-14 default, -16 apple/podcast, -23 ebu).
        true_peak_db: Ceiling after AAC encoding.
    """

    volume: float | None = None
    keep_original: bool = True
    duck_depth_db: float = 12.0
    duck_preset: str = "default"
    fade_in_s: float | None = None
    fade_out_s: float | None = None
    music_start_s: float | None = None
    music_end_s: float | None = None
    target_lufs: float = -14.0
    true_peak_db: float = -1.0


@dataclass(frozen=True)
class LoudnessReport:
    """Loudness of the encoded output, measured by FFmpeg's ebur128 filter."""

    integrated_lufs: float
    true_peak_dbtp: float
    lra_lu: float = 0.0
