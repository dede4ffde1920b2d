"""Poisson log-linear models of capture histories for multiple systems estimation (MSE), without Django.

What this follows (Chan, Silverman and Vincent 2021, "Multiple systems estimation for sparse capture data:
inferential challenges when there are nonoverlapping lists", JASA; implemented by the authors in the R package
SparseMSE, functions ``modelfit``, ``checkident`` and ``stepwisefit``):

* a capture history is the set of lists a person is on; ``counts[h - 1]`` is the number of people whose history
  has code ``h`` (bit ``j`` set: on list ``j``), for every observable history ``h = 1 .. 2**t - 1``;
* the counts are independent Poisson with ``log mu_h = intercept + sum of main effects of the lists in h + sum of
  the two-list interactions of the model whose both lists are in h``; the people seen by no list (the dark
  figure) are estimated by ``exp(intercept)``, and the population by the observed total plus that;
* a two-list interaction whose pair of lists shares nobody (``N*_ij = 0``) has the extended maximum likelihood
  estimate minus infinity: it is not fitted as a column, the histories holding both lists are left out of the
  fit instead (their fitted mean is zero);
* whether the (extended) maximum likelihood estimate exists is the linear program of Fienberg and Rinaldo (2012)
  as corrected in SparseMSE's ``checkident``: maximise ``s`` subject to ``A x = t``, ``x >= s``, ``x >= 0`` (``A``
  the transposed design, ``t`` its sufficient statistics); an optimum of 0 means the estimate does not exist.
  Identifiability is full column rank of the design;
* model choice is forward stepwise: from main effects only, each absent interaction gets the two-sided Poisson
  p-value of the observed ``N*_ij`` under the current fit; the smallest p-value below the threshold (0.02 by
  default, the paper's recommendation) is added, provided the resulting model passes both checks; repeat.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.special import pdtr, pdtrc
from scipy.stats import norm
from statsmodels.genmod.families import Poisson
from statsmodels.genmod.generalized_linear_model import GLM

# Reasons a model is skipped, as stable codes (the pages translate them).
from .codes import FIT_FAILED, NOT_EXIST, NOT_EXIST_NOR_IDENTIFIABLE, NOT_IDENTIFIABLE  # noqa: F401

Pair = tuple[int, int]
DEFAULT_P_THRESHOLD = 0.02


@dataclass(frozen=True)
class CaptureTable:
    """Counts of people by capture history over ``lists`` (labels); ``counts[h - 1]`` for history code ``h``."""

    lists: tuple[str, ...]
    counts: np.ndarray

    def __post_init__(self):
        expected = 2 ** len(self.lists) - 1
        if len(self.counts) != expected:
            raise ValueError(f"{len(self.lists)} lists need {expected} counts, got {len(self.counts)}")

    @classmethod
    def from_rows(cls, lists, rows) -> CaptureTable:
        """From ``(membership tuple of 0/1, count)`` rows; histories not given count zero."""
        counts = np.zeros(2 ** len(lists) - 1, dtype=np.int64)
        for membership, count in rows:
            code = sum(1 << j for j, on in enumerate(membership) if on)
            if code == 0:
                raise ValueError("the history on no list is not observable")
            counts[code - 1] += int(count)
        return cls(tuple(lists), counts)

    @property
    def t(self) -> int:
        return len(self.lists)

    @property
    def observed(self) -> int:
        return int(self.counts.sum())

    def with_counts(self, counts: np.ndarray) -> CaptureTable:
        return CaptureTable(self.lists, counts)


@dataclass
class Design:
    """The histories matrix of ``t`` lists (one row per observable history) and each pair's indicator column."""

    t: int
    members: np.ndarray  # (2**t - 1, t) 0/1
    pair_columns: dict[Pair, np.ndarray] = field(default_factory=dict)

    @classmethod
    def of(cls, t: int) -> Design:
        codes = np.arange(1, 2**t)
        members = ((codes[:, None] >> np.arange(t)[None, :]) & 1).astype(float)
        pairs = {(i, j): members[:, i] * members[:, j] for i, j in combinations(range(t), 2)}
        return cls(t=t, members=members, pair_columns=pairs)


_DESIGNS: dict[int, Design] = {}


def design(t: int) -> Design:
    if t not in _DESIGNS:
        _DESIGNS[t] = Design.of(t)
    return _DESIGNS[t]


def all_pairs(t: int) -> list[Pair]:
    return list(combinations(range(t), 2))


def overlaps(table: CaptureTable) -> dict[Pair, int]:
    """``N*_ij``: people on both lists i and j, whatever other lists they are on."""
    d = design(table.t)
    return {pair: int(column @ table.counts) for pair, column in d.pair_columns.items()}


def model_matrix(table: CaptureTable, model, nstar: dict[Pair, int] | None = None):
    """The design of ``model`` (a set of pairs) for this table: (matrix, kept rows mask, fitted pairs, empty pairs).
    Pairs of the model with no overlap are dropped as columns and their histories as rows (mean zero)."""
    d = design(table.t)
    nstar = nstar if nstar is not None else overlaps(table)
    model = sorted(model)
    empty = [p for p in model if nstar[p] == 0]
    fitted = [p for p in model if nstar[p] > 0]
    keep = np.ones(len(table.counts), dtype=bool)
    for pair in empty:
        keep &= d.pair_columns[pair] == 0
    columns = [np.ones(len(table.counts)), *d.members.T, *(d.pair_columns[p] for p in fitted)]
    matrix = np.column_stack(columns)[keep]
    return matrix, keep, fitted, empty


# Existence and identifiability depend only on which histories are empty (the support of the counts) and on the
# model, never on the counts' sizes: the bootstrap meets the same few supports again and again, so the answers
# are remembered (bounded, cleared when full).
_CHECKS: dict[tuple[int, bytes, tuple[Pair, ...]], str | None] = {}
_CHECKS_MAX = 200_000


def check_model(table: CaptureTable, model, nstar: dict[Pair, int] | None = None) -> str | None:
    """None when the extended maximum likelihood estimate of ``model`` exists and is identifiable; otherwise the
    reason (``NOT_EXIST``, ``NOT_IDENTIFIABLE`` or both)."""
    key = (table.t, np.packbits(table.counts > 0).tobytes(), tuple(sorted(model)))
    if key in _CHECKS:
        return _CHECKS[key]
    if len(_CHECKS) >= _CHECKS_MAX:
        _CHECKS.clear()
    _CHECKS[key] = reason = _check(table, model, nstar)
    return reason


def _check(table: CaptureTable, model, nstar: dict[Pair, int] | None) -> str | None:
    matrix, keep, _, _ = model_matrix(table, model, nstar)
    counts = table.counts[keep].astype(float)
    exists = _mle_exists(matrix, counts)
    identifiable = np.linalg.matrix_rank(matrix) == matrix.shape[1]
    if exists and identifiable:
        return None
    if not exists and not identifiable:
        return NOT_EXIST_NOR_IDENTIFIABLE
    return NOT_EXIST if not exists else NOT_IDENTIFIABLE


def _mle_exists(matrix: np.ndarray, counts: np.ndarray) -> bool:
    """Fienberg and Rinaldo's linear program: the sufficient statistics ``t = A^T n`` must be reachable by cell
    values all strictly positive; maximise the smallest of them (``s``)."""
    if counts.size and counts.min() > 0:
        return True  # every fitted cell is positive: the statistics are interior, nothing to solve
    n_cells, n_params = matrix.shape
    objective = np.zeros(n_cells + 1)
    objective[-1] = -1.0  # maximise s
    a_eq = np.hstack([matrix.T, np.zeros((n_params, 1))])
    b_eq = matrix.T @ counts
    a_ub = np.hstack([-np.eye(n_cells), np.ones((n_cells, 1))])  # s - x_i <= 0
    b_ub = np.zeros(n_cells)
    result = linprog(objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if result.status != 0:
        return False
    return -result.fun > 1e-7 * max(1.0, float(counts.sum()))


@dataclass
class Fit:
    """One fitted model: the population estimate, the dark figure and its model-based (conditional) interval.
    The standard error, deviance and information criteria are read from the GLM result only when asked for:
    the bootstrap needs none of them."""

    model: tuple[Pair, ...]
    empty_pairs: tuple[Pair, ...]
    observed: int
    dark: float
    estimate: float
    fitted: np.ndarray  # fitted mean of every observable history (0 where left out)
    params: dict  # "intercept", list index (main effect) or pair -> coefficient
    result: Any = field(repr=False)  # statsmodels' GLM results (the package ships no types)

    @property
    def n_params(self) -> int:
        # Each empty pair is a parameter fitted at minus infinity (SparseMSE adds them to the AIC).
        return len(self.params) + len(self.empty_pairs)

    @property
    def log_dark_se(self) -> float:
        return float(np.asarray(self.result.bse)[0])

    @property
    def deviance(self) -> float:
        return float(self.result.deviance)

    @property
    def aic(self) -> float:
        return -2 * float(self.result.llf) + 2 * self.n_params

    @property
    def bic(self) -> float:
        return -2 * float(self.result.llf) + math.log(max(self.observed, 1)) * self.n_params

    def conditional_interval(self, level: float = 0.95) -> tuple[float, float]:
        """The interval that treats the model as known in advance (too narrow after model choice)."""
        z = norm.ppf(0.5 + level / 2)
        log_dark, se = math.log(self.dark), self.log_dark_se
        return self.observed + math.exp(log_dark - z * se), self.observed + math.exp(log_dark + z * se)


def fit_model(table: CaptureTable, model, nstar: dict[Pair, int] | None = None, *, start: Fit | None = None) -> Fit:
    """Fit ``model`` (main effects plus the given pairs) by Poisson GLM (statsmodels). ``start``, a fit of a
    smaller model, gives the starting values (a new interaction starts at 0), which saves iterations."""
    matrix, keep, fitted_pairs, empty = model_matrix(table, model, nstar)
    counts = table.counts[keep].astype(float)
    terms = ["intercept", *range(table.t), *fitted_pairs]
    start_params = np.array([start.params.get(term, 0.0) for term in terms]) if start is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # perfect-fit and overflow warnings are judged from the result below
        result = GLM(counts, matrix, family=Poisson()).fit(start_params=start_params)
    params = np.asarray(result.params)
    if not np.all(np.isfinite(params)):
        raise FloatingPointError("the fit did not converge")
    mu = np.zeros(len(table.counts))
    mu[keep] = np.asarray(result.mu)
    dark = math.exp(params[0])
    return Fit(
        model=tuple(sorted(model)),
        empty_pairs=tuple(empty),
        observed=table.observed,
        dark=dark,
        estimate=table.observed + dark,
        fitted=mu,
        params=dict(zip(terms, params.tolist(), strict=True)),
        result=result,
    )


def pair_p_values(table: CaptureTable, fit: Fit, pairs: list[Pair], nstar: dict[Pair, int]) -> np.ndarray:
    """Two-sided Poisson p-values of the observed overlaps of ``pairs`` under ``fit`` (which lacks them): the
    smaller of P(X <= N*) and P(X >= N*) for X Poisson with the overlap the fit expects."""
    columns = design(table.t).pair_columns
    expected = np.array([columns[p] @ fit.fitted for p in pairs])
    observed = np.array([nstar[p] for p in pairs], dtype=float)
    positive = expected > 0
    safe = np.where(positive, expected, 1.0)
    lower = pdtr(observed, safe)
    upper = np.where(observed > 0, pdtrc(observed - 1, safe), 1.0)
    return np.where(positive, np.minimum(lower, upper), 1.0)


@dataclass
class Step:
    pair: Pair
    p_value: float


@dataclass
class Selection:
    fit: Fit
    steps: list[Step]


def stepwise(table: CaptureTable, *, p_threshold: float = DEFAULT_P_THRESHOLD) -> Selection:
    """Chan, Silverman and Vincent's forward stepwise choice (SparseMSE ``stepwisefit``). Candidates are tried in
    order of p-value and the first that passes the existence and identifiability checks is added: the same choice
    as checking every candidate first, with far fewer linear programs."""
    nstar = overlaps(table)
    model: list[Pair] = []
    current = fit_model(table, model, nstar)
    steps: list[Step] = []
    remaining = all_pairs(table.t)
    while remaining:
        p_values = pair_p_values(table, current, remaining, nstar)
        chosen = None
        for k in np.argsort(p_values, kind="stable"):
            p_value, pair = float(p_values[k]), remaining[k]
            if p_value >= p_threshold:
                break
            if check_model(table, [*model, pair], nstar) is None:
                chosen = (pair, p_value)
                break
        if chosen is None:
            break
        pair, p_value = chosen
        model.append(pair)
        remaining.remove(pair)
        current = fit_model(table, model, nstar, start=current)
        steps.append(Step(pair=pair, p_value=p_value))
    return Selection(fit=current, steps=steps)


def stepwise_estimate(table: CaptureTable, *, p_threshold: float = DEFAULT_P_THRESHOLD) -> float:
    return stepwise(table, p_threshold=p_threshold).fit.estimate


@dataclass
class Candidate:
    """A model shown beside the chosen one: its estimate, or why it was skipped."""

    model: tuple[Pair, ...]
    skipped: str | None
    fit: Fit | None


def candidates(table: CaptureTable, chosen: tuple[Pair, ...]) -> list[Candidate]:
    """Main effects only, main effects plus each single interaction, and the chosen model: each fitted if its
    estimate exists and is identifiable, otherwise skipped with the reason."""
    nstar = overlaps(table)
    models: list[tuple[Pair, ...]] = [(), *((p,) for p in all_pairs(table.t))]
    if chosen and tuple(sorted(chosen)) not in models:
        models.append(tuple(sorted(chosen)))
    out = []
    for model in models:
        reason = check_model(table, model, nstar)
        fit = None
        if reason is None:
            try:
                fit = fit_model(table, model, nstar)
            except (FloatingPointError, ValueError, np.linalg.LinAlgError):
                reason = FIT_FAILED
        out.append(Candidate(model=model, skipped=reason, fit=fit))
    return out
