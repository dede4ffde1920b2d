"""CSV and XLSX of an estimation run, written from ``estimation.reporting.run_report`` for the user who asks:
the same figures as the page, and the capture-history table only when the report holds it (coordinators)."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from indicators.exports import XLSX_CONTENT_TYPE

FORMATS = ("csv", "xlsx")


def _safe(value):
    """Text a spreadsheet would run as a formula is defused; numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def sections(report: dict) -> list[tuple[str, list[list]]]:
    """The file's tables: estimates by group, candidate models, and (coordinators) capture histories."""
    estimates = [
        [
            _("Group"),
            _("Detected persons"),
            _("Estimated total"),
            _("Lower limit"),
            _("Upper limit"),
            _("Interval"),
            _("Ratio to detected"),
            _("Chosen model"),
            _("Note"),
        ]
    ]
    for g in report["groups"]:
        if g["refusal"]:
            estimates.append([g["label"], g["detected"]["display"], "", "", "", "", "", "", g["refusal"]])
        else:
            estimates.append(
                [
                    g["label"],
                    g["detected"]["value"] if g["detected"]["value"] is not None else g["detected"]["display"],
                    g["estimate"],
                    g["low"],
                    g["high"],
                    g["interval_method"],
                    g["ratio"],
                    g["model"],
                    "",
                ]
            )
    candidates = [[_("Group"), _("Model"), _("Estimated total"), _("Lower limit"), _("Upper limit"), "AIC", _("Note")]]
    for g in report["groups"]:
        for c in g.get("candidates", []):
            note = c["skipped"] or (_("chosen") if c["chosen"] else "")
            candidates.append([g["label"], c["model"], c["estimate"], c["low"], c["high"], c["aic"], note])
    out = [(_("Estimates"), estimates), (_("Candidate models"), candidates)]
    if "histories" in report:
        labels = [entry["label"] for entry in report["lists"]]
        histories = [[*labels, _("Persons")]]
        histories += [[1 if on else 0 for on in row["on"]] + [row["persons"]] for row in report["histories"]]
        out.append((_("Capture histories"), histories))
    return out


def _title(report: dict) -> str:
    return _("Unidentified victims (estimate), %(first)s–%(last)s") % {
        "first": report["year_from"],
        "last": report["year_to"],
    }


def _filename(report: dict, fmt: str) -> str:
    return f"conatt-estimacion-{report['year_from']}-{report['year_to']}-{report['id']}.{fmt}"


def response(report: dict, fmt: str) -> HttpResponse:
    if fmt == "xlsx":
        workbook = Workbook()
        workbook.remove(workbook.worksheets[0])  # a new workbook's one sheet: each section gets its own
        for name, rows in sections(report):
            sheet = workbook.create_sheet(name[:31])
            sheet.append([_title(report)])
            sheet["A1"].font = Font(bold=True)
            for row in rows:
                sheet.append([_safe(v) for v in row])
        binary = io.BytesIO()
        workbook.save(binary)
        result = HttpResponse(binary.getvalue(), content_type=XLSX_CONTENT_TYPE)
    else:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow([_title(report)])
        for name, rows in sections(report):
            writer.writerow([])
            writer.writerow([name])
            writer.writerows([[_safe(v) for v in row] for row in rows])
        result = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    result["Content-Disposition"] = f'attachment; filename="{_filename(report, fmt)}"'
    return result
