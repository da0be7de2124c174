"""What phone and app files carry: variable frame rate, extra tracks, cover art, HEIF stills, odd WAVs.

Each fixture is made here with FFmpeg 5.1 options and each case is checked on the output file.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from ab2n.errors import UnsupportedMedia
from ab2n.media.probe import probe
from ab2n.pipeline import AddOptions, add_music
from media.conftest import ff, lavfi_clip
from media.pixels import all_streams
from mediagen import cached

TITLE = "title 'Hi'"


def vfr_clip() -> Path:
    """3 s of H.264: 30 fps for the first second, then 15 fps (a phone slowing down in the dark)."""
    return lavfi_clip(
        "ph-vfr",
        "-vf",
        "setpts='if(lt(N,30),N/30,1+(N-30)/15)/TB'",
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        seconds=3.0,
    )


def _video_times(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        v = next(s for s in c.streams.video if s.codec_context.name == "h264")
        return sorted(float(p.pts * v.time_base) for p in c.demux(v) if p.pts is not None)


def test_vfr_copied_keeps_its_timestamps(tmp_path: Path, cache: Path, music: Path) -> None:
    src, out = vfr_clip(), tmp_path / "vfr.mp4"
    res = add_music([src], out, AddOptions(cache_dir=cache, music=music))
    assert res.video_copied
    a, b = _video_times(src), _video_times(out)
    steps = np.round(np.diff(a) * 30).astype(int)
    assert {1, 2} <= set(steps.tolist()) and len(a) == 60  # the fixture is VFR: 30 + 2 s x 15 frames
    assert len(b) == len(a) and np.abs(np.subtract(a, b) - (b[0] - a[0])).max() < 1e-3
    assert abs(probe(out).duration_s - probe(src).duration_s) <= 1 / 30


def test_vfr_encoded_keeps_every_frame_of_its_fast_part(tmp_path: Path, cache: Path, music: Path) -> None:
    src, out = vfr_clip(), tmp_path / "vfr-title.mp4"
    info = probe(src)
    assert info.peak_fps == pytest.approx(30) and info.fps < 25  # the average is ~20.7
    res = add_music([src], out, AddOptions(cache_dir=cache, music=music, prompt=TITLE))
    assert not res.video_copied
    got = probe(out)
    assert got.fps == pytest.approx(30) and abs(got.duration_s - info.duration_s) <= 1 / 30 + 1e-3
    # The first second was 30 distinct frames; at the average rate ~9 of them would be dropped.
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="gray")[::8, ::8].astype(float) for f in c.decode(video=0) if f.time < 0.95]
    changes = sum(np.abs(a - b).mean() > 1.0 for a, b in itertools.pairwise(frames))
    assert changes >= 26, changes
    # In sync: picture and sound start together and end within a frame of each other.
    v, a = (next(s for s in all_streams(out) if s["codec_type"] == kind) for kind in ("video", "audio"))
    assert abs(float(v["start_time"]) - float(a["start_time"])) <= 1 / 30
    assert abs(float(v["duration"]) - float(a["duration"])) <= 1 / 30 + 0.025  # + one AAC frame


def extra_tracks_mkv() -> Path:
    """Matroska as apps write it: cover art as the first video track, the clip, two audio tracks."""
    out, ok = cached("ph-extra", ".mkv")
    if ok:
        return out
    clip = lavfi_clip("ph-extra-src", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    cover = out.with_suffix(".cover.png")
    ff("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", str(cover))
    second = ("-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000:duration=2")
    maps = ("-map", "0", "-map", "1:v", "-map", "1:a", "-map", "2")
    ff("-i", str(cover), "-i", str(clip), *second, *maps, "-c:v:0", "png", "-c:v:1", "copy", "-c:a", "aac", str(out))
    return out


def extra_tracks_mov() -> Path:
    """QuickTime as cameras write it: a timecode track, a second audio track and a cover picture."""
    out, ok = cached("ph-extra-tc", ".mp4")
    if ok:
        return out
    clip = lavfi_clip("ph-extra-src", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    cover = out.with_suffix(".cover.png")
    ff("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", str(cover))
    ff(
        *("-i", str(clip), "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000:duration=2", "-i", str(cover)),
        *("-map", "0:v", "-map", "0:a", "-map", "1:a", "-map", "2", "-c:v:0", "copy", "-c:v:1", "png"),
        *("-disposition:v:1", "attached_pic", "-c:a", "aac", "-timecode", "01:00:00:00", str(out)),
    )
    return out


@pytest.mark.parametrize("make", [extra_tracks_mkv, extra_tracks_mov], ids=["mkv-cover-first", "mp4-timecode"])
def test_extra_tracks_the_clip_and_its_first_sound_are_used(
    make: Callable[[], Path], tmp_path: Path, cache: Path, music: Path
) -> None:
    src = make()
    kinds = [s["codec_type"] for s in all_streams(src)]
    assert kinds.count("video") == 2 and kinds.count("audio") == 2  # the fixture is what it says
    info = probe(src)
    assert (info.width, info.height, info.video_codec) == (320, 240, "h264")
    out = tmp_path / "out.mp4"
    res = add_music([src], out, AddOptions(cache_dir=cache, music=music))
    streams = all_streams(out)
    # One picture (the clip, not the 64x64 cover), one programme sound; timecode and extras dropped.
    assert [(s["codec_type"], s.get("width")) for s in streams] in (
        [("video", 320), ("audio", None)],
        [("audio", None), ("video", 320)],
    )
    assert res.video_copied and abs(probe(out).duration_s - info.duration_s) <= 1 / 30 + 1e-3
    # The analysis watched the clip too: testsrc2 moves (~0.009), the still cover is 0.0.
    assert res.profile is not None and max(res.profile.features["motion"]) > 0.002, res.profile.features["motion"]


def test_mp3_with_cover_picture_is_audio(tmp_path: Path, cache: Path, music: Path) -> None:
    mp3, ok = cached("ph-cover", ".mp3")
    if not ok:
        cover = mp3.with_suffix(".png")
        ff("-f", "lavfi", "-i", "color=c=blue:s=300x300", "-frames:v", "1", str(cover))
        ff(
            *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2", "-i", str(cover), "-map", "0"),
            *("-map", "1", "-c:a", "libmp3lame", "-c:v", "mjpeg", "-disposition:v", "attached_pic", str(mp3)),
        )
    assert [s["codec_type"] for s in all_streams(mp3)] == ["audio", "video"]
    info = probe(mp3)
    assert info.kind == "audio" and not info.has_video
    out = tmp_path / "song.m4a"
    add_music([mp3], out, AddOptions(cache_dir=cache, music=music))
    assert [s["codec_type"] for s in all_streams(out)] == ["audio"]
    assert abs(probe(out).duration_s - info.duration_s) < 0.05


@pytest.mark.parametrize(
    ("rate", "channels", "codec"), [(8000, 1, "pcm_s16le"), (96000, 2, "pcm_s24le")], ids=["8k-mono", "96k-24bit"]
)
def test_wav_rates_and_depths(rate: int, channels: int, codec: str, tmp_path: Path, cache: Path, music: Path) -> None:
    wav, ok = cached("ph-wav", ".wav", r=rate, c=channels, codec=codec)
    if not ok:
        tone = f"sine=frequency=440:sample_rate={rate}:duration=2"
        ff("-f", "lavfi", "-i", tone, "-ac", str(channels), "-c:a", codec, str(wav))
    info = probe(wav)
    assert (info.sample_rate, info.channels, info.audio_codec) == (rate, channels, codec)
    out = tmp_path / "memo.m4a"
    add_music([wav], out, AddOptions(cache_dir=cache, music=music))
    a = all_streams(out)
    assert [(s["codec_name"], int(s["sample_rate"]), s["channels"]) for s in a] == [("aac", 48000, 2)]
    assert abs(probe(out).duration_s - 2.0) < 0.05


def test_avif_still_is_a_photo(tmp_path: Path, cache: Path, music: Path) -> None:
    avif, ok = cached("ph-still", ".avif")
    if not ok:
        still = ("-frames:v", "1", "-c:v", "libaom-av1", "-cpu-used", "8", "-still-picture", "1")
        ff("-f", "lavfi", "-i", "testsrc2=size=320x240", *still, str(avif))
    info = probe(avif)
    assert (info.kind, info.width, info.height, info.video_codec is not None) == ("image", 320, 240, True)
    out = tmp_path / "photo.mp4"
    add_music([avif], out, AddOptions(cache_dir=cache, music=music, image_duration_s=2))
    got = probe(out)
    assert got.kind == "video" and abs(got.duration_s - 2.0) <= 1 / 30 + 1e-3 and (got.width, got.height) == (320, 240)


def test_heic_this_ffmpeg_cannot_decode_is_a_clear_4001(tmp_path: Path) -> None:
    # No FFmpeg 5.1 option writes HEIC, so this is a HEIC header over nothing decodable: the refusal path.
    fake = tmp_path / "IMG_0001.HEIC"
    fake.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00\x00\x00\x08free" * 8)
    with pytest.raises(UnsupportedMedia) as err:
        probe(fake)
    assert err.value.code == 4001 and "HEIC" in err.value.message and "JPEG" in err.value.message


def test_the_mix_graph_ends_with_the_programme_on_a_clip_whose_sound_starts_late(tmp_path: Path) -> None:
    """The Matroska clip's audio starts at 0.067 s; under FFmpeg 9.0.2 the mix graph's `atrim`
    missed its end about two runs in five and the `apad` before it wrote silence without end (seen
    in CI as a test that never finished). Every run must stop at the programme's length."""
    from ab2n.analyze.profile import VideoProfile
    from ab2n.media.ffmpeg import iter_ffmpeg
    from ab2n.mix.mixdown import LevelledInput, MixSettings, build_mix_graph, plan_mix
    from mediagen import tone_wav

    src = extra_tracks_mkv()
    info = probe(src)
    d = info.duration_s
    plan = plan_mix(VideoProfile(duration_s=d), MixSettings(), duration_s=d, has_original_audio=True)
    original = LevelledInput(src, info.demuxer, 0.0, -20.0)
    bed = LevelledInput(tone_wav(300.0, duration_s=d, sample_rate=48000), "wav", 0.0, -20.0, delay_s=0.0)
    mix = build_mix_graph(plan, original=original, bed=bed)
    expected = round(d * 48000) * 8
    for _ in range(5):
        args = [*mix.inputs, "-filter_complex", f"{mix.graph};[mix]aresample=192000,aresample=48000[out]"]
        got = 0
        for block in iter_ffmpeg([*args, "-map", "[out]", "-f", "f32le", "pipe:1"], block_bytes=1 << 16):
            got += len(block)
            assert got <= expected + 48000 * 8, "the mix ran past the programme's end"
        assert abs(got - expected) <= 4800 * 8
