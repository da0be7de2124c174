"""probe(path) -> MediaInfo: what a file is, decided from its content, within limits.

The container is sniffed first (``media.sniff``) and forced on every later open, so a file's name
never chooses its parser. Display size accounts for rotation metadata (a phone's portrait clip is
portrait here even when its coded frames are landscape).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

MediaKind = Literal["video", "audio", "image"]


@dataclass(frozen=True)
class MediaLimits:
    """Limits applied while probing (settings; the service and CLI pass their own)."""

    max_bytes: int = 500 * 1024 * 1024
    max_duration_s: float = 3 * 3600.0
    max_pixels: int = 7680 * 4320


@dataclass(frozen=True)
class MediaInfo:
    """What a media file is.

    Attributes:
        path: The file.
        kind: "video", "audio" or "image" (decided from content).
        demuxer: The sniffed FFmpeg demuxer name; pass it to ``ffmpeg.input_args``.
        size_bytes: File size.
        duration_s: Playable duration (0 for a still image).
        width, height: Display size after rotation (0 for audio).
        coded_width, coded_height: Size of the coded frames.
        rotation: Clockwise display rotation in degrees (0, 90, 180, 270).
        fps: Average frame rate (0 if unknown/still).
        video_codec: e.g. "h264", "hevc", "vp9", "png"; None without video.
        pix_fmt: e.g. "yuv420p", "yuv420p10le".
        video_bit_rate: bits/s or 0.
        has_audio: Whether there is an audio stream.
        audio_codec, sample_rate, channels: Of the first audio stream.
        frame_count: Frames in the video stream if known, else 0.
    """

    path: Path
    kind: MediaKind
    demuxer: str
    size_bytes: int
    duration_s: float
    width: int = 0
    height: int = 0
    coded_width: int = 0
    coded_height: int = 0
    rotation: int = 0
    fps: float = 0.0
    video_codec: str | None = None
    pix_fmt: str | None = None
    video_bit_rate: int = 0
    has_audio: bool = False
    audio_codec: str | None = None
    sample_rate: int = 0
    channels: int = 0
    frame_count: int = 0
    tags: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def has_video(self) -> bool:
        """True for video and image kinds."""
        return self.kind in ("video", "image")

    def to_json(self) -> dict[str, object]:
        """A JSON-ready description (paths as strings)."""
        return {
            "path": str(self.path),
            "kind": self.kind,
            "format": self.demuxer,
            "size_bytes": self.size_bytes,
            "duration_s": round(self.duration_s, 3),
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "fps": round(self.fps, 3),
            "video_codec": self.video_codec,
            "pix_fmt": self.pix_fmt,
            "has_audio": self.has_audio,
            "audio_codec": self.audio_codec,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
        }


def probe(path: str | Path, *, limits: MediaLimits | None = None) -> MediaInfo:
    """Describe a media file, refusing what ab2n does not accept.

    Args:
        path: Local file path.
        limits: Size/duration/pixel limits (defaults: 500 MB, 3 h, 8K).

    Raises:
        NotFound: No such file.
        UnsupportedMedia: Not an accepted format (code 4001), including HLS/ffconcat posing as MP4.
        MediaTooLarge: Over a limit (code 4002).
    """
    raise NotImplementedError("probe: to be implemented (issue 2)")
