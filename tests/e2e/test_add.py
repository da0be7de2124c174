"""ab2n add end to end on generated media, measuring the output file (not the plan)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from ab2n.media.ffmpeg import ffmpeg_exe, run_ffmpeg
from ab2n.media.probe import probe
from ab2n.mix.loudness import measure
from ab2n.pipeline import AddOptions, add_music
from media.conftest import ff, lavfi_clip
from mediagen import clip_with_cuts, rotated_copy, speech_wav

CUTS = [2.1, 3.9, 6.5, 8.0, 11.3, 13.0]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _packets(path: Path) -> list[str]:
    with av.open(str(path)) as c:
        return [hashlib.sha1(bytes(p)).hexdigest() for p in c.demux(video=0) if p.size]


def _ebur128(path: Path) -> tuple[float, float]:
    rep = measure(path, "mov")
    return rep.integrated_lufs, rep.true_peak_dbtp


def _frame_dur(path: Path) -> float:
    info = probe(path)
    return 1.0 / (info.fps or 30)


def test_stream_copy_is_bit_exact_with_right_length_and_loudness(tmp_path: Path, cache: Path) -> None:
    src, _ = clip_with_cuts(CUTS, duration_s=15, audio="tone")
    out = tmp_path / "out.mp4"
    res = add_music([src], out, AddOptions(cache_dir=cache))
    assert res.video_copied
    assert _packets(out) == _packets(src)
    assert abs(probe(out).duration_s - probe(src).duration_s) <= _frame_dur(src)
    lufs, tp = _ebur128(out)
    assert abs(lufs - (-14.0)) <= 1.0
    assert tp <= -1.0
    assert res.track_id and res.cuts_found == len(CUTS)


def test_reencode_path_for_hevc_keeps_duration(tmp_path: Path, cache: Path) -> None:
    src = lavfi_clip(
        "e2e-hevc",
        "-c:v",
        "libx265",
        "-x265-params",
        "log-level=none",
        "-c:a",
        "aac",
        src="testsrc2=size=640x360:rate=25",
        seconds=4,
    )
    out = tmp_path / "hevc-music.mp4"
    res = add_music([src], out, AddOptions(cache_dir=cache))
    assert not res.video_copied
    info = probe(out)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p"
    assert abs(info.duration_s - probe(src).duration_s) <= 1 / 25 + 1e-3
    lufs, tp = _ebur128(out)
    assert abs(lufs + 14) <= 1.0 and tp <= -1.0


@pytest.mark.parametrize("copy", [True, False])
def test_rotation_kept(tmp_path: Path, cache: Path, copy: bool) -> None:
    base = lavfi_clip(
        "e2e-rot-src",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        src="testsrc2=size=640x360:rate=30",
        seconds=3,
    )
    rotated = tmp_path / "phone.mp4"
    rotated_copy(base, rotated, degrees=90)
    out = tmp_path / "phone-music.mp4"
    opts = AddOptions(cache_dir=cache) if copy else AddOptions(cache_dir=cache, prompt="title 'Hi'")
    res = add_music([rotated], out, opts)
    assert res.video_copied is copy
    info = probe(out)
    assert (info.width, info.height) == (360, 640)


def test_vertical_preset_and_title_pixels(tmp_path: Path, cache: Path) -> None:
    src = lavfi_clip(
        "e2e-flat",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        src="color=c=0x336699:size=640x360:rate=30",
        seconds=6,
    )
    out = tmp_path / "v.mp4"
    add_music(
        [src],
        out,
        AddOptions(
            cache_dir=cache,
            preset="vertical",
            prompt='add a title "Urban Dreams" from 1 s for 2 seconds at the top',
        ),
    )
    info = probe(out)
    assert (info.width, info.height) == (1080, 1920)
    frames = {}
    with av.open(str(out)) as c:
        for f in c.decode(video=0):
            t = float(f.pts * f.time_base)
            for want in (0.5, 2.0, 4.5):
                if want not in frames and t >= want:
                    frames[want] = f.to_ndarray(format="rgb24").astype(np.int16)
    top = slice(0, 400)
    rest = slice(700, 1920)
    during = np.abs(frames[2.0][top] - frames[0.5][top]).mean()
    after = np.abs(frames[4.5][top] - frames[0.5][top]).mean()
    below = np.abs(frames[2.0][rest] - frames[0.5][rest]).mean()
    assert during > 3.0, "the title box should change while the title shows"
    assert after < 1.0 and below < 1.0, "nothing should change outside the title's time and box"


def test_chinese_title_renders_glyphs(tmp_path: Path, cache: Path) -> None:
    src = lavfi_clip(
        "e2e-black",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        src="color=c=black:size=640x360:rate=30",
        seconds=3,
        audio=False,
    )
    outs = {}
    for name, text in (("zh", "城市之梦"), ("tofu", "\U000f0000\U000f0001\U000f0002\U000f0003")):
        out = tmp_path / f"{name}.mp4"
        add_music([src], out, AddOptions(cache_dir=cache, prompt=f'title "{text}" for 2 seconds'))
        with av.open(str(out)) as c:
            for f in c.decode(video=0):
                if float(f.pts * f.time_base) >= 1.0:
                    outs[name] = f.to_ndarray(format="gray")
                    break
    zh = outs["zh"] > 128
    assert zh.sum() > 500, "glyph pixels present"
    # Glyphs of four different characters differ from each other; tofu boxes are four identical shapes.
    cols = np.flatnonzero(zh.any(axis=0))
    quarter = (cols.max() - cols.min()) // 4
    parts = [zh[:, cols.min() + i * quarter : cols.min() + (i + 1) * quarter] for i in range(4)]
    sums = [p.sum() for p in parts]
    assert np.std(sums) / np.mean(sums) > 0.05
    assert not np.array_equal(zh, outs["tofu"] > 128)


def test_audio_input_gives_m4a_with_speech_kept(tmp_path: Path, cache: Path) -> None:
    wav, _spans = speech_wav(["This is a short voice memo about the trip.", "We walked all day."], pauses_s=[1.0])
    out = tmp_path / "memo-music.m4a"
    res = add_music([wav], out, AddOptions(cache_dir=cache))
    info = probe(out)
    assert info.kind == "audio" and info.audio_codec == "aac" and info.sample_rate == 48000 and info.channels == 2
    assert abs(info.duration_s - probe(wav).duration_s) < 0.05
    assert res.integrated_lufs is not None and abs(res.integrated_lufs + 14) <= 1


def test_image_input_gives_still_video(tmp_path: Path, cache: Path) -> None:
    img = tmp_path / "photo.jpg"
    ff("-f", "lavfi", "-i", "testsrc2=size=801x601", "-frames:v", "1", str(img))
    out = tmp_path / "photo.mp4"
    add_music([img], out, AddOptions(cache_dir=cache, image_duration_s=5))
    info = probe(out)
    assert info.kind == "video" and info.has_audio
    assert abs(info.duration_s - 5.0) <= 1 / 30 + 1e-3
    assert info.width % 2 == 0 and info.height % 2 == 0


def test_cli_json_and_exit_code(tmp_path: Path) -> None:
    src, _ = clip_with_cuts(CUTS, duration_s=15, audio="tone")
    out = tmp_path / "cli.mp4"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "ab2n.cli",
            "add",
            str(src),
            "-o",
            str(out),
            "--json",
            "--volume",
            "35%",
            "--mood",
            "calm",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert re.search(r'"output": ".*cli\.mp4"', res.stdout)
    assert '"integrated_lufs"' in res.stdout
    assert out.exists() and not list(tmp_path.glob(".*partial*"))


def test_cli_bad_option_is_400(tmp_path: Path) -> None:
    src, _ = clip_with_cuts(CUTS, duration_s=15, audio="tone")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "ab2n.cli",
            "add",
            str(src),
            "-o",
            str(tmp_path / "x.mp4"),
            "--preset",
            "cinema",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and res.stderr.startswith("error 400:")
    assert not (tmp_path / "x.mp4").exists()


def test_ffmpeg_runner_kills_on_timeout() -> None:
    from ab2n.errors import ProcessTimeout

    with pytest.raises(ProcessTimeout):
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=1280x720", "-f", "null", "-"], timeout_s=1.0)
    assert Path(ffmpeg_exe()).exists() or ffmpeg_exe()
