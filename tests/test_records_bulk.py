"""The bulk writer shared by the import and the demo seeder (records/bulk.py): what goes in comes back out, on
whichever database the suite runs (COPY's text format on PostgreSQL, multi-row INSERTs on SQLite)."""

import datetime

import pytest
from django.utils import timezone

from records import bulk, demo
from records.models import Application, ApplicationEvent, Person, Status
from records.scopes import scopes_disabled

pytestmark = pytest.mark.django_db


@pytest.fixture
def application_id() -> int:
    with scopes_disabled():
        demo.seed(applications=1, seed=1)
        return Application.all_objects.get().pk


def test_insert_rows_keeps_text_and_instants_as_given(application_id):
    """Tabs, line breaks and backslashes survive COPY's escapes; a timestamp given as an aware datetime or as an
    ISO 8601 string with its offset (as the seeder writes them) is stored as the same instant, not stamped now."""
    awkward = "línea 1\nlínea 2\r\n\tsangría \\N y C:\\ruta"
    instant = datetime.datetime(2019, 3, 4, 15, 30, tzinfo=datetime.UTC)
    rows = [
        (application_id, Status.DRAFT, Status.SUBMITTED, instant, None, awkward),
        (application_id, Status.SUBMITTED, Status.UNDER_REVIEW, "2019-03-05T09:15:00-06:00", None, ""),
    ]
    columns = ["application_id", "from_status", "to_status", "at", "by_id", "comment"]
    before = set(ApplicationEvent.objects.values_list("pk", flat=True))

    assert bulk.insert_rows(ApplicationEvent, columns, iter(rows)) == 2

    written = ApplicationEvent.objects.exclude(pk__in=before).order_by("at")
    assert [(e.comment, e.at) for e in written] == [
        (awkward, instant),
        ("", datetime.datetime(2019, 3, 5, 15, 15, tzinfo=datetime.UTC)),
    ]
    assert all(timezone.is_aware(e.at) for e in written)


def test_reservations_never_hand_out_a_key_twice(application_id):
    """Keys reserved and not (yet) used are not handed out again by the same reservations: the seeder reserves a
    person per application and leaves some unused when people return."""
    ids = bulk.IdReservations()
    first = ids.take(Person, 3)
    second = ids.take(Person, 2)
    taken = set(Person.objects.values_list("pk", flat=True))
    assert len(set(first) | set(second)) == 5
    assert not (set(first) | set(second)) & taken
    assert ids.take(Person, 0) == []
