"""Every records URL against every member of the cast: another institution's case is 404 on every page, a role
without the right is 403, an anonymous visitor goes to the login page."""

import pytest
from django.urls import reverse

from accounts.models import AccessEvent
from records import services

from .records_factories import make_application

LOGIN = "login"
CASE_ROLES_403 = {"analyst_a": 403, "analyst_b": 403, "admin_a": 403, "admin_b": 403, "nobody": 403}


def expect(**overrides):
    base = {"anonymous": LOGIN, **CASE_ROLES_403}
    base.update(overrides)
    return base


def row(name, state, method, owner, other_officer, coordinators, admins=403):
    """One URL tried on officer_a's case in ``state``: what officer_a (the owner), officer_b (another
    institution), both coordinators and both admins get; analysts and ``nobody`` always 403, anonymous login."""
    expected = expect(officer_a=owner, officer_b=other_officer, coordinator_a=coordinators, coordinator_b=coordinators)
    expected.update(admin_a=admins, admin_b=admins)
    return (name, state, method, expected)


MATRIX = [
    row("application_list", None, "get", 200, 200, 200),
    row("application_create", None, "get", 200, 200, 403),
    row("queue", None, "get", 403, 403, 200),
    row("application_detail", "SUBMITTED", "get", 200, 404, 200),
    row("application_detail", "DRAFT", "get", 200, 404, 404),  # coordinators never see a draft
    row("application_edit", "INFO_REQUESTED", "get", 200, 404, 403),
    row("application_edit", "DRAFT", "get", 200, 404, 404),
    row("application_identity", "SUBMITTED", "get", 200, 404, 200),
    row("application_submit", "DRAFT", "get", 200, 404, 404),
    row("application_submit", "SUBMITTED", "get", 200, 404, 403),
    row("application_withdraw", "SUBMITTED", "get", 200, 404, 403),
    row("application_history", "SUBMITTED", "get", 200, 404, 200),
    row("application_history", "ACCREDITED", "get", 200, 404, 200),
    row("decision_record", "UNDER_REVIEW", "get", 403, 404, 200),
    row("decision_record", "ACCREDITED", "get", 403, 404, 200),
    row("information_request", "SUBMITTED", "get", 403, 404, 200),
    row("application_start_review", "SUBMITTED", "post", 403, 404, 302),
    row("application_sharing", "SUBMITTED", "get", 403, 403, 403, admins=200),
    row("cantons_for_province", None, "get", 200, 200, 200),
    row("districts_for_canton", None, "get", 200, 200, 200),
]
MEMBERS = ["officer_a", "officer_b", "coordinator_a", "coordinator_b", "analyst_a", "analyst_b", "admin_a", "admin_b"]
MEMBERS += ["nobody", "anonymous"]


@pytest.mark.parametrize(("name", "state", "method", "expected"), MATRIX, ids=[f"{r[0]}-{r[1]}" for r in MATRIX])
def test_url_role_institution_matrix(cast, name, state, method, expected):
    """Each URL against every cast member; one case per URL, the whole row compared at once so a failure shows
    every cell that differs."""
    args = [make_application(cast, state=state).pk] if state else []
    url = reverse(f"records:{name}", args=args)
    got = {}
    for member in MEMBERS:
        response = getattr(cast.client_for(cast.users()[member]), method)(url)
        if response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")):
            got[member] = LOGIN
        else:
            got[member] = response.status_code
    assert got == expected


def test_unknown_case_is_404_for_every_entitled_role(cast):
    for member in ("officer_a", "coordinator_a"):
        client = cast.client_for(getattr(cast, member))
        for name in ("application_detail", "application_identity", "application_history", "decision_record"):
            assert client.get(reverse(f"records:{name}", args=[999999])).status_code == 404
    admin = cast.client_for(cast.admin_a)
    assert admin.get(reverse("records:application_sharing", args=[999999])).status_code == 404


def test_other_institution_gets_404_on_every_write_too(cast):
    """POSTs from officer_b change nothing on officer_a's case and reveal nothing."""
    application = make_application(cast, state="DRAFT")
    client = cast.client_for(cast.officer_b)
    for name in ("application_edit", "application_submit", "application_withdraw"):
        assert client.post(reverse(f"records:{name}", args=[application.pk]), {"reason": "x"}).status_code == 404
    application.refresh_from_db()
    assert application.status == "DRAFT"
    assert application.version == 1


def test_forbidden_access_is_logged_without_data(cast):
    client = cast.client_for(cast.analyst_a)
    assert client.get(reverse("records:application_list")).status_code == 403
    event = AccessEvent.objects.filter(user=cast.analyst_a, action=AccessEvent.Action.ACCESS_DENIED).get()
    assert event.detail == "records:application_list"


def test_shared_case_is_visible_to_the_granted_institution_only(cast):
    application = make_application(cast, state="SUBMITTED")
    services.application_share(user=cast.admin_a, application=application, institution=cast.institution_b)
    officer_b = cast.client_for(cast.officer_b)
    assert officer_b.get(reverse("records:application_detail", args=[application.pk])).status_code == 200
    assert officer_b.get(reverse("records:application_identity", args=[application.pk])).status_code == 200
    # Shared to see, not to edit, decide or read the institution's audit trail.
    assert officer_b.get(reverse("records:application_edit", args=[application.pk])).status_code == 403
    assert officer_b.get(reverse("records:application_history", args=[application.pk])).status_code == 403
    assert officer_b.get(reverse("records:decision_record", args=[application.pk])).status_code == 403
