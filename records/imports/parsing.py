"""Reading an uploaded file safely: what it claims to be (extension) must be what it is (content), it must fit
the size limit, a spreadsheet is checked for a compressed-file bomb before it is opened, formulas are refused
(never evaluated), and a CSV's encoding and separator are detected where that is unambiguous.

Everything here raises ``ImportFileError`` with a message in the user's language; nothing is written.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from .columns import HEADER_INDEX, Column, header_key

ALLOWED_EXTENSIONS = (".csv", ".xlsx")
XLSX_MAGIC = b"PK\x03\x04"
# A spreadsheet's XML compresses well, but not a thousandfold: beyond these it is a compressed-file bomb.
MAX_COMPRESSION_RATIO = 100
MAX_ZIP_MEMBERS = 2000


class ImportFileError(Exception):
    """The file as a whole cannot be imported; ``message`` is ready to show to the user."""

    def __init__(self, message: str, *, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


@dataclass
class FormulaCell:
    """A cell that holds a formula: kept so validation can report it by row and column."""

    formula: str


@dataclass
class ParsedFile:
    kind: str  # "csv" | "xlsx"
    headers: list[str]  # as written in the file
    columns: list[Column]  # the column each header maps to, same order
    rows: Iterator[tuple[int, list]]  # (spreadsheet row number, raw cell values)
    estimated_rows: int
    encoding: str = ""
    delimiter: str = ""
    notes: list[str] = field(default_factory=list)


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024))


def max_uncompressed_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UNCOMPRESSED_BYTES", 8 * max_upload_bytes()))


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}"


def check_upload(name: str, size: int) -> str:
    """Refuse by name and size before reading anything; return the kind ("csv" or "xlsx")."""
    lower = (name or "").lower()
    if not lower.endswith(ALLOWED_EXTENSIONS):
        raise ImportFileError(_("The file must be a spreadsheet in .xlsx format or a .csv file."))
    if size == 0:
        raise ImportFileError(_("The file is empty."))
    if size > max_upload_bytes():
        raise ImportFileError(
            _("The file is larger than the limit of %(limit)s MB.") % {"limit": _megabytes(max_upload_bytes())}
        )
    return "xlsx" if lower.endswith(".xlsx") else "csv"


def open_parsed(path_or_bytes, *, name: str) -> ParsedFile:
    """Parse the stored upload at ``path_or_bytes`` (a path or bytes) whose original name was ``name``."""
    if isinstance(path_or_bytes, bytes | bytearray):
        data = bytes(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as handle:
            data = handle.read(max_upload_bytes() + 1)
    kind = check_upload(name, len(data))
    if kind == "xlsx":
        return _parse_xlsx(data)
    return _parse_csv(data)


# --- Headers ---------------------------------------------------------------------------------------------------


def map_headers(headers: list) -> list[Column]:
    """Each header to its column (Spanish or English name, any case, accents or spacing). Unknown, duplicated or
    missing required columns refuse the whole file: guessing would put data in the wrong field."""
    from .columns import COLUMNS

    cleaned = [str(h).strip() if h is not None else "" for h in headers]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    if not cleaned:
        raise ImportFileError(_("The file has no header row with column names."))
    unknown, seen, columns, duplicated = [], {}, [], []
    for header in cleaned:
        column = HEADER_INDEX.get(header_key(header))
        if column is None:
            unknown.append(header or _("(empty)"))
            continue
        if column.key in seen:
            duplicated.append(header)
        seen[column.key] = header
        columns.append(column)
    problems = []
    if unknown:
        problems.append(_("Unknown columns: %(names)s.") % {"names": ", ".join(unknown)})
    if duplicated:
        problems.append(_("Columns given twice: %(names)s.") % {"names": ", ".join(duplicated)})
    missing = [c.es for c in COLUMNS if c.required and c.key not in seen]
    if missing:
        problems.append(_("Missing required columns: %(names)s.") % {"names": ", ".join(missing)})
    if problems:
        raise ImportFileError(
            _("The columns of the file do not match the template.") + " " + " ".join(problems),
            details=problems,
        )
    return columns


# --- CSV -------------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Spreadsheets saved on Windows: cp1252 is Latin-1 plus printable characters in 0x80-0x9f.
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _detect_delimiter(header_line: str) -> str:
    """Comma or semicolon, chosen by which one splits the header into known columns. Ambiguity is an error."""
    scores = {}
    for delimiter in (",", ";"):
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        scores[delimiter] = sum(1 for cell in cells if header_key(cell) in HEADER_INDEX)
    if scores[","] == scores[";"]:
        if "\t" in header_line:
            raise ImportFileError(_("Columns must be separated by commas or semicolons, not tabs."))
        if scores[","] == 0:
            raise ImportFileError(
                _("No known column was found in the first row: is this a file made from the template?")
            )
        return "," if header_line.count(",") >= header_line.count(";") else ";"
    return "," if scores[","] > scores[";"] else ";"


def _parse_csv(data: bytes) -> ParsedFile:
    if data.startswith(XLSX_MAGIC) or b"\x00" in data[:8192]:
        raise ImportFileError(_("The file's content is not text separated by commas or semicolons (CSV)."))
    text, encoding = _decode(data)
    del data
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    first_line = text.split("\n", 1)[0].rstrip("\r")
    delimiter = _detect_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader)
    except csv.Error:
        raise ImportFileError(_("The file's content is not text separated by commas or semicolons (CSV)."))
    columns = map_headers(headers)
    width = len(columns)

    def rows() -> Iterator[tuple[int, list]]:
        line = 1
        try:
            for cells in reader:
                line += 1
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) > width and any(c.strip() for c in cells[width:]):
                    # Values beyond the last named column: a shifted row, reported by validation.
                    yield line, [*cells[:width], _Overflow()]
                    continue
                yield line, cells[:width] + [""] * (width - len(cells))
        except csv.Error:
            raise ImportFileError(
                _("Row %(row)s cannot be read: check quotes and separators.") % {"row": line + 1}
            ) from None

    estimated = max(text.count("\n") - 1, 1)
    return ParsedFile("csv", headers[:width], columns, rows(), estimated, encoding=encoding, delimiter=delimiter)


class _Overflow:
    """Marker: the row has more values than the header has columns."""


# --- XLSX ------------------------------------------------------------------------------------------------------


def check_zip(data: bytes) -> zipfile.ZipFile:
    """Check an XLSX container before any XML is parsed: a real zip, the parts of a workbook, no macros, and
    uncompressed sizes and ratios that a spreadsheet can have (a compressed-file bomb has neither)."""
    if not data.startswith(XLSX_MAGIC):
        raise ImportFileError(_("The file's content is not an Excel spreadsheet (.xlsx)."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError(_("The file's content is not an Excel spreadsheet (.xlsx)."))
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ImportFileError(_("The file's content is not an Excel spreadsheet (.xlsx)."))
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise ImportFileError(_("The spreadsheet contains macros; save it as a plain .xlsx workbook."))
    total = 0
    if len(members) > MAX_ZIP_MEMBERS:
        raise ImportFileError(_("The spreadsheet's compressed content is suspicious and was not opened."))
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > MAX_COMPRESSION_RATIO:
            raise ImportFileError(_("The spreadsheet's compressed content is suspicious and was not opened."))
    if total > max_uncompressed_bytes():
        raise ImportFileError(_("The spreadsheet's compressed content is suspicious and was not opened."))
    return archive


def _cell_value(cell):
    if cell.data_type == "f":
        return FormulaCell(str(cell.value))
    value = cell.value
    if isinstance(value, datetime.datetime):
        return value.date() if value.time() == datetime.time(0) else value
    return value


def _parse_xlsx(data: bytes) -> ParsedFile:
    from openpyxl import load_workbook

    check_zip(data)
    try:
        # read_only streams rows; data_only=False keeps formulas as formulas so they are refused, never evaluated
        # and never taken from a cached value that may not match what the sheet shows.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # noqa: BLE001  (openpyxl raises many kinds on a damaged file)
        raise ImportFileError(_("The spreadsheet could not be opened: it may be damaged."))
    sheet = None
    for candidate in workbook.worksheets:
        if header_key(candidate.title) in {"solicitudes", "applications"}:
            sheet = candidate
            break
    sheet = sheet or workbook.worksheets[0]
    iterator = sheet.iter_rows()
    header_row = None
    line = (sheet.min_row or 1) - 1
    try:
        for cells in iterator:
            line += 1
            values = [_cell_value(c) for c in cells]
            if any(v not in (None, "") for v in values):
                header_row = values
                break
    except Exception:  # noqa: BLE001
        raise ImportFileError(_("The spreadsheet could not be opened: it may be damaged.")) from None
    if header_row is None:
        raise ImportFileError(_("The file is empty."))
    if any(isinstance(v, FormulaCell) for v in header_row):
        raise ImportFileError(_("The header row contains formulas; write the column names as text."))
    columns = map_headers(header_row)
    width = len(columns)

    header_line = line

    def rows() -> Iterator[tuple[int, list]]:
        line = header_line
        try:
            for cells in iterator:
                line += 1
                if not cells:
                    continue
                values = [_cell_value(c) for c in cells]
                if not any(v not in (None, "") for v in values):
                    continue
                extra = values[width:]
                if any(v not in (None, "") for v in extra):
                    yield line, [*values[:width], _Overflow()]
                    continue
                yield line, values[:width] + [None] * (width - len(values))
        except Exception:  # noqa: BLE001  (read-only mode parses the sheet lazily: damage shows up here)
            raise ImportFileError(
                _("The spreadsheet could not be read after row %(row)s: it may be damaged.") % {"row": line - 1}
            ) from None
        finally:
            workbook.close()

    estimated = max((sheet.max_row or 2) - 1, 1)
    return ParsedFile("xlsx", [str(h) for h in header_row[:width]], columns, rows(), estimated)


def is_overflow(value) -> bool:
    return isinstance(value, _Overflow)
