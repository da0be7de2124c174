"""The naive MoviePy 2 recipe people write: loop a track under the clip, fade it out, write the file.

Usage: python bench/moviepy_naive.py IN.mp4 MUSIC OUT.mp4
"""

from __future__ import annotations

import sys

from moviepy import AudioFileClip, CompositeAudioClip, VideoFileClip, afx


def main() -> None:
    src, music, out = sys.argv[1:4]
    video = VideoFileClip(src)
    track = AudioFileClip(music).with_effects(
        [afx.AudioLoop(duration=video.duration), afx.AudioFadeOut(2.0), afx.MultiplyVolume(0.4)]
    )
    layers = [track] if video.audio is None else [video.audio, track]
    final = video.with_audio(CompositeAudioClip(layers))
    final.write_videofile(out, codec="libx264", audio_codec="aac", logger=None, threads=2, preset="veryfast")


if __name__ == "__main__":
    main()
