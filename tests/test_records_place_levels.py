"""Issue 14, point 2: a place given only as a province or a canton (of recruitment or of residence) was silently
dropped by the form and refused by the import. It is now kept at the level given, with the coarser levels of the
finest one (always consistent), counted at that level by the indicators, and accepted by the import and the API.
A data migration gives the places stored before their province and canton, losing no record."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.test import override_settings
from django.urls import reverse

from indicators import selectors
from indicators import services as indicator_services
from indicators.models import ApplicationFact
from records.imports import parsing, samples
from records.imports import services as import_services
from records.models import Application, Canton, District, Province
from records.scopes import scopes_disabled

from .api_support import fresh_throttles, token_client
from .records_factories import RECEIVED, make_application

pytestmark = pytest.mark.django_db


def _form_data(**overrides) -> dict:
    data = {
        "case_reference": "PLACE-1",
        "received_on": "2025-03-03",
        "document_type": "none",
        "exploitation_forms": [str(pk) for pk in _codes("exploitation_form", "SEXUAL")],
        "sex": str(_codes("sex", "F")[0]),
        "nationalities": ["CR"],
    }
    data.update(overrides)
    return data


def _codes(list_name, *codes):
    from records.models import Code

    return list(Code.objects.filter(list=list_name, code__in=codes).values_list("pk", flat=True))


def test_the_form_keeps_a_province_alone_and_a_canton_alone(cast):
    client = cast.client_for(cast.officer_a)
    response = client.post(
        reverse("records:application_create"),
        _form_data(residence_province="5", recruitment_province="1", recruitment_canton="103"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    application = Application.all_objects.get(case_reference="PLACE-1")
    assert (application.residence_province_id, application.residence_canton_id) == ("5", None)
    assert application.residence_district_id is None
    assert (application.recruitment_province_id, application.recruitment_canton_id) == ("1", "103")
    # The edit page shows them again (nothing to re-enter), and the case page names them.
    edit = client.get(reverse("records:application_edit", args=[application.pk]))
    assert edit.context["form"].initial["residence_province"] == "5"
    assert edit.context["form"].initial["recruitment_canton"] == "103"
    detail = client.get(reverse("records:application_detail", args=[application.pk])).content.decode()
    assert Canton.objects.get(code="103").name in detail and Province.objects.get(code="5").name in detail


def test_a_district_fills_its_canton_and_province(cast):
    application = make_application(cast, residence_district=District.objects.get(code="20101"))
    assert (application.residence_canton_id, application.residence_province_id) == ("201", "2")
    assert (application.recruitment_canton_id, application.recruitment_province_id) == ("101", "1")


def test_a_canton_outside_its_province_is_refused_by_the_service(cast):
    from records import services

    from .records_factories import identity, values

    with pytest.raises(services.InvalidValues) as refused:
        services.application_create(
            user=cast.officer_a,
            institution=cast.institution_a,
            values=values(residence_district=None, residence_canton=Canton.objects.get(code="101"),
                          residence_province=Province.objects.get(code="2")),
            identity=identity(),
        )  # fmt: skip
    assert [p.code for p in refused.value.errors["residence_canton"]] == ["canton_not_in_province"]


def _import(cast, rows):
    parsed = parsing.open_parsed(samples.to_csv(rows), name="places.csv")
    return import_services.import_rows(parsed=parsed, institution=cast.institution_a, user=cast.officer_a, write=True)


def test_the_import_keeps_a_province_alone_and_a_canton_alone(cast):
    rows = samples.sample_rows(2)
    rows[0].update(provincia="Limón", canton="", distrito="", provincia_reclutamiento="")
    rows[1].update(canton="103", distrito="", canton_reclutamiento="San José", distrito_reclutamiento="")
    for row in rows:
        row["pais_reclutamiento"] = ""
    rows[1]["provincia_reclutamiento"] = ""
    outcome = _import(cast, rows)
    assert outcome.written, [str(e) for e in outcome.errors.items]
    first, second = (Application.all_objects.get(case_reference=r["referencia_caso"]) for r in rows)
    assert (first.residence_province_id, first.residence_canton_id, first.residence_district_id) == ("7", None, None)
    assert (second.residence_province_id, second.residence_canton_id) == ("1", "103")
    assert (second.recruitment_province_id, second.recruitment_canton_id) == ("1", "101")
    # Imported again unchanged: nothing to write (the derived levels compare equal to the stored ones).
    again = _import(cast, rows)
    assert (again.unchanged, again.updated, again.new) == (2, 0, 0)


def test_the_api_accepts_a_province_alone(cast):
    fresh_throttles()
    client, _key = token_client(cast.officer_a)
    payload = {
        "case_reference": "API-PLACE",
        "received_on": "2025-03-03",
        "exploitation_forms": ["SEXUAL"],
        "sex": "F",
        "nationalities": ["CR"],
        "residence_province": "3",
        "recruitment_canton": "101",
    }
    response = client.post("/api/v1/applications/", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["residence_province"], body["residence_canton"], body["residence_district"]) == ("3", None, None)
    assert (body["recruitment_province"], body["recruitment_canton"]) == ("1", "101")
    # A PATCH naming a district of another province replaces the whole place.
    patch = client.patch(
        f"/api/v1/applications/{body['id']}/",
        {"version": body["version"], "residence_district": "20101"},
        format="json",
    )
    assert patch.status_code == 200, patch.json()
    assert (patch.json()["residence_province"], patch.json()["residence_canton"]) == ("2", "201")


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_the_indicators_count_a_place_at_the_level_given(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_application(
            cast, state="SUBMITTED", residence_district=None, residence_province=Province.objects.get(code="5"),
            recruitment_district=None, recruitment_canton=Canton.objects.get(code="103"),
        )  # fmt: skip
        indicator_services.recompute_full()
    fact = ApplicationFact.objects.get()
    assert (fact.residence_province, fact.residence_canton, fact.residence_district) == ("5", "", "")
    assert (fact.recruitment_province, fact.recruitment_canton, fact.recruitment_country) == ("1", "103", "CR")
    assert fact.recruitment_place == Province.objects.get(code="1").iso_3166_2
    year = RECEIVED.year
    assert selectors.measure_by_year(measure="received", filters={"residence_province": "5"}) == {year: 1}


def test_the_data_migration_fills_the_levels_of_stored_places_and_loses_nothing(cast):
    kept = make_application(cast, residence_district=District.objects.get(code="20101"))
    abroad = make_application(cast, recruitment_district=None, recruitment_country="NI", residence_district=None)
    # As stored before the levels existed: districts only.
    Application.all_objects.update(
        residence_canton=None, residence_province=None, recruitment_canton=None, recruitment_province=None
    )
    Application.history.update(residence_canton=None, residence_province=None)
    migration = importlib.import_module("records.migrations.0008_application_place_levels_from_district")
    with scopes_disabled():  # the live models' manager is scoped; a migration reads every record, for no user
        migration.fill(django_apps, None)
    kept.refresh_from_db()
    abroad.refresh_from_db()
    assert Application.all_objects.count() == 2
    assert (kept.residence_province_id, kept.residence_canton_id, kept.residence_district_id) == ("2", "201", "20101")
    assert (kept.recruitment_province_id, kept.recruitment_canton_id) == ("1", "101")
    assert (abroad.recruitment_province_id, abroad.residence_province_id, abroad.recruitment_country) == (
        None,
        None,
        "NI",
    )
    assert kept.history.first().residence_canton_id == "201"
