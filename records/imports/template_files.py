"""The import template an officer downloads: XLSX with the applications sheet and sheets listing the allowed
codes per column and the districts, or CSV with the header row only."""

from __future__ import annotations

import io

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_countries import countries

from records.models import Code, District, Identity, Language, Status

from .columns import COLUMNS, template_columns
from .resources import ApplicationRowResource


def template_headers() -> list[str]:
    resource = ApplicationRowResource(template_columns(with_identity=True, with_institution=False))
    return resource.get_export_headers()


def template_csv() -> bytes:
    # UTF-8 with BOM: Excel then opens accents correctly, and the import reads it back.
    return ("\ufeff" + ",".join(template_headers()) + "\r\n").encode("utf-8")


def _codes_rows() -> list[list[str]]:
    rows: list[list[str]] = []
    codes_by_list: dict[str, list] = {}
    for code in Code.objects.order_by("list", "sort_order", "code"):
        codes_by_list.setdefault(code.list, []).append(code)
    for column in COLUMNS:
        if column.kind in ("code", "codes"):
            for code in codes_by_list.get(column.code_list, []):
                rows.append(
                    [
                        column.es,
                        code.code,
                        code.label_es,
                        code.label_en,
                        "" if code.active else pgettext("import template", "retired"),
                    ]
                )
        elif column.kind == "status":
            status_es = {c.code: c.label_es for c in codes_by_list.get(column.code_list, [])}
            for value, label in Status.choices:
                rows.append([column.es, value, status_es.get(value, str(label)), str(label), ""])
        elif column.kind == "document_type":
            for value, label in Identity.DocumentType.choices:
                with translation.override("es"):
                    spanish = str(label)
                with translation.override("en"):
                    english = str(label)
                rows.append([column.es, value, spanish, english, ""])
        elif column.kind == "language":
            for language in Language.objects.filter(active=True):
                rows.append([column.es, language.code, language.name_es, language.name_en, ""])
    return rows


TEMPLATE_ROWS = 5000


def _add_dropdowns(sheet, code_rows: list[list[str]]) -> None:
    """A drop-down of the allowed codes on each single-valued code column (a warning, not a block: labels typed
    by hand are accepted too). Multi-valued columns get none, a list cannot offer "A; B"."""
    from openpyxl.worksheet.datavalidation import DataValidation

    spans: dict[str, list[int]] = {}
    for index, row in enumerate(code_rows, start=2):  # row 1 of the codes sheet is its header
        spans.setdefault(row[0], [index, index])[1] = index
    for position, column in enumerate(template_columns(with_identity=True, with_institution=False), start=1):
        if column.multi or column.es not in spans:
            continue
        first, last = spans[column.es]
        letter = sheet.cell(1, position).column_letter
        validation = DataValidation(
            type="list", formula1=f"=codigos!$B${first}:$B${last}", allow_blank=True, errorStyle="warning"
        )
        validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        sheet.add_data_validation(validation)


def template_xlsx(*, institution) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.worksheets[0]  # a new workbook's one sheet (``active`` may be None to the type checker)
    sheet.title = "solicitudes"
    sheet.append(template_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, header in enumerate(template_headers(), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(header) + 2)
    sheet.freeze_panes = "A2"

    help_sheet = workbook.create_sheet("instrucciones")
    for line in (
        _("Template for importing applications of %(institution)s.") % {"institution": institution.code},
        _("One row per application; the case reference identifies it: importing a row again updates it."),
        _("Dates as dd/mm/yyyy. Several values in one cell are separated with ';'."),
        _("Codes may be written as the code or as the Spanish or English label (see the sheet 'codigos')."),
        _("Districts by their 5-digit code, or by name together with the canton (see the sheet 'distritos')."),
        _("Countries by ISO code (CR, NI, ...) or name."),
        _("Do not write formulas: cells must hold values."),
    ):
        help_sheet.append([line])
    help_sheet.column_dimensions["A"].width = 110

    codes = workbook.create_sheet("codigos")
    rows = _codes_rows()
    codes.append(
        [
            pgettext("import template", "column"),
            pgettext("import template", "code"),
            pgettext("import template", "label (Spanish)"),
            pgettext("import template", "label (English)"),
            pgettext("import template", "note"),
        ]
    )
    for row in rows:
        codes.append(row)
    _add_dropdowns(sheet, rows)
    for letter, width in zip("ABCDE", (26, 22, 60, 60, 12), strict=True):
        codes.column_dimensions[letter].width = width

    districts = workbook.create_sheet("distritos")
    districts.append(
        [
            pgettext("import template", "province"),
            pgettext("import template", "canton code"),
            pgettext("import template", "canton"),
            pgettext("import template", "district code"),
            pgettext("import template", "district"),
        ]
    )
    for district in District.objects.select_related("canton__province").order_by("code"):
        districts.append(
            [district.canton.province.name, district.canton.code, district.canton.name, district.code, district.name]
        )
    countries_sheet = workbook.create_sheet("paises")
    countries_sheet.append([pgettext("import template", "code"), pgettext("import template", "country")])
    with translation.override("es"):
        for code, name in countries:
            countries_sheet.append([code, str(name)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
