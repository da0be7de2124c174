"""Video understanding on generated media with known truth: cuts, speech, mood."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ab2n.analyze import analyze
from ab2n.analyze.speech import SAMPLE_RATE, speech_intervals, speech_probabilities
from ab2n.media.decode import decode_audio
from ab2n.media.probe import probe
from media.conftest import ff
from mediagen import cached, click_track_wav, clip_with_cuts, noise_wav, speech_wav, tone_wav, write_wav

FPS = 30


def _score(found: list[int], truth: list[int], tol: int = 1) -> tuple[float, float]:
    hits = sum(any(abs(f - t) <= tol for f in found) for t in truth)
    good = sum(any(abs(f - t) <= tol for t in truth) for f in found)
    return hits / max(1, len(truth)), good / max(1, len(found))


def test_irregular_hard_cuts_frame_accurate() -> None:
    rng = np.random.default_rng(7)
    times = list(np.cumsum(rng.uniform(0.7, 4.0, 14)))
    times = [t for t in times if t < 29]
    clip, truth = clip_with_cuts(times, duration_s=30, size=(640, 360), fps=FPS)
    prof = analyze(probe(clip))
    recall, precision = _score([c.frame for c in prof.cuts], truth, tol=0)
    assert recall >= 0.97 and precision >= 0.97, ([c.frame for c in prof.cuts], truth)


def _hard_clip() -> tuple[Path, list[int]]:
    """Similar-colour shots, a flash inside a shot, a slow dissolve, a pan, text appearing."""
    path, ok = cached("hardcuts", ".mp4", v=3)
    # shots: A gradient blue (0-3 s) | B gradient blue-ish other seed (3-6 s, similar colours)
    # | C pan over mandelbrot with a 2-frame flash at 7.5 s and text from 8 s (6-10 s)
    # | dissolve (1 s) into D testsrc2 (10-14 s) | E smptebars (14-16 s)
    truth = [90, 180, 420]  # frames of the hard cuts: 3 s, 6 s, 14 s
    if not ok:
        font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
        text = (
            f",drawtext=fontfile={font}:text='Hello':fontsize=40:x=40:y=40:fontcolor=white:enable='gte(t,2)'"
            if __import__("os").path.exists(font)
            else ""
        )
        graph = (
            "gradients=s=640x360:r=30:c0=0x2040a0:c1=0x4080c0:speed=0.01:seed=1,trim=end_frame=90,setpts=PTS-STARTPTS[a];"
            "gradients=s=640x360:r=30:c0=0x3050b0:c1=0x2070d0:speed=0.01:seed=9,trim=end_frame=90,setpts=PTS-STARTPTS[b];"
            "mandelbrot=s=1280x720:r=30,crop=640:360:x='t*60':y=100,trim=end_frame=120,setpts=PTS-STARTPTS,"
            f"eq=brightness=0.9:enable='between(n,45,46)'{text}[c];"
            "testsrc2=s=640x360:r=30,trim=end_frame=150,setpts=PTS-STARTPTS[d];"
            "smptebars=s=640x360:r=30,trim=end_frame=60,setpts=PTS-STARTPTS[e];"
            "[c][d]xfade=transition=fade:duration=1:offset=3[cd];"
            "[a][b][cd][e]concat=n=4:v=1:a=0,format=yuv420p[v]"
        )
        ff("-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-r", "30", str(path))
    return path, truth


def test_flash_dissolve_pan_text_and_similar_colours() -> None:
    path, truth = _hard_clip()
    prof = analyze(probe(path))
    frames = [c.frame for c in prof.cuts]
    recall, precision = _score(frames, truth, tol=1)
    assert recall >= 0.97 and precision >= 0.97, frames
    assert any(t.kind == "dissolve" and 8.5 < t.end_s < 11.5 for t in prof.transitions), prof.transitions


def _speech_mix(kind: str) -> tuple[Path, list[tuple[float, float]]]:
    sp, spans = speech_wav(
        [
            "The weather was lovely on the first morning.",
            "We took the tram up the hill.",
            "Then we walked down to the river and had lunch.",
            "It was the best day of the trip.",
        ],
        pauses_s=[0.6, 3.0, 1.5],
        sample_rate=16000,
    )
    path, ok = cached("speechmix", ".wav", mix=kind, v=1)
    if not ok:
        y = decode_audio(sp, sample_rate=SAMPLE_RATE)
        n = len(y)
        if kind == "music":
            bed = decode_audio(click_track_wav(100, duration_s=n / SAMPLE_RATE + 1)[0], sample_rate=SAMPLE_RATE)[:n]
            y = y + 0.5 * bed
        elif kind == "tone":
            y = y + 0.1 * np.sin(2 * np.pi * 440 * np.arange(n) / SAMPLE_RATE)
        elif kind == "noise":
            y = y + 0.03 * np.random.default_rng(0).standard_normal(n)
        write_wav(path, y, SAMPLE_RATE)
    return path, spans


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(x1, y1) - max(x0, y0)) for x0, x1 in a for y0, y1 in b)


@pytest.mark.parametrize("kind", ["clean", "music", "tone", "noise"])
def test_speech_precision_recall_by_duration(kind: str) -> None:
    path, truth = _speech_mix(kind)
    y = decode_audio(path, sample_rate=SAMPLE_RATE)
    probs, hop = speech_probabilities([y])
    # Unpadded intervals for scoring; ducking pads them later.
    found = [(i.start_s, i.end_s) for i in speech_intervals(probs, hop, pad_before_s=0, pad_after_s=0, merge_gap_s=0.2)]
    inter = _overlap(found, truth)
    precision = inter / max(1e-9, sum(b - a for a, b in found))
    recall = inter / sum(b - a for a, b in truth)
    assert precision >= 0.95 and recall >= 0.90, (kind, precision, recall)


@pytest.mark.parametrize("maker", ["music", "tone", "noise"])
def test_no_speech_in_music_tones_noise(maker: str) -> None:
    src = {
        "music": lambda: click_track_wav(110, duration_s=20)[0],
        "tone": lambda: tone_wav(duration_s=10),
        "noise": lambda: noise_wav(duration_s=10),
    }[maker]()
    prof = analyze(probe(src))
    assert prof.speech_fraction < 0.05, prof.speech


def test_mood_dark_still_vs_bright_fast() -> None:
    dark, _ = cached("mood-dark", ".mp4", v=1)
    if not _:
        ff(
            "-f",
            "lavfi",
            "-i",
            "gradients=s=320x180:r=30:c0=0x101418:c1=0x202428:speed=0.001,hue=s=0.1",
            "-t",
            "20",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(dark),
        )
    bright, _ = clip_with_cuts([0.8 * i for i in range(1, 25)], duration_s=20, size=(320, 180))
    pd, pb = analyze(probe(dark)), analyze(probe(bright))
    assert np.mean(pd.valence) < np.mean(pb.valence)
    assert np.mean(pd.arousal) < np.mean(pb.arousal)


def test_talking_head_is_not_energetic() -> None:
    sp, _ = speech_wav(
        [
            "Hi everyone, welcome back to my channel.",
            "Today I want to talk about my camera.",
            "It is small, light and the battery lasts all day.",
        ],
        pauses_s=[0.5, 0.5],
    )
    face, ok = cached("talking", ".mp4", v=1)
    if not ok:
        ff(
            "-f",
            "lavfi",
            "-i",
            "color=c=0xb08070:s=320x240:r=30",
            "-i",
            str(sp),
            "-shortest",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(face),
        )
    prof = analyze(probe(face))
    assert prof.speech_fraction > 0.5
    assert prof.mood != "energetic"
