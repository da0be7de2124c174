"""Draw what ``ab2n add`` did: the cuts over the music's beat grid, speech and the duck envelope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ab2n.mix.duck import duck_gain_db


def _level_curve(path: Path, window_s: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """RMS level over time (dBFS), streamed at 8 kHz: a stand-in for short-term loudness."""
    from ab2n.errors import Ab2nError
    from ab2n.media.decode import iter_audio_blocks

    sr = 8000
    n = int(window_s * sr)
    levels: list[float] = []
    carry = np.zeros(0, np.float32)
    try:
        for block in iter_audio_blocks(path, sample_rate=sr):
            buf = np.concatenate([carry, block])
            k = len(buf) // n
            if k:
                frames = buf[: k * n].reshape(k, n).astype(np.float64)
                levels += list(10 * np.log10((frames**2).mean(axis=1) + 1e-10))
            carry = buf[k * n :]
    except Ab2nError:
        return np.zeros(0), np.zeros(0)
    return np.arange(len(levels)) * window_s + window_s / 2, np.asarray(levels)


def plot_add_result(res: Any, out_png: Path) -> Path:
    """Write a PNG for an AddResult (needs its draft and profile)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    draft, profile = res.draft, res.profile
    plan = draft.music.plan if draft is not None and draft.music else None
    dur = max(res.duration_s, 1e-3)
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(12, 7), sharex=True)
    if plan:
        off = draft.music.start_ms / 1000
        for b in plan.get("beats_s", []):
            ax1.axvline(b + off, color="0.8", lw=0.6)
        for b in plan.get("downbeats_s", []):
            ax1.axvline(b + off, color="tab:blue", lw=1.2)
        for seg in plan.get("segments", []):
            ax1.axvline(seg["dst_start_s"] + off, color="tab:purple", ls="--", lw=1)
        for song in plan.get("songs", []):  # a medley: where each song starts, and which
            ax1.axvline(song["start_s"] + off, color="tab:green", lw=2.5)
            ax1.text(song["start_s"] + off, 0.95, f" {song['title']}", va="top", fontsize=8, color="tab:green")
    for c in profile.cuts:
        ax1.plot([c.time_s], [0.5], "v", color="tab:red", ms=9)
    ax1.set_yticks([])
    ax1.set_title(
        f"cuts (red) over beats (grey) and downbeats (blue), seams (purple dashed): "
        f"{res.cuts_on_beat}/{res.cuts_found} on a beat, {res.cuts_on_downbeat} on a downbeat"
    )
    t = np.linspace(0, dur, 2000)
    from ab2n.mix.duck import duck_regions

    regions = duck_regions(profile.speech)
    ax2.plot(t, duck_gain_db(t, regions, 12.0), color="tab:green", label="music duck (dB)")
    for iv in profile.speech:
        ax2.axvspan(iv.start_s, iv.end_s, color="tab:orange", alpha=0.3, lw=0)
    ax2.set_ylim(-20, 2)
    ax2.set_xlim(0, dur)
    ax2.legend(loc="lower right")
    for path, label, colour in ((res.input_paths[0], "original audio", "0.6"), (res.output_path, "output", "tab:blue")):
        t_db, db = _level_curve(Path(path))
        if len(db):
            ax3.plot(t_db, db, color=colour, label=f"{label} (dBFS, 400 ms RMS)", lw=1)
    ax3.set_ylim(-70, 0)
    ax3.set_xlabel("seconds")
    ax3.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return out_png
