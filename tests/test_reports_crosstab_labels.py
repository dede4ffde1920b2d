"""Cross-tab labels (issue 20, point 6). With three dimensions the first two form the rows; when both hold the
same code (code lists are data an admin edits: here gender identity and migration status both get "OTHER"),
each part of a row is labelled by its own dimension, on the page, in the chart data, the CSV, the XLSX and the
API. Before, one mapping of code to label served both dimensions, so "OTHER" read "Otra situación migratoria"
under gender identity too. And a cross-tab whose column dimension has a single value present (nationality lists
only the countries that occur) names that column in its header instead of "Contar"."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from indicators import services as indicator_services
from records.models import Code, CodeList, Status
from tests.api_support import fresh_throttles, token_client
from tests.export_support import csv_table
from tests.indicator_factories import application
from tests.report_data import reset_report_caches

pytestmark = pytest.mark.django_db

OTHER_IDENTITY = "Otra identidad"  # gender_identity OTHER, from the reference lists
OTHER_STATUS = "Otra situación migratoria"  # migration_status OTHER, added here
REFUGEE = "Persona refugiada"
WOMAN = "Mujer"

THREE_WAY = "dims=gender_identity&dims=migration_status&dims=sex&measure=received"
ONE_COLUMN = "dims=sex&dims=nationality&measure=received"


@pytest.fixture
def crosstab_data(cast):
    """Accredited women, all of Nicaraguan nationality: 6 of other identity and other migration status, 7 of
    other identity and refugees, 8 women (identity) of other migration status."""
    Code.objects.create(
        list=CodeList.MIGRATION_STATUS, code="OTHER", label_es=OTHER_STATUS, label_en="Other migration status"
    )
    for n, identity, status in ((6, "OTHER", "OTHER"), (7, "OTHER", "REFUGEE"), (8, "WOMAN", "OTHER")):
        for _ in range(n):
            application(
                institution=cast.institution_a,
                received_on=date(2024, 4, 2),
                status=Status.ACCREDITED,
                decided_on=date(2024, 4, 9),
                sex="F",
                age=30,
                gender_identity=identity,
                migration_status=status,
                nationalities=["NI"],
                forms=["LABOUR"],
            )
    run = indicator_services.recompute_full(trigger="test")
    assert run.outcome == "success", run.error
    reset_report_caches()
    fresh_throttles()
    return cast


EXPECTED_ROWS = {
    (OTHER_IDENTITY, OTHER_STATUS): "6",
    (OTHER_IDENTITY, REFUGEE): "7",
    (WOMAN, OTHER_STATUS): "8",
}


def _csv_rows(content: bytes) -> list[list[str]]:
    return csv_table(content)  # the metadata rows ("# ...") lead the file


def _xlsx_rows(content: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(content)).active
    rows = [["" if c.value is None else str(c.value) for c in row] for row in sheet.iter_rows(min_row=3)]
    end = next(i for i, row in enumerate(rows) if not any(row))
    return [row[: len(rows[0])] for row in rows[:end]]


def _html_rows(content: bytes) -> list[list[str]]:
    table = re.search(r'data-testid="table-crosstab".*?</table>', content.decode(), re.S).group(0)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def _labelled(rows: list[list[str]], column: int) -> dict[tuple[str, str], str]:
    """(gender identity label, migration status label) -> the value in ``column``, for the body rows."""
    return {(row[0], row[1]): row[column] for row in rows[1:-1]}


def test_three_way_rows_are_labelled_by_their_own_dimension_everywhere(crosstab_data):
    client = crosstab_data.client_for(crosstab_data.coordinator_a)  # exact counts: the labels are the question
    for name, rows in (
        ("page", _html_rows(client.get(f"/reports/intersections/?{THREE_WAY}").content)),
        ("csv", _csv_rows(client.get(f"/reports/export/crosstab.csv?{THREE_WAY}").content)),
        ("xlsx", _xlsx_rows(client.get(f"/reports/export/crosstab.xlsx?{THREE_WAY}").content)),
    ):
        header = rows[0]
        assert header[:2] == ["Identidad de género", "Condición migratoria"], name
        labelled = _labelled(rows, header.index(WOMAN))
        assert labelled == EXPECTED_ROWS, name

    chart = client.get(f"/reports/chart/crosstab/?{THREE_WAY}").json()
    women = next(d for d in chart["datasets"] if d["label"] == WOMAN)
    shown = dict(zip(chart["labels"], women["display"], strict=True))
    assert shown == {f"{a} · {b}": n for (a, b), n in EXPECTED_ROWS.items()}

    api = token_client(crosstab_data.coordinator_a)[0].get(
        "/api/v1/indicators/crosstab/?dims=gender_identity,migration_status,sex&measure=received"
    )
    assert api.status_code == 200
    body = api.json()
    by_key = {tuple(row["key"]): row["labels"] for row in body["rows"]}
    assert by_key[("OTHER", "OTHER")] == [OTHER_IDENTITY, OTHER_STATUS]
    assert by_key[("OTHER", "REFUGEE")] == [OTHER_IDENTITY, REFUGEE]
    assert by_key[("WOMAN", "OTHER")] == [WOMAN, OTHER_STATUS]


@pytest.mark.parametrize("who", ["coordinator_a", "analyst_a"])
def test_a_crosstab_with_one_column_present_names_it(crosstab_data, who):
    """Every case is of Nicaraguan nationality: the one column is "Nicaragua", followed by the row total."""
    client = crosstab_data.client_for(getattr(crosstab_data, who))
    for name, rows in (
        ("page", _html_rows(client.get(f"/reports/intersections/?{ONE_COLUMN}").content)),
        ("csv", _csv_rows(client.get(f"/reports/export/crosstab.csv?{ONE_COLUMN}").content)),
        ("xlsx", _xlsx_rows(client.get(f"/reports/export/crosstab.xlsx?{ONE_COLUMN}").content)),
    ):
        assert rows[0] == ["Sexo", "Nicaragua", "Total"], name
        assert "Contar" not in rows[0] and "Recuento" not in rows[0], name
    chart = client.get(f"/reports/chart/crosstab/?{ONE_COLUMN}").json()
    assert [d["label"] for d in chart["datasets"]] == ["Nicaragua"]
    api = token_client(getattr(crosstab_data, who))[0].get(
        "/api/v1/indicators/crosstab/?dims=sex,nationality&measure=received"
    )
    assert api.json()["columns"] == [{"code": "NI", "label": "Nicaragua"}]
