"""Output colours: HDR tone-mapping to SDR BT.709, or HDR kept as 10-bit HEVC (pure: filter strings).

Phones record HDR by default (10-bit HEVC, BT.2020 primaries, HLG or PQ transfer). Re-encoded as
8-bit H.264 with the HDR tags left on, it looks washed out on most screens and bands. So when the
video is encoded, ``hdr="sdr"`` (the default) converts HDR to SDR BT.709 with zimg (FFmpeg's
``zscale``) and FFmpeg's ``tonemap`` filter, both in Debian's 5.1 and the bundled build;
``libplacebo`` would need a Vulkan device, which a laptop without a GPU (or CI) may not have.

The operator is Möbius with no desaturation: it is the identity below 30 % of SDR white (mid
greys and skin tones keep their level and colour) and rolls highlights off smoothly up to the
assumed 1000-nit peak (FFmpeg's default for untagged peaks). Measured on a generated HLG clip
whose patches came from known SDR colours (tests/media/test_hdr.py): grey 128 comes back 128.1,
red (180, 60, 40) comes back (176.6, 59.0, 40.2); Hable, the usual recipe, gave 86 and
(117, 39, 26), a third darker.

``hdr="keep"`` encodes 10-bit HEVC tagged with the first HDR input's transfer; SDR inputs in the
same montage are converted into it (SDR white at 100 nits), other HDR kinds too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ab2n.media.probe import HdrKind, MediaInfo
from ab2n.timeline.draft import VideoSegment

HdrMode = Literal["sdr", "keep"]
HDR_MODES: tuple[HdrMode, ...] = ("sdr", "keep")

#: FFmpeg transfer names of each HDR kind.
TRANSFER: dict[HdrKind, str] = {"hlg": "arib-std-b67", "pq": "smpte2084"}

#: The tone-mapping step, from linear light (1.0 = 100 nits) in BT.709 primaries to SDR.
TONEMAP = "tonemap=tonemap=mobius:desat=0"


@dataclass(frozen=True)
class ColourTarget:
    """The output's colours: SDR BT.709 (``hdr`` None) or HDR BT.2020 with ``hdr``'s transfer."""

    hdr: HdrKind | None = None

    @property
    def pix_fmt(self) -> str:
        """The output pixel format: 8-bit for SDR, 10-bit for HDR."""
        return "yuv420p10le" if self.hdr else "yuv420p"


def colour_target(segs: Sequence[VideoSegment], media: Mapping[str, MediaInfo], mode: HdrMode) -> ColourTarget:
    """What colours an encoded output has: SDR, unless ``mode`` is "keep" and an input is HDR."""
    if mode == "keep":
        for seg in segs:
            kind = media[seg.media_id].hdr
            if kind is not None:
                return ColourTarget(kind)
    return ColourTarget(None)


def _source(info: MediaInfo) -> str:
    """zscale's input options from the probe's tags (HDR with untagged primaries is BT.2020)."""
    hdr = info.hdr is not None
    prim = info.color_primaries or ("bt2020" if hdr else "bt709")
    matrix = info.color_space or ("bt2020nc" if hdr else "bt709")
    trc = info.color_trc if info.color_trc and (hdr or info.color_trc == "bt709") else "bt709"
    rng = info.color_range or "tv"
    return f"tin={trc}:pin={prim}:min={matrix}:rin={rng}"


def colour_chain(info: MediaInfo, target: ColourTarget, w: int, h: int) -> str:
    """Filters (ending in a comma, or "") taking ``info``'s frames to ``target``'s colours.

    A source larger than the w x h output is scaled down first (covering w x h, so pad and crop
    both still have full resolution): tone-mapping runs in 32-bit float per pixel.
    """
    if info.hdr == target.hdr:
        return ""
    pre = ""
    if info.width * info.height > w * h:
        pre = f"scale={w}:{h}:force_original_aspect_ratio=increase:force_divisible_by=2,"
    src = _source(info)
    if target.hdr is None:
        return (
            f"{pre}zscale={src}:t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,{TONEMAP},"
            "zscale=t=bt709:m=bt709:r=tv,format=yuv420p,"
        )
    return f"{pre}zscale={src}:t={TRANSFER[target.hdr]}:p=bt2020:m=bt2020nc:r=tv:npl=100,format=yuv420p10le,"


def colour_needs(infos: Sequence[MediaInfo], target: ColourTarget) -> tuple[str, ...]:
    """FFmpeg features the colour handling of these inputs needs ("filter:zscale", "encoder:libx265")."""
    needs: list[str] = []
    if any(i.hdr != target.hdr for i in infos if i.has_video and (i.hdr or target.hdr)):
        needs += ["filter:zscale"] + (["filter:tonemap"] if target.hdr is None else [])
    if target.hdr is not None:
        needs.append("encoder:libx265")
    return tuple(needs)


def encoder_args(target: ColourTarget, *, tag_bt709: bool) -> list[str]:
    """Video encoder options: H.264 8-bit (tagged BT.709 when asked), or HEVC 10-bit with HDR tags."""
    if target.hdr is None:
        args = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-profile:v", "high"]
        if tag_bt709:
            args += ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv"]
        return args
    trc = TRANSFER[target.hdr]
    return [
        "-c:v",
        "libx265",
        "-preset",
        "veryfast",
        "-crf",
        "22",
        "-pix_fmt",
        "yuv420p10le",
        "-profile:v",
        "main10",
        "-tag:v",
        "hvc1",  # what Apple players need to play HEVC in MP4
        "-x265-params",
        f"log-level=error:colorprim=bt2020:transfer={trc}:colormatrix=bt2020nc:range=limited",
        "-color_primaries",
        "bt2020",
        "-color_trc",
        trc,
        "-colorspace",
        "bt2020nc",
        "-color_range",
        "tv",
    ]
