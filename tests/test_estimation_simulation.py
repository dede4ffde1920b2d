"""Coverage of the bootstrap intervals (model chosen again in every replication) on simulated data of known
size: estimation.simulation draws 1,500 people on four lists, with a dependence between the first two.

The full study (200 seeded simulations, 1,000 replications each, several minutes) is slow-marked: run it with
``CONATT_SLOW_TESTS=1``; bench/mse.py prints the same figure (docs/PERFORMANCE.md)."""

import numpy as np
import pytest

from estimation import loglinear, simulation


def test_the_stepwise_choice_finds_the_simulated_dependence():
    table = simulation.draw(simulation.Scenario(population=20_000), np.random.default_rng(3))
    selection = loglinear.stepwise(table)
    assert selection.fit.model == ((0, 1),)
    assert selection.fit.estimate == pytest.approx(20_000, rel=0.05)
    # Main effects alone miss the dependence and underestimate.
    assert loglinear.fit_model(table, []).estimate < 0.95 * 20_000


def test_a_few_simulations_run_and_report_their_coverage():
    result = simulation.coverage(simulations=4, replications=100, seed=9)
    assert result["simulations"] == 4 and 0 <= result["coverage"] <= 1
    assert result["median_estimate"] == pytest.approx(1500, rel=0.15)


@pytest.mark.slow
def test_95_percent_intervals_cover_the_true_size_at_least_90_percent_of_200_simulations():
    result = simulation.coverage(simulations=200, replications=1000, seed=1)
    assert result["coverage"] >= 0.90, result
