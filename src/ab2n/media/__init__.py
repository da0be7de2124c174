"""Media access: sniffing, probing, and the one FFmpeg runner. Only this package starts processes."""

from ab2n.media.probe import MediaInfo, MediaLimits, probe

__all__ = ["MediaInfo", "MediaLimits", "probe"]
