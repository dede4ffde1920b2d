"""Confidence intervals that allow for model choice: the model is chosen again in every bootstrap replication.

Following Chan, Silverman and Vincent (2021, Section 3.3) and SparseMSE's ``estimatepopulation``: the observed
people are resampled (multinomial over the capture histories, the observed total kept), the stepwise choice and
fit are repeated on each sample, and the interval is read from the replicated estimates, either as plain
percentiles or bias-corrected and accelerated (BCa, DiCiccio and Efron 1996) with the acceleration from the
delete-one jackknife, where every person of one capture history gives the same jackknife value (so one fit per
distinct history, weighted by its count). Quantiles are Hyndman and Fan's type 8 (SparseMSE's choice). A fixed
seed makes a run reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from .codes import BCA, METHODS, PERCENTILE  # noqa: F401  (the stable codes, estimation/codes.py)
from .loglinear import DEFAULT_P_THRESHOLD, CaptureTable, stepwise_estimate


@dataclass
class Interval:
    method: str  # the method actually used (BCa falls back to percentiles when its bias correction is infinite)
    level: float
    low: float
    high: float
    replications: int  # replications that gave an estimate
    failed: int  # replications whose resampled table could not be fitted (left out of the quantiles)
    acceleration: float | None
    bias_z0: float | None


def _estimate_or_nan(table: CaptureTable, p_threshold: float) -> float:
    try:
        value = stepwise_estimate(table, p_threshold=p_threshold)
    except (FloatingPointError, ValueError, np.linalg.LinAlgError, OverflowError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def replicate(
    table: CaptureTable,
    *,
    replications: int,
    seed: int,
    p_threshold: float = DEFAULT_P_THRESHOLD,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """The stepwise estimate of ``replications`` multinomial resamples of the observed people (NaN where the
    resampled table cannot be fitted). ``progress`` is called with the number done every few replications."""
    rng = np.random.default_rng(seed)
    counts = table.counts
    total = int(counts.sum())
    probabilities = counts / total
    samples = rng.multinomial(total, probabilities, size=replications)
    out = np.empty(replications)
    for k, sample in enumerate(samples):
        out[k] = _estimate_or_nan(table.with_counts(sample), p_threshold)
        if progress is not None and (k + 1) % 25 == 0:
            progress(k + 1)
    return out


def jackknife_acceleration(table: CaptureTable, *, p_threshold: float = DEFAULT_P_THRESHOLD) -> float:
    """BCa acceleration from leaving out one person of each distinct observed history."""
    counts = table.counts.astype(float)
    observed = np.flatnonzero(counts > 0)
    values = np.empty(len(observed))
    for k, index in enumerate(observed):
        reduced = table.counts.copy()
        reduced[index] -= 1
        values[k] = _estimate_or_nan(table.with_counts(reduced), p_threshold)
    weights = counts[observed]
    ok = np.isfinite(values)
    if not ok.any():
        return 0.0
    weights, values = weights[ok], values[ok]
    residuals = (weights @ values) / weights.sum() - values
    denominator = 6 * (weights @ residuals**2) ** 1.5
    return float(weights @ residuals**3 / denominator) if denominator > 0 else 0.0


def interval(
    estimate: float,
    replicates: np.ndarray,
    *,
    method: str = BCA,
    level: float = 0.95,
    acceleration: float = 0.0,
) -> Interval:
    """The ``level`` interval from the replicated estimates."""
    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r}")
    finite = replicates[np.isfinite(replicates)]
    failed = int(len(replicates) - len(finite))
    if len(finite) == 0:
        raise ValueError("no bootstrap replication could be fitted")
    alpha = np.array([(1 - level) / 2, (1 + level) / 2])
    used, z0, a = method, None, None
    if method == BCA:
        share_below = float(np.mean(finite < estimate))
        if 0 < share_below < 1:
            z0, a = float(norm.ppf(share_below)), acceleration
            z = norm.ppf(alpha)
            alpha = norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
        else:
            used = PERCENTILE  # every replicate on one side: no bias correction can be computed
    low, high = np.quantile(finite, alpha, method="median_unbiased")
    return Interval(
        method=used,
        level=level,
        low=float(low),
        high=float(high),
        replications=len(finite),
        failed=failed,
        acceleration=a,
        bias_z0=z0,
    )


def bootstrap_interval(
    table: CaptureTable,
    estimate: float,
    *,
    replications: int = 1000,
    seed: int = 2024,
    method: str = BCA,
    level: float = 0.95,
    p_threshold: float = DEFAULT_P_THRESHOLD,
    progress: Callable[[int], None] | None = None,
) -> tuple[Interval, np.ndarray]:
    """Resample, choose and fit ``replications`` times; the interval and the replicated estimates."""
    replicates = replicate(table, replications=replications, seed=seed, p_threshold=p_threshold, progress=progress)
    acceleration = jackknife_acceleration(table, p_threshold=p_threshold) if method == BCA else 0.0
    return interval(estimate, replicates, method=method, level=level, acceleration=acceleration), replicates
