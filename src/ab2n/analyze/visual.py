"""One streaming decode of a video: tiny frame signatures, colour features, and the audio for speech.

Decoding dominates analysis time, so it happens once: PyAV decodes with the in-loop deblocking
filter skipped (it changes pixels by a few levels, which no measure here can see), each frame is
shrunk to 64x36 by sampling its planes in place, and colour features come from lookup tables.
``scan_video`` does one pass with the decoder's frame threads and audio resampled to 16 kHz mono
alongside; ``scan_span`` measures one keyframe-aligned stretch for the decoder threads of
``ab2n.analyze.parallel``. Memory grows by ~0.6 KB per frame (16x9 signature and histogram).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import av
import numpy as np

from ab2n.analyze.speech import SAMPLE_RATE as SPEECH_RATE
from ab2n.analyze.speech import AudioListener
from ab2n.media.container import open_container
from ab2n.media.probe import MediaInfo

SMALL_W, SMALL_H = 64, 36
SIG_W, SIG_H = 16, 9
HUE_BINS, SAT_BINS = 12, 3
GREY_BINS = 4
GREY_SAT = 0.2
HIST_BINS = HUE_BINS * SAT_BINS + GREY_BINS
# Deblocking changes a few pixel levels; no measure here can see it, and skipping it is cheaper.
DECODER_OPTIONS = {"skip_loop_filter": "all"}


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


_LUT_BITS = 5  # RGB quantised to 5 bits a channel: 32768 colours, finer than any bin edge here matters


@lru_cache(maxsize=1)
def _colour_luts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Histogram bin, saturation and value of every 5-bit-per-channel RGB colour (built once).

    Looking these up is ~10x cheaper per frame than converting 2304 pixels to HSV in floats, and
    it runs on every decoded frame.
    """
    levels = (np.arange(1 << _LUT_BITS, dtype=np.float32) + 0.5) / (1 << _LUT_BITS)
    r, g, b = np.meshgrid(levels, levels, levels, indexing="ij")
    h, s, v = _hsv(np.stack([r, g, b], axis=-1))
    return _hist_bin(h, s, v).astype(np.uint8).ravel(), s.astype(np.float32).ravel(), v.astype(np.float32).ravel()


def _hist_bin(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Histogram bin of HSV pixels: hue x saturation bins, or a brightness bin for greyish pixels."""
    # Hue is meaningless for greyish pixels (noise flips it between bins), so they get brightness
    # bins of their own instead of hue bins, so a flat, pale gradient does not "change" at an I-frame.
    grey = s < GREY_SAT
    hb = np.minimum((h * HUE_BINS).astype(int), HUE_BINS - 1)
    sb = np.minimum(((s - GREY_SAT) / (1 - GREY_SAT) * SAT_BINS).astype(int), SAT_BINS - 1)
    vb = np.minimum((v * GREY_BINS).astype(int), GREY_BINS - 1)
    return np.where(grey, HUE_BINS * SAT_BINS + vb, hb * SAT_BINS + np.maximum(sb, 0))


def frame_features(rgb_u8: np.ndarray) -> tuple[np.ndarray, float, float, float, float]:
    """Colour features of one small RGB frame: (histogram, brightness, saturation, colourfulness, warmth)."""
    bin_lut, sat_lut, val_lut = _colour_luts()
    q = rgb_u8.reshape(-1, 3).astype(np.intp) >> (8 - _LUT_BITS)
    idx = (q[:, 0] << (2 * _LUT_BITS)) | (q[:, 1] << _LUT_BITS) | q[:, 2]
    hist = np.bincount(bin_lut[idx], minlength=HIST_BINS).astype(np.float32)
    hist /= max(1.0, hist.sum())
    r, g, b = np.ascontiguousarray(rgb_u8.reshape(-1, 3).T, dtype=np.float32)
    n = float(len(r))
    rg = r - g
    yb = 0.5 * (r + g) - b
    rg_mean, yb_mean = float(rg.sum()) / n, float(yb.sum()) / n
    # Variance as E[x^2] - E[x]^2 with dot products: a third of np.std's cost on 2304 pixels.
    rg_var = max(0.0, float(np.dot(rg, rg)) / n - rg_mean**2)
    yb_var = max(0.0, float(np.dot(yb, yb)) / n - yb_mean**2)
    # Hasler & Süsstrunk 2003 colourfulness, scaled to ~0..1 (109 is "extremely colourful" on 0..255).
    colourful = (np.sqrt(rg_var + yb_var) + 0.3 * np.hypot(rg_mean, yb_mean)) / 109
    warmth = float(np.clip(0.5 + (float(r.sum()) - float(b.sum())) / (255.0 * n), 0, 1))
    brightness = float(val_lut[idx].sum()) / n
    saturation = float(sat_lut[idx].sum()) / n
    return hist, brightness, saturation, float(min(1.0, colourful)), warmth


def _grid_mean(plane: np.ndarray, step_y: int, step_x: int, width: int) -> np.ndarray:
    """Mean of four samples (at the quarter points) of each step_y x step_x block: SMALL_H x SMALL_W.

    One sample per block lets sensor grain and coding noise through (an I-frame's fresh grain then
    looks like a change of shot); four halve it, for four strided views and no copy of the plane.
    """
    oy, ox = max(1, step_y // 4), max(1, step_x // 4)
    acc = np.zeros((SMALL_H, SMALL_W), np.float32)
    for dy in (oy, step_y - oy):
        for dx in (ox, step_x - ox):
            acc += plane[dy::step_y, dx:width:step_x][:SMALL_H, :SMALL_W]
    return acc * 0.25


def small_rgb(frame: av.VideoFrame) -> np.ndarray:
    """A 64x36 RGB thumbnail of a frame, cheaply.

    For 8-bit 4:2:0 frames (nearly every camera and phone file) the planes are sampled in place
    (four points in each 64x36 block, through strided views), then a BT.709 YUV->RGB conversion on
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
        yy = _grid_mean(y_pl, sy, sx, w)
        uu = _grid_mean(u_pl, sy2, sx2, w // 2)
        vv = _grid_mean(v_pl, sy2, sx2, w // 2)
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
    rows = _FrameRows()
    # Room for the expected frames up front: pages of np.zeros that are never written cost no
    # memory, while growing by doubling holds the old and the new copy at once (+160 MB at 3 hours).
    rows.reserve(int(info.duration_s * (info.fps or 30) * 1.05) + 1024)
    listener: AudioListener | None = None
    with open_container(info.path, info.demuxer, decoder_options=DECODER_OPTIONS) as container:
        vstream = video_stream(container, info.video_stream)
        vcc = vstream.codec_context
        vcc.thread_type = "AUTO"
        streams: list[av.stream.Stream] = [vstream]
        resampler = None
        if container.streams.audio:
            streams.append(container.streams.audio[0])
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SPEECH_RATE)
            listener = AudioListener(background=True)
        dur = info.duration_s or 1.0
        last_report = -1.0
        try:
            for packet in container.demux(*streams):
                if packet.stream.type == "audio" and resampler is not None and listener is not None:
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
                    tb = frame.time_base
                    t = float(frame.pts * tb) if frame.pts is not None and tb is not None else rows.n / max(info.fps, 1)
                    rows.add(t, small_rgb(frame))
                    if progress and t - last_report >= 1.0:
                        last_report = t
                        progress(min(1.0, t / dur))
            if resampler is not None and listener is not None:
                for rf in resampler.resample(None):
                    listener.feed(rf.to_ndarray())
                listener.finish()
        except BaseException:
            if listener is not None:
                listener.close()
            raise
    return rows.scan(listener)


def video_stream(container: av.container.InputContainer, index: int) -> av.video.stream.VideoStream:
    """The probe's chosen video stream (``MediaInfo.video_stream``: cover art skipped), else the first."""
    return next((s for s in container.streams.video if s.index == index), container.streams.video[0])


def scan_span(
    container: av.container.InputContainer, vstream: av.video.stream.VideoStream, start_pts: int, end_pts: int | None
) -> dict[str, np.ndarray]:
    """Measure the frames of ``[start_pts, end_pts)`` of an open container's video stream.

    ``start_pts`` must be a keyframe's and ``end_pts`` the next chunk's. The decoder is flushed by
    the seek to the start, so a container can measure one stretch after another exactly as a
    fresh one would (``ab2n.analyze.parallel`` keeps one a thread). At the end keyframe's packet
    the decoder is drained instead of fed it, unless a packet just after it in decode order is
    shown before it (an open GOP's leading picture, which belongs to this chunk): then decoding
    goes on to the first frame at or after ``end_pts``. Draining saves decoding a keyframe, the
    costliest picture (~50 ms of CPU on the bench's noisy 1080p), at every chunk boundary.
    """
    rows = _FrameRows()
    tb = vstream.time_base
    container.seek(start_pts, stream=vstream, backward=True)
    packets = container.demux(vstream)
    for packet in packets:
        if end_pts is not None and packet.pts == end_pts and packet.is_keyframe:
            ahead = list(itertools.islice(packets, LEADING_LOOKAHEAD))
            if all(p.pts is not None and p.pts > end_pts for p in ahead if p.size):
                _measure(rows, vstream.codec_context.decode(None), start_pts, end_pts, tb)
                return rows.arrays()
            for p in [packet, *ahead]:
                if not _measure(rows, p.decode(), start_pts, end_pts, tb):
                    return rows.arrays()
            continue
        if not _measure(rows, packet.decode(), start_pts, end_pts, tb):
            return rows.arrays()
    return rows.arrays()


#: Packets looked at after a chunk's end keyframe for an open GOP's leading pictures (they come
#: right after it in decode order; more than a few B-frames in a row is rare).
LEADING_LOOKAHEAD = 8


def _measure(
    rows: _FrameRows, frames: Iterable[av.frame.Frame], start_pts: int, end_pts: int | None, tb: Fraction | None
) -> bool:
    """Measure the decoded ``frames`` inside ``[start_pts, end_pts)``; False at the first at or past the end."""
    for frame in frames:
        if not isinstance(frame, av.VideoFrame):
            continue
        if frame.pts is None or tb is None:
            raise ValueError("frames without timestamps cannot be scanned in chunks")
        if frame.pts < start_pts:
            continue  # leading pictures of an open GOP belong to the previous chunk
        if end_pts is not None and frame.pts >= end_pts:
            return False
        rows.add(float(frame.pts * tb), small_rgb(frame))
    return True


def scan_from_chunks(chunks: list[dict[str, np.ndarray]], audio: AudioListener | None) -> FrameScan:
    """Join the arrays of consecutive chunks into one FrameScan (in presentation order)."""
    rows = _FrameRows()
    rows.reserve(sum(len(c["times"]) for c in chunks))  # one allocation: doubling would need 2x at the end
    for i, chunk in enumerate(chunks):
        first = rows.n
        rows.extend(chunk)
        if 0 < first < rows.n:
            # The chunk's first frame had no previous frame in its chunk: its difference to the
            # previous chunk's last frame, computed as one pass would (so the join is exact).
            prev = chunks[i - 1] if i else {}
            if "last_gray" in prev and "first_gray" in chunk:
                rows.set_diff(first, float(np.abs(chunk["first_gray"] - prev["last_gray"]).mean() / 255.0))
            else:  # arrays without the grey frames (a chunk worker's): from the 16x9 thumbnails
                a = rows.signature_gray(first - 1)
                b = rows.signature_gray(first)
                rows.set_diff(first, float(np.abs(a - b).mean() / 255.0))
        if i:
            chunks[i - 1] = {}  # let the chunk's arrays go as soon as they are copied (3 h: ~200 MB in all)
    if chunks:
        chunks[-1] = {}
    return rows.scan(audio)


class _FrameRows:
    """Per-frame measurements in growable numpy arrays (not lists of small arrays: a 20-minute
    video has 36,000 frames, and a Python object per measurement would cost more than the data)."""

    def __init__(self) -> None:
        self.n = 0
        self._cap = 0
        self._times = np.zeros(0)
        self._sigs = np.zeros((0, SIG_H, SIG_W, 3), np.uint8)
        self._hists = np.zeros((0, HIST_BINS), np.float32)
        self._feats = np.zeros((0, 5), np.float32)  # diff, brightness, saturation, colourfulness, warmth
        self._prev_gray: np.ndarray | None = None
        self._first_gray: np.ndarray | None = None

    def add(self, t: float, small: np.ndarray) -> None:
        if self.n == self._cap:
            self._grow()
        i = self.n
        self._times[i] = t
        self._sigs[i] = small.reshape(SIG_H, SMALL_H // SIG_H, SIG_W, SMALL_W // SIG_W, 3).mean(axis=(1, 3))
        gray = small.astype(np.float32).mean(axis=-1)
        if self._prev_gray is None:
            diff, self._first_gray = 0.0, gray
        else:
            diff = float(np.abs(gray - self._prev_gray).mean() / 255.0)
        self._prev_gray = gray
        hist, *colour = frame_features(small)
        self._hists[i] = hist
        self._feats[i] = (diff, *colour)
        self.n += 1

    def _grow(self, cap: int | None = None) -> None:
        self._cap = cap if cap is not None else max(1024, self._cap * 3 // 2)
        for name in ("_times", "_sigs", "_hists", "_feats"):
            old = getattr(self, name)
            new = np.zeros((self._cap, *old.shape[1:]), old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def arrays(self) -> dict[str, np.ndarray]:
        """The rows, and the first and last frames' 64x36 grey images (to join chunks exactly)."""
        out: dict[str, np.ndarray] = {
            "times": self._times[: self.n].copy(),
            "sigs": self._sigs[: self.n].copy(),
            "hists": self._hists[: self.n].copy(),
            "feats": self._feats[: self.n].copy(),
        }
        if self._first_gray is not None and self._prev_gray is not None:
            out["first_gray"], out["last_gray"] = self._first_gray, self._prev_gray
        return out

    def reserve(self, n: int) -> None:
        """Make room for ``n`` frames in all (when the count is known in advance)."""
        if n > self._cap:
            self._grow(n)

    def extend(self, chunk: dict[str, np.ndarray]) -> None:
        k = len(chunk["times"])
        while self.n + k > self._cap:
            self._grow()
        sl = slice(self.n, self.n + k)
        self._times[sl], self._sigs[sl] = chunk["times"], chunk["sigs"]
        self._hists[sl], self._feats[sl] = chunk["hists"], chunk["feats"]
        self.n += k

    def signature_gray(self, i: int) -> np.ndarray:
        return self._sigs[i].astype(np.float32).mean(axis=-1)

    def set_diff(self, i: int, diff: float) -> None:
        self._feats[i, 0] = diff

    def scan(self, audio: AudioListener | None) -> FrameScan:
        times = self._times[: self.n]
        if np.all(times[1:] >= times[:-1]):
            order: slice | np.ndarray = slice(None)  # already in PTS order: views, no copies
        else:
            order = np.argsort(times, kind="stable")  # PTS order, whatever the decoder emitted
        f = self._feats[: self.n][order]
        return FrameScan(
            times_s=times[order],
            signatures=self._sigs[: self.n][order],
            hists=self._hists[: self.n][order],
            diffs=f[:, 0].copy(),
            brightness=f[:, 1].copy(),
            saturation=f[:, 2].copy(),
            colourfulness=f[:, 3].copy(),
            warmth=f[:, 4].copy(),
            audio=audio,
        )
