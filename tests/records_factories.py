"""Helpers for the records tests: complete application data and applications in any workflow state, made
through the services (so every test starts from states the portal itself can reach)."""

from __future__ import annotations

import datetime as dt
import itertools

from records import services
from records.models import Code, CodeList, Decision, District

_counter = itertools.count(1)
RECEIVED = dt.date(2025, 3, 3)  # a Monday with no holiday in the following two weeks


def code(list_name: str, value: str) -> Code:
    return Code.objects.get(list=list_name, code=value)


def values(**overrides) -> dict:
    """Application values as the form hands them to the services: enough to submit."""
    n = next(_counter)
    data = {
        "case_reference": f"REF-{n:05d}",
        "received_on": RECEIVED,
        "relationship_to_trafficker": code(CodeList.RELATIONSHIP_TO_TRAFFICKER, "ACQUAINTANCE"),
        "recruitment_district": District.objects.get(code="10101"),
        "recruitment_country": "",
        "age_at_application": None,
        "age_at_recruitment": 16,
        "sex": code(CodeList.SEX, "F"),
        "gender_identity": code(CodeList.GENDER_IDENTITY, "WOMAN"),
        "migration_status": code(CodeList.MIGRATION_STATUS, "NATIONAL"),
        "education_level": None,
        "occupation": None,
        "residence_district": District.objects.get(code="10102"),
        "mother_tongue": None,
        "narrative": "Relato confidencial de prueba",
        "exploitation_forms": [code(CodeList.EXPLOITATION_FORM, "SEXUAL")],
        "sexual_exploitation_types": [code(CodeList.SEXUAL_EXPLOITATION_TYPE, "PROSTITUTION")],
        "labour_sectors": [],
        "means": [code(CodeList.MEANS, "DECEPTION")],
        "acts": [code(CodeList.ACT, "RECRUITMENT")],
        "recruitment_methods": [code(CodeList.RECRUITMENT_METHOD, "SOCIAL_NETWORK")],
        "control_methods": [],
        "exploitation_districts": [District.objects.get(code="10101")],
        "nationalities": ["CR"],
        "exploitation_countries": ["CR"],
    }
    data.update(overrides)
    return data


def identity(**overrides) -> dict:
    n = next(_counter)
    data = {
        "given_names": "Zoraida",
        "family_names": f"Quintanilla Secreta {n}",
        "document_type": "national_id",
        "document_number": f"9-{n:04d}-7777",
        "birth_date": dt.date(2000, 5, 17),
        "phone": "8888-0000",
        "email": "",
        "address": "Calle Falsa 123",
    }
    data.update(overrides)
    return data


def make_application(cast, *, owner=None, state: str = "DRAFT", identity_data=None, **value_overrides):
    """An application of ``owner``'s institution (officer_a by default) brought to ``state`` through the
    services: DRAFT, SUBMITTED, UNDER_REVIEW, INFO_REQUESTED, ACCREDITED, NOT_ACCREDITED or WITHDRAWN."""
    owner = owner or cast.officer_a
    institution = owner.memberships.get().institution
    application = services.application_create(
        user=owner,
        institution=institution,
        values=values(**value_overrides),
        identity=identity_data or identity(),
    )
    if state == "DRAFT":
        return application
    if state == "WITHDRAWN":
        return services.application_withdraw(user=owner, application=application, reason="test")
    application = services.application_submit(user=owner, application=application)
    if state == "SUBMITTED":
        return application
    coordinator = cast.coordinator_a
    application = services.application_start_review(user=coordinator, application=application)
    if state == "UNDER_REVIEW":
        return application
    if state == "INFO_REQUESTED":
        return services.information_request(user=coordinator, application=application, message="¿Fecha exacta?")
    outcome = state
    decide(cast, application, outcome=outcome)
    application.refresh_from_db()
    return application


def decide(cast, application, *, outcome=Decision.Outcome.ACCREDITED, number=None, date=None):
    favour, against = (4, 1) if outcome == Decision.Outcome.ACCREDITED else (1, 4)
    return services.decision_record(
        user=cast.coordinator_a,
        application=application,
        resolution_number=number or f"ERI-T-{next(_counter):05d}",
        resolution_date=date or application.received_on + dt.timedelta(days=3),
        votes_in_favour=favour,
        votes_against=against,
        abstentions=0,
        outcome=outcome,
        reasons="Motivos de prueba",
    )
