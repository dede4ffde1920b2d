"""CSV and XLSX files of report tables. They take a :class:`indicators.reporting.Report`, which is already
protected for the user who asked, and write exactly the rows the page shows: the export can never hold a
number the page hides.

Every file says what it holds (:class:`About`, also sent with the chart data for the PNG images): title,
measure, years, the filters applied (and those set but not applied by this report), the data date and the
indicator version, the protection, the definition and the source.

* **CSV**: a header block of comment rows, then the table. Each comment row has two fields, the key after
  ``# `` and the value (``# Título,Víctimas acreditadas por sexo``), so ``pandas.read_csv(f, comment="#")``
  or R's ``read.csv(f, comment.char = "#")`` read the table alone, and a reader that wants the metadata
  takes the rows whose first field starts with ``#``. The first other row is the table's header; the table
  runs to the end of the file. Numbers are plain (no grouping: a population is ``380000``).
* **XLSX**: the title in row 1, a blank row, the table from row 3 (header, body, totals), a blank row and
  the same metadata as rows of key and value. Counts, changes, populations, rates, shares and medians are
  numbers (with a number format: a share is a percentage); "<5" and "—" stay text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from . import catalogue
from .dimensions import MEASURES
from .forms import INSTITUTION, Filters
from .reporting import Figure, Report

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
COMMENT = "# "


def filename(report: Report, fmt: str) -> str:
    safe = re.sub(r"[^a-z0-9_-]+", "-", report.slug.lower()).strip("-") or "report"
    return f"conatt-{safe}.{fmt}"


def source() -> str:
    return _("CONATT, indicators portal")


@dataclass(frozen=True)
class About:
    """What a published table is, for the files and chart images that carry it."""

    title: str
    measure: str
    years: str
    filters: str
    filters_not_applied: str
    data_as_of: str
    version: str
    protection: str
    definition: str
    note: str
    source: str

    def items(self) -> list[tuple[str, str]]:
        """(label, value) in the order the files list them; empty values left out."""
        rows = [
            (_("Title"), self.title),
            (_("Measure"), self.measure),
            (_("Years"), self.years),
            (_("Filters"), self.filters),
            (_("Filters not applied"), self.filters_not_applied),
            (_("Data as of"), self.data_as_of),
            (_("Indicator version"), self.version),
            (_("Protection"), self.protection),
            (_("Definition"), self.definition),
            (_("Note"), self.note),
            (_("Source"), self.source),
        ]
        return [(label, _one_line(value)) for label, value in rows if value]

    def as_json(self) -> dict[str, object]:
        """For the chart images: the texts and their labels."""
        return {
            "title": self.title,
            "lines": [f"{label}: {value}" for label, value in self.items() if label not in (_("Title"),)],
            "summary": [
                f"{label}: {value}"
                for label, value in self.items()
                if label in (_("Measure"), _("Years"), _("Filters"), _("Filters not applied"))
            ],
            "protection": self.protection,
            "source": f"{_('Source')}: {self.source} · {_('Data as of')} {self.data_as_of}",
        }


def _one_line(value: str) -> str:
    return " ".join(str(value).split())


def _filter_text(pairs: list[tuple[str, str]]) -> str:
    labels_of: dict[str, Mapping[str, str]] = {}
    parts = []
    for name, code in pairs:
        if name not in labels_of:
            labels_of[name] = dict(catalogue.dimension_values(name))
        label = catalogue.dimension_label(name) if name != INSTITUTION else _("Referring institution")
        parts.append(f"{label}: {labels_of[name].get(code, code)}")
    return "; ".join(parts)


def describe(report: Report, *, slug: str, filters: Filters, query: Mapping) -> About:
    """The metadata of the report ``slug`` built with ``filters`` and ``query`` (``catalogue.build``'s
    arguments): the filters it applied, and those of the address it left out (``catalogue.applied_filters``)."""
    applies = catalogue.applied_filters(slug)
    applied = filters.restricted_to(applies)
    shown = catalogue._years_shown(applied)
    years = catalogue._year_span(shown)
    dimension_pairs = [(name, value) for name, value in applied.as_query() if name not in ("year_from", "year_to")]
    left_out = filters.left_out(applies)
    not_applied = _filter_text(left_out)
    if not_applied:
        not_applied = f"{not_applied} ({catalogue.filters_not_applied_reason(slug)})"
    moment = catalogue.data_as_of()
    if report.exact:
        protection = _(
            "Exact counts, for coordinators: not protected. Do not pass small counts on to people without that role."
        )
    else:
        protection = _(
            "Figures are protected by the cell key method: each is changed by a small amount, the same "
            'wherever it appears, and values from 1 to %(k_minus_1)s are shown as "<%(k)s".'
        ) % {"k": report.k, "k_minus_1": report.k - 1}
    return About(
        title=report.title,
        measure="; ".join(str(MEASURES[key].label) for key in catalogue.report_measures(slug, query)),
        years=years,
        filters=_filter_text(dimension_pairs) or _("None"),
        filters_not_applied=not_applied,
        data_as_of=catalogue.data_as_of_display(),
        version=moment.isoformat() if moment else "",
        protection=protection,
        definition=report.definition,
        note=report.note,
        source=source(),
    )


SIGNED_WHOLE = re.compile(r"[+-]\d+")


def _cell(value: str, *, for_csv: bool = False) -> str | int | float:
    """Whole numbers as numbers so a spreadsheet can add them; "<5" stays text. A signed whole number (a
    change from the previous year, "+3", "-2") is a number too, or in CSV its text with the sign, which every
    spreadsheet reads as that number. A derived figure (population, rate, share, median) is its number in
    XLSX and its plain text in CSV. Other text that a spreadsheet would run as a formula is defused."""
    if isinstance(value, Figure):
        return value.plain if for_csv else value.number
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, str) and SIGNED_WHOLE.fullmatch(value):
        return value if for_csv else int(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and value != "—":
        return "'" + value
    return value


def _text(value: str) -> str:
    """Metadata stay text (a year is not a count); text a spreadsheet would run as a formula is defused."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def csv_response(report: Report, *, about: About) -> HttpResponse:
    buffer = io.StringIO()
    # A byte-order mark so that spreadsheet programs in Spanish read the accents as UTF-8.
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for label, value in about.items():
        # The key field is never quoted (a label holds no comma), so the line starts with "#".
        writer.writerow([COMMENT + label.replace(",", " "), _text(value)])
    for row in report.export_rows():
        writer.writerow([_cell(v, for_csv=True) for v in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(report, "csv")}"'
    return response


def xlsx_response(report: Report, *, about: About) -> HttpResponse:
    workbook = Workbook()
    workbook.properties.title = report.title[:255]
    workbook.properties.creator = about.source
    workbook.properties.description = report.definition[:1000]
    sheet = workbook.worksheets[0]  # a new workbook's one sheet (``active`` may be None to the type checker)
    sheet.title = _("Table")[:31]
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True, size=12)
    sheet.append([])
    rows = report.export_rows()
    for i, row in enumerate(rows):
        sheet.append([_cell(v) for v in row])
        for cell, value in zip(sheet[sheet.max_row], row, strict=False):
            if isinstance(value, Figure):
                cell.number_format = value.number_format
            if i in (0, len(rows) - 1):
                cell.font = Font(bold=True)
    sheet.append([])
    for label, value in about.items():
        sheet.append([label, _text(value)])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    table_rows = range(3, 3 + len(rows))
    for index, column in enumerate(sheet.columns, start=1):
        width = max(
            (len(str(c.value)) for c in column if c.value is not None and (c.row or 0) in table_rows), default=8
        )
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 48)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename(report, "xlsx")}"'
    return response


def respond(report: Report, fmt: str, *, about: About) -> HttpResponse:
    if fmt == "xlsx":
        return xlsx_response(report, about=about)
    return csv_response(report, about=about)
