"""CSV and XLSX files of report tables. They take a :class:`indicators.reporting.Report`, which is already
protected for the user who asked, and write exactly the rows the page shows: the export can never hold a
number the page hides."""

from __future__ import annotations

import csv
import io
import re

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .reporting import Report

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def filename(report: Report, fmt: str) -> str:
    safe = re.sub(r"[^a-z0-9_-]+", "-", report.slug.lower()).strip("-") or "report"
    return f"conatt-{safe}.{fmt}"


SIGNED_WHOLE = re.compile(r"[+-]\d+")


def _cell(value: str, *, signed_as_text: bool = False) -> str | int:
    """Whole numbers as numbers so a spreadsheet can add them; "<5" and percentages stay text. A signed whole
    number (a change from the previous year, "+3", "-2") is a number too, or in CSV its text with the sign,
    which every spreadsheet reads as that number. Other text that a spreadsheet would run as a formula is
    defused."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, str) and SIGNED_WHOLE.fullmatch(value):
        return value if signed_as_text else int(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and value != "—":
        return "'" + value
    return value


def csv_response(report: Report, *, data_as_of: str) -> HttpResponse:
    buffer = io.StringIO()
    # A byte-order mark so that spreadsheet programs in Spanish read the accents as UTF-8.
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for row in report.export_rows():
        writer.writerow([_cell(v, signed_as_text=True) for v in row])
    writer.writerow([])
    for line in _notes(report, data_as_of=data_as_of):
        writer.writerow([line])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(report, "csv")}"'
    return response


def xlsx_response(report: Report, *, data_as_of: str) -> HttpResponse:
    workbook = Workbook()
    sheet = workbook.worksheets[0]  # a new workbook's one sheet (``active`` may be None to the type checker)
    sheet.title = _("Table")[:31]
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True, size=12)
    sheet.append([])
    rows = report.export_rows()
    for i, row in enumerate(rows):
        sheet.append([_cell(v) for v in row])
        if i in (0, len(rows) - 1):
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    sheet.append([])
    for line in _notes(report, data_as_of=data_as_of):
        sheet.append([line])
    for index, column in enumerate(sheet.columns, start=1):
        width = max((len(str(c.value)) for c in column if c.value is not None and (c.row or 0) > 2), default=8)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 48)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename(report, "xlsx")}"'
    return response


def _notes(report: Report, *, data_as_of: str) -> list[str]:
    lines = [report.title, report.definition, _("Data as of %(date)s") % {"date": data_as_of}]
    if not report.exact:
        lines.append(
            _(
                "Figures are protected by the cell key method: each is changed by a small amount, the same "
                'wherever it appears, and values from 1 to %(k_minus_1)s are shown as "<%(k)s".'
            )
            % {"k": report.k, "k_minus_1": report.k - 1}
        )
    if report.note:
        lines.append(report.note)
    lines.append(_("Source: CONATT portal, administrative records of the ERI."))
    return lines


def respond(report: Report, fmt: str, *, data_as_of: str) -> HttpResponse:
    if fmt == "xlsx":
        return xlsx_response(report, data_as_of=data_as_of)
    return csv_response(report, data_as_of=data_as_of)
