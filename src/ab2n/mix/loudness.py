"""Loudness: measure with FFmpeg's ebur128 (ITU-R BS.1770 / EBU R128), plan the gain, check the result.

``measure`` is the reference: the encoded output is checked with it. The mix's own inputs use the
faster numpy meter in ``mix.meter``, which agrees with it; the programme gain comes from
``mix.gain``'s model of the limiter.

Targets: -14 LUFS (YouTube, Spotify, TikTok), -16 (Apple, podcasts), -23 (EBU R128 broadcast); true
peak <= -1 dBTP measured on the encoded AAC file (encoding adds inter-sample peaks, so the check
is on what the user gets, not on the PCM before it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ab2n.errors import ProcessingError
from ab2n.media.ffmpeg import input_args, run_ffmpeg

PRESETS: dict[str, float] = {
    "youtube": -14.0,
    "tiktok": -14.0,
    "spotify": -14.0,
    "apple": -16.0,
    "podcast": -16.0,
    "ebu": -23.0,
    "broadcast": -23.0,
}


@dataclass(frozen=True)
class LoudnessReport:
    """Loudness of an audio stream: FFmpeg's ebur128 filter or ``mix.meter`` (the same fields)."""

    integrated_lufs: float
    true_peak_dbtp: float
    lra_lu: float = 0.0
    encodes: int = 0  # AAC encodes it took to write the file (0 for a measurement of a given file)


_I = re.compile(r"^\s*I:\s+(-?[\d.]+|-inf)\s+LUFS", re.M)
_LRA = re.compile(r"^\s*LRA:\s+(-?[\d.]+)\s+LU", re.M)
_PEAK = re.compile(r"^\s*Peak:\s+(-?[\d.]+|-inf)\s+dBFS", re.M)


def target_for(name_or_value: str | float) -> float:
    """A loudness target from a preset name ("youtube", "apple", "ebu"...) or a number like -14."""
    if isinstance(name_or_value, int | float):
        return float(name_or_value)
    key = str(name_or_value).strip().lower()
    if key in PRESETS:
        return PRESETS[key]
    try:
        return float(key.removesuffix("lufs").strip())
    except ValueError:
        from ab2n.errors import InvalidArgument

        raise InvalidArgument(f"unknown loudness target {name_or_value!r}; use {', '.join(PRESETS)} or -14") from None


def parse_ebur128(stderr: str) -> LoudnessReport:
    """Read the summary block ebur128 prints at the end of a run."""
    summary = stderr[stderr.rfind("Summary:") :] if "Summary:" in stderr else stderr
    mi, ml, mp = _I.search(summary), _LRA.search(summary), _PEAK.search(summary)
    if not mi:
        raise ProcessingError("could not read the loudness measurement", detail=stderr[-2000:])

    def num(m: re.Match[str] | None, default: float) -> float:
        if not m:
            return default
        return -120.0 if m.group(1) == "-inf" else float(m.group(1))

    return LoudnessReport(integrated_lufs=num(mi, -70.0), true_peak_dbtp=num(mp, -120.0), lra_lu=num(ml, 0.0))


def measure(path: Path, demuxer: str, *, stream: str = "0:a:0") -> LoudnessReport:
    """Integrated loudness, loudness range and true peak of an audio stream of a file."""
    res = run_ffmpeg(
        [
            *input_args(path, demuxer),
            "-map",
            stream,
            "-af",
            "ebur128=peak=true:framelog=verbose",
            "-f",
            "null",
            "-",
        ],
        stderr_lines=60,
    )
    return parse_ebur128(res.stderr_tail)
