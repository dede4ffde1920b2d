"""seed_demo on SQLite (the embedded default): plausible, complete, consistent, obviously fake. Timings of the
1M-row PostgreSQL load are in bench/seed_demo.py, not here."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F

from records.models import (
    Application,
    ApplicationNationality,
    Code,
    CodeList,
    Decision,
    Identity,
    Person,
    Status,
)

N = 3000


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module inside a transaction that is rolled back afterwards, so the other test modules
    find the database as they expect it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", applications=N, seed=7, stdout=StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


pytestmark = pytest.mark.usefixtures("seeded")


@pytest.mark.django_db
def test_counts_and_years():
    assert Application.all_objects.count() == N
    years = set(Application.all_objects.values_list("received_on__year", flat=True))
    assert years == set(range(2015, 2026))


@pytest.mark.django_db
def test_every_code_of_every_case_list_is_used():
    fk = ["relationship_to_trafficker", "sex", "gender_identity", "migration_status", "education_level", "occupation"]
    used = set()
    for name in fk:
        used |= set(Application.all_objects.values_list(f"{name}_id", flat=True))
    for name in ("exploitation_forms", "sexual_exploitation_types", "labour_sectors", "means", "acts"):
        used |= set(Application.all_objects.values_list(f"{name}__id", flat=True))
    for name in ("recruitment_methods", "control_methods"):
        used |= set(Application.all_objects.values_list(f"{name}__id", flat=True))
    case_lists = set(CodeList.values) - {CodeList.APPLICATION_STATUS, CodeList.AGE_GROUP}
    unused = Code.objects.filter(list__in=case_lists).exclude(pk__in=used)
    assert list(unused.values_list("list", "code")) == []


@pytest.mark.django_db
def test_nationalities_weighted_to_the_region():
    top = list(ApplicationNationality.objects.values("country").annotate(n=Count("id")).order_by("-n")[:2])
    assert [row["country"] for row in top] == ["CR", "NI"]


@pytest.mark.django_db
def test_decisions_are_consistent_with_the_workflow():
    decided = Application.all_objects.filter(status__in=[Status.ACCREDITED, Status.NOT_ACCREDITED])
    assert decided.count() > N // 2
    assert not decided.filter(decisions__isnull=True).exists()
    assert not decided.filter(decided_on__lt=F("received_on")).exists()
    for decision in Decision.objects.filter(superseded_by__isnull=True)[:500]:
        if decision.outcome == Decision.Outcome.ACCREDITED:
            assert decision.votes_in_favour > decision.votes_against
        else:
            assert decision.votes_against > decision.votes_in_favour
    assert Decision.objects.filter(kind=Decision.Kind.APPEAL, supersedes__isnull=False).exists()
    assert Application.all_objects.filter(status=Status.SUBMITTED).exclude(due_on=None).exists()
    assert not Application.all_objects.filter(status=Status.DRAFT).exclude(due_on=None).exists()


@pytest.mark.django_db
def test_some_people_are_referred_by_two_institutions():
    shared = (
        Person.objects.exclude(person_key="")
        .values("person_key")
        .annotate(institutions=Count("institution", distinct=True))
        .filter(institutions__gt=1)
    )
    assert shared.exists()


@pytest.mark.django_db
def test_identity_data_are_obviously_fake():
    assert set(Identity.objects.values_list("given_names", flat=True)) == {"PERSONA"}
    numbers = Identity.objects.exclude(document_number="").values_list("document_number", flat=True)
    assert all(n.startswith("DEMO-") for n in numbers)


@pytest.mark.django_db
def test_if_empty_does_nothing_when_applications_exist():
    out = StringIO()
    call_command("seed_demo", applications=10, if_empty=True, stdout=out)
    assert Application.all_objects.count() == N
    assert "nothing done" in out.getvalue()
