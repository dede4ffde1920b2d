"""Helpers for the API tests: records made directly (test fixtures, not the workflow under test), token
clients, and the cast's URL x role matrix expectations."""

from __future__ import annotations

import datetime
import itertools

from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tokens import api_token_create
from records.models import Application, Code, CodeList, Identity, Person, Status

_refs = itertools.count(1)


def make_application(institution, *, status: str = Status.SUBMITTED, received_on=None, **extra) -> Application:
    person = Person.objects.create(institution=institution)
    Identity.objects.create(person=person, given_names="Ana", family_names="Secreta", document_number="1-2345-6789")
    application = Application.all_objects.create(
        institution=institution,
        case_reference=f"T-{next(_refs)}",
        person=person,
        received_on=received_on or datetime.date(2024, 3, 1),
        status=status,
        narrative="Relato confidencial",
        sex=Code.objects.filter(list=CodeList.SEX).first(),
        **extra,
    )
    return application


def token_client(user, *, days: int = 30) -> tuple[APIClient, str]:
    _, key = api_token_create(user=user, name="test", days=days)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def fresh_throttles() -> None:
    cache.clear()
