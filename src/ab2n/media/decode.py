"""Decode audio to numpy, streaming through the one FFmpeg runner.

Used by analysis (speech at 16 kHz mono, music at 22.05 kHz mono) and by tests. Memory is the
size of the returned array; for long inputs use :func:`iter_audio_blocks`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ab2n.media.ffmpeg import input_args, iter_ffmpeg, run_ffmpeg
from ab2n.media.sniff import sniff


def _pcm_out(sample_rate: int, channels: int) -> list[str]:
    """Output options: the first audio stream as float32 PCM on stdout."""
    return [
        "-map",
        "0:a:0?",
        "-vn",
        "-sn",
        "-dn",
        "-ac",
        str(channels),
        "-ar",
        str(sample_rate),
        "-f",
        "f32le",
        "pipe:1",
    ]


def decode_audio(
    path: str | Path,
    *,
    sample_rate: int,
    channels: int = 1,
    start_s: float | None = None,
    duration_s: float | None = None,
    demuxer: str | None = None,
) -> np.ndarray:
    """Decode the first audio stream of ``path`` to float32.

    Args:
        path: Media file (any accepted container).
        sample_rate: Output rate in Hz.
        channels: 1 (mono downmix) or 2.
        start_s, duration_s: Optional span.
        demuxer: The sniffed demuxer if already known.

    Returns:
        Shape ``(n,)`` for mono, ``(n, channels)`` otherwise, float32 in [-1, 1]. Empty if the file
        has no audio stream.
    """
    fmt = demuxer or sniff(path).demuxer
    args = [*input_args(path, fmt, seek_s=start_s, duration_s=duration_s), *_pcm_out(sample_rate, channels)]
    res = run_ffmpeg(args, capture_stdout=True)
    data = np.frombuffer(res.stdout, dtype="<f4").copy()
    if channels > 1:
        data = data[: len(data) // channels * channels].reshape(-1, channels)
    return data


def iter_audio_blocks(
    path: str | Path,
    *,
    sample_rate: int,
    channels: int = 1,
    block_s: float = 10.0,
    demuxer: str | None = None,
) -> Iterator[np.ndarray]:
    """Yield float32 blocks of about ``block_s`` seconds, so long files never sit in memory whole.

    FFmpeg runs under the runner's guarantees (``media.ffmpeg.FFmpegStream``): it is killed if the
    consumer stops early, and a failed decode raises :class:`~ab2n.errors.ProcessingError` with
    FFmpeg's last stderr line instead of ending the blocks quietly.
    """
    fmt = demuxer or sniff(path).demuxer
    args = ["-loglevel", "error", *input_args(path, fmt), *_pcm_out(sample_rate, channels)]
    frame_bytes = 4 * channels
    for buf in iter_ffmpeg(args, block_bytes=int(block_s * sample_rate) * frame_bytes):
        arr = np.frombuffer(buf[: len(buf) // frame_bytes * frame_bytes], dtype="<f4")
        yield arr.reshape(-1, channels) if channels > 1 else arr
