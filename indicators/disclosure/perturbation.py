"""The perturbation table of the disclosure control: the published map from (count, cell key) to noise. Internal
to indicators.disclosure, which re-exports it: callers import the package, never this module (docs/SECURITY.md).

Like the package, it reads its settings at call time only, so it imports without Django configured."""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

KEY_BITS = 20
KEY_MODULUS = 1 << KEY_BITS


@dataclass(frozen=True)
class PerturbationTable:
    """The published map from (count, cell key) to noise, for a maximum deviation and a variance.

    The key range is split at its middle: keys above it give non-negative noise, keys below it the mirror
    image, so that +e and -e take exactly as many keys. ``bounds[h][e]`` is where the keys of noise ``e``
    (0..h) end on one half, for counts whose noise is limited to ``-h..h``."""

    max_deviation: int
    variance: float
    bounds: tuple[tuple[int, ...], ...]

    def noise(self, n: int, key: int) -> int:
        if n <= 0:
            return 0
        h = min(self.max_deviation, n - 1)
        half = KEY_MODULUS // 2
        offset = key % KEY_MODULUS - half
        position = offset if offset >= 0 else -offset - 1
        e = bisect_right(self.bounds[h], position)
        return e if offset >= 0 else -e

    def probabilities(self, n: int) -> dict[int, float]:
        """The probability of each noise for a count n over uniformly random keys (exact, from the key
        ranges): what the documentation publishes and the tests check."""
        h = min(self.max_deviation, n - 1) if n > 0 else 0
        if n <= 0:
            return {0: 1.0}
        half = KEY_MODULUS // 2
        bounds = self.bounds[h]
        result = {}
        for e in range(h + 1):
            width = bounds[e] - (bounds[e - 1] if e else 0)
            if e == 0:
                result[0] = 2 * width / KEY_MODULUS
            else:
                result[e] = result[-e] = width / KEY_MODULUS
        assert bounds[-1] == half  # noqa: S101
        return dict(sorted(result.items()))


def _weights(a: float, h: int) -> list[float]:
    return [a ** (e * e) for e in range(h + 1)]


def _variance(a: float, d: int) -> float:
    w = _weights(a, d)
    total = w[0] + 2 * sum(w[1:])
    return 2 * sum(e * e * w[e] for e in range(1, d + 1)) / total


@lru_cache(maxsize=8)
def perturbation_table(max_deviation: int, variance: float) -> PerturbationTable:
    """Build the table for ``max_deviation`` D >= 1 and ``variance`` V, 0 < V < D(D+1)/3 (the variance of a
    uniform noise on -D..D, which no shape with a peak at 0 can reach)."""
    if isinstance(max_deviation, bool) or not isinstance(max_deviation, int) or max_deviation < 1:
        raise ValueError(f"the maximum deviation must be a whole number of at least 1, got {max_deviation!r}")
    if not 0 < variance < max_deviation * (max_deviation + 1) / 3:
        raise ValueError(f"the variance must lie between 0 and {max_deviation * (max_deviation + 1) / 3:g}")
    lo, hi = 1e-9, 1.0 - 1e-12
    for _ in range(200):  # the variance grows with a: bisection
        mid = (lo + hi) / 2
        if _variance(mid, max_deviation) < variance:
            lo = mid
        else:
            hi = mid
    a = (lo + hi) / 2
    half = KEY_MODULUS // 2
    bounds = []
    for h in range(max_deviation + 1):
        w = _weights(a, h)
        total = w[0] + 2 * sum(w[1:])
        # Key counts of +e (and of -e) for e >= 1; noise 0 takes what is left of each half. Every noise up to
        # h keeps at least one key, so the whole published range -D..D can occur: an attacker must allow
        # every figure the full deviation, while a tail this thin costs the figures' accuracy nothing.
        widths = [max(1, math.floor(KEY_MODULUS * w[e] / total + 0.5)) for e in range(1, h + 1)]
        edges, edge = [half - sum(widths)], half - sum(widths)
        for width in widths:
            edge += width
            edges.append(edge)
        bounds.append(tuple(edges))
    return PerturbationTable(max_deviation=max_deviation, variance=variance, bounds=tuple(bounds))


def current_table() -> PerturbationTable:
    from django.conf import settings

    return perturbation_table(int(settings.DISCLOSURE_MAX_DEVIATION), float(settings.DISCLOSURE_VARIANCE))
