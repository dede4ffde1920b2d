"""From a run's inputs (capture-history counts by sex and child/adult) to its result: for all persons and for
each stratum the data support, the refusal or the chosen model, the candidate models, the estimate and its
bootstrap interval. No Django models here; ``estimation.services`` stores what this returns.

A table is refused (with a reason the pages translate) when fewer than three lists hold anyone, when fewer than
``MIN_OVERLAP_PERSONS`` people are on more than one list (the overlaps carry all the information about the
people nobody saw), or when even the main-effects model has no estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import bootstrap, loglinear
from .codes import FEW_LISTS, NO_ESTIMATE, SPARSE  # noqa: F401  (the stable codes, estimation/codes.py)
from .loglinear import CaptureTable

MIN_OVERLAP_PERSONS = 10


STRATA = [
    ("sex:F", lambda sex, child: sex == "F"),
    ("sex:M", lambda sex, child: sex == "M"),
    ("age:child", lambda sex, child: child is True),
    ("age:adult", lambda sex, child: child is False),
]


def table_of(inputs: dict, keep: Callable[[str, bool | None], bool] | None = None) -> CaptureTable:
    lists = [entry["label"] for entry in inputs["lists"]]
    counts = np.zeros(2 ** len(lists) - 1, dtype=np.int64)
    for code, sex, child, n in inputs["cells"]:
        if keep is None or keep(sex, child):
            counts[code - 1] += n
    return CaptureTable(tuple(lists), counts)


def drop_empty_lists(table: CaptureTable) -> tuple[CaptureTable, list[int]]:
    """The table over the lists that hold someone (a list nobody is on carries no information), and the
    original index of each kept list."""
    members = loglinear.design(table.t).members
    persons = members.T @ table.counts
    kept = [j for j in range(table.t) if persons[j] > 0]
    if len(kept) == table.t:
        return table, kept
    counts = np.zeros(2 ** len(kept) - 1, dtype=np.int64)
    for code in range(1, 2**table.t):
        n = table.counts[code - 1]
        if n:
            new = sum(1 << k for k, j in enumerate(kept) if code >> j & 1)
            counts[new - 1] += n
    return CaptureTable(tuple(table.lists[j] for j in kept), counts), kept


def refusal(table: CaptureTable) -> dict | None:
    if table.t < 3:
        return {"code": FEW_LISTS, "lists": table.t}
    members = loglinear.design(table.t).members
    on_several = int(table.counts[members.sum(axis=1) >= 2].sum())
    if on_several < MIN_OVERLAP_PERSONS:
        return {"code": SPARSE, "overlapping": on_several, "minimum": MIN_OVERLAP_PERSONS}
    if loglinear.check_model(table, []) is not None:
        return {"code": NO_ESTIMATE}
    return None


def _pairs_json(model, kept: list[int]) -> list[list[int]]:
    return [[kept[i], kept[j]] for i, j in model]


def estimate_table(
    table: CaptureTable,
    *,
    replications: int,
    seed: int,
    p_threshold: float,
    method: str,
    progress: Callable[[float], None] | None = None,
) -> dict:
    """The estimate of one table, with list indices of the original list definition in its model terms."""
    table, kept = drop_empty_lists(table)
    out: dict = {"observed": table.observed}
    refused = refusal(table)
    if refused is not None:
        out["refusal"] = refused
        return out
    selection = loglinear.stepwise(table, p_threshold=p_threshold)
    fit = selection.fit

    def count(k: int) -> None:
        if progress is not None:
            progress(min(k, replications) / replications)

    interval, replicates = bootstrap.bootstrap_interval(
        table,
        fit.estimate,
        replications=replications,
        seed=seed,
        method=method,
        p_threshold=p_threshold,
        progress=count,
    )
    low_c, high_c = fit.conditional_interval()
    out.update(
        refusal=None,
        estimate=fit.estimate,
        dark=fit.dark,
        low=interval.low,
        high=interval.high,
        interval_method=interval.method,
        replications=interval.replications,
        failed_replications=interval.failed,
        acceleration=interval.acceleration,
        conditional_low=low_c,
        conditional_high=high_c,
        model=_pairs_json(fit.model, kept),
        empty_pairs=_pairs_json(fit.empty_pairs, kept),
        steps=[{"pair": _pairs_json([s.pair], kept)[0], "p_value": s.p_value} for s in selection.steps],
        replicate_quantiles=[float(q) for q in np.nanquantile(replicates, [0.1, 0.5, 0.9])],
        candidates=_candidates(table, fit.model, kept),
    )
    return out


def _candidates(table: CaptureTable, chosen, kept: list[int]) -> list[dict]:
    rows = []
    for candidate in loglinear.candidates(table, chosen):
        row = {
            "model": _pairs_json(candidate.model, kept),
            "chosen": candidate.model == tuple(sorted(chosen)),
            "skipped": candidate.skipped,
        }
        if candidate.fit is not None:
            low, high = candidate.fit.conditional_interval()
            row.update(estimate=candidate.fit.estimate, low=low, high=high, aic=candidate.fit.aic)
        rows.append(row)
    return rows


def analyse(
    inputs: dict,
    *,
    replications: int,
    seed: int,
    p_threshold: float,
    method: str,
    progress: Callable[[float], None] | None = None,
) -> dict:
    """All persons first, then each stratum; ``progress`` gets the share of the work done (0 to 1)."""
    parts = 1 + len(STRATA)

    def part(k: int) -> Callable[[float], None] | None:
        if progress is None:
            return None
        return lambda share: progress((k + share) / parts)

    params: dict[str, Any] = {"replications": replications, "seed": seed, "p_threshold": p_threshold, "method": method}
    overall = estimate_table(table_of(inputs), progress=part(0), **params)
    strata = []
    if overall.get("refusal") is None:
        for k, (key, keep) in enumerate(STRATA, start=1):
            # The same seed in every stratum: each is reproducible on its own.
            strata.append({"key": key, **estimate_table(table_of(inputs, keep), progress=part(k), **params)})
    if progress is not None:
        progress(1.0)
    return {"overall": overall, "strata": strata}
