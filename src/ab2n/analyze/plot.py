"""Draw a VideoProfile: cut marks, speech, valence/arousal, sections (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

from ab2n.analyze.profile import VideoProfile
from ab2n.media.probe import MediaInfo


def plot_profile(profile: VideoProfile, info: MediaInfo, out_png: Path) -> Path:
    """Write a PNG with the profile over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(12, 5), sharex=True, height_ratios=(1, 2))
    dur = max(profile.duration_s, 1e-3)
    for iv in profile.speech:
        ax1.axvspan(iv.start_s, iv.end_s, color="tab:orange", alpha=0.4, lw=0)
    for c in profile.cuts:
        ax1.axvline(c.time_s, color="k", lw=0.8 + c.strength)
    for t in profile.transitions:
        ax1.axvspan(t.start_s, t.end_s, color="tab:purple", alpha=0.3, lw=0)
    ax1.set_yticks([])
    ax1.set_title(
        f"{info.path.name}: {len(profile.cuts)} cuts (black), speech (orange), "
        f"transitions (purple) — mood {profile.mood}"
    )
    secs = range(len(profile.valence))
    ax2.plot(list(secs), profile.valence, label="valence", color="tab:green")
    ax2.plot(list(secs), profile.arousal, label="arousal", color="tab:red")
    for s in profile.sections:
        ax2.axvline(s.start_s, color="grey", ls=":", lw=1)
    ax2.set_ylim(-1.05, 1.05)
    ax2.set_xlim(0, dur)
    ax2.set_xlabel("seconds")
    ax2.legend(loc="upper right")
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return out_png
