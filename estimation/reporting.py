"""What a run shows to whom: one assembly of a run's figures for the page, the chart, the exports and the API,
so they cannot disagree. Capture-history cells are added only for users ``accounts.access`` allows
(coordinators); everyone else gets the estimates, intervals and models, and the detected totals only when
they are at least the disclosure threshold (a small stratum's total is shown as "<k")."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access

from . import codes, selectors
from .models import EstimationRun

STRATUM_LABELS = {
    "overall": gettext_lazy("All persons"),
    "sex:F": gettext_lazy("Women and girls"),
    "sex:M": gettext_lazy("Men and boys"),
    "age:child": gettext_lazy("Children (under 18)"),
    "age:adult": gettext_lazy("Adults (18 and over)"),
}

SKIP_REASONS = {
    codes.NOT_EXIST: gettext_lazy("skipped: the maximum likelihood estimate does not exist for these data"),
    codes.NOT_IDENTIFIABLE: gettext_lazy("skipped: the model's parameters are not identifiable"),
    codes.NOT_EXIST_NOR_IDENTIFIABLE: gettext_lazy(
        "skipped: the estimate does not exist and the parameters are not identifiable"
    ),
    codes.FIT_FAILED: gettext_lazy("skipped: the fit did not converge"),
}


METHOD_LABELS = {"bca": "BCa", "percentile": gettext_lazy("percentile")}


def refusal_message(refusal: dict) -> str:
    code = refusal.get("code")
    if code == codes.FEW_LISTS:
        return _(
            "No estimate: it needs at least three lists (referring institutions) with people in the period, and "
            "there are %(lists)s. Choose a longer period or merge fewer institutions."
        ) % {"lists": refusal.get("lists", 0)}
    if code == codes.SPARSE:
        return _(
            "No estimate: the lists barely overlap. Only %(overlapping)s persons were referred by more than one "
            "institution (at least %(minimum)s are needed), so the data cannot say how many nobody saw."
        ) % {"overlapping": refusal.get("overlapping", 0), "minimum": refusal.get("minimum", 0)}
    return _("No estimate: even the model without interactions has no estimate for these data (too sparse).")


def _labels(run: EstimationRun) -> list[str]:
    return [entry["label"] for entry in run.inputs.get("lists", [])]


def model_label(labels: list[str], model: list) -> str:
    if not model:
        return _("Main effects only (lists independent)")
    return _("Main effects + %(terms)s") % {"terms": ", ".join(f"{labels[i]} × {labels[j]}" for i, j in model)}


def _count(value: int | None, exact: bool) -> dict:
    k = settings.DISCLOSURE_K
    if value is None:
        return {"value": None, "display": "—"}
    if exact or value >= k or value == 0:
        return {"value": value, "display": f"{value:,}".replace(",", " ")}
    return {"value": None, "display": f"<{k}"}


def _number(value: float | None) -> str:
    return "—" if value is None else f"{round(value):,}".replace(",", " ")


def _stratum(key: str, part: dict, labels: list[str], exact: bool) -> dict:
    observed = part.get("observed")
    row: dict[str, Any] = {
        "key": key,
        "label": str(STRATUM_LABELS.get(key, key)),
        "detected": _count(observed, exact),
        "refusal": refusal_message(part["refusal"]) if part.get("refusal") else None,
    }
    if part.get("refusal"):
        return row
    estimate = part["estimate"]
    row.update(
        estimate=round(estimate),
        low=round(part["low"]),
        high=round(part["high"]),
        estimate_display=_number(estimate),
        low_display=_number(part["low"]),
        high_display=_number(part["high"]),
        unidentified=_number(estimate - observed) if exact or observed >= settings.DISCLOSURE_K else None,
        ratio=round(estimate / observed, 2) if observed else None,
        interval_method=part["interval_method"],
        interval_method_display=str(METHOD_LABELS.get(part["interval_method"], part["interval_method"])),
        replications=part["replications"],
        failed_replications=part["failed_replications"],
        model=model_label(labels, part["model"]),
        conditional_low=round(part["conditional_low"]),
        conditional_high=round(part["conditional_high"]),
        conditional_low_display=_number(part["conditional_low"]),
        conditional_high_display=_number(part["conditional_high"]),
        steps=[
            {"term": f"{labels[i]} × {labels[j]}", "p_value": step["p_value"]}
            for step in part["steps"]
            for i, j in [step["pair"]]
        ],
        # The chosen model first, then the others in the order they were fitted.
        candidates=sorted((_candidate(c, labels) for c in part["candidates"]), key=lambda c: not c["chosen"]),
    )
    return row


def _candidate(c: dict, labels: list[str]) -> dict:
    fitted = "estimate" in c
    return {
        "model": model_label(labels, c["model"]),
        "chosen": c["chosen"],
        "skipped": str(SKIP_REASONS[c["skipped"]]) if c["skipped"] else None,
        "estimate": round(c["estimate"]) if fitted else None,
        "low": round(c["low"]) if fitted else None,
        "high": round(c["high"]) if fitted else None,
        "aic": round(c["aic"], 1) if fitted else None,
        "estimate_display": _number(c["estimate"]) if fitted else "—",
        "interval_display": f"{_number(c['low'])} – {_number(c['high'])}" if fitted else "—",
    }


def run_report(run: EstimationRun, user) -> dict:
    """The run's figures for ``user``: estimates, intervals and models for everyone who may see the run; the
    capture-history table and exact small totals only for those allowed to see capture histories."""
    exact = access.can_see_capture_histories(user)
    labels = _labels(run)
    result = run.result or {}
    report: dict[str, Any] = {
        "id": run.pk,
        "status": run.status,
        "year_from": run.year_from,
        "year_to": run.year_to,
        "lists": [
            {"label": entry["label"], "institutions": entry["institutions"], "persons": _count(entry["persons"], exact)}
            for entry in run.inputs.get("lists", [])
        ],
        "undocumented": _count(run.inputs.get("undocumented"), exact),
        "applications": _count(run.inputs.get("applications"), exact),
        "replications": run.replications,
        "seed": run.seed,
        "p_threshold": run.p_threshold,
        "interval_method": run.interval_method,
        "finished_at": run.finished_at,
        "duration_seconds": run.duration_seconds,
        "groups": [],
    }
    if "overall" in result:
        report["groups"].append(_stratum("overall", result["overall"], labels, exact))
        report["groups"] += [_stratum(part["key"], part, labels, exact) for part in result.get("strata", [])]
    if exact:
        report["histories"] = selectors.histories_table(run)
    return report


def chart_data(report: dict) -> dict:
    """Chart.js data: detected persons, the estimated total's interval (floating bars) and its point estimate,
    for every group with an estimate. Hidden detected totals are null."""
    groups = [g for g in report["groups"] if not g["refusal"]]
    return {
        "labels": [g["label"] for g in groups],
        "detected": [g["detected"]["value"] for g in groups],
        "interval": [[g["low"], g["high"]] for g in groups],
        "estimate": [g["estimate"] for g in groups],
        "names": {
            "detected": _("Detected (on at least one list)"),
            "interval": _("Estimated total, interval"),
            "estimate": _("Estimated total"),
        },
    }
