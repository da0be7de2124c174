"""The programme gain, found on a model of the limiter instead of trial runs of it.

The mix ends in ``volume=G, 4x oversampled alimiter`` before the AAC encoder (``mixdown``). Over the
ceiling the limiter eats loudness (peaky speech raised to -14 LUFS lost 3.7 LU against a gain set
from the levels alone), so G can't be read off the inputs' levels. Running the limiter at trial
gains costs an FFmpeg pass and a meter pass each (~0.5 s of CPU a minute of audio); instead one
pass over the *unlimited* mix keeps two numbers per millisecond, and the limiter is modelled on
them at any gain in a few milliseconds:

    unlimited mix at 4x ──> per block: peak (both channels), K-weighted power
    gain G ──> gain reduction: min(1, ceiling / (G · peak)), looked ahead over the attack,
               released exponentially ──> K-weighted power × (G · reduction)² ──> gated loudness

The model ignores what the limiter does inside a block and the K-filter's response to the gain's
movement; measured against the real limiter, bench/mix_quality.py and tests/unit/test_mix_gain.py
say how far that goes (docs/mix.md). The encoded file is still measured, and a miss is corrected
there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ab2n.mix.meter import SAMPLE_RATE, KWeighting, gated_loudness

#: The limiter runs at 4x the programme's rate (mixdown's level chain); the model reads the mix there.
OVERSAMPLE = 4
_PIECE = SAMPLE_RATE // 10  # the meter's 100 ms
#: Block lengths that divide the meter's 100 ms piece; the shortest whose count stays bounded.
_BLOCKS = (48, 96, 192, 240, 480, 960, 1200, 2400, 4800)
_MAX_BLOCKS = 1_500_000  # ~25 min at 1 ms; three hours get 9.6 ms blocks, 1.1 M of them (9 MB of float32)
# The model's look-ahead and release, fitted to FFmpeg's alimiter as mixdown sets it (attack 2 ms,
# release 60 ms, auto release): 48 programmes (two espeak voices under the bundled tracks, some
# tracks alone), each at six gains from -2 to +9 dB around the levels' estimate, split in two
# halves by track. Fitted on one half, 2 ms / 25 ms predicted the limited loudness within 0.023 LU
# on average and 0.08 LU at the 95th percentile (worst 0.11) on the other half too; the nominal
# 60 ms gave 0.14 / 0.34 LU (too much limiting), and peaks read at 48 kHz instead of the limiter's
# 4x rate missed a click track by 0.2 LU and white-noise bursts by 0.8 (tests/unit/test_mix_gain.py).
ATTACK_S = 0.002
RELEASE_S = 0.025


def block_samples(duration_s: float) -> int:
    """The block length for a programme: 1 ms, longer for long programmes (bounded memory)."""
    n = max(1.0, duration_s) * SAMPLE_RATE
    return next((b for b in _BLOCKS if n / b <= _MAX_BLOCKS), _BLOCKS[-1])


@dataclass
class MixStats:
    """What the gain model needs of the unlimited mix: per block, its peak as the limiter sees it
    (both channels, at the limiter's 4x rate, so intersample peaks count) and its channel-summed
    K-weighted energy. Feed ``(n, 2)`` blocks of the mix at ``OVERSAMPLE`` x 48 kHz, in order."""

    block: int = 48  #: samples at 48 kHz
    peaks: list[np.ndarray] = field(default_factory=list)
    energies: list[np.ndarray] = field(default_factory=list)
    _k: KWeighting = field(default_factory=KWeighting)
    _carry: np.ndarray = field(default_factory=lambda: np.zeros((2, 0)))

    def feed(self, samples: np.ndarray) -> None:
        """Add the next samples, shape ``(n, 2)`` at the 4x rate, full scale 1.0."""
        x = np.concatenate([self._carry, np.asarray(samples, dtype=np.float64).reshape(-1, 2).T], axis=1)
        span = self.block * OVERSAMPLE
        whole = x.shape[1] // span * span
        self._carry = x[:, whole:]
        if not whole:
            return
        x = x[:, :whole]
        self.peaks.append(np.abs(x).reshape(2, -1, span).max(axis=(0, 2)).astype(np.float32))
        # The 48 kHz programme is every 4th sample: the resampler's upsampling keeps the input's
        # instants (up to its 0.97 cutoff), and the K-filter is defined at 48 kHz.
        k = self._k(np.ascontiguousarray(x[:, ::OVERSAMPLE]))
        self.energies.append((k**2).reshape(2, -1, self.block).sum(axis=(0, 2)).astype(np.float32))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Peaks and energies so far, whole blocks only, as two float64 arrays."""
        if not self.peaks:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(self.peaks).astype(np.float64), np.concatenate(self.energies).astype(np.float64)


@dataclass(frozen=True)
class GainModel:
    """The limiter modelled over one programme's blocks (see the module docstring)."""

    peaks: np.ndarray
    energies: np.ndarray
    block: int

    @classmethod
    def of(cls, stats: MixStats) -> GainModel:
        """The model of what ``stats`` was fed."""
        peaks, energies = stats.arrays()
        return cls(peaks, energies, stats.block)

    def reduction(self, gain_db: float, ceiling_db: float) -> np.ndarray:
        """The limiter's gain (0..1) per block at programme gain ``gain_db`` into ``ceiling_db``."""
        g = 10 ** (gain_db / 20)
        need = np.minimum(1.0, 10 ** (ceiling_db / 20) / np.maximum(g * self.peaks, 1e-12))
        # Look-ahead: the gain is down before the peak arrives (and stays down as long after).
        reach = max(1, round(ATTACK_S * SAMPLE_RATE / self.block))
        padded = np.pad(need, reach, constant_values=1.0)
        held = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1).min(axis=1)
        # Release: the reduction decays by alpha a block, i.e. depth[k] = max_j depth0[j] alpha^(k-j),
        # done in logs as a running maximum (no Python loop over a million blocks).
        alpha_log = -self.block / (RELEASE_S * SAMPLE_RATE)
        depth0 = np.log(np.maximum(1.0 - held, 1e-12))
        idx = np.arange(len(held)) * alpha_log
        depth = np.exp(np.maximum.accumulate(depth0 - idx) + idx)
        return np.clip(1.0 - depth, 0.0, 1.0)

    def lufs(self, gain_db: float, ceiling_db: float) -> float:
        """Integrated loudness (LUFS) of the limited programme at ``gain_db`` (-70 when silent)."""
        if not len(self.energies):
            return -70.0
        g = 10 ** (gain_db / 20) * self.reduction(gain_db, ceiling_db)
        energy = self.energies * g * g
        per_piece = _PIECE // self.block
        n = len(energy) // per_piece * per_piece
        powers = energy[:n].reshape(-1, per_piece).sum(axis=1) / _PIECE
        return gated_loudness(powers)

    def solve(self, target_lufs: float, ceiling_db: float, start_db: float) -> float:
        """The gain (dB) whose limited loudness is ``target_lufs``, from ``start_db`` (secant steps,
        then bisection if they don't settle: loudness only grows with the gain)."""
        lo, hi = start_db - 40.0, start_db + 40.0
        g0, l0 = start_db, self.lufs(start_db, ceiling_db)
        if l0 <= -69.9:
            return start_db  # nothing over the gate: any gain is as good
        g1 = g0 + (target_lufs - l0)
        for _ in range(30):
            g1 = min(hi, max(lo, g1))
            l1 = self.lufs(g1, ceiling_db)
            if abs(l1 - target_lufs) <= 0.01:
                return g1
            if l1 < target_lufs:
                lo = g1
            else:
                hi = g1
            slope = (l1 - l0) / (g1 - g0) if abs(g1 - g0) > 1e-6 else 1.0
            g0, l0 = g1, l1
            step = (target_lufs - l1) / slope if slope > 0.05 else math.nan
            g1 = g1 + step if lo < g1 + step < hi else (lo + hi) / 2
        return g1
