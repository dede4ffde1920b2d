"""Issue 14, point 1: in Spanish, the edit page filled its date inputs with dd/mm/yyyy, which the browser's date
input rejects (it showed them empty), so saving an unchanged application failed or erased the birth date. Here an
officer opens an application in Spanish in a real browser and saves it unchanged: nothing stored changes, and the
history records no change. The new-application page shows today's date in its date input.

Playwright drives Debian's chromium; skipped (not errors) where Playwright or chromium is missing
(tests/browser_support.py)."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from records.models import Application, Identity
from tests.browser_support import needs_browser
from tests.records_factories import identity, make_application

pytestmark = needs_browser


@pytest.fixture
def browser(chromium_browser):
    return chromium_browser


def _page_for(browser, live_server, cast, user):
    client = cast.client_for(user)
    context = browser.new_context(locale="es-CR")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]  # fmt: skip
    )
    return context.new_page()


def _stored(application: Application) -> dict:
    """Everything an edit can change: the application's columns, its facts and places, its identity row."""
    application = Application.all_objects.get(pk=application.pk)
    row = {
        f.attname: getattr(application, f.attname)
        for f in Application._meta.concrete_fields
        if f.attname not in ("version", "updated_at")
    }
    for name in ("exploitation_forms", "means", "acts", "recruitment_methods", "exploitation_districts"):
        row[name] = sorted(getattr(application, name).values_list("pk", flat=True))
    row["nationalities"] = sorted(application.nationalities.values_list("country", flat=True))
    person_identity = Identity.objects.get(person_id=application.person_id)
    row["identity"] = {f.attname: getattr(person_identity, f.attname) for f in Identity._meta.concrete_fields}
    return row


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_saving_unchanged_in_spanish_changes_nothing(live_server, cast, browser):
    application = make_application(cast, identity_data=identity(birth_date=datetime.date(1997, 11, 30)))
    before = _stored(application)
    assert before["age_at_application"] == 27 and before["identity"]["birth_date"] is not None
    history_before = application.history.count()

    page = _page_for(browser, live_server, cast, cast.officer_a)
    page.goto(live_server.url + reverse("records:application_edit", args=[application.pk]))
    assert page.locator("html").get_attribute("lang") == "es"
    # The browser shows the stored dates (an input holding a value it cannot read shows empty).
    assert page.input_value("#id_received_on") == "2025-03-03"
    assert page.input_value("#id_birth_date") == "1997-11-30"
    page.click("form#application-form button.btn-primary")
    page.wait_for_load_state()
    assert "/edit/" not in page.url, page.locator("main").inner_text()

    after = _stored(application)
    assert after == before
    application.refresh_from_db()
    assert application.version == 2  # it was saved, and saved unchanged
    newest, previous = application.history.order_by("-history_id")[:2]
    assert application.history.count() == history_before + 1
    assert newest.diff_against(previous, excluded_fields=["version"]).changes == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_new_application_shows_todays_date_in_spanish(live_server, cast, browser):
    page = _page_for(browser, live_server, cast, cast.officer_a)
    page.goto(live_server.url + reverse("records:application_create"))
    assert page.input_value("#id_received_on") == timezone.localdate().isoformat()
