"""Would encoding the AAC in chunks on both cores cost quality? (a way tried for issue 16's speed)

Usage: python -m bench.aac_chunks PROGRAMME.m4a|.mp4 [--chunks 6] [--prerolls 2,8,32,96]

FFmpeg's AAC encoder is one thread (1.1-1.3 s of CPU a minute at 192 kb/s, the longest step of
the mix). Split the programme into chunks, encode each on its own from ``preroll`` frames (1024
samples) before its start, keep each encoder's packets for its own span and join them: the
encoders run side by side. This measures what the joins cost against one encode of the whole, as
the SNR of the decoded audio against the source (overall, and over the 10, 50 and 200 AAC frames
after each join) and the wall time of two encoder threads (PyAV's encoder releases the GIL).
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

import av
import numpy as np

from ab2n.media.decode import decode_audio

SR = 48000
FRAME = 1024


def encode(x: np.ndarray, start: int) -> list[av.Packet]:
    """AAC-LC 192 kb/s packets of stereo float ``x`` whose first sample is ``start`` of the programme."""
    cc = av.CodecContext.create("aac", "w")
    cc.sample_rate, cc.layout, cc.format, cc.bit_rate = SR, "stereo", "fltp", 192000  # type: ignore[attr-defined]
    cc.open()
    packets: list[av.Packet] = []
    for i in range(0, len(x), FRAME):
        block = np.ascontiguousarray(x[i : i + FRAME].T)
        if block.shape[1] < FRAME:
            block = np.pad(block, ((0, 0), (0, FRAME - block.shape[1])))
        frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = SR, start + i
        packets += cc.encode(frame)  # type: ignore[attr-defined]
    packets += cc.encode(None)  # type: ignore[attr-defined]
    return packets


def decode(packets: list[av.Packet], n: int) -> np.ndarray:
    """The packets decoded, the encoder's 1024 priming samples dropped, ``n`` samples."""
    dc = av.CodecContext.create("aac", "r")
    dc.sample_rate, dc.layout = SR, "stereo"  # type: ignore[attr-defined]
    out = [f.to_ndarray() for p in packets for f in dc.decode(p)] + [f.to_ndarray() for f in dc.decode(None)]
    return np.concatenate(out, axis=1).T[FRAME : FRAME + n]


def chunked(x: np.ndarray, chunks: int, preroll: int) -> tuple[list[av.Packet], list[int]]:
    """Packets of ``x`` encoded in ``chunks`` pieces with ``preroll`` frames before each, joined."""
    n = len(x)
    bounds = [round(n * k / chunks / FRAME) * FRAME for k in range(chunks + 1)]
    bounds[-1] = n
    joined: list[av.Packet] = []
    for k in range(chunks):
        a, b = bounds[k], bounds[k + 1]
        s0 = max(0, a - preroll * FRAME)
        pk = encode(x[s0 : b + 2 * FRAME], s0)
        last = k == chunks - 1
        joined += [p for p in pk if p.pts is not None and a - FRAME <= p.pts and (last or p.pts < b - FRAME)]
    return joined, bounds[1:-1]


def snr_db(src: np.ndarray, y: np.ndarray, span: slice | None = None) -> float:
    """Signal to error ratio of ``y`` against ``src`` (dB), over ``span`` of samples."""
    sl = span or slice(None)
    err = float(((y[sl] - src[sl]) ** 2).sum()) + 1e-20
    return 10 * float(np.log10(float((src[sl] ** 2).sum()) / err + 1e-20))


def two_threads_s(x: np.ndarray) -> float:
    """Wall time of two halves encoded on two threads at once (2 s of preroll for the second)."""
    half = len(x) // 2 // FRAME * FRAME
    jobs = [(x[: half + 2 * FRAME], 0), (x[half - 96 * FRAME :], half - 96 * FRAME)]
    threads = [threading.Thread(target=encode, args=job) for job in jobs]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    """Print the comparison."""
    ap = argparse.ArgumentParser(prog="python -m bench.aac_chunks")
    ap.add_argument("programme", type=Path)
    ap.add_argument("--chunks", type=int, default=6)
    ap.add_argument("--prerolls", default="2,8,32,96")
    args = ap.parse_args(argv)
    src = decode_audio(args.programme, sample_rate=SR, channels=2).astype(np.float32)
    t = time.perf_counter()
    whole = decode(encode(src, 0), len(src))
    one_s = time.perf_counter() - t
    print(f"one encode: {snr_db(src, whole):.2f} dB overall ({one_s:.2f} s with its decode)")
    print(f"two halves on two threads: {two_threads_s(src):.2f} s")
    for preroll in (int(p) for p in args.prerolls.split(",")):
        packets, joins = chunked(src, args.chunks, preroll)
        y = decode(packets, len(src))
        line = f"{args.chunks} chunks, preroll {preroll:3d} frames: {snr_db(src, y):.2f} dB overall"
        for frames in (10, 50, 200):
            spans = [slice(j - FRAME, j + frames * FRAME) for j in joins]
            one = np.mean([snr_db(src, whole, s) for s in spans])
            joined = np.mean([snr_db(src, y, s) for s in spans])
            line += f"; {frames} frames after the joins {joined:.1f} dB (one encode {one:.1f})"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
