"""One streaming decode of a video: tiny frame signatures, colour features, and the audio for speech.

Decoding dominates analysis time, so it happens once: PyAV decodes with frame threads and the
in-loop deblocking filter skipped (it changes pixels by a few levels, which no measure here can
see), swscale shrinks each frame to 64x36 in C, and audio is resampled to 16 kHz mono in the same
pass. Memory grows by ~0.5 KB per frame (the 16x9 signature kept for the cut detector).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np

from ab2n.analyze.speech import SAMPLE_RATE as SPEECH_RATE
from ab2n.analyze.speech import AudioListener
from ab2n.media.ffmpeg import ANALYZEDURATION_US, PROBESIZE_BYTES
from ab2n.media.probe import MediaInfo

SMALL_W, SMALL_H = 64, 36
SIG_W, SIG_H = 16, 9
HUE_BINS, SAT_BINS = 12, 3
GREY_BINS = 4
GREY_SAT = 0.2
HIST_BINS = HUE_BINS * SAT_BINS + GREY_BINS


@dataclass
class FrameScan:
    """Per-frame measurements of a video, in presentation order.

    Attributes:
        times_s: PTS of each frame, shape (n,).
        signatures: 16x9 RGB thumbnails, shape (n, 9, 16, 3) uint8 (for cut refinement).
        hists: Hue/saturation histograms with grey pixels in brightness bins, shape (n, HIST_BINS), each summing to 1.
        diffs: Mean absolute difference to the previous frame on the 64x36 image (0..1), shape (n,).
        brightness, saturation, colourfulness, warmth: Per-frame colour features (0..1), shape (n,).
        audio: What the audio listener heard (speech probabilities, energy), or None without audio.
    """

    times_s: np.ndarray
    signatures: np.ndarray
    hists: np.ndarray
    diffs: np.ndarray
    brightness: np.ndarray
    saturation: np.ndarray
    colourfulness: np.ndarray
    warmth: np.ndarray
    audio: AudioListener | None = None


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hue (0..1), saturation, value of an RGB float image in 0..1."""
    mx = rgb.max(axis=-1)
    mn = rgb.min(axis=-1)
    delta = mx - mn
    s = np.where(mx > 1e-6, delta / np.maximum(mx, 1e-6), 0.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    d = np.maximum(delta, 1e-6)
    h = np.where(mx == r, ((g - b) / d) % 6, np.where(mx == g, (b - r) / d + 2, (r - g) / d + 4)) / 6.0
    h = np.where(delta > 1e-6, h, 0.0)
    return h, s, mx


def frame_features(rgb_u8: np.ndarray) -> tuple[np.ndarray, float, float, float, float]:
    """Colour features of one small RGB frame: (histogram, brightness, saturation, colourfulness, warmth)."""
    rgb = rgb_u8.astype(np.float32) / 255.0
    h, s, v = _hsv(rgb)
    # Hue is meaningless for greyish pixels (noise flips it between bins), so they get brightness
    # bins of their own instead of hue bins: a flat, pale gradient no longer "changes" at an I-frame.
    grey = s < GREY_SAT
    hb = np.minimum((h * HUE_BINS).astype(int), HUE_BINS - 1)
    sb = np.minimum(((s - GREY_SAT) / (1 - GREY_SAT) * SAT_BINS).astype(int), SAT_BINS - 1)
    vb = np.minimum((v * GREY_BINS).astype(int), GREY_BINS - 1)
    idx = np.where(grey, HUE_BINS * SAT_BINS + vb, hb * SAT_BINS + np.maximum(sb, 0))
    hist = np.bincount(idx.ravel(), minlength=HIST_BINS).astype(np.float32)
    hist /= max(1.0, hist.sum())
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # Hasler & Süsstrunk 2003 colourfulness, scaled to ~0..1 (109 is "extremely colourful" on 0..255).
    rg, yb = r - g, 0.5 * (r + g) - b
    colourful = (np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())) * 255 / 109
    warmth = float(np.clip(0.5 + (r.mean() - b.mean()), 0, 1))
    return hist, float(v.mean()), float(s.mean()), float(min(1.0, colourful)), warmth


def small_rgb(frame: av.VideoFrame) -> np.ndarray:
    """A 64x36 RGB thumbnail of a frame, cheaply.

    For 8-bit 4:2:0 frames (nearly every camera and phone file) the planes are sampled in place
    (the centre of each 64x36 block, through strided views), then a BT.709 YUV->RGB conversion on
    2304 pixels. That is
    ~40x cheaper than swscale's bicubic 1080p->64x36 and as good for shot comparison. Other formats
    go through swscale with the fast bilinear filter.
    """
    if frame.format.name in ("yuv420p", "yuvj420p") and frame.width >= 4 * SMALL_W and frame.height >= 4 * SMALL_H:
        w, h = frame.width, frame.height
        sy, sx = h // SMALL_H, w // SMALL_W
        sy2, sx2 = max(1, sy // 2), max(1, sx // 2)
        py, pu, pv = frame.planes[0], frame.planes[1], frame.planes[2]
        # Strided views: one sample at the centre of each block, no copy of the plane.
        y_pl = np.frombuffer(memoryview(py), np.uint8).reshape(py.height, py.line_size)
        u_pl = np.frombuffer(memoryview(pu), np.uint8).reshape(pu.height, pu.line_size)
        v_pl = np.frombuffer(memoryview(pv), np.uint8).reshape(pv.height, pv.line_size)
        yy = y_pl[sy // 2 :: sy, sx // 2 : w : sx][:SMALL_H, :SMALL_W].astype(np.float32)
        uu = u_pl[sy2 // 2 :: sy2, sx2 // 2 : w // 2 : sx2][:SMALL_H, :SMALL_W].astype(np.float32)
        vv = v_pl[sy2 // 2 :: sy2, sx2 // 2 : w // 2 : sx2][:SMALL_H, :SMALL_W].astype(np.float32)
        full = frame.format.name == "yuvj420p"
        yl = yy if full else (yy - 16) * (255 / 219)
        cb = (uu - 128) * (1 if full else 255 / 224)
        cr = (vv - 128) * (1 if full else 255 / 224)
        rgb = np.stack([yl + 1.5748 * cr, yl - 0.1873 * cb - 0.4681 * cr, yl + 1.8556 * cb], axis=-1)
        return np.clip(rgb, 0, 255).astype(np.uint8)
    return frame.reformat(width=SMALL_W, height=SMALL_H, format="rgb24", interpolation="FAST_BILINEAR").to_ndarray()


def scan_video(info: MediaInfo, *, progress: Callable[[float], None] | None = None) -> FrameScan:
    """Decode ``info`` once and measure every frame (and collect 16 kHz audio).

    Args:
        info: A probed video.
        progress: Called with 0..1 as decoding advances.
    """
    container = av.open(
        str(info.path),
        format=info.demuxer,
        options={"probesize": str(PROBESIZE_BYTES), "analyzeduration": str(ANALYZEDURATION_US)},
    )
    times: list[float] = []
    sigs: list[np.ndarray] = []
    hists: list[np.ndarray] = []
    diffs: list[float] = []
    feats: list[tuple[float, float, float, float]] = []
    listener = AudioListener()
    with container:
        vstream = container.streams.video[0]
        vcc = vstream.codec_context
        vcc.thread_type = "AUTO"
        vcc.options = {"skip_loop_filter": "all"}  # deblocking changes a few pixel levels; our measures can't see it
        streams: list[av.stream.Stream] = [vstream]
        resampler = None
        if container.streams.audio:
            astream = container.streams.audio[0]
            streams.append(astream)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SPEECH_RATE)
        prev: np.ndarray | None = None
        dur = info.duration_s or 1.0
        last_report = -1.0
        for packet in container.demux(*streams):
            if packet.stream.type == "audio" and resampler is not None:
                try:
                    for af in packet.decode():
                        for rf in resampler.resample(af):  # type: ignore[arg-type]
                            listener.feed(rf.to_ndarray())
                except av.FFmpegError:
                    continue  # a damaged audio packet should not stop video analysis
                continue
            if packet.stream.type != "video":
                continue
            for frame in packet.decode():
                if not isinstance(frame, av.VideoFrame):
                    continue
                small = small_rgb(frame)
                tb = frame.time_base
                t = float(frame.pts * tb) if frame.pts is not None and tb is not None else len(times) / max(info.fps, 1)
                times.append(t)
                sig = small.reshape(SIG_H, SMALL_H // SIG_H, SIG_W, SMALL_W // SIG_W, 3).mean(axis=(1, 3))
                sigs.append(sig.astype(np.uint8))
                gray = small.astype(np.float32).mean(axis=-1)
                diffs.append(0.0 if prev is None else float(np.abs(gray - prev).mean() / 255.0))
                prev = gray
                hist, *cf = frame_features(small)
                hists.append(hist)
                feats.append((cf[0], cf[1], cf[2], cf[3]))
                if progress and t - last_report >= 1.0:
                    last_report = t
                    progress(min(1.0, t / dur))
    if resampler is not None:
        for rf in resampler.resample(None):
            listener.feed(rf.to_ndarray())
        listener.finish()
    order = np.argsort(np.asarray(times), kind="stable")  # PTS order, whatever the decoder emitted
    f = np.asarray(feats, np.float32).reshape(-1, 4)[order]
    return FrameScan(
        times_s=np.asarray(times)[order],
        signatures=np.asarray(sigs, np.uint8).reshape(-1, SIG_H, SIG_W, 3)[order],
        hists=np.asarray(hists, np.float32).reshape(-1, HIST_BINS)[order],
        diffs=np.asarray(diffs, np.float32)[order],
        brightness=f[:, 0],
        saturation=f[:, 1],
        colourfulness=f[:, 2],
        warmth=f[:, 3],
        audio=listener if resampler is not None else None,
    )
