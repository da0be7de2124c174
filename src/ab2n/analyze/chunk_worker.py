"""A worker process that measures keyframe-aligned chunks: ``python -m ab2n.analyze.chunk_worker``.

``ab2n.analyze.parallel`` now scans chunks on threads of the calling process (PyAV releases the
GIL while decoding), so analysis no longer starts this; it stays as a ``media.workers`` worker for
running the same measuring out of process.

Reads one JSON request a line on stdin ({"path", "demuxer", "start", "end", "stream"}), measures
that chunk with ``scan_range`` and answers on stdout with a JSON status line (with each array's
dtype and shape) followed, when it worked, by the arrays' raw bytes in ``ARRAY_NAMES`` order.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from ab2n.analyze.visual import scan_range

#: The arrays a chunk worker answers with, in this order.
ARRAY_NAMES = ("times", "sigs", "hists", "feats")


def main() -> int:
    """Serve requests until stdin closes."""
    out = sys.stdout.buffer
    for line in sys.stdin:
        req = json.loads(line)
        try:
            start, end, stream = int(req["start"]), req["end"], int(req.get("stream", 0))
            arrays = scan_range(req["path"], req["demuxer"], start, end, threads=False, stream=stream)
        except Exception as exc:  # reported to the caller
            out.write((json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n").encode())
            out.flush()
            continue
        blobs = [np.ascontiguousarray(arrays[name]) for name in ARRAY_NAMES]
        layout = [{"dtype": b.dtype.str, "shape": list(b.shape)} for b in blobs]
        out.write((json.dumps({"ok": True, "arrays": layout}) + "\n").encode())
        for b in blobs:
            out.write(b.tobytes())
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
