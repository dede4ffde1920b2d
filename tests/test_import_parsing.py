"""Bad files get a clear message and nothing is read further: wrong extension or content, empty, over the size
limit, missing or unknown columns, formulas, compressed-file bombs, macros. Good files are read forgivingly:
UTF-8 with or without BOM, Latin-1, comma or semicolon, Spanish or English headers."""

import io
import zipfile

import pytest
from django.test import override_settings
from openpyxl import Workbook

from records.imports import parsing, samples
from records.imports.parsing import FormulaCell, ImportFileError

pytestmark = pytest.mark.django_db

HEADER = "referencia_caso,fecha_recepcion,sexo,distrito\r\n"


def parse(data: bytes, name: str = "file.csv"):
    parsed = parsing.open_parsed(data, name=name)
    return parsed, list(parsed.rows)


def refused(data: bytes, name: str) -> str:
    with pytest.raises(ImportFileError) as caught:
        parse(data, name)
    return caught.value.message


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Bad files ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["data.pdf", "data.xls", "data.xlsm", "data.txt", "data", "data.csv.exe"])
def test_wrong_extension_is_refused(name):
    assert "xlsx" in refused(HEADER.encode(), name)


def test_csv_name_with_spreadsheet_content_is_refused():
    assert "CSV" in refused(xlsx([["referencia_caso", "fecha_recepcion"]]), "data.csv")


def test_csv_name_with_binary_content_is_refused():
    assert "CSV" in refused(b"\x00\x01\x02binary" * 10, "data.csv")


def test_xlsx_name_with_text_content_is_refused():
    assert "Excel" in refused(HEADER.encode(), "data.xlsx")


def test_xlsx_name_with_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    assert "Excel" in refused(buffer.getvalue(), "data.xlsx")


def test_truncated_zip_is_refused():
    assert "Excel" in refused(xlsx([["referencia_caso"]])[:200], "data.xlsx")


@pytest.mark.parametrize("data", [b"", b"   \r\n  \r\n"])
def test_empty_csv_is_refused(data):
    assert "empty" in refused(data, "data.csv")


def test_empty_workbook_is_refused():
    assert "empty" in refused(xlsx([]), "data.xlsx")


def test_header_without_rows_is_refused_by_the_service(cast):
    from records.imports import services

    parsed = parsing.open_parsed(HEADER.encode(), name="x.csv")
    with pytest.raises(ImportFileError) as caught:
        services.import_rows(parsed=parsed, institution=cast.institution_a, user=cast.officer_a, write=False)
    assert "no data rows" in caught.value.message


@override_settings(IMPORT_MAX_UPLOAD_BYTES=100)
def test_file_over_the_size_limit_is_refused():
    message = refused((HEADER + "A,01/01/2024,F,10101\r\n" * 10).encode(), "data.csv")
    assert "larger than the limit" in message


def test_missing_required_columns_are_named():
    message = refused(b"sexo,distrito\r\nF,10101\r\n", "data.csv")
    assert "referencia_caso" in message and "fecha_recepcion" in message


def test_unknown_columns_are_named():
    message = refused(b"referencia_caso,fecha_recepcion,color_favorito\r\nA,01/01/2024,azul\r\n", "data.csv")
    assert "color_favorito" in message


def test_a_column_given_twice_is_refused():
    message = refused(b"referencia_caso,fecha_recepcion,sexo,sex\r\nA,01/01/2024,F,F\r\n", "data.csv")
    assert "twice" in message


def test_tab_separated_file_is_refused_with_a_hint():
    assert "tabs" in refused(b"referencia_caso\tfecha_recepcion\r\nA\t01/01/2024\r\n", "data.csv")


def test_formula_in_a_cell_is_kept_as_a_formula_never_evaluated():
    data = xlsx([["referencia_caso", "fecha_recepcion", "edad_solicitud"], ["A-1", "01/01/2024", "=1+1"]])
    parsed, rows = parse(data, "data.xlsx")
    assert isinstance(rows[0][1][2], FormulaCell)


def test_formula_in_the_header_is_refused():
    assert "formulas" in refused(xlsx([["referencia_caso", "fecha_recepcion", '=CONCAT("se","xo")']]), "data.xlsx")


def _bomb(uncompressed: int) -> bytes:
    """A real workbook plus one member that inflates from a few kilobytes to ``uncompressed`` bytes."""
    buffer = io.BytesIO(xlsx([["referencia_caso", "fecha_recepcion"]]))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet2.xml", b"\x00" * uncompressed)
    return buffer.getvalue()


def test_compressed_file_bomb_is_refused_before_opening():
    data = _bomb(50 * 1024 * 1024)
    assert len(data) < 200 * 1024
    assert "suspicious" in refused(data, "data.xlsx")


@override_settings(IMPORT_MAX_UPLOAD_BYTES=1024 * 1024, IMPORT_MAX_UNCOMPRESSED_BYTES=512 * 1024)
def test_total_uncompressed_size_is_limited_even_at_modest_ratios():
    buffer = io.BytesIO(xlsx([["referencia_caso", "fecha_recepcion"]]))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/media/big.bin", b"x" * 600 * 1024)
    assert "suspicious" in refused(buffer.getvalue(), "data.xlsx")


def test_workbook_with_macros_is_refused():
    buffer = io.BytesIO(xlsx([["referencia_caso", "fecha_recepcion"]]))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"macro")
    assert "macros" in refused(buffer.getvalue(), "data.xlsx")


# --- Forgiving reading -------------------------------------------------------------------------------------------

ROW = "CASO-1,15/03/2024,Mujer,10101\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ((HEADER + ROW).encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + (HEADER + ROW).encode("utf-8"), "utf-8-sig"),
        ((HEADER + "CASO-1,15/03/2024,Ni\u00f1a,10101\r\n").encode("latin-1"), "cp1252"),
    ],
)
def test_csv_encodings(data, encoding):
    parsed, rows = parse(data)
    assert parsed.encoding == encoding
    assert parsed.headers[0] == "referencia_caso"
    assert rows[0] == (2, ["CASO-1", "15/03/2024", rows[0][1][2], "10101"])


def test_latin1_accents_survive():
    parsed, rows = parse(("referencia_caso,fecha_recepcion,apellidos\r\nA,01/01/2024,Nú\u00f1ez\r\n").encode("latin-1"))
    assert rows[0][1][2] == "Núñez"


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_separator_is_detected(delimiter):
    data = (HEADER + ROW).replace(",", delimiter).encode()
    parsed, rows = parse(data)
    assert parsed.delimiter == delimiter
    assert rows[0][1] == ["CASO-1", "15/03/2024", "Mujer", "10101"]


def test_semicolon_file_with_commas_inside_values_is_still_semicolon():
    data = "referencia_caso;fecha_recepcion;nombres\r\nA;01/01/2024;Ana, María\r\n".encode()
    parsed, rows = parse(data)
    assert parsed.delimiter == ";" and rows[0][1][2] == "Ana, María"


def test_english_and_spaced_headers_are_accepted():
    parsed, _rows = parse(b"Case Reference,Received On,SEX,District\r\nA,2024-01-01,F,10101\r\n")
    assert [c.key for c in parsed.columns] == ["case_reference", "received_on", "sex", "residence_district"]


def test_accented_spanish_headers_are_accepted():
    parsed, _rows = parse("Referencia caso;Fecha recepción;Ocupación\r\nA;01/01/2024;x\r\n".encode())
    assert [c.key for c in parsed.columns] == ["case_reference", "received_on", "occupation"]


def test_blank_rows_are_skipped_and_row_numbers_follow_the_spreadsheet():
    parsed, rows = parse((HEADER + ROW + ",,,\r\n" + ROW.replace("CASO-1", "CASO-2")).encode())
    assert [line for line, _cells in rows] == [2, 4]


def test_xlsx_rows_keep_spreadsheet_row_numbers_and_dates():
    import datetime

    data = xlsx(
        [
            ["referencia_caso", "fecha_recepcion"],
            ["A-1", datetime.datetime(2024, 3, 15)],
            [None, None],
            ["A-2", 45000],
        ]
    )
    parsed, rows = parse(data, "data.XLSX")
    assert parsed.kind == "xlsx"
    assert rows == [(2, ["A-1", datetime.date(2024, 3, 15)]), (4, ["A-2", 45000])]


def test_template_shaped_xlsx_from_samples_reads_every_column(cast):
    rows = samples.sample_rows(3)
    parsed, read = parse(samples.to_xlsx(rows), "data.xlsx")
    assert len(parsed.columns) == len(rows[0])
    assert len(read) == 3


def _with_sheet_xml(xml: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx([["referencia_caso", "fecha_recepcion"], ["A", "01/01/2024"]])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = xml if item.filename == "xl/worksheets/sheet1.xml" else source.read(item.filename)
            target.writestr(item, data)
    return buffer.getvalue()


def test_xml_entity_expansion_in_a_sheet_is_refused_not_expanded():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>'
    )
    with pytest.raises(ImportFileError) as caught:
        parse(_with_sheet_xml(laughs), "data.xlsx")
    assert "damaged" in caught.value.message


def test_a_sheet_damaged_after_the_header_is_a_file_error_not_a_crash():
    broken = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>referencia_caso</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>fecha_recepcion</t></is></c></row><row r="2"><c r="A2"'
    )
    with pytest.raises(ImportFileError) as caught:  # raised while reading the header or the rows
        list(parsing.open_parsed(_with_sheet_xml(broken), name="data.xlsx").rows)
    assert "damaged" in caught.value.message
