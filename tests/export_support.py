"""Reading the report exports as their documented layout says (indicators/exports.py): a CSV is a header
block of ``# key,value`` rows followed by the table; an XLSX holds the title in row 1, the table from row 3 to
the first blank row, then rows of key and value."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

COMMENT = "#"


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def csv_table(content: bytes) -> list[list[str]]:
    """The table of a CSV export: its header, body and totals, without the metadata rows."""
    return [row for row in csv_rows(content) if row and not row[0].startswith(COMMENT)]


def csv_metadata(content: bytes) -> dict[str, str]:
    """The CSV's header block: {key: value}."""
    return {
        row[0].removeprefix(COMMENT).strip(): row[1] for row in csv_rows(content) if row and row[0].startswith(COMMENT)
    }


def xlsx_sheet(content: bytes):
    return load_workbook(io.BytesIO(content)).active


def xlsx_table(content: bytes) -> list[list[object]]:
    """The table of an XLSX export (row 3 to the first blank row), cells as stored (numbers are numbers)."""
    rows = [[c.value for c in row] for row in xlsx_sheet(content).iter_rows(min_row=3)]
    end = next((i for i, row in enumerate(rows) if not any(v is not None for v in row)), len(rows))
    width = len([v for v in rows[0] if v is not None]) if rows else 0
    return [row[:width] for row in rows[:end]]


def xlsx_metadata(content: bytes) -> dict[str, object]:
    """The rows of key and value after the table."""
    rows = [[c.value for c in row] for row in xlsx_sheet(content).iter_rows(min_row=3)]
    end = next((i for i, row in enumerate(rows) if not any(v is not None for v in row)), len(rows))
    return {row[0]: row[1] for row in rows[end + 1 :] if row and row[0]}
