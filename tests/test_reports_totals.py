"""The total of the same measure is the same figure on every page (issue 15, point 8).

It read 1,909 to 1,915 on different pages because a table's total was the sum of its cells, and cells can
count a unit more than once: a case with two forms of exploitation sits under both, and a person with two
accredited applications in a year, recorded with two different ages, sits in two age groups. Each such sum is
a different true count with a key of its own, so it was also perturbed differently. Totals are now the
measure's own cell (the overview's figure), and the pages say why the cells can add up to more."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from indicators import services as indicator_services
from records.models import Person, Status
from tests.api_support import fresh_throttles, token_client
from tests.export_support import csv_table
from tests.indicator_factories import application
from tests.report_data import K, reset_report_caches

pytestmark = pytest.mark.django_db

TWO_FORMS = 12  # women with two forms of exploitation each
TWICE_ACCREDITED = 8  # persons accredited twice in 2024, at 17 and at 18 years of age
PERSONS = TWO_FORMS + TWICE_ACCREDITED


@pytest.fixture
def totals_data(cast, settings):
    settings.DISCLOSURE_K = K
    for _ in range(TWO_FORMS):
        application(
            institution=cast.institution_a,
            received_on=date(2024, 3, 4),
            status=Status.ACCREDITED,
            decided_on=date(2024, 3, 11),
            sex="F",
            age=30,
            nationalities=["NI"],
            forms=["SEXUAL", "LABOUR"],
            residence_district="10101",
        )
    for i in range(TWICE_ACCREDITED):
        person = Person.objects.create(institution=cast.institution_a, person_key=f"twice-{i}")
        for institution, age, day in ((cast.institution_a, 17, 2), (cast.institution_b, 18, 20)):
            application(
                institution=institution,
                person=person,
                received_on=date(2024, 5, day),
                status=Status.ACCREDITED,
                decided_on=date(2024, 5, day + 5),
                sex="F",
                age=age,
                nationalities=["CR"],
                forms=["SEXUAL"],
                residence_district="20101",
            )
    run = indicator_services.recompute_full(trigger="test")
    assert run.outcome == "success", run.error
    reset_report_caches()
    fresh_throttles()
    return cast


def _csv_total(client, slug: str, query: str = "") -> str:
    """The grand total of an export: the last cell of its totals row."""
    rows = csv_table(client.get(reverse("indicators:export", args=[slug, "csv"]) + query).content)
    totals = next(row for row in rows if row[0] == "Total")
    return next(cell for cell in reversed(totals) if cell)


def _kpi(client) -> str:
    html = client.get("/reports/").content.decode()
    found = re.search(r'data-testid="kpi-accredited_persons".*?class="kpi-value[^"]*">\s*([^<]*?)\s*<', html, re.S)
    return found.group(1)


def _totals(client) -> dict[str, str]:
    by_year = csv_table(client.get(reverse("indicators:export", args=["by-year", "csv"])).content)
    column = by_year[0].index("Víctimas acreditadas (personas)")
    return {
        "overview": _kpi(client),
        "overview table": next(row for row in by_year if row[0] == "Total")[column],
        "age groups": _csv_total(client, "dimension-age_group"),
        "nationality": _csv_total(client, "dimension-nationality"),
        "provinces": _csv_total(client, "map-province"),
        "sex x form": _csv_total(client, "crosstab", "?dims=sex&dims=exploitation_form"),
        "age x nationality": _csv_total(client, "crosstab", "?dims=age_group&dims=nationality"),
        "trend by age": _csv_total(client, "trend", "?dims=age_group"),
    }


def test_coordinators_read_the_number_of_persons_as_every_total(totals_data):
    client = totals_data.client_for(totals_data.coordinator_a)
    totals = _totals(client)
    assert totals == dict.fromkeys(totals, str(PERSONS))
    # The cells themselves still count each value: two forms, two age groups.
    form = csv_table(client.get("/reports/export/crosstab.csv?dims=sex&dims=exploitation_form").content)
    women = next(row for row in form if row[0] == "Mujer")
    assert sum(int(c) for c in women[1:-1]) == 2 * TWO_FORMS + TWICE_ACCREDITED
    assert women[-1] == str(PERSONS)  # the row total is the one-way cell of women, each person once
    ages = csv_table(client.get("/reports/export/dimension-age_group.csv").content)
    assert sum(int(row[1]) for row in ages[1:-1]) == PERSONS + TWICE_ACCREDITED


@pytest.mark.parametrize("who", ["analyst_a", "coordinator_a"])
def test_every_page_publishes_the_same_total(totals_data, who):
    client = totals_data.client_for(getattr(totals_data, who))
    totals = _totals(client)
    assert len(set(totals.values())) == 1, totals
    api = token_client(getattr(totals_data, who))[0]
    body = api.get("/api/v1/indicators/crosstab/?dims=sex,exploitation_form&measure=accredited_persons").json()
    assert body["grand_total"]["display"] == totals["overview"]


def test_the_pages_say_why_cells_add_up_to_more(totals_data):
    client = totals_data.client_for(totals_data.analyst_a)
    ages = client.get("/reports/disaggregations/age_group/").content.decode()
    assert "Los totales cuentan cada persona una vez por año" in ages
    forms = client.get("/reports/intersections/?dims=sex&dims=exploitation_form").content.decode()
    assert "cuentan cada caso una vez" in forms
