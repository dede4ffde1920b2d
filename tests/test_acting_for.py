"""Two rules of accounts.access that used to be restated elsewhere: which institution an officer acts for
(``acting_institution``: fails closed with a 400 and a Spanish message when an officer of several institutions
does not name one of theirs) and who reads case records (``reads_records``: officers and coordinators)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import access
from accounts.models import Institution
from records.models import Application

from .cast import confirmed_membership
from .test_records_forms import form_data
from .test_records_scopes import project_apps


def _second_membership(cast) -> None:
    confirmed_membership(user=cast.officer_a, institution=cast.institution_b, role="officer")
    cast.officer_a.__dict__.pop("_conatt_memberships", None)


def test_an_officer_of_one_institution_acts_for_it(cast):
    assert access.acting_institution(cast.officer_a) == cast.institution_a
    assert access.acting_institution(cast.officer_a, "INAMU") == cast.institution_a
    assert access.acting_institution(cast.officer_a, str(cast.institution_a.pk), by="pk") == cast.institution_a


def test_an_officer_of_several_must_name_one_of_theirs(cast):
    _second_membership(cast)
    with pytest.raises(access.InstitutionChoiceRefused) as refused:
        access.acting_institution(cast.officer_a)
    assert "INAMU" in refused.value.message and "PANI" in refused.value.message
    with pytest.raises(access.InstitutionChoiceRefused):
        access.acting_institution(cast.officer_a, "OIJ")
    assert access.acting_institution(cast.officer_a, "PANI") == cast.institution_b


def test_someone_without_the_role_acts_for_no_institution(cast):
    for user in (cast.analyst_a, cast.coordinator_a, cast.nobody):
        with pytest.raises(PermissionDenied):
            access.acting_institution(user)


def test_the_page_refuses_a_save_that_names_no_institution_of_theirs(cast):
    _second_membership(cast)
    client = cast.client_for(cast.officer_a)
    url = reverse("records:application_create")
    unnamed = client.post(url, form_data())
    assert unnamed.status_code == 400
    html = unnamed.content.decode()
    assert "Usted es funcionario/a de varias instituciones" in html and "¿Para qué institución?" in html
    other = Institution.objects.exclude(pk__in=[cast.institution_a.pk, cast.institution_b.pk]).first()
    assert client.post(url, {**form_data(), "institution": other.pk}).status_code == 400
    assert not Application.all_objects.exists()
    chosen = client.post(url, {**form_data(), "institution": cast.institution_b.pk})
    assert chosen.status_code == 302
    assert Application.all_objects.get().institution == cast.institution_b


def test_an_officer_of_one_institution_cannot_post_for_another(cast):
    """It used to fall back silently to the officer's own institution."""
    response = cast.client_for(cast.officer_a).post(
        reverse("records:application_create"), {**form_data(), "institution": cast.institution_b.pk}
    )
    assert response.status_code == 400
    assert "Usted no es funcionario/a de esta institución." in response.content.decode()
    assert not Application.all_objects.exists()


@pytest.mark.parametrize(
    ("who", "reads"),
    [
        ("officer_a", True),
        ("coordinator_b", True),
        ("analyst_a", False),
        ("admin_a", False),
        ("nobody", False),
    ],
)
def test_officers_and_coordinators_read_records(cast, who, reads):
    assert access.reads_records(getattr(cast, who)) is reads


def test_the_records_roles_are_not_restated_outside_access():
    """Officers-and-coordinators as a pair of role names belongs to accounts.access.reads_records. A longer list
    that holds both (the roles that need a second factor, or a second admin) is another rule and is left alone."""
    names = r"(?:[\"'](?:officer|coordinator)[\"']|Role\.(?:OFFICER|COORDINATOR))"
    pair = re.compile(rf"{names}\s*,\s*{names}")
    found = []
    for folder in sorted(project_apps()):
        for path in (Path(settings.BASE_DIR) / folder).rglob("*.py"):
            if "migrations" in path.parts or path.name == "access.py":
                continue
            text = path.read_text(encoding="utf-8")
            for match in pair.finditer(text):
                before, after = text[: match.start()].rstrip(), text[match.end() :].lstrip()
                if not before.endswith(",") and not after.startswith(","):
                    found.append(f"{path.relative_to(settings.BASE_DIR)}:{text.count(chr(10), 0, match.start()) + 1}")
    assert found == []
