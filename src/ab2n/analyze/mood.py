"""Per-second features -> valence/arousal curves -> a mood label, and sections of similar energy.

The mapping (sources in docs/mood-mapping.md):
- Valence (pleasure) from colour, after Valdez & Mehrabian (1994): P = 0.69·brightness + 0.22·saturation,
  centred on a neutral grey scene; warmth and colourfulness nudge it up.
- Arousal after Hanjalic & Xu (2005): a weighted sum of motion activity, shot-cut rate and sound
  energy, smoothed over a few seconds, plus Valdez & Mehrabian's colour arousal
  (A = -0.31·brightness + 0.60·saturation). Speech energy counts less than music energy: a talking
  head is loud but not exciting.
The label is the nearest mood prototype in the valence/arousal plane.
"""

from __future__ import annotations

import math

import numpy as np

from ab2n.analyze.profile import Section

#: Mood prototypes in the valence/arousal plane (Russell's circumplex, placed for music moods).
PROTOTYPES: dict[str, tuple[float, float]] = {
    "happy": (0.55, 0.25),
    "energetic": (0.35, 0.7),
    "playful": (0.6, 0.5),
    "calm": (0.25, -0.5),
    "tender": (0.45, -0.2),
    "romantic": (0.5, 0.0),
    "nostalgic": (-0.1, -0.25),
    "sad": (-0.55, -0.5),
    "dark": (-0.55, 0.25),
    "epic": (0.05, 0.75),
}

#: Moods of the bundled catalog; a label outside it is still returned, select maps it.
CATALOG_MOODS = ("calm", "happy", "energetic", "tender", "nostalgic")


def smooth(x: np.ndarray, seconds: int) -> np.ndarray:
    """Moving average with edge padding (same length)."""
    if len(x) == 0 or seconds <= 1:
        return x.astype(np.float64)
    k = np.ones(seconds) / seconds
    pad = seconds // 2
    xp = np.pad(x.astype(np.float64), (pad, seconds - 1 - pad), mode="edge")
    return np.convolve(xp, k, mode="valid")


def valence_arousal(features: dict[str, np.ndarray], *, speech_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-second valence and arousal in [-1, 1] from per-second features (each 0..1)."""
    b = features["brightness"]
    s = features["saturation"]
    colourful = features["colourfulness"]
    warm = features["warmth"]
    motion = features["motion"]
    cut_rate = features["cut_rate"]
    energy = features["audio_energy"]
    pleasure = 0.69 * b + 0.22 * s  # Valdez & Mehrabian; a neutral mid-grey scene gives ~0.35
    valence = (pleasure - 0.35) * 2.2 + 0.3 * (colourful - 0.3) + 0.3 * (warm - 0.5)
    colour_arousal = -0.31 * b + 0.60 * s  # Valdez & Mehrabian
    # Hanjalic & Xu: motion, rhythm (cut rate), sound energy. Speech energy counts at a third.
    sound_w = 0.25 * (1.0 - 0.66 * speech_fraction)
    arousal_raw = (
        0.45 * np.minimum(1.0, motion / 0.08)
        + 0.3 * np.minimum(1.0, cut_rate / 0.5)
        + sound_w * energy
        + 0.5 * colour_arousal
    )
    arousal = (arousal_raw - 0.35) * 2.0
    return np.clip(smooth(valence, 5), -1, 1), np.clip(smooth(arousal, 5), -1, 1)


def mood_scores(valence: np.ndarray, arousal: np.ndarray) -> dict[str, float]:
    """Score per mood label: 1 at the prototype, falling with distance in the V/A plane."""
    if len(valence) == 0:
        return {m: 0.0 for m in PROTOTYPES}
    v, a = float(np.mean(valence)), float(np.mean(arousal))
    return {m: round(math.exp(-((v - pv) ** 2 + (a - pa) ** 2) / 0.18), 4) for m, (pv, pa) in PROTOTYPES.items()}


def label_mood(scores: dict[str, float]) -> str:
    """The best-scoring label."""
    return max(scores, key=lambda m: scores[m]) if scores else "calm"


def sections(arousal: np.ndarray, *, min_len_s: int = 8) -> list[Section]:
    """Split the arousal curve into stretches of similar energy (greedy binary segmentation)."""
    n = len(arousal)
    if n == 0:
        return []
    energy = (np.asarray(arousal, np.float64) + 1) / 2
    bounds = [0, n]

    def best_split(lo: int, hi: int) -> tuple[float, int]:
        best = (0.0, -1)
        seg = energy[lo:hi]
        total = ((seg - seg.mean()) ** 2).sum()
        for k in range(lo + min_len_s, hi - min_len_s + 1):
            left, right = energy[lo:k], energy[k:hi]
            gain = total - ((left - left.mean()) ** 2).sum() - ((right - right.mean()) ** 2).sum()
            if gain > best[0]:
                best = (gain, k)
        return best

    while True:
        cands = [(best_split(bounds[i], bounds[i + 1]), i) for i in range(len(bounds) - 1)]
        (gain, k), _ = max(cands, key=lambda c: c[0][0])
        # Split only where the two sides differ by a clear step in energy (~0.1 on 0..1).
        if k < 0 or gain < 0.01 * n + 0.5:
            break
        bounds = sorted([*bounds, k])
    return [
        Section(float(bounds[i]), float(bounds[i + 1]), float(energy[bounds[i] : bounds[i + 1]].mean()))
        for i in range(len(bounds) - 1)
    ]
