"""The annual statistical report's PDF (issue 15, point 11), over the known data set of tests/report_data.py:
a real PDF (read back with pypdf) whose every table is the one ``catalogue.build`` gives the same user, so an
analyst reads "<k" where a coordinator reads the small count; the report rights of the pages; 404 for a year
without indicators; and nothing of the records but aggregates."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from django.urls import reverse

from accounts.models import AccessEvent
from indicators import annual, catalogue, svgcharts
from records.models import Application, Decision, Person
from tests.report_data import K

pytestmark = pytest.mark.xdist_group("report_data_annual")

YEAR = 2024
SECTION_HEADINGS = (
    "Resumen",
    "Perfiles de las víctimas",
    "Captación y explotación",
    "Geografía",
    "Oportunidad de las decisiones del ERI",
    "Indicadores internacionales",
)
# One-way tables whose labels are short enough to print on one line: their rows read back as "label value".
ONE_LINE_ROWS = ("dimension-sex", "dimension-age_group", "dimension-nationality", "map-province")


def _pdf(client, year: int = YEAR):
    return client.get(reverse("indicators:annual_pdf", args=[year]))


def _text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _lines(text: str) -> set[str]:
    return {" ".join(line.split()) for line in text.splitlines()}


def _filters():
    return catalogue.filter_form({"year_from": YEAR, "year_to": YEAR}).filters()


@pytest.mark.django_db
def test_the_pdf_is_a_pdf_with_its_title_and_every_section(report_data):
    response = _pdf(report_data.client_for(report_data.analyst_a))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="conatt-informe-anual-{YEAR}.pdf"'
    assert response.content.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) > len(SECTION_HEADINGS)  # a title page, then each section on pages of its own
    text = _text(response.content)
    assert f"Informe estadístico anual {YEAR}" in text
    for number, heading in enumerate(SECTION_HEADINGS, start=1):
        assert f"{number}. {heading}" in text, heading
    assert "CONATT, portal de indicadores" in text
    assert f'se muestran como "<{K}"' in " ".join(text.split())  # the protection sentence
    assert catalogue.data_as_of_display() in text
    # Logged as an export, like the CSV and XLSX files.
    event = AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT, object_id="annual").get()
    assert (event.user, event.object_type, event.detail) == (report_data.analyst_a, "report", f"pdf {YEAR}")


@pytest.mark.django_db
def test_an_analysts_tables_are_the_protected_ones_of_the_catalogue(report_data):
    analyst = report_data.analyst_a
    built = annual.annual_report_build(year=YEAR, user=analyst)
    small = {str(n) for n in range(1, K)}
    blocks = [block for section in built.sections for block in section.blocks]
    assert blocks and not [b for b in blocks if b.unavailable]
    for block in blocks:
        if block.slug.startswith("dimension-") or block.slug in ONE_LINE_ROWS:
            report = catalogue.build(block.slug, analyst, _filters(), {})
            assert block.rows == report.body(), block.slug
        for row in [*block.rows, *([block.totals] if block.totals else [])]:
            assert not small & set(row[block.label_count :]), (block.slug, row)
    assert any(f"<{K}" in row for b in blocks for row in b.rows)

    text = _text(_pdf(report_data.client_for(analyst)).content)
    lines = _lines(text)
    for block in blocks:
        if block.slug in ONE_LINE_ROWS:
            for row in block.rows:
                assert " ".join(row) in lines, (block.slug, row)
    # No printed row of those tables pairs a label with a count from 1 to k-1 (a chart's value label is
    # printed on a line of its own, so it cannot pair either).
    labels = {row[0] for b in blocks if b.slug in ONE_LINE_ROWS for row in b.rows}
    leaked = [line for line in lines if re.fullmatch(r"(.+) (\d+)", line) and line.rsplit(" ", 1) in _pairs(labels)]
    assert leaked == []


def _pairs(labels: set[str]) -> list[list[str]]:
    return [[label, str(n)] for label in labels for n in range(1, K)]


@pytest.mark.django_db
def test_a_coordinators_pdf_holds_the_exact_figures(report_data):
    coordinator = report_data.coordinator_a
    text = _text(_pdf(report_data.client_for(coordinator)).content)
    lines = _lines(text)
    # tests/report_data.py: in 2024, 3 men and 9 + 6 women were accredited.
    assert "Hombre 3" in lines
    assert "Mujer 15" in lines
    for slug in ONE_LINE_ROWS:
        for row in catalogue.build(slug, coordinator, _filters(), {}).body():
            assert " ".join(row) in lines, (slug, row)
    assert f"<{K}" not in text


@pytest.mark.django_db
def test_a_hidden_value_is_drawn_as_hidden_never_as_zero(report_data):
    report = catalogue.build("dimension-sex", report_data.analyst_a, _filters(), {})
    bars = svgcharts.report_bars(report)
    hidden = [bar for bar in bars if bar.value is None]
    assert hidden and all(bar.display == f"<{K}" for bar in hidden)
    svg = svgcharts.horizontal_bars(bars, k=K, chart_id="t", title="Sexo")
    assert svg.count('class="hidden-value"') == len(hidden)
    assert f"&lt;{K}" in svg  # the label, escaped
    # Text from code lists is escaped, not markup.
    hostile = svgcharts.horizontal_bars([svgcharts.Bar("<script>x</script>", 3, "3")], k=K, chart_id="h", title="<b>")
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile


@pytest.mark.django_db
def test_a_refused_report_is_printed_as_its_reason(report_data, monkeypatch):
    build = catalogue.build

    def refusing(slug, user, filters, query):
        if slug == "flows":
            raise catalogue.ReportUnavailable("Esta tabla no se publica para esta selección.")
        return build(slug, user, filters, query)

    monkeypatch.setattr(annual.catalogue, "build", refusing)
    response = _pdf(report_data.client_for(report_data.analyst_a))
    assert response.status_code == 200
    text = " ".join(_text(response.content).split())
    assert "No se publica: Esta tabla no se publica para esta selección." in text
    assert "Países de explotación" in text  # the rest of its section is printed


@pytest.mark.django_db
def test_who_may_have_it_and_for_which_years(report_data):
    # The report rights of the pages: a user without a membership is refused, an anonymous one sent to log in.
    assert _pdf(report_data.client_for(report_data.nobody)).status_code == 403
    anonymous = _pdf(report_data.client_for(None))
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    officer = _pdf(report_data.client_for(report_data.officer_a))
    assert officer.status_code == 200 and officer.content.startswith(b"%PDF")
    # A year without indicators is not a report of zeros.
    missing = _pdf(report_data.client_for(report_data.analyst_a), year=2019)
    assert missing.status_code == 404
    assert "Página no encontrada" in missing.content.decode()
    # The overview offers one PDF per year with indicators.
    page = report_data.client_for(report_data.analyst_a).get(reverse("indicators:dashboard")).content.decode()
    assert "Informe anual (PDF)" in page
    for year in catalogue.years():
        assert reverse("indicators:annual_pdf", args=[year]) in page


@pytest.mark.django_db
def test_the_pdf_holds_aggregates_only(report_data):
    text = _text(_pdf(report_data.client_for(report_data.coordinator_a)).content)
    identifiers = [
        *Person.objects.values_list("person_key", flat=True),
        *Application.all_objects.values_list("case_reference", flat=True),
        *Decision.objects.values_list("resolution_number", flat=True),
    ]
    assert identifiers
    assert [value for value in identifiers if value and value in text] == []
    # Nor the words of a decision's reasons (free text).
    assert "Synthetic test decision" not in text


@pytest.mark.django_db
def test_weasyprint_fetches_nothing(report_data, monkeypatch):
    with pytest.raises(ValueError, match="fetches nothing"):
        annual.NoFetching().fetch("https://example.org/logo.png")
    asked: list[str] = []
    refuse = annual.NoFetching.fetch

    def recording(self, url, headers=None):
        asked.append(url)
        return refuse(self, url, headers)

    monkeypatch.setattr(annual.NoFetching, "fetch", recording)
    built = annual.annual_report_build(year=YEAR, user=report_data.analyst_a)
    assert annual.annual_report_pdf(built).startswith(b"%PDF")
    assert asked == []  # the charts are inline and the stylesheet is passed in: nothing to fetch
