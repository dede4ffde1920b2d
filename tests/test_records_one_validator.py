"""Issue 14, point 5: the form, the import, the API and the services check an application's values with ONE
validator (records.validation.application_values_check). The same invalid values are fed through all four and
each refuses them with the same messages on the same fields. (Before, the import wrote a Costa Rican district of
recruitment together with a foreign country, which the form refused, and its age limit was its own literal.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone, translation

from records import facts, services
from records.forms import ApplicationForm
from records.imports import parsing, samples
from records.imports import services as import_services
from records.imports.columns import BY_KEY, HEADER_INDEX, header_key
from records.models import Canton, District, Province
from records.validation import application_values_check

from . import records_factories as rf
from .api_support import fresh_throttles, token_client

pytestmark = pytest.mark.django_db

RECEIVED = dt.date(2025, 3, 3)

# Each case: invalid values in the model's terms (places by code), and the field -> codes expected.
CASES = {
    "district in Costa Rica and a foreign country of recruitment": (
        {"recruitment_district": "10101", "recruitment_country": "NI"},
        {"recruitment_country": ["place_and_abroad"]},
    ),
    "age 111": ({"age_at_application": 111, "birth_date": None}, {"age_at_application": ["age_range"]}),
    "birth after receipt": ({"birth_date": dt.date(2025, 3, 10)}, {"birth_date": ["birth_after_receipt"]}),
    "future date of receipt": ({"received_on": "future"}, {"received_on": ["future"]}),
    "canton not in province": (
        {"residence_province": "2", "residence_canton": "101", "residence_district": None},
        {"residence_canton": ["canton_not_in_province"]},
    ),
    "document type without number": (
        {"document_type": "passport", "document_number": ""},
        {"document_number": ["document_number_missing"]},
    ),
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _case(name: str) -> dict:
    values = dict(CASES[name][0])
    if values.get("received_on") == "future":
        values["received_on"] = timezone.localdate() + dt.timedelta(days=10)
    return values


def _base() -> dict:
    """Valid values in the model's terms, places by code."""
    return {
        "case_reference": "SAME-1",
        "received_on": RECEIVED,
        "document_type": "passport",
        "document_number": "P-123",
        "birth_date": dt.date(2000, 5, 17),
        "age_at_application": None,
        "recruitment_district": None,
        "recruitment_country": "",
        "residence_province": "1",
        "residence_canton": "101",
        "residence_district": "10101",
    }


def _text(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _through_form(cast, values: dict) -> dict:
    data = {name: _text(value) for name, value in values.items()}
    data |= {
        "exploitation_forms": [str(rf.code("exploitation_form", "SEXUAL").pk)],
        "sex": str(rf.code("sex", "F").pk),
        "nationalities": ["NI"],
    }
    form = ApplicationForm(data, institution=cast.institution_a)
    assert not form.is_valid()
    return {name: [str(m) for m in messages] for name, messages in form.errors.items()}


def _through_import(cast, values: dict) -> dict:
    row = samples.sample_rows(1)[0]
    for name, value in values.items():
        row[BY_KEY[name].es] = value.strftime("%d/%m/%Y") if isinstance(value, dt.date) else _text(value)
    row["distrito_reclutamiento"] = row.get("distrito_reclutamiento", "")
    parsed = parsing.open_parsed(samples.to_csv([row]), name="same.csv")
    outcome = import_services.import_rows(
        parsed=parsed, institution=cast.institution_a, user=cast.officer_a, write=True
    )
    assert not outcome.written
    errors: dict = {}
    for error in outcome.errors.items:
        errors.setdefault(HEADER_INDEX[header_key(error.column)].key, []).append(error.message)
    return errors


def _through_api(cast, values: dict) -> dict:
    fresh_throttles()
    client, _key = token_client(cast.officer_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    payload = {name: _text(v) if isinstance(v, dt.date) else v for name, v in values.items()}
    identity = {name: payload.pop(name) for name in facts.IDENTITY_FIELDS if name in payload}
    payload |= {"identity": identity, "exploitation_forms": ["SEXUAL"], "sex": "F", "nationalities": ["NI"]}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = client.post("/api/v1/applications/", payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    return {**{k: v for k, v in body.items() if k != "identity"}, **body.get("identity", {})}


_MODELS = {"province": Province, "canton": Canton, "district": District}


def _through_service(cast, values: dict) -> dict:
    rows = {}
    for name, value in values.items():
        level = name.rsplit("_", 1)[-1]
        rows[name] = _MODELS[level].objects.get(code=value) if level in _MODELS and value else value
    identity = rf.identity(**{k: v for k, v in rows.items() if k in facts.IDENTITY_FIELDS})
    application = rf.values(**{k: v for k, v in rows.items() if k not in facts.IDENTITY_FIELDS})
    with pytest.raises(services.InvalidValues) as refused:
        services.application_create(
            user=cast.officer_a, institution=cast.institution_a, values=application, identity=identity
        )
    return {name: [p.message for p in problems] for name, problems in refused.value.errors.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_the_same_values_are_refused_the_same_way_everywhere(cast, case):
    values = _base() | _case(case)
    expected_codes = CASES[case][1]
    problems = application_values_check(values)
    assert {name: [p.code for p in found] for name, found in problems.items()} == expected_codes
    expected = {name: [p.message for p in found] for name, found in problems.items()}
    assert _through_form(cast, values) == expected
    through_import = _through_import(cast, values)
    if case == "future date of receipt":
        # The import refuses it while reading the cell, and says what it read.
        [message] = through_import["received_on"]
        assert message.endswith("which is after today") and list(through_import) == ["received_on"]
    else:
        assert through_import == expected
    assert _through_api(cast, values) == expected
    assert _through_service(cast, values) == expected


def test_the_age_limit_is_declared_once(cast):
    from records import forms, models

    assert forms.MAX_AGE == facts.MAX_AGE
    constraint = next(c for c in models.Application._meta.constraints if c.name == "application_age_range")
    assert ("age_at_application__lte", facts.MAX_AGE) in constraint.condition.children
    # The import reads an age as a number and leaves its range to the one validator.
    assert application_values_check({"age_at_recruitment": facts.MAX_AGE + 1})["age_at_recruitment"][0].code == (
        "age_range"
    )
