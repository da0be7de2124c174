"""Phone HDR (10-bit HEVC, BT.2020, HLG or PQ): tone-mapped to SDR BT.709 when encoded, kept on ask.

Fixtures carry patches of known colour. The HLG clip is made from known SDR colours by zimg's
SDR -> HLG conversion (what an HDR pipeline does with SDR content); tone-mapping must give them
back. The PQ clip is written as PQ codes computed here from nits (SMPTE ST 2084), so its grey is
known without FFmpeg: on a 100-nit SDR display (BT.1886, gamma 2.4), code 128 shows 19.2 nits.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import av
import numpy as np
import pytest

from ab2n.errors import UnsupportedMedia
from ab2n.media.ffmpeg import ffmpeg_exe, set_ffmpeg_exe
from ab2n.media.probe import probe
from ab2n.pipeline import AddOptions, add_music
from media.conftest import lavfi_clip
from media.pixels import patch_rgb, stream_info, yuv_planes

GREY, RED = (128, 128, 128), (180, 60, 40)
LEFT, RIGHT = (0.1, 0.2, 0.4, 0.8), (0.6, 0.2, 0.9, 0.8)  # patch boxes, fractions of the frame
HLG_TAGS = ("-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc")
X265 = ("-c:v", "libx265", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p10le")


def _patches_src(left: tuple[int, int, int], right: tuple[int, int, int]) -> str:
    hexes = ["0x{:02x}{:02x}{:02x}".format(*c) for c in (left, right)]
    return (
        f"color=c={hexes[0]}:s=160x240:r=30,format=rgb24[l];color=c={hexes[1]}:s=160x240:r=30,format=rgb24[r];"
        "[l][r]hstack"
    )


def hlg_clip() -> Path:
    """2 s of 10-bit HEVC HLG: a grey patch left, a red one right (from SDR 128 grey, (180, 60, 40))."""
    to_hlg = "zscale=tin=bt709:t=arib-std-b67:pin=bt709:p=bt2020:min=gbr:m=bt2020nc:rin=full:r=tv:npl=100"
    return lavfi_clip(
        "hdr-hlg", "-vf", f"{to_hlg},format=yuv420p10le", *X265, *HLG_TAGS, "-c:a", "aac", src=_patches_src(GREY, RED)
    )


def _pq_code(nits: float) -> int:
    """10-bit limited-range PQ code of a luminance (SMPTE ST 2084 inverse EOTF)."""
    m1, m2, c1, c2, c3 = 0.1593017578125, 78.84375, 0.8359375, 18.8515625, 18.6875
    y = (nits / 10000) ** m1
    return round(64 + 876 * ((c1 + c2 * y) / (1 + c3 * y)) ** m2)


def pq_clip() -> Path:
    """2 s of 10-bit HEVC PQ, three neutral bands: 19.2 nits (SDR grey 128), 100 nits, 1000 nits."""
    a, b, c = _pq_code(100 * (128 / 255) ** 2.4), _pq_code(100), _pq_code(1000)
    geq = f"geq=lum='if(lt(X,W/3),{a},if(lt(X,2*W/3),{b},{c}))':cb=512:cr=512"
    # Tags on the frames too: newer FFmpegs take the encoder's colour tags from the frames.
    geq += ",setparams=range=tv:color_primaries=bt2020:color_trc=smpte2084:colorspace=bt2020nc"
    tags = ("-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc")
    return lavfi_clip(
        "hdr-pq", "-vf", f"format=yuv420p10le,{geq}", *X265, *tags, "-c:a", "aac", src="nullsrc=s=360x240:r=30"
    )


def test_probe_reads_hdr_tags() -> None:
    info = probe(hlg_clip())
    assert info.hdr == "hlg" and info.pix_fmt == "yuv420p10le"
    assert (info.color_primaries, info.color_trc, info.color_space) == ("bt2020", "arib-std-b67", "bt2020nc")
    assert probe(pq_clip()).hdr == "pq"
    assert probe(lavfi_clip("hdr-sdr", "-c:v", "libx264", "-pix_fmt", "yuv420p")).hdr is None


def test_hlg_is_tone_mapped_to_sdr_bt709_with_known_colours(tmp_path: Path, cache: Path, music: Path) -> None:
    out = tmp_path / "hlg.mp4"
    res = add_music([hlg_clip()], out, AddOptions(cache_dir=cache, music=music, prompt="title 'Lisbon'"))
    assert not res.video_copied and res.tone_mapped == ("hlg",) and res.hdr_out is None
    assert any("tone-mapped" in n for n in res.notes)
    v = stream_info(out)
    assert (v["codec_name"], v["pix_fmt"]) == ("h264", "yuv420p")
    assert (v["color_primaries"], v["color_transfer"], v["color_space"]) == ("bt709", "bt709", "bt709")
    planes = yuv_planes(out, 1.5)  # the title is gone by then? it sits low: the patches are mid-frame
    for box, want in ((LEFT, GREY), (RIGHT, RED)):
        got = patch_rgb(planes, box)
        assert np.abs(np.subtract(got, want)).max() <= 6, (got, want)


def test_pq_grey_keeps_its_level_and_highlights_roll_off(tmp_path: Path, cache: Path, music: Path) -> None:
    out = tmp_path / "pq.mp4"
    res = add_music([pq_clip()], out, AddOptions(cache_dir=cache, music=music))
    assert res.tone_mapped == ("pq",)
    planes = yuv_planes(out, 1.0)
    grey, white, peak = (patch_rgb(planes, (x, 0.2, x + 0.2, 0.8))[1] for x in (0.05, 0.4, 0.75))
    assert abs(grey - 128) <= 4, grey
    # Rolled off, not clipped: 100 and 1000 nits both bright, and still apart.
    assert 190 <= white < peak - 15 and peak >= 240, (white, peak)


def test_hdr_keep_encodes_10bit_hevc_with_the_tags(tmp_path: Path, cache: Path, music: Path) -> None:
    src = hlg_clip()
    out = tmp_path / "keep.mp4"
    res = add_music([src], out, AddOptions(cache_dir=cache, music=music, hdr="keep", prompt="title 'Lisbon'"))
    assert res.hdr_out == "hlg" and res.tone_mapped == () and not res.video_copied
    v = stream_info(out)
    assert (v["codec_name"], v["pix_fmt"], v["codec_tag_string"]) == ("hevc", "yuv420p10le", "hvc1")
    assert (v["color_primaries"], v["color_transfer"], v["color_space"]) == ("bt2020", "arib-std-b67", "bt2020nc")
    # The picture is the source's, untouched in colour: same 10-bit codes on the patches.
    a, b = yuv_planes(src, 1.0, ten_bit=True), yuv_planes(out, 1.0, ten_bit=True)
    assert np.abs(a[:, 60:180, 20:140].mean(axis=(1, 2)) - b[:, 60:180, 20:140].mean(axis=(1, 2))).max() <= 4


def test_hdr_keep_copies_phone_hevc_when_nothing_visual_changes(tmp_path: Path, cache: Path, music: Path) -> None:
    src = hlg_clip()
    out = tmp_path / "keep-copy.mp4"
    res = add_music([src], out, AddOptions(cache_dir=cache, music=music, hdr="keep"))
    assert res.video_copied and res.hdr_out == "hlg"
    with av.open(str(src)) as a, av.open(str(out)) as b:
        assert [bytes(p) for p in a.demux(video=0) if p.size] == [bytes(p) for p in b.demux(video=0) if p.size]
    v = stream_info(out)
    assert (v["pix_fmt"], v["color_primaries"], v["color_transfer"]) == ("yuv420p10le", "bt2020", "arib-std-b67")


def test_copied_video_keeps_its_hdr_tags(tmp_path: Path, cache: Path, music: Path) -> None:
    # 8-bit H.264 tagged HLG is copyable: the copy must keep its stream and tags as they are.
    tag = "setparams=range=tv:color_primaries=bt2020:color_trc=arib-std-b67:colorspace=bt2020nc"
    src = lavfi_clip("hdr-h264-hlg", "-vf", tag, "-c:v", "libx264", "-pix_fmt", "yuv420p", *HLG_TAGS, "-c:a", "aac")
    out = tmp_path / "copy.mp4"
    res = add_music([src], out, AddOptions(cache_dir=cache, music=music))
    assert res.video_copied and res.hdr_out == "hlg"
    v = stream_info(out)
    assert (v["color_primaries"], v["color_transfer"]) == ("bt2020", "arib-std-b67")


def test_ffmpeg_without_zscale_is_a_clear_4001(tmp_path: Path, cache: Path, music: Path) -> None:
    src = hlg_clip()
    real = ffmpeg_exe()
    fake = tmp_path / "ffmpeg"  # the real binary, with zscale left out of its filter list
    fake.write_text(
        f'#!/bin/sh\nfor a in "$@"; do [ "$a" = -filters ] && {{ "{real}" "$@" | grep -v " zscale "; exit 0; }}; done\n'
        f'exec "{real}" "$@"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    out = tmp_path / "no.mp4"
    set_ffmpeg_exe(str(fake))
    try:
        with pytest.raises(UnsupportedMedia) as err:
            add_music([src], out, AddOptions(cache_dir=cache, music=music))
    finally:
        set_ffmpeg_exe(os.environ.get("AB2N_FFMPEG") or None)
    assert err.value.code == 4001 and "zscale" in err.value.message and "HLG" in err.value.message
    assert not out.exists() and not list(tmp_path.glob(".no*"))
