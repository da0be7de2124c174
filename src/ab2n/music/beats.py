"""Track analysis from the audio alone: tempo, beats, downbeats, key, loudness, sections, ending.

Our own DSP on numpy/scipy (DESIGN.md: essentia is AGPL, madmom's models are non-commercial,
librosa's tempo is wrong on half the bundled tracks and its JIT costs 13 s).

Method:
- Onset strength: log-magnitude spectral flux (half-wave rectified) on a 1024/256 STFT at 22.05 kHz
  (11.6 ms frames), in a low band (kick/bass) and the full band.
- Tempo: autocorrelation of the onset envelope, full band and low band, scored with its metrical
  multiples (a true beat period also shows up at 2x and 4x the lag, each read at its peak within
  half a frame per beat) and a log-normal prior around 130 BPM.
- Beats: dynamic programming (Ellis 2007) allowing local tempo drift.
- Downbeats: the meter and bar phase where low-band onsets and harmonic change peak, the phase
  followed beat by beat (Viterbi) so one doubled or dropped beat moves only the bar lines after it.
- Key: Krumhansl-Kessler profiles correlated with the track's chroma.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ab2n.media.decode import decode_audio
from ab2n.media.ffmpeg import commit_output, temp_output_path

#: Part of every cache key: raise it when the analysis changes, so cached results are recomputed.
ANALYSER_VERSION = "9"
SR = 22050
ANALYSIS_THREADS = 2
N_FFT = 1024
HOP = 256
FPS = SR / HOP

PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Krumhansl & Kessler (1982) key profiles.
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True, eq=False)
class TrackAnalysis:
    """What ab2n knows about a piece of music, from the audio alone.

    Attributes:
        duration_s: Length of the audio.
        tempo_bpm: Main tempo.
        beats_s: Beat times.
        downbeats_s: Bar starts (a subset of ``beats_s``).
        beats_per_bar: Meter numerator (3 or 4).
        key: Tonic name ("C", "F#", ...); mode "major" or "minor".
        loudness_lufs: Integrated loudness (approximate, ungated K-weighting free estimate).
        bar_energy: RMS energy per bar (0..1 normalised), aligned with ``downbeats_s``.
        bar_chroma: 12-bin chroma per bar (for choosing seams where the music is alike).
        section_starts_s: Section boundaries (on downbeats).
        ending_s: Start of the final phrase (a downbeat); ``end_s``: where the sound stops.
        valence, arousal: Mood estimates in [-1, 1].
        pulse_clarity: 0..1, how unmistakable the beat is: onsets on the beats stand out from the
            off-beats and the beats come at a steady pace (see :func:`pulse_clarity`).
        ends_abruptly: The recording stops at full level (a loop or an excerpt) instead of ringing
            out, so an arrangement must fade its last bars itself.
        beat_certainty: Per beat of ``beats_s``, 0..1: the share of the plausible metrical readings
            (this tempo and its 4:3, 3:2, 2:1 relatives that score nearly as well, weighted by how
            nearly) with a beat there (:func:`beat_certainty`). A cut on a beat of 1 is on the beat
            whichever of them a listener taps. Empty: every beat counts as sure.
        sound_before_beat, sound_after_beat: Per beat of ``beats_s``, the sound 23 ms before and
            after it (:func:`beat_edges`): its level in dB / 10, then SEAM_BANDS log-magnitude
            bands. What an edit that leaves the music at one beat and enters it at another
            changes, against what the music changes at its own beats (``music/seams.py``).
            Empty: unknown (analyses from before version 9).
        version: Analyser version (part of the cache key).
    """

    duration_s: float
    tempo_bpm: float
    beats_s: list[float]
    downbeats_s: list[float]
    beats_per_bar: int = 4
    key: str = "C"
    mode: str = "major"
    loudness_lufs: float = -14.0
    bar_energy: list[float] = field(default_factory=list)
    bar_chroma: list[list[float]] = field(default_factory=list)
    section_starts_s: list[float] = field(default_factory=list)
    ending_s: float = 0.0
    end_s: float = 0.0
    valence: float = 0.0
    arousal: float = 0.0
    pulse_clarity: float = 0.5
    ends_abruptly: bool = False
    beat_certainty: list[float] = field(default_factory=list)
    sound_before_beat: list[list[float]] = field(default_factory=list)
    sound_after_beat: list[list[float]] = field(default_factory=list)
    version: str = ANALYSER_VERSION

    @property
    def beat_period_s(self) -> float:
        """Seconds per beat at the main tempo."""
        return 60.0 / self.tempo_bpm if self.tempo_bpm > 0 else 0.5


def analyze_track(path: str | Path, *, cache_dir: Path | None = None) -> TrackAnalysis:
    """Analyse an audio file (mp3, wav, m4a, aac, opus, flac), cached by content hash.

    Args:
        path: The audio file.
        cache_dir: Folder for JSON results; None = no cache.
    """
    p = Path(path)
    cache_file: Path | None = None
    if cache_dir is not None:
        digest = hashlib.sha1(p.read_bytes()).hexdigest()
        cache_file = Path(cache_dir) / f"track-{digest}-v{ANALYSER_VERSION}.json"
        if cache_file.exists():
            try:
                return TrackAnalysis(**json.loads(cache_file.read_text()))
            except (ValueError, TypeError):
                pass  # a stale or damaged cache entry is recomputed
    y = decode_audio(p, sample_rate=SR)
    result = analyze_samples(y)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        # A name per process and thread: analyze_tracks runs two at once, and two copies of one
        # song share a cache entry (one shared ".tmp" let the second rename find nothing).
        tmp = temp_output_path(cache_file)
        tmp.write_text(json.dumps(asdict(result)))
        commit_output(tmp, cache_file)
    return result


def analyze_tracks(paths: Sequence[str | Path], *, cache_dir: Path | None = None) -> list[TrackAnalysis]:
    """Analyse several files, in order, two at a time: one file's FFmpeg decode runs while another's
    numpy analysis does (both leave the GIL), so a cold library takes ~0.6x the time on two cores."""
    if len(paths) < 2:
        return [analyze_track(p, cache_dir=cache_dir) for p in paths]
    with ThreadPoolExecutor(max_workers=ANALYSIS_THREADS) as pool:
        return list(pool.map(lambda p: analyze_track(p, cache_dir=cache_dir), paths))


def analyze_samples(y: np.ndarray) -> TrackAnalysis:
    """Analyse mono float samples at 22.05 kHz (see module docstring for the method)."""
    duration = len(y) / SR
    if len(y) < SR:
        return TrackAnalysis(
            duration_s=duration,
            tempo_bpm=120.0,
            beats_s=[],
            downbeats_s=[],
            end_s=duration,
            ending_s=duration,
        )
    freqs, z = stft(y, N_FFT, HOP)
    mag = np.abs(z).astype(np.float32)
    logmag = np.log1p(100.0 * mag)
    flux = np.maximum(0.0, np.diff(logmag, axis=1))
    low = freqs < 200
    onset = flux.sum(axis=0)
    onset_low = flux[low].sum(axis=0)
    onset = np.concatenate([[0.0], onset])
    onset_low = np.concatenate([[0.0], onset_low])
    onset = _normalise(onset - _moving_average(onset, int(FPS)))
    onset_low = _normalise(onset_low - _moving_average(onset_low, int(FPS)))

    period = _tempo_period(onset, onset_low)
    warp = tempo_warp(onset, period) if DEWARP else None
    if warp is None:
        beats = _track_beats(onset, period)
    else:
        # Tempo and beats on the envelope played back at one tempo, the beats then put back in time.
        period = _tempo_period(warp.apply(onset), warp.apply(onset_low))
        beats = warp.unapply(_track_beats(warp.apply(onset), period), len(onset))
    # A frame's time is its window's centre, not its start: timed from the start, beats came out
    # 27 ms before the clicks of a click track (librosa's tracker: 15 ms after), which put every
    # "cut on a beat" 40-65 ms before the beat an independent tracker hears.
    beat_times = beats / FPS + N_FFT / (2 * SR)
    chroma = _chroma(mag, freqs)
    meter, bar_starts = _downbeats(beats, onset_low, chroma)
    # Key needs finer frequency resolution than beats: at 1024 points a bin is 21.5 Hz, wider than a
    # semitone below 360 Hz. An 8192-point STFT (2.7 Hz bins) resolves the bass notes; the key comes
    # from chroma summed over the whole track, so half-overlapping frames are enough.
    kf, kz = stft(y, 8192, 4096)
    key_chroma = _chroma(np.abs(kz).astype(np.float32), kf)
    downbeats = beat_times[bar_starts]
    key, mode = _key(key_chroma)
    rms_frames = np.sqrt((mag**2).mean(axis=0) + 1e-12)
    loud_db = 20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)) + 1e-9)
    bar_energy, bar_chroma = _per_bar(downbeats, rms_frames, chroma)
    end_s = _end_of_sound(y)
    ending_s = _ending_start(downbeats, end_s, meter, period / FPS)
    sections = _sections(downbeats, bar_chroma, bar_energy)
    tempo = 60.0 * FPS / period
    spectrum = mag.sum(axis=1)
    brightness = float((spectrum * freqs).sum() / (spectrum.sum() + 1e-9)) / 4000.0
    energy = float(np.clip((loud_db + 30) / 25, 0, 1))
    arousal = float(np.clip(0.9 * (tempo - 100) / 60 + 0.8 * (energy - 0.5) + 0.3 * (brightness - 0.5), -1, 1))
    valence = float(
        np.clip((0.35 if mode == "major" else -0.35) + 0.3 * (tempo - 100) / 60 + 0.2 * (brightness - 0.5), -1, 1)
    )
    before, after = beat_edges(mag, freqs, beats)
    return TrackAnalysis(
        duration_s=duration,
        tempo_bpm=round(float(tempo), 3),
        beats_s=[round(float(b), 4) for b in beat_times],
        downbeats_s=[round(float(b), 4) for b in downbeats],
        beats_per_bar=meter,
        key=key,
        mode=mode,
        loudness_lufs=round(float(loud_db) - 0.7, 2),  # RMS dBFS of music is ~0.7 dB above its LUFS
        bar_energy=bar_energy,
        bar_chroma=bar_chroma,
        section_starts_s=sections,
        ending_s=round(ending_s, 4),
        end_s=round(end_s, 4),
        valence=round(valence, 3),
        arousal=round(arousal, 3),
        pulse_clarity=round(pulse_clarity(onset, beats), 3),
        ends_abruptly=_ends_abruptly(y),
        beat_certainty=[round(float(c), 3) for c in beat_certainty(onset, onset_low, period, beats)],
        sound_before_beat=before,
        sound_after_beat=after,
    )


#: Bands of the sound kept at each beat's edges: log-spaced from 40 Hz to 11 kHz, merged where
#: narrower than a bin. 24 predict the bench's seam score of a jump (Spearman 0.54 on 104 jumps
#: of 28 beds) as well as the full 513-bin spectrum does (0.54), at a twentieth of the size.
SEAM_BANDS = 24
#: How far either side of a beat its edges are read, in STFT frames (2 frames: 23 ms; windows
#: 46 ms apart, as the bench's ``seam_audibility`` compares them).
EDGE_FRAMES = 2


def beat_edges(mag: np.ndarray, freqs: np.ndarray, beats: np.ndarray) -> tuple[list[list[float]], list[list[float]]]:
    """The sound just before and just after each beat: [level dB / 10, band log-magnitudes...].

    An edit that leaves the music at beat ``a`` and enters it at beat ``d`` puts the sound before
    ``a`` next to the sound after ``d``; their difference against the one between the sound before
    and after the music's own beats is how much the edit stands out (``music/seams.py``).

    Args:
        mag: STFT magnitude (bins x frames), the beat tracker's frames.
        freqs: Each bin's frequency.
        beats: Beat frames.
    """
    edges = np.unique(np.searchsorted(freqs, np.geomspace(40.0, 11000.0, SEAM_BANDS + 1)))
    logmag = np.log1p(100.0 * mag)
    level = np.log10((mag**2).mean(axis=0) + 1e-10)  # dB / 10
    bands = np.stack([logmag[a:b].mean(axis=0) for a, b in itertools.pairwise(edges) if b > a])
    feats = np.vstack([level[None, :], bands])
    last = feats.shape[1] - 1

    def at(frames: np.ndarray) -> list[list[float]]:
        cols = feats[:, np.clip(frames, 0, last)].T
        return [[round(float(v), 3) for v in col] for col in cols]

    frames = np.asarray(beats, int)
    return at(frames - EDGE_FRAMES), at(frames + EDGE_FRAMES)


def stft(y: np.ndarray, n_fft: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Hann-windowed STFT, frames fully inside the signal (no padding).

    numpy only: importing scipy.signal costs ~0.9 s at start-up, more than analysing a track.

    Returns:
        (freqs in Hz, complex spectrogram of shape (n_fft // 2 + 1, frames)).
    """
    n = 1 + (len(y) - n_fft) // hop if len(y) >= n_fft else 0
    if n <= 0:
        return np.fft.rfftfreq(n_fft, 1 / SR), np.zeros((n_fft // 2 + 1, 0), np.complex64)
    frames = np.lib.stride_tricks.sliding_window_view(y.astype(np.float32), n_fft)[::hop][:n]
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)  # periodic Hann
    spec = np.fft.rfft(frames * window, axis=1).T / window.sum()
    return np.fft.rfftfreq(n_fft, 1 / SR), spec.astype(np.complex64)


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.maximum(0.0, x)
    s = x.std()
    return x / s if s > 0 else x


def _moving_average(x: np.ndarray, n: int) -> np.ndarray:
    if n <= 1:
        return x
    k = np.ones(n) / n
    return np.convolve(x, k, mode="same")


def _ac_at(ac: np.ndarray, lag: float) -> float:
    """The autocorrelation at a fractional lag (linear interpolation; 0 past its end)."""
    i = int(lag)
    if i < 0 or i + 1 >= len(ac):
        return 0.0
    frac = lag - i
    return float((1 - frac) * ac[i] + frac * ac[i + 1])


def _autocorrelation(onset: np.ndarray) -> np.ndarray:
    """The onset envelope's autocorrelation over lags 0..n-1 frames, 1 at lag 0."""
    n = len(onset)
    spec = np.fft.rfft(onset - onset.mean(), 2 * n)
    ac = np.fft.irfft(np.abs(spec) ** 2)[:n]
    return ac / (ac[0] + 1e-9)


#: The tempo prior: log-normal around PRIOR_BPM, PRIOR_OCTAVES wide (one standard deviation).
PRIOR_BPM = 130.0
PRIOR_OCTAVES = 1.0
#: The weights of the autocorrelation at 2 and 4 beats (the beat's own lag weighs 1).
METRICAL_WEIGHTS = ((2, 0.25), (4, 0.25))
#: The low band's (< 200 Hz: kick and bass) metrical evidence, beside the full band's.
LOW_BAND_WEIGHT = 0.25


def _ac_near(ac: np.ndarray, lag: float, tol: float) -> float:
    """The autocorrelation's largest value within ``tol`` frames of ``lag`` (0 past its end)."""
    lo, hi = max(0, math.floor(lag - tol)), min(len(ac) - 1, math.ceil(lag + tol))
    return float(ac[lo : hi + 1].max()) if hi >= lo else 0.0


def _metrical(ac: np.ndarray, lag: float) -> float:
    """The autocorrelation at ``lag`` and its multiples, each the peak within half a frame per beat.

    Read at exactly k x ``lag`` (version 7), a period that falls between frames missed the peaks
    of its multiples by up to k/2 frames, and sharp onsets have peaks a frame or two wide: at 90 BPM
    (57.4 frames) the integer lag 57 put four beats 1.7 frames off the bar's peak, and a 4:3 figure
    that fell on whole frames won.
    """
    return _ac_near(ac, lag, 0.5) + sum(w * _ac_near(ac, k * lag, 0.5 * k) for k, w in METRICAL_WEIGHTS)


def _tempo_score(ac: np.ndarray, ac_low: np.ndarray, lag: float) -> float:
    """How well a beat period of ``lag`` frames explains the onsets: the metrical evidence of the
    full band and, less, of the low band, times a log-normal prior around PRIOR_BPM."""
    bpm = 60 * FPS / lag
    prior = math.exp(-0.5 * (math.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    return (_metrical(ac, lag) + LOW_BAND_WEIGHT * _metrical(ac_low, lag)) * prior


def _tempo_period(onset: np.ndarray, onset_low: np.ndarray) -> float:
    """Beat period in onset frames, from the autocorrelations and their metrical multiples."""
    n = len(onset)
    ac, ac_low = _autocorrelation(onset), _autocorrelation(onset_low)
    lo, hi = int(FPS * 60 / 200), int(FPS * 60 / 55)
    lags = np.arange(lo, min(hi, n // 4))
    if len(lags) == 0:
        return FPS * 0.5
    scores = [_tempo_score(ac, ac_low, lag) for lag in lags.tolist()]
    best = float(lags[int(np.argmax(scores))])
    # The autocorrelation's peak nearest the best lag, refined between frames (sub-frame tempo).
    return _unless_dotted(ac, _peak_near(ac, best))


DEWARP = True
#: Local tempo: windows of this many seconds, every WARP_HOP_S, searched within ±WARP_SPAN of the beat.
WARP_WINDOW_S = 4.0
WARP_HOP_S = 0.5
WARP_SPAN = 0.15
#: The local tempo must stray this far from its median somewhere before the envelope is unwarped.
WARP_FROM = 0.04
#: A window's local period counts when its autocorrelation peak is at least this share of the median
#: window's (set before measuring, not tuned).
WARP_CLEAR = 0.5


@dataclass(frozen=True)
class TempoWarp:
    """A map from the onset frames of music whose tempo changes to frames at one steady tempo.

    ``tau[t]`` is where frame ``t`` falls on the steady clock (same length on average).
    """

    tau: np.ndarray

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``x`` (one value per frame) resampled onto the steady clock."""
        return np.interp(np.arange(int(self.tau[-1]) + 1), self.tau, x)

    def unapply(self, frames: np.ndarray, n: int) -> np.ndarray:
        """Frames of the steady clock back to frames of the music (ints, in order, below ``n``)."""
        back = np.round(np.interp(np.asarray(frames, float), self.tau, np.arange(len(self.tau)))).astype(int)
        return np.unique(np.clip(back, 0, n - 1))


def tempo_warp(onset: np.ndarray, period: float) -> TempoWarp | None:
    """The local tempo of the onsets as a map to a steady clock, or None when the tempo holds.

    A remixed bed plays runs of its source a few per cent faster or slower (and ramps between
    them); over the whole piece that smears the autocorrelation's peaks at the beat and the bar,
    so the tempo's octave is left to the prior (on 14 of 56 bench beds the analyser heard double
    the source's tempo). Here each window's beat period is found within ±WARP_SPAN of ``period``
    (a ratio: the same whichever octave ``period`` is), and the envelope is resampled so that it
    holds. A steady track's local ratio stays within a few per cent of its median: it is left as
    it is.
    """
    win, hop = int(WARP_WINDOW_S * FPS), int(WARP_HOP_S * FPS)
    if len(onset) < 3 * win or period * (1 + WARP_SPAN) * 2 >= win:
        return None
    lags = np.arange(int(period * (1 - WARP_SPAN)), math.ceil(period * (1 + WARP_SPAN)) + 1)
    centres, ratios, clear = [], [], []
    for start in range(0, len(onset) - win + 1, hop):
        ac = _autocorrelation(onset[start : start + win])
        score = ac[lags] + 0.5 * np.array([_ac_near(ac, 2 * lag, 1.0) for lag in lags.tolist()])
        peak = _refined_peak(ac, int(lags[int(np.argmax(score))]))
        centres.append(start + win / 2)
        ratios.append(peak / period)
        clear.append(float(score.max()))
    # A window with no clear pulse (a free-time intro, a break) says nothing about the tempo: its
    # ratio is read from its neighbours.
    keep = np.asarray(clear) >= WARP_CLEAR * float(np.median(clear))
    if keep.sum() < 3:
        return None
    centres = [c for c, k in zip(centres, keep, strict=True) if k]
    r = np.asarray(ratios)[keep]
    r = np.array([np.median(r[max(0, i - 2) : i + 3]) for i in range(len(r))])  # one odd window is no change
    if float(np.max(np.abs(r / np.median(r) - 1))) < WARP_FROM:
        return None
    local = np.interp(np.arange(len(onset)), centres, r)
    local = local / local.mean()
    return TempoWarp(np.cumsum(1.0 / local) - 1.0 / local[0])


#: The metrical relatives of the tempo a listener (or another tracker) may take for the beat.
RELATIVES = (3 / 4, 4 / 3, 2 / 3, 3 / 2, 1 / 2)
#: A relative whose tempo score is this share of the chosen tempo's counts as a reading at all; its
#: weight grows linearly to 1 at an equal score.
READING_FROM = 0.6
#: A beat of the chosen reading is on another reading when one of its beats is this close.
READING_TOL_S = 0.035


def beat_certainty(onset: np.ndarray, onset_low: np.ndarray, period: float, beats: np.ndarray) -> np.ndarray:
    """Per beat, the weighted share of the plausible metrical readings with a beat there, 0..1.

    The chosen period has weight 1; each relative in RELATIVES (refined to its autocorrelation
    peak) whose tempo score is at least READING_FROM of the chosen one's is tracked on its own
    (the same dynamic programme) and weighs (ratio - READING_FROM) / (1 - READING_FROM), at most 1.
    Where a track is metrically ambiguous (a dotted-eighth figure scoring close to the beat, 4:3;
    a half-time groove, 2:1) a cut on a beat of certainty 1 is on a beat under every reading:
    on the bar lines and the beats the readings share.

    Args:
        onset: Onset envelope (frames at FPS).
        onset_low: The low band's onset envelope (the tempo score weighs both).
        period: The chosen beat period in frames.
        beats: The chosen reading's beat frames.

    Returns:
        float array, one value per beat (all 1 when no relative is plausible).
    """
    if len(beats) < 8:
        return np.ones(len(beats))
    ac, ac_low = _autocorrelation(onset), _autocorrelation(onset_low)
    s0 = _tempo_score(ac, ac_low, period)
    sure = np.ones(len(beats))
    if s0 <= 0:
        return sure
    for r in RELATIVES:
        lag = _peak_near(ac, period * r)
        if not FPS * 60 / 200 <= lag <= FPS * 60 / 40:
            continue
        w = float(np.clip((_tempo_score(ac, ac_low, lag) / s0 - READING_FROM) / (1 - READING_FROM), 0.0, 1.0))
        if w <= 0:
            continue
        other = _track_beats(onset, lag)
        near = np.abs(beats[:, None] - other[None, :]).min(axis=1) <= READING_TOL_S * FPS
        sure *= np.where(near, 1.0, 1.0 - w)
    return sure


#: How much more the bar must repeat at 4/3 the period before that is taken for the beat.
DOTTED_MARGIN = 0.1


def _unless_dotted(ac: np.ndarray, period: float) -> float:
    """The beat at 4/3 ``period`` when ``period`` is a dotted-eighth figure over it.

    A figure of dotted eighths (3+3+2 sixteenths) repeats every 3/4 of a beat, which an
    autocorrelation can rate above the beat itself; but a beat's bar (3 or 4 beats) repeats and the
    figure's does not. Three bundled tracks asked at 68, 72 and 90 BPM were heard at 4:3 (91, 95,
    120; librosa too): at the asked tempo their onsets repeat at four beats (0.41, 0.76, 0.62), at
    the figure's less (0.04, 0.46, 0.57; the third is within the margin and stays). Without the
    margin one held-in groove of bench/grooves.py is lost and a bundled track goes wrong.
    """
    slower = _peak_near(ac, period * 4 / 3)
    if 60 * FPS / slower < 45:
        return period

    def bar(lag: float) -> float:
        return max(_ac_at(ac, 3 * lag), _ac_at(ac, 4 * lag))

    return slower if bar(slower) > bar(period) + DOTTED_MARGIN else period


def _peak_near(ac: np.ndarray, lag: float) -> float:
    """The autocorrelation's peak within ±6 % of ``lag``, parabolic-refined (within a frame)."""
    lo, hi = max(2, int(lag * 0.94)), min(math.ceil(lag * 1.06), len(ac) - 2)
    if hi <= lo:
        return lag
    return _refined_peak(ac, lo + int(np.argmax(ac[lo : hi + 1])))


def _refined_peak(ac: np.ndarray, i: int) -> float:
    """The peak at frame ``i`` placed between frames by a parabola through it and its neighbours
    (within a frame of ``i``)."""
    a, b, c = ac[i - 1], ac[i], ac[i + 1]
    d = a - 2 * b + c
    return i + float(np.clip(0.5 * (a - c) / d, -1.0, 1.0)) if abs(d) > 1e-9 else float(i)


def _track_beats(onset: np.ndarray, period: float, tightness: float = 100.0) -> np.ndarray:
    """Ellis (2007) dynamic-programming beat tracker; returns beat frames."""
    n = len(onset)
    local = np.convolve(
        onset, np.exp(-0.5 * ((np.arange(-int(period), int(period) + 1) * 32.0 / period) ** 2)), mode="same"
    )
    score = local.copy()
    back = -np.ones(n, dtype=int)
    lo, hi = round(period / 2), round(2 * period)
    offsets = np.arange(-hi, -lo + 1)
    penalty = -tightness * np.log(-offsets / period) ** 2
    for i in range(hi, n):
        cand = score[i + offsets] + penalty
        j = int(np.argmax(cand))
        score[i] = local[i] + cand[j]
        back[i] = i + offsets[j]
    # Start from the best-scoring frame in the last period, then follow back-pointers.
    tail = np.arange(max(0, n - int(period)), n)
    i = int(tail[np.argmax(score[tail])])
    beats = []
    while i >= 0:
        beats.append(i)
        i = back[i]
    beats_arr = np.array(beats[::-1])
    # Drop leading beats in silence (before the music really starts).
    thresh = 0.1 * np.median(local[beats_arr]) if len(beats_arr) else 0
    while len(beats_arr) > 1 and local[beats_arr[0]] < thresh:
        beats_arr = beats_arr[1:]
    return beats_arr


def _chroma(mag: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """12 x frames chroma from 55 Hz to 2 kHz."""
    sel = (freqs >= 55) & (freqs <= 2000)
    if not sel.any():
        return np.zeros((12, mag.shape[1]), np.float32)
    pcs = np.round(12 * np.log2(freqs[sel] / 440.0) + 9).astype(int) % 12
    chroma = np.zeros((12, mag.shape[1]), np.float32)
    for pc in range(12):
        chroma[pc] = mag[sel][pcs == pc].sum(axis=0)
    return chroma


def _downbeats(beats: np.ndarray, onset_low: np.ndarray, chroma: np.ndarray) -> tuple[int, np.ndarray]:
    """(meter, indices of the beats that start bars), from low-band accents and harmonic change.

    The meter (4 or 3) is the one whose best bar phase stands out most from the other beats (4/4
    gets a small prior). The bar phase is then followed beat by beat (:func:`bar_positions`), so
    that one beat the tracker doubles or drops, or an edit in the music (a remix joins bars of the
    source), shifts the bar lines only from there on rather than the whole track's.
    """
    if len(beats) < 8:
        return 4, np.arange(0, len(beats), 4)
    low = _peaks_at(onset_low, beats)
    cb = np.stack(
        [chroma[:, beats[i] : beats[i + 1]].mean(axis=1) for i in range(len(beats) - 1)]
        + [chroma[:, beats[-1] :].mean(axis=1) if beats[-1] < chroma.shape[1] else chroma[:, -1]]
    )
    cb = cb / (np.linalg.norm(cb, axis=1, keepdims=True) + 1e-9)
    change = np.concatenate([[0.0], 1 - (cb[1:] * cb[:-1]).sum(axis=1)])
    accent = _z(low) + _z(change)
    best = (4, -1e9)
    for meter in (4, 3):
        for ph in range(meter):
            # Contrast of the chosen phase against the others; 4/4 gets a small prior.
            val = float(accent[ph::meter].mean() - accent.mean()) + (0.05 if meter == 4 else 0.0)
            if val > best[1]:
                best = (meter, val)
    meter = best[0]
    return meter, np.flatnonzero(bar_positions(accent, meter) == 0)


#: What a change of bar phase costs in :func:`bar_positions`, in z-scored accent: about two bars of
#: clear accents must back it, so a single loud off-beat doesn't move the bar lines.
BAR_SWITCH_COST = 8.0


def bar_positions(accent: np.ndarray, meter: int, switch_cost: float = BAR_SWITCH_COST) -> np.ndarray:
    """Each beat's position in its bar (0 = downbeat), by Viterbi over the bar positions.

    Args:
        accent: Per-beat accent, z-scored (how much a beat sounds like a bar start).
        meter: Beats per bar.
        switch_cost: Cost of leaving the ``+1 mod meter`` step (a beat doubled or dropped).

    Returns:
        int array, one position per beat. A downbeat scores its accent, any other position minus
        its accent over ``meter - 1``, so that with an infinite ``switch_cost`` the result is the
        single phase of highest contrast.
    """
    n, m = len(accent), max(1, meter)
    if n == 0:
        return np.zeros(0, dtype=int)
    emit = np.where(np.arange(m)[None, :] == 0, accent[:, None], -accent[:, None] / max(1, m - 1))
    steps = (np.arange(m) - 1) % m
    score = emit[0].copy()
    back = np.zeros((n, m), dtype=int)
    for i in range(1, n):
        stay = score[steps]
        jump = float(score.max()) - switch_cost
        keep = stay >= jump
        back[i] = np.where(keep, steps, int(score.argmax()))
        score = np.where(keep, stay, jump) + emit[i]
    pos = np.zeros(n, dtype=int)
    p = int(score.argmax())
    for i in range(n - 1, -1, -1):
        pos[i] = p
        p = back[i, p]
    return pos


def _z(x: np.ndarray) -> np.ndarray:
    s = x.std()
    return (x - x.mean()) / s if s > 0 else x * 0


def _key(chroma: np.ndarray) -> tuple[str, str]:
    """Krumhansl-Schmuckler key estimate."""
    c = np.log1p(chroma).sum(axis=1)
    best = ("C", "major", -2.0)
    for tonic in range(12):
        for mode, prof in (("major", KK_MAJOR), ("minor", KK_MINOR)):
            r = float(np.corrcoef(c, np.roll(prof, tonic))[0, 1])
            if r > best[2]:
                best = (PITCHES[tonic], mode, r)
    return best[0], best[1]


def _per_bar(downbeats: np.ndarray, rms: np.ndarray, chroma: np.ndarray) -> tuple[list[float], list[list[float]]]:
    frames = (np.asarray(downbeats) * FPS).astype(int)
    energies, chromas = [], []
    bounds = [*frames.tolist(), rms.shape[0]]
    for a, b in itertools.pairwise(bounds):
        b = max(b, a + 1)
        energies.append(float(rms[a:b].mean()) if a < len(rms) else 0.0)
        ch = chroma[:, a:b].mean(axis=1) if a < chroma.shape[1] else np.zeros(12)
        chromas.append([round(float(x), 4) for x in ch / (np.linalg.norm(ch) + 1e-9)])
    mx = max(energies) if energies else 1.0
    return [round(e / mx, 4) if mx > 0 else 0.0 for e in energies], chromas


def _peaks_at(envelope: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """The envelope's maximum within ±2 frames (±23 ms) of each frame index."""
    return np.array([envelope[max(0, f - 2) : f + 3].max() for f in frames])


def _frame_rms(y: np.ndarray, frame: int) -> np.ndarray:
    """RMS of consecutive ``frame``-sample frames (a partial last frame is dropped)."""
    n = len(y) // frame
    return np.sqrt((y[: n * frame].reshape(n, frame).astype(np.float64) ** 2).mean(axis=1))


def _end_of_sound(y: np.ndarray) -> float:
    """Time of the last sample above -50 dBFS (20 ms frames)."""
    frame = int(0.02 * SR)
    rms = _frame_rms(y, frame)
    if not len(rms):
        return len(y) / SR
    loud = np.flatnonzero(rms > 10 ** (-50 / 20))
    return float((loud[-1] + 1) * frame / SR) if len(loud) else len(y) / SR


def pulse_clarity(onset: np.ndarray, beats: np.ndarray) -> float:
    """How unmistakable the tracked beat is, 0..1: contrast x steadiness.

    Contrast: onset strength on the beats against halfway between them, (on - off) / (on + off);
    near 0 when off-beats are as strong as beats (busy hi-hats, syncopated bass), where another
    listener or tracker may hear the beat on the other eighth note. Steadiness: the share of beat
    intervals within 5 % of their neighbours' median, mapped so that 0.7 or less counts as no
    pulse; tracks that swing between unequal beat lengths make cuts on "the beat" land unevenly.
    """
    if len(beats) < 8:
        return 0.0
    peak = _peaks_at(onset, beats[:-1])
    off = _peaks_at(onset, (beats[:-1] + beats[1:]) // 2)
    contrast = float((peak.mean() - off.mean()) / (peak.mean() + off.mean() + 1e-9))
    ibi = np.diff(beats).astype(float)
    local = np.array([np.median(ibi[max(0, i - 4) : i + 5]) for i in range(len(ibi))])
    steady = float(np.mean(np.abs(ibi - local) <= 0.05 * local))
    return float(np.sqrt(max(0.0, contrast)) * np.clip((steady - 0.7) / 0.3, 0.0, 1.0))


def _ends_abruptly(y: np.ndarray) -> bool:
    """The file stops mid-music rather than ringing out: the 0.25 s just before the sound stops
    (the last 50 ms frame within 30 dB of the track's median level) is within 8 dB of that median."""
    rms = _frame_rms(y, int(0.05 * SR))
    if len(rms) < 40:
        return False
    db = 20 * np.log10(rms + 1e-9)
    median = float(np.median(db))
    stop = int(np.flatnonzero(db >= median - 30.0)[-1]) + 1
    last = db[max(0, stop - 7) : max(1, stop - 2)]  # 0.35-0.1 s before the stop
    energy = 10 * np.log10(float(np.mean(10 ** (last / 10))))
    return bool(energy >= median - 8.0)


def _ending_start(downbeats: np.ndarray, end_s: float, meter: int, beat_s: float) -> float:
    """The downbeat that starts the final phrase: the last bar line at least two bars before the end."""
    bar_s = meter * beat_s
    cands = [d for d in downbeats if d <= end_s - 2 * bar_s]
    return float(cands[-1]) if cands else float(downbeats[0]) if len(downbeats) else 0.0


def _sections(downbeats: np.ndarray, bar_chroma: list[list[float]], bar_energy: list[float]) -> list[float]:
    """Section starts: bars where chroma/energy novelty (4-bar checkerboard) peaks, every >= 4 bars."""
    n = len(bar_chroma)
    if n < 8:
        return [float(downbeats[0])] if n else []
    feat = np.hstack([np.asarray(bar_chroma), np.asarray(bar_energy)[:, None] * 2])
    nov = np.zeros(n)
    for i in range(2, n - 2):
        a, b = feat[i - 2 : i].mean(axis=0), feat[i : i + 2].mean(axis=0)
        nov[i] = float(np.linalg.norm(a - b))
    starts = [0]
    thr = nov.mean() + nov.std()
    for i in range(4, n - 2):
        if nov[i] > thr and nov[i] >= nov[i - 1] and nov[i] >= nov[i + 1] and i - starts[-1] >= 4:
            starts.append(i)
    return [round(float(downbeats[i]), 4) for i in starts]
