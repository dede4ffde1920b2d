"""Simulated capture data of known population size, for checking the coverage of the intervals (bench/mse.py,
tests/test_estimation_simulation.py): each person is on each list independently with the list's own
probability, except that being on the first list changes the chance of being on the second (one dependence
between two lists, which a main-effects model would get wrong)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import bootstrap, loglinear
from .loglinear import CaptureTable


@dataclass(frozen=True)
class Scenario:
    population: int = 1500
    probabilities: tuple[float, ...] = (0.25, 0.15, 0.2, 0.3)
    # P(on list 2 | on list 1) and P(on list 2 | not on list 1): a positive dependence.
    second_given_first: float = 0.4
    second_given_not_first: float = 0.1


def draw(scenario: Scenario, rng: np.random.Generator) -> CaptureTable:
    n, p = scenario.population, scenario.probabilities
    on = rng.random((n, len(p))) < np.array(p)
    chance = np.where(on[:, 0], scenario.second_given_first, scenario.second_given_not_first)
    on[:, 1] = rng.random(n) < chance
    codes = on.astype(np.int64) @ (1 << np.arange(len(p)))
    counts = np.bincount(codes, minlength=2 ** len(p))[1:]
    return CaptureTable(tuple(f"L{j + 1}" for j in range(len(p))), counts)


def coverage(
    *, simulations: int, replications: int, seed: int = 1, scenario: Scenario = Scenario(), level: float = 0.95
) -> dict:
    """Share of ``simulations`` seeded data sets whose bootstrap interval (model chosen again in each
    replication) holds the true population size."""
    rng = np.random.default_rng(seed)
    covered, widths, estimates = 0, [], []
    for k in range(simulations):
        table = draw(scenario, rng)
        estimate = loglinear.stepwise_estimate(table)
        interval, _ = bootstrap.bootstrap_interval(
            table, estimate, replications=replications, seed=seed * 100_000 + k, level=level
        )
        covered += interval.low <= scenario.population <= interval.high
        widths.append(interval.high - interval.low)
        estimates.append(estimate)
    return {
        "simulations": simulations,
        "replications": replications,
        "population": scenario.population,
        "coverage": covered / simulations,
        "median_estimate": float(np.median(estimates)),
        "median_width": float(np.median(widths)),
    }
