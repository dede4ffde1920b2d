"""The indicators API: aggregates only, under the same disclosure control as the report pages (analysts and
officers see "<5" for small counts and no value from 1 to k-1 anywhere; coordinators see exact counts), for
every role with a membership; nothing for users without one."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from indicators import services as indicator_services
from records.models import Status

from .api_support import fresh_throttles, token_client
from .indicator_factories import application

K = 5


@pytest.fixture
def indicators(cast):
    """2024: 3 accredited girls and women from Nicaragua, 12 accredited men from Costa Rica (INAMU);
    2023: 6 accredited women from Costa Rica (PANI). Then one full recompute."""
    fresh_throttles()
    for _ in range(3):
        application(
            institution=cast.institution_a,
            received_on=date(2024, 2, 1),
            status=Status.ACCREDITED,
            decided_on=date(2024, 2, 8),
            sex="F",
            age=16,
            nationalities=["NI"],
            forms=["SEXUAL"],
        )
    for _ in range(12):
        application(
            institution=cast.institution_a,
            received_on=date(2024, 3, 1),
            status=Status.ACCREDITED,
            decided_on=date(2024, 3, 8),
            sex="M",
            age=30,
            nationalities=["CR"],
            forms=["LABOUR"],
        )
    for _ in range(6):
        application(
            institution=cast.institution_b,
            received_on=date(2023, 5, 2),
            status=Status.ACCREDITED,
            decided_on=date(2023, 5, 9),
            sex="F",
            age=25,
            nationalities=["CR"],
            forms=["SEXUAL"],
        )
    indicator_services.recompute_full(trigger="test")


def _client(cast, who):
    return token_client(getattr(cast, who))[0]


def _cells(body: dict):
    for row in body["rows"]:
        yield from row["cells"]
        yield row["total"]
    yield from body["column_totals"]
    yield body["grand_total"]


def _no_small_value_published(body: dict) -> bool:
    return all(cell["value"] is None or not 0 < cell["value"] < K for cell in _cells(body))


def _row_labels(body: dict) -> dict[str, str]:
    return {row["key"][0]: row["labels"][0] for row in body["rows"]}


def _published(measure: str, dims: list[str], key: tuple, **years):
    """What an analyst is shown for the exact cell ``key`` (the selectors' count with its cell key)."""
    from indicators import disclosure, selectors

    return disclosure.protect_count(selectors.crosstab(measure=measure, dims=dims, **years).get(key, 0), k=K)


def _cell(body: dict, key: list[str], column: str = "count") -> dict:
    columns = [c["code"] for c in body["columns"]]
    for row in body["rows"]:
        if row["key"] == key:
            return row["cells"][columns.index(column)]
    raise KeyError(key)


@pytest.mark.parametrize("who", ["analyst_a", "analyst_b", "officer_a", "admin_a"])
def test_small_counts_are_shown_as_less_than_k(cast, indicators, who):
    response = _client(cast, who).get("/api/v1/indicators/crosstab/?measure=accredited&dims=sex&year_from=2024")
    assert response.status_code == 200
    body = response.json()
    girls = _cell(body, ["F"])
    # A true 3: what it is published as depends on its cell key, the same wherever it appears.
    assert girls["display"] == _published("accredited", ["sex"], ("F",), year_from=2024).display
    assert body["exact"] is False
    assert body["disclosure_threshold"] == K
    assert _no_small_value_published(body)
    # The total is a perturbed cell of its own, so total minus the other cells does not give the small count.
    assert abs(body["grand_total"]["value"] - 15) <= settings.DISCLOSURE_MAX_DEVIATION


@pytest.mark.parametrize("who", ["coordinator_a", "coordinator_b"])
def test_coordinators_see_exact_counts(cast, indicators, who):
    body = _client(cast, who).get("/api/v1/indicators/crosstab/?measure=accredited&dims=sex&year_from=2024").json()
    assert _cell(body, ["F"]) == {"value": 3, "display": "3", "status": "shown"}
    assert _cell(body, ["M"])["value"] == 12
    assert body["grand_total"]["value"] == 15
    assert body["exact"] is True


def test_two_and_three_way_tables(cast, indicators):
    analyst = _client(cast, "analyst_a")
    two = analyst.get("/api/v1/indicators/crosstab/?measure=accredited&dims=sex,nationality").json()
    assert two["row_dimensions"] == ["sex"] and two["column_dimension"] == "nationality"
    assert _cell(two, ["F"], "NI")["display"] == _published("accredited", ["sex", "nationality"], ("F", "NI")).display
    assert abs(int(_cell(two, ["M"], "CR")["display"]) - 12) <= settings.DISCLOSURE_MAX_DEVIATION
    assert _no_small_value_published(two)
    three = analyst.get("/api/v1/indicators/crosstab/?measure=accredited&dims=sex,age_group,exploitation_form").json()
    assert three["row_dimensions"] == ["sex", "age_group"]
    three_girls = _published("accredited", ["sex", "age_group", "exploitation_form"], ("F", "12-17", "SEXUAL"))
    assert _cell(three, ["F", "12-17"], "SEXUAL")["display"] == three_girls.display  # the three girls of 16
    assert three["additive"] is False  # the form of exploitation is multi-valued
    assert _no_small_value_published(three)
    coordinator = _client(cast, "coordinator_a")
    exact = coordinator.get("/api/v1/indicators/crosstab/?measure=accredited&dims=sex,nationality").json()
    assert _cell(exact, ["F"], "NI")["value"] == 3
    assert _cell(exact, ["F"], "CR")["value"] == 6


def test_by_year_with_filters(cast, indicators):
    analyst = _client(cast, "analyst_a")
    body = analyst.get("/api/v1/indicators/by-year/?measure=accredited&sex=F").json()
    assert [row["key"] for row in body["rows"]] == [["2023"], ["2024"]]
    assert (
        _cell(body, ["2024"])["display"]
        == _published("accredited", ["sex"], ("F",), year_from=2024, year_to=2024).display
    )
    assert _no_small_value_published(body)
    assert body["filters"] == {"sex": "F"}
    exact = _client(cast, "coordinator_a").get("/api/v1/indicators/by-year/?measure=accredited&sex=F").json()
    assert [_cell(exact, [y])["value"] for y in ("2023", "2024")] == [6, 3]


def test_labels_follow_the_language(cast, indicators):
    analyst = _client(cast, "analyst_a")
    spanish = analyst.get("/api/v1/indicators/crosstab/?dims=sex").json()
    analyst.cookies["django_language"] = "en"
    english = analyst.get("/api/v1/indicators/crosstab/?dims=sex").json()
    assert _row_labels(spanish) == {"F": "Mujer", "M": "Hombre"}
    assert _row_labels(english) == {"F": "Female", "M": "Male"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("dims=sex,age_group,nationality,institution", "dims"),
        ("dims=no_such_dimension", "dims"),
        ("dims=sex,age_group&nationality=NI&institution=INAMU", "detail"),
        ("dims=sex&measure=nothing", "measure"),
        ("dims=sex&year_from=abc", "year_from"),
        ("", "dims"),
    ],
)
def test_refused_questions_say_why(cast, indicators, query, field):
    response = _client(cast, "analyst_a").get(f"/api/v1/indicators/crosstab/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_catalogue_and_dimension_values(cast, indicators):
    analyst = _client(cast, "analyst_a")
    catalogue = analyst.get("/api/v1/indicators/").json()
    assert catalogue["years"] == [2023, 2024]
    assert catalogue["disclosure_threshold"] == K and catalogue["exact"] is False
    assert {"received", "accredited", "accredited_persons"} <= {m["name"] for m in catalogue["measures"]}
    assert all(m["definition"] for m in catalogue["measures"])
    sex = analyst.get("/api/v1/indicators/dimensions/sex/").json()
    assert {"F", "M", ""} <= {v["code"] for v in sex["values"]}
    assert analyst.get("/api/v1/indicators/dimensions/nothing/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/indicators/",
        "/api/v1/indicators/dimensions/sex/",
        "/api/v1/indicators/by-year/",
        "/api/v1/indicators/crosstab/?dims=sex",
    ],
)
def test_indicator_matrix(cast, indicators, url):
    outcome = {}
    for name, user in cast.users().items():
        client = APIClient() if user is None else token_client(user)[0]
        outcome[name] = client.get(url).status_code
    expected = dict.fromkeys(outcome, 200)
    expected.update(nobody=403, anonymous=401)
    assert outcome == expected


def test_indicators_carry_no_record_or_identity(cast, indicators):
    response = _client(cast, "coordinator_a").get("/api/v1/indicators/crosstab/?dims=institution")
    keys: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            keys.update(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(response.json())
    assert not keys & {"id", "person", "person_key", "case_reference", "narrative", "identity", "application"}
    assert '"T-' not in response.content.decode()  # no case reference among the values either
