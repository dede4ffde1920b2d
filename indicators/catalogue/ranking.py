"""Rows of a one-way disaggregation by value, and the largest N with the rest as one "others" row, for long
dimensions (nationality, occupation, canton).

Rows are ranked by their *published* values only: ranking by the true counts would order the hidden "<k" rows
among themselves and against the shown ones, which is information about cells the table does not publish. A
"<k" row ranks as what it says, a value between the shown zeros and the smallest shown count; ties go by label.

"Others" is the exact sum of the rows left out of the table, as a ``disclosure.Count`` (its key the sum of their
keys, the arithmetic of every derived cell), and is published by the disclosure module like any cell: perturbed
by its own key, "<k" from 1 to k-1. Those rows are published cell by cell by the full table (same filters, no
``top``); their sum with an independent noise of the same bound adds no count (docs/SECURITY.md)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..disclosure import ProtectedCell
from ..forms import ORDER, ORDER_BY_VALUE, TOP, TOP_CHOICES, refusal_message
from ..reporting import InvalidFilters, Report, ReportUnavailable

# The row key of "others": not a code of any list (codes are letters, digits and "_" without a leading one),
# so the drill-down finds no filter for it and leaves it without a link.
OTHERS = "__others__"
# The parameters of the address this module reads (the saved views accept them).
PARAMETERS = (ORDER, TOP)


@dataclass(frozen=True)
class Ranking:
    """What the address asks of a one-way table's rows: by value (``top`` implies it), and how many."""

    by_value: bool = False
    top: int | None = None


def ranking_from(query: Mapping) -> Ranking:
    """The ranking the address asks for; an unknown value is refused as an invalid filter (the filter form
    has refused it already for the pages and files, with the same labels)."""
    order, top = query.get(ORDER) or "", query.get(TOP) or ""
    refused = []
    if order not in ("", ORDER_BY_VALUE):
        refused.append(_("Sort"))
    if top not in ("", *TOP_CHOICES):
        refused.append(_("Rows shown"))
    if refused:
        raise InvalidFilters(refusal_message(refused))
    return Ranking(by_value=order == ORDER_BY_VALUE or bool(top), top=int(top) if top else None)


def ranking_query(query: Mapping) -> str:
    """The ranking parameters of ``query`` as a query string, for the addresses that rebuild the same table as a
    chart or a file ("" when none is asked; refused like ``ranking_from`` when invalid)."""
    ranking = ranking_from(query)
    pairs = [(ORDER, ORDER_BY_VALUE)] if ranking.by_value else []
    if ranking.top is not None:
        pairs.append((TOP, str(ranking.top)))
    return urlencode(pairs)


def _rank(cell: ProtectedCell) -> tuple[int, int]:
    if cell.hidden:
        return (1, 0)
    if cell.value:
        return (0, -cell.value)
    return (2, 0)


def ranked_keys(report: Report) -> list[Hashable]:
    """The series' row keys by published value, largest first, "<k" after every shown count and before the
    zeros, ties by label."""
    rows = zip(report.table.row_keys, (cells[0] for cells in report.table.cells), strict=True)
    return [key for key, cell in sorted(rows, key=lambda row: (*_rank(row[1]), report.row_label(row[0])))]


def by_value(report: Report) -> Report:
    """The same published rows, reordered: publishes nothing new."""
    order = {key: i for i, key in enumerate(report.table.row_keys)}
    return replace(report, table=report.table.rows(order[key] for key in ranked_keys(report)))


def top_with_others(
    report: Report,
    *,
    top: int,
    counts: Mapping[Hashable, int],
    multi_valued: bool,
    rebuild: Callable[[Sequence[Hashable], Mapping[Hashable, int], Mapping[Hashable, str]], Report],
) -> Report:
    """The ``top`` largest rows of the protected series ``report`` by published value, and one row "others"
    holding the exact sum of the rest (``counts`` are the true counts, Counts for a protected audience).

    ``rebuild(keys, counts, extra_labels)`` protects the new series through the disclosure module: the rows kept
    show the values they show in the full table (the same cells, the same keys), "others" its own.

    A multi-valued dimension is refused: a case under two values would sit in a shown row and in "others", and
    "others" would be neither the rows left out nor the total less the rows shown."""
    if multi_valued:
        raise ReportUnavailable(
            _(
                "A case can hold several values of this dimension, so the rows left out cannot be shown as one "
                "row: choose to show every row."
            )
        )
    keys = ranked_keys(report)
    kept, rest = keys[:top], keys[top:]
    if not rest:
        return by_value(report)
    others = sum((counts.get(key, 0) for key in rest), 0)
    label = ngettext("Others (%(n)d category)", "Others (%(n)d categories)", len(rest)) % {"n": len(rest)}
    return rebuild([*kept, OTHERS], {**{key: counts.get(key, 0) for key in kept}, OTHERS: others}, {OTHERS: label})
