"""The recompute against counts computed independently from the records (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import holidays
import pytest
from django.conf import settings
from django.utils import timezone

from indicators import selectors, services
from indicators.models import ApplicationFact, ApplicationFactValue, MaskBit, RecomputeRun
from records.models import Application, Status
from records.scopes import scopes_disabled

from .indicator_factories import application, person

# Messages are checked by content here; their Spanish is checked with the catalogue.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CURRENT_YEAR = timezone.localdate().year


def _age_group(age):
    if age is None:
        return ""
    for lo, hi, code in [
        (0, 11, "0-11"),
        (12, 17, "12-17"),
        (18, 24, "18-24"),
        (25, 34, "25-34"),
        (35, 44, "35-44"),
        (45, 59, "45-59"),
    ]:
        if lo <= age <= hi:
            return code
    return "60+"


def _nationality(app):
    first = app.nationalities.order_by("id").first()
    return first.country if first else ""


def _business_days(start: date, end: date) -> int:
    # Written apart from records.deadlines on purpose (an independent count), with the same kinds of holiday.
    public = holidays.country_holidays(
        settings.HOLIDAY_COUNTRY, years=range(start.year, end.year + 1), categories=settings.HOLIDAY_CATEGORIES
    )
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in public:
            days += 1
    return days


@pytest.fixture
def scenario(cast):
    inamu, pani = cast.institution_a, cast.institution_b
    # One person referred by both institutions (same pseudonymous key), accredited by both in 2024.
    x_inamu, x_pani = person(inamu, "k" * 64), person(pani, "k" * 64)
    apps = {}
    apps["x1"] = application(
        institution=inamu,
        person=x_inamu,
        received_on=date(2024, 3, 4),
        status=Status.ACCREDITED,
        decided_on=date(2024, 3, 6),
        due_on=date(2024, 3, 13),
        sex="F",
        age=15,
        nationalities=["NI"],
        forms=["SEXUAL"],
        means=["DECEPTION"],
        recruitment_methods=["SOCIAL_NETWORK"],
        residence_district="10101",
        recruitment_district="10101",
        exploitation_countries=["CR"],
        exploitation_districts=["20101"],
        mother_tongue="spa",
    )
    apps["x2"] = application(
        institution=pani,
        person=x_pani,
        received_on=date(2024, 5, 6),
        status=Status.ACCREDITED,
        decided_on=date(2024, 5, 20),
        due_on=date(2024, 5, 15),
        sex="F",
        age=15,
        nationalities=["NI", "CR"],
        forms=["SEXUAL", "LABOUR"],
        recruitment_methods=["SOCIAL_NETWORK"],
        recruitment_country="NI",
        exploitation_countries=["CR", "PA"],
    )
    apps["no"] = application(
        institution=inamu,
        received_on=date(2024, 6, 3),
        status=Status.NOT_ACCREDITED,
        decided_on=date(2024, 6, 5),
        due_on=date(2024, 6, 12),
        sex="M",
        age=30,
        nationalities=["CR"],
        forms=["LABOUR"],
    )
    apps["open"] = application(
        institution=inamu,
        received_on=date(2023, 12, 11),
        status=Status.UNDER_REVIEW,
        due_on=date(2023, 12, 20),
        sex="F",
        age=40,
        nationalities=["NI"],
    )
    apps["cross_year"] = application(
        institution=pani,
        received_on=date(2023, 12, 18),
        status=Status.ACCREDITED,
        decided_on=date(2024, 1, 8),
        due_on=date(2024, 1, 5),
        sex="F",
        age=10,
        nationalities=["NI"],
        forms=["LABOUR"],
        exploitation_countries=["PA"],
    )
    apps["draft"] = application(institution=inamu, received_on=date(2024, 2, 1), status=Status.DRAFT, sex="F", age=20)
    apps["withdrawn"] = application(
        institution=pani, received_on=date(2024, 2, 2), status=Status.WITHDRAWN, sex="M", age=50
    )
    for i in range(12):
        apps[f"bulk{i}"] = application(
            institution=inamu if i % 3 else pani,
            received_on=date(2024, 7, 1) + timedelta(days=i * 7),
            status=Status.ACCREDITED if i % 4 else Status.NOT_ACCREDITED,
            decided_on=date(2024, 7, 3) + timedelta(days=i * 7 + i % 5),
            due_on=date(2024, 7, 10) + timedelta(days=i * 7),
            sex="F" if i % 2 else "M",
            age=[9, 16, 22, 33, 41, 70][i % 6],
            nationalities=[["NI"], ["CR"], ["VE"], []][i % 4],
            forms=[["SEXUAL"], ["LABOUR"], ["SEXUAL", "BEGGING"]][i % 3],
            means=[["FRAUD"], []][i % 2],
            gender_identity=None if i % 5 == 0 else "WOMAN",
        )
    return apps


def _counted():
    return Application.all_objects.exclude(status=Status.DRAFT)


def test_yearly_measures_match_the_records(scenario):
    run = services.recompute_full(trigger="test")
    assert run.outcome == RecomputeRun.Outcome.SUCCESS
    apps = list(_counted())
    received = Counter(a.received_on.year for a in apps)
    accredited = Counter(a.decided_on.year for a in apps if a.status == Status.ACCREDITED)
    not_accredited = Counter(a.decided_on.year for a in apps if a.status == Status.NOT_ACCREDITED)
    assert selectors.measure_by_year(measure="received") == dict(received)
    assert selectors.measure_by_year(measure="accredited") == dict(accredited)
    assert selectors.measure_by_year(measure="not_accredited") == dict(not_accredited)
    assert selectors.measure_by_year(measure="decided") == dict(accredited + not_accredited)
    # Drafts count nowhere; the withdrawn application was received.
    assert ApplicationFact.objects.filter(application_id=scenario["draft"].pk).count() == 0
    assert received[2024] == 4 + 12  # x1, x2, no, withdrawn (the draft is left out) and the 12 bulk ones
    assert selectors.years_available()[0] == 2023
    assert selectors.data_as_of() == run.started_at


def test_pending_at_year_end(scenario):
    services.recompute_full()
    pending = selectors.measure_by_year(measure="pending")
    # "cross_year" was pending on 31 Dec 2023 (decided in January); "open" at every year end since 2023.
    assert pending[2023] == 2
    for year in range(2024, CURRENT_YEAR + 1):
        assert pending[year] == 1
    assert selectors.measure_by_year(measure="overdue") == {2023: 1}


def test_distinct_persons_across_institutions(scenario):
    services.recompute_full()
    accredited_2024 = [a for a in _counted() if a.status == Status.ACCREDITED and a.decided_on.year == 2024]
    keys = {a.person.person_key or a.person_id for a in accredited_2024}
    assert selectors.measure_by_year(measure="accredited")[2024] == len(accredited_2024)
    assert selectors.measure_by_year(measure="accredited_persons")[2024] == len(keys) == len(accredited_2024) - 1
    # Per institution the duplicated person counts in each (distinct within the cell) ...
    by_institution = selectors.crosstab(
        measure="accredited_persons", dims=["institution"], year_from=2024, year_to=2024
    )
    expected = Counter()
    for code in ("INAMU", "PANI"):
        expected[code] = len(
            {a.person.person_key or a.person_id for a in accredited_2024 if a.institution.code == code}
        )
    assert by_institution == {(k,): v for k, v in expected.items() if v}
    # ... and once in a cell both applications fall in (girls of 12-17, Nicaraguan).
    cell = selectors.crosstab(
        measure="accredited_persons", dims=["sex", "age_group", "nationality"], year_from=2024, year_to=2024
    )
    assert cell[("F", "12-17", "NI")] == 1
    assert (
        selectors.crosstab(
            measure="accredited", dims=["sex", "age_group", "nationality"], year_from=2024, year_to=2024
        )[("F", "12-17", "NI")]
        == 2
    )


def test_one_two_and_three_way_cells_match_the_records(scenario):
    services.recompute_full()
    accredited = [a for a in _counted() if a.status == Status.ACCREDITED]
    by_sex = Counter(a.sex.code if a.sex else "" for a in accredited)
    assert selectors.crosstab(measure="accredited", dims=["sex"]) == {(k,): v for k, v in by_sex.items()}
    two = Counter((a.institution.code, _age_group(a.age_at_application)) for a in accredited)
    assert selectors.crosstab(measure="accredited", dims=["institution", "age_group"]) == dict(two)
    three = Counter(
        (_nationality(a), a.sex.code if a.sex else "", _age_group(a.age_at_application))
        for a in accredited
        if a.decided_on.year == 2024
    )
    got = selectors.crosstab(
        measure="accredited", dims=["nationality", "sex", "age_group"], year_from=2024, year_to=2024
    )
    assert got == dict(three)
    forms = Counter(f.code for a in accredited for f in a.exploitation_forms.all())
    forms[""] = sum(1 for a in accredited if not a.exploitation_forms.exists())
    assert selectors.crosstab(measure="accredited", dims=["exploitation_form"]) == {
        (k,): v for k, v in forms.items() if v
    }
    # The heat-map pair of two multi-valued facts.
    pairs = Counter((f.code, m.code) for a in accredited for f in a.exploitation_forms.all() for m in a.means.all())
    got = selectors.crosstab(measure="accredited", dims=["exploitation_form", "means"])
    assert {k: v for k, v in got.items() if "" not in k} == dict(pairs)


def test_filters_and_the_glotip_question(scenario):
    services.recompute_full()
    # "Accredited victims in 2024 who were girls of Nicaraguan nationality recruited through social networks."
    answer = selectors.measure_by_year(
        measure="accredited",
        year_from=2024,
        year_to=2024,
        filters={"victim_group": "GIRL", "nationality": "NI", "recruitment_method": "SOCIAL_NETWORK"},
    )
    expected = sum(
        1
        for a in _counted()
        if a.status == Status.ACCREDITED
        and a.decided_on.year == 2024
        and a.sex
        and a.sex.code == "F"
        and a.age_at_application < 18
        and _nationality(a) == "NI"
        and a.recruitment_methods.filter(code="SOCIAL_NETWORK").exists()
    )
    assert answer == {2024: expected} and expected == 2
    assert selectors.measure_by_year(measure="received", filters={"institution": "PANI"}) == dict(
        Counter(a.received_on.year for a in _counted() if a.institution.code == "PANI")
    )


def test_places_and_flows(scenario):
    services.recompute_full()
    flows = selectors.flows(year_from=2024, year_to=2024)
    # x1: recruited in San José province, exploited in Alajuela province (CR with a district);
    # x2: recruited in Nicaragua, exploited in Costa Rica (no district known) and Panama.
    assert flows[("CR-SJ", "CR-A")] == 1
    assert flows[("NI", "CR")] == 1
    assert flows[("NI", "PA")] == 1
    assert flows[("", "PA")] == 1  # cross_year: no place of recruitment recorded
    # The province of exploitation is a bit of the fact's mask; places and countries are bridge rows.
    fact = ApplicationFact.objects.get(application_id=scenario["x1"].pk)
    assert fact.exploitation_province_mask == MaskBit.objects.get(dimension="exploitation_province", code="2").bit
    assert set(
        ApplicationFactValue.objects.filter(application_id=scenario["x2"].pk).values_list("dimension", "code")
    ) == {
        ("exploitation_country", "CR"),
        ("exploitation_country", "PA"),
        ("exploitation_place", "CR"),
        ("exploitation_place", "PA"),
    }
    assert (
        selectors.crosstab(measure="accredited", dims=["exploitation_province"], year_from=2024, year_to=2024)[("2",)]
        == 1
    )


def test_timeliness_matches_the_records(scenario):
    services.recompute_full()
    decided = [a for a in _counted() if a.status in (Status.ACCREDITED, Status.NOT_ACCREDITED)]
    days = sorted(_business_days(a.received_on, a.decided_on) for a in decided if a.decided_on.year == 2024)
    within = sum(1 for a in decided if a.decided_on.year == 2024 and a.decided_on <= a.due_on)
    middle = len(days) // 2
    median = days[middle] if len(days) % 2 else (days[middle - 1] + days[middle]) / 2
    got = selectors.timeliness_by_year(year_from=2024, year_to=2024)[2024]
    assert got["decided"] == len(days)
    assert got["within_deadline"] == within
    assert got["share_within_deadline"] == pytest.approx(within / len(days))
    assert got["median_business_days"] == median
    by_institution = selectors.timeliness_by_year(year_from=2024, year_to=2024, filters={"institution": "PANI"})
    assert by_institution[2024]["decided"] == sum(
        1 for a in decided if a.decided_on.year == 2024 and a.institution.code == "PANI"
    )


def test_profiles_and_completeness(scenario):
    services.recompute_full()
    top = selectors.profiles(year_from=2024, year_to=2024, limit=3)
    assert top[0] == ("F", "12-17", "NI", "SEXUAL", 2)
    assert len(top) == 3 and all(row[-1] >= top[-1][-1] for row in top)
    quality = selectors.completeness(year_from=2024, year_to=2024)
    inamu = quality[("INAMU", 2024)]
    inamu_apps = [a for a in _counted() if a.institution.code == "INAMU" and a.received_on.year == 2024]
    assert inamu["total"] == len(inamu_apps)
    assert inamu["fields"]["gender_identity"] == sum(1 for a in inamu_apps if a.gender_identity_id)
    assert inamu["fields"]["means"] == sum(1 for a in inamu_apps if a.means.exists())
    assert inamu["fields"]["sex"] == len(inamu_apps)


def test_refused_combinations_explain_themselves(scenario):
    services.recompute_full()
    with pytest.raises(ValueError, match="three"):
        selectors.crosstab(measure="received", dims=["sex", "age_group", "nationality", "education"])
    with pytest.raises(ValueError, match="three"):
        selectors.crosstab(
            measure="received", dims=["sex", "age_group", "nationality"], filters={"institution": "PANI"}
        )
    with pytest.raises(ValueError, match="not available"):
        selectors.crosstab(measure="received", dims=["residence_district", "sex"])
    with pytest.raises(ValueError):
        selectors.crosstab(measure="nonsense", dims=["sex"])
    assert not selectors.is_available(dims=["means", "control_method"])
    assert selectors.is_available(dims=["exploitation_form", "means"])


def test_timeliness_by_a_profile_dimension(scenario):
    services.recompute_full()
    decided = [a for a in _counted() if a.status in (Status.ACCREDITED, Status.NOT_ACCREDITED)]
    girls_and_women = [a for a in decided if a.decided_on.year == 2024 and a.sex and a.sex.code == "F"]
    got = selectors.timeliness_by_year(year_from=2024, year_to=2024, filters={"sex": "F"})[2024]
    assert got["decided"] == len(girls_and_women)
    assert got["within_deadline"] == sum(1 for a in girls_and_women if a.decided_on <= a.due_on)
    with pytest.raises(ValueError):
        selectors.timeliness_by_year(filters={"exploitation_form": "SEXUAL"})


# --- Canton of recruitment ----------------------------------------------------------------------------------

RECRUITMENT_DISTRICTS = ["10101", "10201", "20101", "30101", None]


def _recruitment_canton(app) -> str:
    return app.recruitment_district.canton_id if app.recruitment_district_id else ""


def _recruited_in_cantons(scenario):
    """Give the bulk applications districts of recruitment in several cantons (and none for some)."""
    for i in range(12):
        district = RECRUITMENT_DISTRICTS[i % len(RECRUITMENT_DISTRICTS)]
        Application.all_objects.filter(pk=scenario[f"bulk{i}"].pk).update(recruitment_district_id=district)


def _expected_recruitment_cantons():
    apps = list(_counted().select_related("recruitment_district", "person"))
    accredited = Counter(_recruitment_canton(a) for a in apps if a.status == Status.ACCREDITED)
    received_2024 = Counter(_recruitment_canton(a) for a in apps if a.received_on.year == 2024)
    persons = {}
    for a in apps:
        if a.status == Status.ACCREDITED and a.decided_on.year == 2024:
            persons.setdefault(_recruitment_canton(a), set()).add(a.person.person_key or a.person_id)
    return (
        {(k,): v for k, v in accredited.items()},
        {(k,): v for k, v in received_2024.items()},
        {(k,): len(v) for k, v in persons.items()},
    )


def _recruitment_canton_cells():
    return (
        selectors.crosstab(measure="accredited", dims=["recruitment_canton"]),
        selectors.crosstab(measure="received", dims=["recruitment_canton"], year_from=2024, year_to=2024),
        selectors.crosstab(measure="accredited_persons", dims=["recruitment_canton"], year_from=2024, year_to=2024),
    )


def test_recruitment_cantons_match_the_records(scenario):
    _recruited_in_cantons(scenario)
    services.recompute_full()
    accredited, received, persons = _expected_recruitment_cantons()
    assert _recruitment_canton_cells() == (accredited, received, persons)
    # x1 recruited in San José (canton 101); x2 in Nicaragua: no canton, but the country.
    assert ApplicationFact.objects.get(application_id=scenario["x1"].pk).recruitment_canton == "101"
    assert ApplicationFact.objects.get(application_id=scenario["x2"].pk).recruitment_canton == ""
    assert {k[0] for k in accredited} >= {"101", "102", "201", "301", ""}
    # Like the canton of residence: a map, never crossed (a small count plus a canton can identify a person).
    assert selectors.is_available(dims=["recruitment_canton"])
    for other in ("sex", "recruitment_province", "recruitment_place", "institution"):
        assert not selectors.is_available(dims=["recruitment_canton", other])


def test_recruitment_cantons_follow_a_changed_application(scenario):
    """The difference by application (old cells out, new in) keeps the canton counts equal to the records."""
    _recruited_in_cantons(scenario)
    services.recompute_full()
    moved = scenario["bulk1"]  # accredited, recruited in canton 102
    Application.all_objects.filter(pk=moved.pk).update(recruitment_district_id="70101")
    services.recompute_mark_dirty(application_ids=[moved.pk])
    run = services.recompute_pending(trigger="test")
    assert run.kind == RecomputeRun.Kind.INCREMENTAL and run.outcome == RecomputeRun.Outcome.SUCCESS
    assert _recruitment_canton_cells() == _expected_recruitment_cantons()
    assert selectors.crosstab(measure="accredited", dims=["recruitment_canton"])[("701",)] == 1


class _SchemaEditor:
    """What the migration's data step uses of a schema editor, on the test's connection (SQLite refuses a real
    schema editor inside the test's transaction)."""

    def __init__(self, connection):
        self.connection = connection

    def quote_name(self, name):
        return self.connection.ops.quote_name(name)

    def execute(self, sql):
        with self.connection.cursor() as cursor:
            cursor.execute(sql)


def test_migration_to_recruitment_cantons_makes_the_next_recompute_full(scenario):
    """Indicators built before the new dimension hold no recruitment_canton cells; the migration empties the
    facts and marks their years, so the next recompute, even one asked for a single application, is full."""
    import importlib

    from django.apps import apps as django_apps
    from django.db import connection

    from indicators.models import IndicatorCell, PendingRecompute

    _recruited_in_cantons(scenario)
    services.recompute_full()
    IndicatorCell.objects.filter(cell_set="recruitment_canton").delete()  # as built before the migration
    years = set(ApplicationFact.objects.values_list("received_year", flat=True))
    years |= set(ApplicationFact.objects.exclude(decided_year=None).values_list("decided_year", flat=True))
    migration = importlib.import_module("indicators.migrations.0005_recruitment_canton")

    migration.rebuild_on_next_recompute(django_apps, _SchemaEditor(connection))

    assert not ApplicationFact.objects.exists() and not ApplicationFactValue.objects.exists()
    assert services.pending_years() == sorted(years)
    services.recompute_mark_dirty(application_ids=[scenario["x1"].pk])
    with scopes_disabled():  # as its task and command run it (records/scopes.py): it reads every record
        run = services.recompute_pending(trigger="test")
    assert run.kind == RecomputeRun.Kind.FULL and run.outcome == RecomputeRun.Outcome.SUCCESS
    assert not PendingRecompute.objects.exists()
    assert _recruitment_canton_cells() == _expected_recruitment_cantons()
