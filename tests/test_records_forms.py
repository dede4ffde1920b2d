"""Each form check, shown next to its field; the registration page in use (with and without JavaScript); the
narrowing place selects."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from records.forms import ApplicationForm, DecisionForm
from records.models import Application, Code, CodeList, Decision, District

from . import records_factories as f
from .records_factories import make_application


def form_data(**overrides) -> dict:
    """What a browser posts for a complete registration."""
    c = f.code
    data = {
        "case_reference": "INAMU-2025-001",
        "received_on": "2025-03-03",
        "given_names": "Prueba",
        "family_names": "Ficticia",
        "document_type": "national_id",
        "document_number": "1-1111-1111",
        "birth_date": "2001-02-03",
        "exploitation_forms": [c(CodeList.EXPLOITATION_FORM, "SEXUAL").pk],
        "means": [c(CodeList.MEANS, "DECEPTION").pk],
        "recruitment_province": "1",
        "recruitment_canton": "101",
        "recruitment_district": "10101",
        "exploitation_countries": ["CR"],
        "exploitation_districts": ["10101", "10102"],
        "sex": c(CodeList.SEX, "F").pk,
        "nationalities": ["CR", "NI"],
        "residence_province": "2",
        "residence_canton": "201",
        "residence_district": "20101",
        "mother_tongue": "spa",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def bound(cast, **overrides):
    form = ApplicationForm(form_data(**overrides), institution=cast.institution_a)
    form.is_valid()
    return form


def test_complete_form_is_valid_and_derives_the_age(cast):
    form = bound(cast)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["age_at_application"] == 24


FIELD_CHECKS = [
    ({"received_on": "2999-01-01"}, "received_on", "future"),
    ({"birth_date": "2999-01-01"}, "birth_date", "future"),
    ({"birth_date": "2025-05-01"}, "birth_date", "after receipt"),
    ({"birth_date": "1900-01-01"}, "birth_date", "age range"),
    ({"birth_date": None, "age_at_application": "111"}, "age_at_application", "age range"),
    ({"birth_date": None, "age_at_application": "-1"}, "age_at_application", "age range"),
    ({"age_at_recruitment": "30"}, "age_at_recruitment", "greater than at application"),
    ({"recruitment_district": "20101"}, "recruitment_district", "district not in canton"),
    ({"recruitment_canton": "201"}, "recruitment_canton", "canton not in province"),
    ({"residence_canton": None, "residence_district": "10101"}, "residence_district", "district not in province"),
    ({"document_number": ""}, "document_number", "document without number"),
    ({"document_type": "none"}, "document_type", "number without document type"),
    ({"recruitment_country": "NI"}, "recruitment_country", "both district and country"),
    ({"exploitation_forms": None}, "exploitation_forms", "required"),
]


@pytest.mark.parametrize(("overrides", "field", "why"), FIELD_CHECKS, ids=[w for _, _, w in FIELD_CHECKS])
def test_each_check_reports_next_to_its_field(cast, overrides, field, why):
    form = bound(cast, **overrides)
    assert not form.is_valid()
    assert field in form.errors, (why, form.errors)


def test_age_limits_are_inclusive(cast):
    assert bound(cast, birth_date=None, age_at_application="0", age_at_recruitment="0").is_valid()
    assert bound(cast, birth_date=None, age_at_application="110").is_valid()


def test_duplicate_case_reference_in_the_same_institution(cast):
    make_application(cast, case_reference="INAMU-2025-001")
    assert "case_reference" in bound(cast).errors
    other = ApplicationForm(form_data(), institution=cast.institution_b)
    assert other.is_valid(), other.errors  # another institution may use the same number


def test_retired_code_is_not_offered_but_stays_valid_on_old_records(cast):
    retired = f.code(CodeList.MEANS, "TECHNOLOGY")
    application = make_application(cast, means=[retired])
    Code.objects.filter(pk=retired.pk).update(active=False)
    assert retired not in ApplicationForm(institution=cast.institution_a).fields["means"].queryset
    assert retired in ApplicationForm(institution=cast.institution_a, application=application).fields["means"].queryset


def test_error_is_rendered_next_to_the_field_with_aria(cast):
    client = cast.client_for(cast.officer_a)
    with translation.override("en"):
        response = client.post(reverse("records:application_create"), form_data(recruitment_district="20101"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_recruitment_district_error"' in html
    assert 'aria-describedby="id_recruitment_district_error"' in html
    assert not Application.all_objects.exists()


def test_officer_registers_and_submits_through_the_pages(cast):
    client = cast.client_for(cast.officer_a)
    page = client.get(reverse("records:application_create"))
    assert page.status_code == 200
    html = page.content.decode()
    for fieldset in ("fs-case", "fs-identity", "fs-facts", "fs-places", "fs-profile"):
        assert f'id="{fieldset}"' in html
    assert 'lang="es"' in html  # Spanish by default
    response = client.post(reverse("records:application_create"), form_data())
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    application = Application.all_objects.get()
    assert application.institution == cast.institution_a
    assert application.status == "DRAFT"
    assert application.age_at_application == 24 and application.birth_date_known
    assert sorted(application.nationalities.values_list("country", flat=True)) == ["CR", "NI"]
    assert application.exploitation_districts.count() == 2
    assert application.person.identity.document_number == "1-1111-1111"
    assert application.person.person_key
    response = client.post(reverse("records:application_submit", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "SUBMITTED"
    assert application.due_on == dt.date(2025, 3, 12)


def test_place_selects_narrow_on_the_server_without_javascript(cast):
    client = cast.client_for(cast.officer_a)
    data = form_data(recruitment_province="5", recruitment_canton=None, recruitment_district=None, _refresh="1")
    response = client.post(reverse("records:application_create"), data)
    assert response.status_code == 200
    assert not Application.all_objects.exists()  # a refresh saves nothing
    form = response.context["form"]
    cantons = [value for value, _ in form.fields["recruitment_canton"].widget.choices if value]
    assert cantons and all(code.startswith("5") for code in cantons)  # Guanacaste's cantons only
    assert not form.is_bound  # no errors shown on a refresh
    assert 'value="INAMU-2025-001"' in response.content.decode()  # what was typed is kept

    data = form_data(recruitment_province="5", recruitment_canton="501", recruitment_district=None, _refresh="1")
    form = client.post(reverse("records:application_create"), data).context["form"]
    districts = [value for value, _ in form.fields["recruitment_district"].widget.choices if value]
    assert districts == list(District.objects.filter(canton_id="501").values_list("code", flat=True))


def test_refresh_button_is_hidden_by_the_script_and_script_is_external(cast):
    html = cast.client_for(cast.officer_a).get(reverse("records:application_create")).content.decode()
    assert 'name="_refresh"' in html and "js-hide" in html
    assert "records-geo.js" in html
    assert "<script>" not in html  # CSP: no inline script


def test_geography_endpoints(cast):
    client = cast.client_for(cast.officer_a)
    cantons = client.get(reverse("records:cantons_for_province"), {"province": "1"}).json()["options"]
    codes = [o["value"] for o in cantons if o["value"]]
    assert len(codes) == 20 and all(c.startswith("1") for c in codes)
    districts = client.get(reverse("records:districts_for_canton"), {"canton": "101"}).json()["options"]
    assert [o["value"] for o in districts if o["value"]] == list(
        District.objects.filter(canton_id="101").values_list("code", flat=True)
    )
    html = client.get(reverse("records:districts_for_canton"), {"canton": "101", "format": "html"})
    assert html.content.decode().count("<option") == 12
    unknown = client.get(reverse("records:cantons_for_province"), {"province": "99"}).json()["options"]
    assert len([o for o in unknown if o["value"]]) == 84  # an unknown province narrows nothing


# --- Decision form -------------------------------------------------------------------------------------------


def decision_form(application, **overrides):
    data = {
        "resolution_number": "ERI-2025-0001",
        "resolution_date": "2025-03-07",
        "votes_in_favour": "4",
        "votes_against": "1",
        "abstentions": "0",
        "outcome": Decision.Outcome.ACCREDITED,
        "reasons": "Cumple los elementos del tipo penal.",
    }
    data.update(overrides)
    form = DecisionForm(data, application=application)
    form.is_valid()
    return form


DECISION_CHECKS = [
    ({"resolution_date": "2025-03-02"}, "resolution_date", "before receipt"),
    ({"resolution_date": (timezone.localdate() + dt.timedelta(days=2)).isoformat()}, "resolution_date", "future"),
    ({"votes_in_favour": "2", "votes_against": "3"}, "votes_in_favour", "accredit without majority"),
    ({"votes_in_favour": "2", "votes_against": "2"}, "votes_in_favour", "tie"),
    ({"outcome": "NOT_ACCREDITED"}, "votes_in_favour", "refuse with majority in favour"),
    ({"votes_in_favour": "0", "votes_against": "0", "abstentions": "5"}, "votes_in_favour", "only abstentions"),
    ({"votes_in_favour": "-1"}, "votes_in_favour", "negative"),
    ({"reasons": ""}, "reasons", "reasons required"),
]


@pytest.mark.parametrize(("overrides", "field", "why"), DECISION_CHECKS, ids=[w for _, _, w in DECISION_CHECKS])
def test_decision_checks(cast, overrides, field, why):
    application = make_application(cast, state="UNDER_REVIEW")
    form = decision_form(application, **overrides)
    assert field in form.errors, (why, form.errors)


def test_valid_decisions(cast):
    application = make_application(cast, state="UNDER_REVIEW")
    assert decision_form(application).is_valid()
    assert decision_form(application, outcome="NOT_ACCREDITED", votes_in_favour="1", votes_against="3").is_valid()
    assert decision_form(application, votes_in_favour="3", votes_against="2", abstentions="2").is_valid()


def test_duplicate_resolution_number(cast):
    decided = make_application(cast, state="ACCREDITED")
    number = decided.decisions.get().resolution_number
    form = decision_form(make_application(cast, state="UNDER_REVIEW"), resolution_number=number)
    assert "resolution_number" in form.errors


def test_coordinator_accredits_through_the_page_and_sees_the_history(cast):
    application = make_application(cast, state="SUBMITTED")
    client = cast.client_for(cast.coordinator_a)
    queue = client.get(reverse("records:queue")).content.decode()
    assert application.case_reference in queue
    url = reverse("records:decision_record", args=[application.pk])
    data = {
        "resolution_number": "ERI-2025-0042",
        "resolution_date": "2025-03-10",
        "votes_in_favour": "5",
        "votes_against": "0",
        "abstentions": "0",
        "outcome": "ACCREDITED",
        "reasons": "Se acredita la condición de víctima.",
    }
    assert client.post(url, data).status_code == 302
    application.refresh_from_db()
    assert application.status == "ACCREDITED"
    history = client.get(reverse("records:application_history", args=[application.pk])).content.decode()
    assert "ERI-2025-0042" in history and "coordinator.eri" in history
    # A second resolution on the same page is an appeal or a correction, superseding the first.
    page = client.get(url)
    assert "kind" in page.context["form"].fields
    data.update(resolution_number="ERI-2025-0050", kind="correction", outcome="NOT_ACCREDITED")
    data.update(votes_in_favour="1", votes_against="4", resolution_date="2025-03-20")
    assert client.post(url, data).status_code == 302
    application.refresh_from_db()
    assert application.status == "NOT_ACCREDITED"
    assert application.decisions.get(resolution_number="ERI-2025-0050").supersedes.resolution_number == "ERI-2025-0042"


def test_information_request_through_the_pages_and_answer(cast):
    application = make_application(cast, state="SUBMITTED")
    coordinator = cast.client_for(cast.coordinator_a)
    url = reverse("records:information_request", args=[application.pk])
    assert coordinator.post(url, {"message": ""}).status_code == 200  # a request must say what is missing
    assert coordinator.post(url, {"message": "Falta la fecha de captación."}).status_code == 302
    officer = cast.client_for(cast.officer_a)
    detail = officer.get(reverse("records:application_detail", args=[application.pk])).content.decode()
    assert "Falta la fecha de captación." in detail
    edit = officer.get(reverse("records:application_edit", args=[application.pk]))
    assert edit.status_code == 200
    assert "Falta la fecha de captación." in edit.content.decode()  # the question is shown where it is answered
    assert officer.post(reverse("records:application_submit", args=[application.pk])).status_code == 302
    application.refresh_from_db()
    assert application.status == "SUBMITTED"


@pytest.mark.usefixtures("english")
def test_list_count_is_capped(cast, monkeypatch):
    from records import views

    monkeypatch.setattr(views, "COUNT_CAP", 2)
    for _ in range(3):
        make_application(cast, state="SUBMITTED")
    with translation.override("en"):
        response = cast.client_for(cast.coordinator_a).get(reverse("records:application_list"))
    assert response.context["page"].paginator.capped
    assert "More than 2 applications" in response.content.decode()
    assert len(response.context["page"].object_list) == 3
