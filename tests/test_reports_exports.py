"""What the report files and chart data say about themselves (issue 15, point 6), and which filters the
profiles and international pages apply (point 5), over the known data set of tests/report_data.py.

Every CSV opens with a header block of ``# key,value`` rows (read with ``comment="#"``), every XLSX lists the
same keys after its table, and the chart data carries them for the PNG image: title, measure, years, filters,
data date, indicator version, protection and source. XLSX cells hold numbers, not text such as "380 000"."""

from __future__ import annotations

import io
import re

import pandas
import pytest
from django.urls import reverse

from indicators import selectors
from tests.export_support import csv_metadata, csv_table, xlsx_metadata, xlsx_sheet, xlsx_table
from tests.report_data import K
from tests.test_reports_pages import EXPORTS

pytestmark = pytest.mark.xdist_group("report_data_exports")

SOURCE = "CONATT, portal de indicadores"
KEYS = ("Título", "Medida", "Años", "Filtros", "Datos al", "Versión de los indicadores", "Protección", "Fuente")


@pytest.fixture
def data(report_data):
    return report_data


def _export(client, slug: str, fmt: str, query: str = ""):
    response = client.get(reverse("indicators:export", args=[slug, fmt]) + query)
    assert response.status_code == 200, (slug, fmt, response.content[:300])
    return response.content


@pytest.mark.django_db
def test_every_csv_and_xlsx_states_what_it_holds(data):
    client = data.client_for(data.analyst_a)
    version = selectors.data_as_of().isoformat()
    for slug in EXPORTS:
        for name, meta in (
            ("csv", csv_metadata(_export(client, slug, "csv"))),
            ("xlsx", xlsx_metadata(_export(client, slug, "xlsx"))),
        ):
            assert [key for key in KEYS if not meta.get(key)] == [], (slug, name, meta)
            assert meta["Fuente"] == SOURCE, (slug, name)
            assert meta["Versión de los indicadores"] == version, (slug, name)
            assert meta["Filtros"] == "Ninguno", (slug, name)
            assert meta["Años"] == "2023–2025", (slug, name)
            assert f'"<{K}"' in meta["Protección"], (slug, name)


@pytest.mark.django_db
def test_files_name_the_measure_years_and_filters_asked_for(data):
    client = data.client_for(data.analyst_a)
    query = "?year_from=2024&year_to=2024&sex=F&measure=received"
    meta = csv_metadata(_export(client, "dimension-nationality", "csv", query))
    assert meta["Título"] == "Solicitudes recibidas por nacionalidad"
    assert meta["Medida"] == "Solicitudes recibidas"
    assert meta["Años"] == "2024"
    assert meta["Filtros"] == "Sexo: Mujer"
    assert "Filtros no aplicados" not in meta
    # The dashboard's table holds several measures side by side: each is named.
    by_year = csv_metadata(_export(client, "by-year", "csv"))
    assert by_year["Medida"].startswith("Solicitudes recibidas; ")
    # A coordinator's file says that its counts are exact.
    exact = csv_metadata(_export(data.client_for(data.coordinator_a), "dimension-nationality", "csv", query))
    assert exact["Protección"].startswith("Cifras exactas")


@pytest.mark.django_db
def test_csv_is_read_by_pandas_with_the_comment_option(data):
    content = _export(data.client_for(data.analyst_a), "dimension-sex", "csv")
    assert content.decode("utf-8-sig").startswith("# Título,")
    frame = pandas.read_csv(io.BytesIO(content), comment="#", encoding="utf-8-sig", dtype=str)
    table = csv_table(content)
    assert list(frame.columns) == table[0]
    assert frame.fillna("").values.tolist() == table[1:]


@pytest.mark.django_db
def test_xlsx_stores_numbers_as_numbers(data):
    from records.models import Code, CodeList, Population
    from tests.report_data import reset_report_caches

    Population.objects.create(
        year=2024,
        sex=Code.objects.get(list=CodeList.SEX, code="F"),
        age_group=Code.objects.get(list=CodeList.AGE_GROUP, code="12-17"),
        population=380_000,
        source="test",
    )
    reset_report_caches()
    client = data.client_for(data.analyst_a)
    rows = xlsx_table(_export(client, "sdg-16-2-2-sex-age", "xlsx"))
    header = rows[0]
    girls = next(r for r in rows if r[1:3] == ["Mujer", "12 a 17 años"] and str(r[0]) == "2024")
    population = girls[header.index("Población")]
    rate = girls[header.index("Víctimas por 100 000")]
    assert population == 380_000 and isinstance(population, int)
    count = girls[header.index("Víctimas acreditadas")]
    assert isinstance(count, int)
    assert isinstance(rate, float) and rate == pytest.approx(count / 3.8, abs=0.01)
    # The page shows the same figures as text, grouped in Spanish.
    html = client.get("/reports/international/").content.decode()
    assert re.search(r">\s*380\s000\s*<", html.replace("\xa0", " ").replace("\u202f", " "))
    # The CSV keeps them machine-readable: no grouping.
    table = csv_table(_export(client, "sdg-16-2-2-sex-age", "csv"))
    assert next(r for r in table if r[:3] == ["2024", "Mujer", "12 a 17 años"])[4] == "380000"
    # Shares are numbers with a percentage format.
    sheet = xlsx_sheet(_export(client, "timeliness", "xlsx"))
    shares = [c for c in sheet["D"][3:] if isinstance(c.value, float)]
    assert shares and all(c.number_format.endswith("%") and 0 <= c.value <= 1 for c in shares)


@pytest.mark.django_db
def test_chart_data_carries_what_the_png_writes(data):
    client = data.client_for(data.analyst_a)
    payload = client.get(reverse("indicators:chart", args=["dimension-sex"]) + "?year_from=2024&year_to=2024").json()
    about = payload["about"]
    assert about["title"] == "Víctimas acreditadas (personas) por sexo"
    assert "Años: 2024" in about["summary"] and "Filtros: Ninguno" in about["summary"]
    assert SOURCE in about["source"]
    assert f'"<{K}"' in about["protection"]
    for slug in ("map-province", "flows", "relation-means", "trend"):
        assert client.get(reverse("indicators:chart", args=[slug])).json()["about"]["title"], slug


def _badge(html: str) -> str | None:
    found = re.search(r'data-testid="filters-active">(\d+)<', html)
    return found.group(1) if found else None


@pytest.mark.django_db
def test_profiles_apply_their_four_dimensions_and_say_which_filters_they_do_not(data):
    client = data.client_for(data.coordinator_a)
    everyone = csv_table(_export(client, "profiles", "csv"))
    girls = csv_table(_export(client, "profiles", "csv", "?sex=F"))
    assert {r[0] for r in everyone[1:-1]} == {"Mujer", "Hombre"}
    assert {r[0] for r in girls[1:-1]} == {"Mujer"}
    # The same cells: a profile's figure does not change with the filter.
    assert all(row in everyone for row in girls[1:-1])
    html = client.get("/reports/profiles/?sex=F").content.decode()
    assert _badge(html) == "1"
    assert 'data-testid="filters-not-applied"' not in html

    # A filter the profiles cannot apply: not counted, disabled with the reason, listed, and not in the figures.
    html = client.get(f"/reports/profiles/?institution={data.institution_a.code}").content.decode()
    assert _badge(html) is None
    assert 'data-testid="filters-not-applied"' in html and "Institución que refiere" in html
    assert re.search(r'<select name="institution"[^>]*disabled', html)
    assert f'<input type="hidden" name="institution" value="{data.institution_a.code}">' in html
    assert "solo se aplican los años y esos cuatro filtros" in html
    meta = csv_metadata(_export(client, "profiles", "csv", f"?institution={data.institution_a.code}"))
    assert meta["Filtros"] == "Ninguno" and meta["Filtros no aplicados"].startswith("Institución que refiere")
    assert csv_table(_export(client, "profiles", "csv", f"?institution={data.institution_a.code}")) == everyone


@pytest.mark.django_db
def test_international_formats_apply_only_the_years_and_say_so(data):
    client = data.client_for(data.analyst_a)
    html = client.get("/reports/international/?sex=F&nationality=NI").content.decode()
    assert _badge(html) is None
    assert 'data-testid="filters-not-applied"' in html
    assert re.search(r'<select name="sex"[^>]*disabled', html)
    assert re.search(r'<select name="year_from"(?![^>]*disabled)[^>]*>', html)
    assert _badge(client.get("/reports/international/?year_from=2024&sex=F").content.decode()) == "1"
    for slug in ("glotip-forms", "sdg-16-2-2-form"):
        assert csv_table(_export(client, slug, "csv", "?sex=F")) == csv_table(_export(client, slug, "csv")), slug
        meta = csv_metadata(_export(client, slug, "csv", "?sex=F"))
        assert meta["Filtros"] == "Ninguno" and meta["Filtros no aplicados"].startswith("Sexo: Mujer"), slug
    # Other pages still count every filter.
    assert _badge(client.get("/reports/?sex=F&nationality=NI").content.decode()) == "2"
