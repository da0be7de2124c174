"""A worker process for ``ab2n.analyze.parallel``: ``python -m ab2n.analyze.chunk_worker``.

Reads one JSON request a line on stdin ({"path", "demuxer", "start", "end"}), measures that chunk
with ``scan_range`` and answers on stdout with a JSON status line (with each array's dtype and shape)
followed, when it worked, by the arrays' raw bytes. Started by ``ab2n.media.workers`` (a plain child
process, not multiprocessing).
"""

from __future__ import annotations

import json
import sys
from typing import Protocol

import numpy as np

from ab2n.analyze.visual import scan_range

ARRAY_NAMES = ("times", "sigs", "hists", "feats")


class _Reader(Protocol):
    def read(self, n: int, /) -> bytes: ...


def read_arrays(stream: _Reader, layout: list[dict]) -> dict[str, np.ndarray]:
    """The arrays a worker wrote after a status line with this ``layout`` (in ARRAY_NAMES order)."""
    out: dict[str, np.ndarray] = {}
    for name, spec in zip(ARRAY_NAMES, layout, strict=True):
        dtype = np.dtype(spec["dtype"])
        nbytes = int(np.prod(spec["shape"], dtype=np.int64)) * dtype.itemsize
        data = stream.read(nbytes)
        if len(data) != nbytes:
            raise ValueError("worker output ended early")
        out[name] = np.frombuffer(data, dtype).reshape(spec["shape"])
    return out


def main() -> int:
    """Serve requests until stdin closes."""
    out = sys.stdout.buffer
    for line in sys.stdin:
        req = json.loads(line)
        try:
            arrays = scan_range(req["path"], req["demuxer"], int(req["start"]), req["end"], threads=False)
        except Exception as exc:  # reported to the parent, which falls back to one plain pass
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
