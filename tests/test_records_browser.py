"""The issue's "done when", in a real browser: an officer registers and submits an application in Spanish (the
place selects narrowing through records-geo.js), a coordinator finds it in the queue with its deadline, accredits
it and reads its history, and an officer of another institution who types its URL gets 404."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from records.models import Application

from .browser_support import needs_browser

pytestmark = needs_browser


def _browser_page(browser, live_server, cast, user):
    """A browser context carrying the session of ``user`` (logged in with the second factor confirmed)."""
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


@pytest.fixture
def browser(chromium_browser):
    return chromium_browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_register_submit_accredit_and_other_institution_gets_404(live_server, cast, browser):
    officer = _browser_page(browser, live_server, cast, cast.officer_a)
    officer.goto(live_server.url + reverse("records:application_create"))
    assert officer.locator("html").get_attribute("lang") == "es"
    officer.fill("#id_case_reference", "INAMU-NAV-1")
    officer.fill("#id_received_on", "2025-04-14")
    officer.fill("#id_given_names", "Prueba")
    officer.select_option("#id_document_type", "passport")
    officer.fill("#id_document_number", "X123")
    officer.fill("#id_birth_date", "2004-01-02")
    officer.locator("input[name=exploitation_forms]").first.check()
    officer.select_option("#id_recruitment_province", "5")
    # (locator waits, not wait_for_function: the portal's CSP forbids the eval that one needs)
    officer.locator("#id_recruitment_canton option[value='101']").wait_for(state="detached")
    officer.select_option("#id_recruitment_canton", "501")
    officer.locator("#id_recruitment_district option[value='50101']").wait_for(state="attached")
    officer.select_option("#id_recruitment_district", "50101")
    officer.locator("#id_sex").select_option(index=1)
    officer.select_option("#id_nationalities", ["NI"])
    assert officer.locator("button[name=_refresh]").first.is_hidden()
    officer.click("form#application-form button.btn-primary")
    officer.wait_for_load_state()
    application = Application.all_objects.get(case_reference="INAMU-NAV-1")
    assert application.recruitment_district_id == "50101"
    officer.goto(live_server.url + reverse("records:application_submit", args=[application.pk]))
    officer.click("main form button[type=submit]")
    officer.wait_for_load_state()
    application.refresh_from_db()
    assert application.status == "SUBMITTED"

    coordinator = _browser_page(browser, live_server, cast, cast.coordinator_a)
    coordinator.goto(live_server.url + reverse("records:queue"))
    row = coordinator.locator("tr", has_text="INAMU-NAV-1")
    assert re.search(r"25/04/2025", row.inner_text())  # Holy Week skipped
    row.locator("a").click()
    coordinator.click(f"a[href='{reverse('records:decision_record', args=[application.pk])}']")
    coordinator.fill("#id_resolution_number", "ERI-NAV-1")
    coordinator.fill("#id_resolution_date", "2025-04-22")
    coordinator.fill("#id_votes_in_favour", "4")
    coordinator.fill("#id_votes_against", "1")
    coordinator.check("input[name=outcome][value=ACCREDITED]")
    coordinator.fill("#id_reasons", "Se acredita.")
    coordinator.click("main form button.btn-primary")
    coordinator.wait_for_load_state()
    application.refresh_from_db()
    assert application.status == "ACCREDITED"
    coordinator.goto(live_server.url + reverse("records:application_history", args=[application.pk]))
    assert "ERI-NAV-1" in coordinator.content()

    other = _browser_page(browser, live_server, cast, cast.officer_b)
    response = other.goto(live_server.url + reverse("records:application_detail", args=[application.pk]))
    assert response.status == 404
