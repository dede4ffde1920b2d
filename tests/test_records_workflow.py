"""The ERI workflow: every transition, every refused one (with its reason), decisions and their corrections,
the concurrent-edit refusal, identity views logged, sharing, and duplicates across institutions."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation

from accounts.models import AccessEvent
from records import services
from records.models import ApplicationEvent, Decision, Status

from . import records_factories as f
from .cast import confirmed_membership, make_user
from .records_factories import decide, make_application

ALL_STATES = ["DRAFT", "SUBMITTED", "UNDER_REVIEW", "INFO_REQUESTED", "ACCREDITED", "NOT_ACCREDITED", "WITHDRAWN"]


def statuses(application):
    return list(application.events.order_by("at", "id").values_list("from_status", "to_status"))


# --- Transitions that are allowed ----------------------------------------------------------------------------


def test_full_life_of_an_application(cast):
    application = make_application(cast)
    assert application.status == Status.DRAFT
    assert application.due_on is None
    application = services.application_submit(user=cast.officer_a, application=application)
    assert application.status == Status.SUBMITTED
    assert application.submitted_at is not None
    assert application.due_on == dt.date(2025, 3, 12)  # 7 business days after Monday 3 March 2025
    application = services.application_start_review(user=cast.coordinator_a, application=application)
    assert application.status == Status.UNDER_REVIEW
    application = services.information_request(user=cast.coordinator_a, application=application, message="¿Edad?")
    assert application.status == Status.INFO_REQUESTED
    assert application.due_on is None  # the clock is stopped (DEADLINE_PAUSES_ON_INFORMATION_REQUEST)
    application = services.application_update(
        user=cast.officer_a,
        application=application,
        version=application.version,
        values=f.values(case_reference=application.case_reference, age_at_recruitment=15),
        identity=f.identity(),
    )
    application = services.application_submit(user=cast.officer_a, application=application)
    assert application.status == Status.SUBMITTED
    assert application.due_on is not None
    decision = decide(cast, application, date=dt.date(2025, 3, 10))
    application.refresh_from_db()
    assert application.status == Status.ACCREDITED
    assert application.decided_on == dt.date(2025, 3, 10)
    assert decision.recorded_by == cast.coordinator_a
    assert statuses(application) == [
        ("", "DRAFT"),
        ("DRAFT", "SUBMITTED"),
        ("SUBMITTED", "UNDER_REVIEW"),
        ("UNDER_REVIEW", "INFO_REQUESTED"),
        ("INFO_REQUESTED", "SUBMITTED"),
        ("SUBMITTED", "UNDER_REVIEW"),
        ("UNDER_REVIEW", "ACCREDITED"),
    ]


@pytest.mark.parametrize("state", ["DRAFT", "SUBMITTED", "UNDER_REVIEW", "INFO_REQUESTED"])
def test_withdraw_from_every_open_state(cast, state):
    application = make_application(cast, state=state)
    application = services.application_withdraw(
        user=cast.officer_a, application=application, reason="La persona desiste"
    )
    assert application.status == Status.WITHDRAWN
    assert application.events.last().comment == "La persona desiste"


def test_not_accredited_decision(cast):
    application = make_application(cast, state="NOT_ACCREDITED")
    assert application.status == Status.NOT_ACCREDITED
    assert application.decisions.get().outcome == Decision.Outcome.NOT_ACCREDITED


def test_correction_is_a_new_resolution_superseding_the_old(cast):
    application = make_application(cast, state="NOT_ACCREDITED")
    original = application.decisions.get()
    appeal = services.decision_correct(
        user=cast.coordinator_b,
        application=application,
        kind=Decision.Kind.APPEAL,
        resolution_number="ERI-APEL-1",
        resolution_date=original.resolution_date + dt.timedelta(days=10),
        votes_in_favour=5,
        votes_against=0,
        abstentions=1,
        outcome=Decision.Outcome.ACCREDITED,
        reasons="Recurso acogido",
    )
    application.refresh_from_db()
    assert application.status == Status.ACCREDITED
    assert appeal.supersedes == original
    assert services.current_decision(application) == appeal
    assert application.decisions.count() == 2  # the first resolution stays on record
    assert application.decided_on == original.resolution_date  # time to decision counts the first decision
    assert application.history.count() > 1


# --- Transitions that are refused ----------------------------------------------------------------------------

REFUSED = [
    ("submit", ["SUBMITTED", "UNDER_REVIEW", "ACCREDITED", "NOT_ACCREDITED", "WITHDRAWN"], "not_submittable"),
    ("withdraw", ["ACCREDITED", "NOT_ACCREDITED", "WITHDRAWN"], "closed"),
    ("start_review", ["UNDER_REVIEW", "INFO_REQUESTED", "ACCREDITED", "NOT_ACCREDITED", "WITHDRAWN"], "not_submitted"),
    ("request", ["INFO_REQUESTED", "ACCREDITED", "NOT_ACCREDITED", "WITHDRAWN"], "not_in_review"),
    ("decide", ["ACCREDITED", "NOT_ACCREDITED", "WITHDRAWN"], "not_decidable"),
    ("decide", ["INFO_REQUESTED"], "waiting"),
    ("correct", ["SUBMITTED", "UNDER_REVIEW", "INFO_REQUESTED", "WITHDRAWN"], "not_decided"),
    ("update", ["SUBMITTED", "UNDER_REVIEW", "ACCREDITED", "NOT_ACCREDITED", "WITHDRAWN"], "not_editable"),
]


def _attempt(cast, action, application):
    if action == "submit":
        return services.application_submit(user=cast.officer_a, application=application)
    if action == "withdraw":
        return services.application_withdraw(user=cast.officer_a, application=application)
    if action == "start_review":
        return services.application_start_review(user=cast.coordinator_a, application=application)
    if action == "request":
        return services.information_request(user=cast.coordinator_a, application=application, message="?")
    if action == "decide":
        return decide(cast, application)
    if action == "update":
        return services.application_update(
            user=cast.officer_a, application=application, version=application.version, values=f.values(), identity={}
        )
    return services.decision_correct(
        user=cast.coordinator_a,
        application=application,
        kind=Decision.Kind.CORRECTION,
        resolution_number="ERI-C-1",
        resolution_date=application.received_on,
        votes_in_favour=3,
        votes_against=0,
        abstentions=0,
        outcome=Decision.Outcome.ACCREDITED,
        reasons="x",
    )


@pytest.mark.parametrize(
    ("action", "state", "code"), [(a, s, c) for a, states, c in REFUSED for s in states], ids=lambda v: str(v)
)
def test_refused_transition_says_why_and_changes_nothing(cast, action, state, code):
    application = make_application(cast, state=state)
    before = (application.status, application.version, application.events.count(), application.decisions.count())
    with translation.override("en"), pytest.raises(services.TransitionRefused) as refused:
        _attempt(cast, action, application)
    assert refused.value.code == code
    assert refused.value.message  # a sentence for the user
    application.refresh_from_db()
    assert (application.status, application.version, application.events.count(), application.decisions.count()) == (
        before
    )


def test_refusal_message_is_in_spanish_by_default(cast):
    application = make_application(cast, state="ACCREDITED")
    with translation.override("es"), pytest.raises(services.TransitionRefused) as refused:
        services.application_withdraw(user=cast.officer_a, application=application)
    assert "Acreditada" in refused.value.message or "Accredited" in refused.value.message


def test_incomplete_draft_cannot_be_submitted(cast):
    application = make_application(cast, sex=None, nationalities=[], exploitation_forms=[])
    with translation.override("en"), pytest.raises(services.TransitionRefused) as refused:
        services.application_submit(user=cast.officer_a, application=application)
    assert refused.value.code == "incomplete"
    assert "sex" in refused.value.message and "nationality" in refused.value.message


def test_refused_transition_through_the_page_shows_the_reason(cast):
    application = make_application(cast, state="ACCREDITED")
    client = cast.client_for(cast.officer_a)
    with translation.override("en"):
        response = client.post(
            reverse("records:application_withdraw", args=[application.pk]), {"reason": "x"}, follow=True
        )
    assert response.status_code == 200
    assert "cannot be withdrawn" in response.content.decode() or "no puede retirarse" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Status.ACCREDITED


def test_decided_application_is_read_only_on_the_edit_page(cast):
    application = make_application(cast, state="ACCREDITED")
    client = cast.client_for(cast.officer_a)
    response = client.get(reverse("records:application_edit", args=[application.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("records:application_detail", args=[application.pk])


def test_services_check_rights_themselves(cast):
    application = make_application(cast, state="SUBMITTED")
    with pytest.raises(PermissionDenied):
        services.application_withdraw(user=cast.officer_b, application=application)
    with pytest.raises(PermissionDenied):
        services.application_start_review(user=cast.officer_a, application=application)
    with pytest.raises(PermissionDenied):
        services.decision_record(
            user=cast.analyst_a,
            application=application,
            resolution_number="X",
            resolution_date=application.received_on,
            votes_in_favour=3,
            votes_against=0,
            abstentions=0,
            outcome="ACCREDITED",
            reasons="x",
        )
    with pytest.raises(PermissionDenied):
        services.application_create(
            user=cast.officer_b, institution=cast.institution_a, values=f.values(), identity=f.identity()
        )
    with pytest.raises(PermissionDenied):
        services.application_share(user=cast.coordinator_a, application=application, institution=cast.institution_b)


def test_resolution_checks_in_the_service(cast):
    application = make_application(cast, state="UNDER_REVIEW")
    with pytest.raises(services.TransitionRefused) as refused:
        decide(cast, application, date=application.received_on - dt.timedelta(days=1))
    assert refused.value.code == "before_receipt"
    with pytest.raises(services.TransitionRefused) as refused:
        decide(cast, application, date=dt.date.today() + dt.timedelta(days=30))
    assert refused.value.code == "future_date"
    decide(cast, application, number="ERI-DUP")
    other = make_application(cast, state="UNDER_REVIEW")
    with pytest.raises(services.TransitionRefused) as refused:
        decide(cast, other, number="ERI-DUP")
    assert refused.value.code == "duplicate_resolution"


# --- Concurrency ---------------------------------------------------------------------------------------------


def test_second_of_two_concurrent_edits_is_refused_and_the_first_is_intact(cast):
    application = make_application(cast)
    version = application.version
    services.application_update(
        user=cast.officer_a,
        application=application,
        version=version,
        values=f.values(case_reference="PRIMERA", age_at_recruitment=14),
        identity=f.identity(given_names="Primera"),
    )
    with pytest.raises(services.ConcurrentEdit):
        services.application_update(
            user=cast.officer_a,
            application=application,
            version=version,  # built from the same page as the first edit
            values=f.values(case_reference="SEGUNDA", age_at_recruitment=12),
            identity=f.identity(given_names="Segunda"),
        )
    application.refresh_from_db()
    assert application.case_reference == "PRIMERA"
    assert application.age_at_recruitment == 14
    assert application.person.identity.given_names == "Primera"
    assert application.version == version + 1


def _form_data(application_values: dict, identity_values: dict, version: int) -> dict:
    data = {"version": version}
    for key, value in {**application_values, **identity_values}.items():
        if value is None:
            continue
        if isinstance(value, list):
            data[key] = [getattr(v, "pk", v) for v in value]
        elif hasattr(value, "pk"):
            data[key] = value.pk
        elif isinstance(value, dt.date):
            data[key] = value.isoformat()
        else:
            data[key] = value
    return data


def test_concurrent_edit_through_the_pages(cast):
    colleague = make_user("officer.inamu.2")
    confirmed_membership(user=colleague, institution=cast.institution_a, role="officer")
    application = make_application(cast)
    first, second = cast.client_for(cast.officer_a), cast.client_for(colleague)
    url = reverse("records:application_edit", args=[application.pk])
    assert first.get(url).status_code == 200
    assert second.get(url).status_code == 200
    ident = {**f.identity(), "given_names": "Uno"}
    response = first.post(url, _form_data(f.values(case_reference="UNO"), ident, application.version))
    assert response.status_code == 302
    ident2 = {**f.identity(), "given_names": "Dos"}
    with translation.override("en"):
        response = second.post(url, _form_data(f.values(case_reference="DOS"), ident2, application.version))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Somebody else saved this application" in text or "Otra persona" in text
    assert 'value="UNO"' in text  # the page now shows the first user's data
    application.refresh_from_db()
    assert application.case_reference == "UNO"
    assert application.person.identity.given_names == "Uno"


# --- Identity views are logged -------------------------------------------------------------------------------


def test_identity_view_is_logged_with_ids_only(cast):
    secret = f.identity(given_names="Hermenegilda", family_names="Zúñiga Oculta", document_number="7-0777-0777")
    application = make_application(cast, state="SUBMITTED", identity_data=secret)
    for user in (cast.officer_a, cast.coordinator_b):
        response = cast.client_for(user).get(reverse("records:application_identity", args=[application.pk]))
        assert response.status_code == 200
        assert "Hermenegilda" in response.content.decode()
    events = AccessEvent.objects.filter(action=AccessEvent.Action.IDENTITY_VIEW).order_by("id")
    assert [e.user for e in events] == [cast.officer_a, cast.coordinator_b]
    for event in events:
        assert (event.object_type, event.object_id) == ("records.application", str(application.pk))
        row = " ".join(str(v) for v in AccessEvent.objects.filter(pk=event.pk).values().get().values())
        for value in ("Hermenegilda", "Zúñiga", "0777", "Calle Falsa", "Relato confidencial"):
            assert value not in row


def test_detail_page_shows_no_identity_data_and_logs_nothing(cast):
    secret = f.identity(given_names="Hermenegilda")
    application = make_application(cast, state="SUBMITTED", identity_data=secret)
    response = cast.client_for(cast.coordinator_a).get(reverse("records:application_detail", args=[application.pk]))
    text = response.content.decode()
    assert "Hermenegilda" not in text
    assert "Relato confidencial" not in text
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.IDENTITY_VIEW).exists()


def test_edit_form_shows_identity_and_is_logged(cast):
    application = make_application(cast)
    response = cast.client_for(cast.officer_a).get(reverse("records:application_edit", args=[application.pk]))
    assert response.status_code == 200
    assert AccessEvent.objects.filter(
        action=AccessEvent.Action.IDENTITY_VIEW, object_id=str(application.pk), user=cast.officer_a
    ).exists()


def test_history_lists_identity_changes_without_values(cast):
    application = make_application(cast, identity_data=f.identity(given_names="Anterior"))
    services.application_update(
        user=cast.officer_a,
        application=application,
        version=application.version,
        values=f.values(case_reference=application.case_reference, age_at_recruitment=10),
        identity=f.identity(given_names="Posterior"),
    )
    response = cast.client_for(cast.officer_a).get(reverse("records:application_history", args=[application.pk]))
    text = response.content.decode()
    assert "Anterior" not in text and "Posterior" not in text
    assert "officer.inamu" in text  # who
    assert "16 → 10" in text  # what changed in the case facts


def test_history_renders_steps_without_a_user(cast):
    """Imported or seeded steps may have no user (the seeder's submission, for instance)."""
    application = make_application(cast, state="SUBMITTED")
    ApplicationEvent.objects.filter(application=application).update(by=None)
    response = cast.client_for(cast.coordinator_a).get(reverse("records:application_history", args=[application.pk]))
    assert response.status_code == 200
    assert response.context["entries"]


# --- Sharing -------------------------------------------------------------------------------------------------


def test_sharing_grants_and_revoke_removes_visibility_and_both_are_audited(cast):
    application = make_application(cast, state="SUBMITTED", identity_data=f.identity(given_names="Hermenegilda"))
    admin = cast.client_for(cast.admin_a)
    officer_b = cast.client_for(cast.officer_b)
    detail = reverse("records:application_detail", args=[application.pk])
    sharing = reverse("records:application_sharing", args=[application.pk])
    assert officer_b.get(detail).status_code == 404

    page = admin.get(sharing).content.decode()
    assert "Hermenegilda" not in page and "Relato confidencial" not in page
    response = admin.post(sharing, {"action": "grant", "institution": cast.institution_b.pk})
    assert response.status_code == 302
    assert officer_b.get(detail).status_code == 200
    assert application.case_reference in officer_b.get(reverse("records:application_list")).content.decode()
    assert cast.institution_b.name in admin.get(sharing).content.decode()

    response = admin.post(sharing, {"action": "revoke", "institution": cast.institution_b.pk})
    assert response.status_code == 302
    assert officer_b.get(detail).status_code == 404
    audit = list(
        AccessEvent.objects.filter(action__in=["grant", "revoke"])
        .order_by("id")
        .values_list("action", "user", "object_id")
    )
    assert audit == [("grant", cast.admin_a.pk, str(application.pk)), ("revoke", cast.admin_a.pk, str(application.pk))]


def test_sharing_refusals(cast):
    application = make_application(cast, state="SUBMITTED")
    with pytest.raises(services.TransitionRefused):
        services.application_share(user=cast.admin_a, application=application, institution=cast.institution_a)
    with pytest.raises(services.TransitionRefused):
        services.application_unshare(user=cast.admin_a, application=application, institution=cast.institution_b)
    services.application_share(user=cast.admin_a, application=application, institution=cast.institution_b)
    with pytest.raises(services.TransitionRefused):
        services.application_share(user=cast.admin_a, application=application, institution=cast.institution_b)


@pytest.mark.parametrize("state", ["DRAFT", "WITHDRAWN"])
def test_a_case_never_submitted_cannot_be_shared_by_the_service_nor_the_page(cast, state):
    """Issue 20, point 3: a draft (or a draft withdrawn without ever being submitted) is its institution's alone;
    an admin's grant is refused with a Spanish message on the page and by the service, and nothing is written."""
    from records.models import ApplicationGroupObjectPermission

    application = make_application(cast, state=state, identity_data=f.identity(given_names="Hermenegilda"))
    assert application.submitted_at is None
    with translation.override("es"), pytest.raises(services.TransitionRefused) as refused:
        services.application_share(user=cast.admin_a, application=application, institution=cast.institution_b)
    assert refused.value.code == "draft"
    spanish = "Un borrador es solo de su institución hasta que se presenta: no se puede compartir."
    assert refused.value.message == spanish

    admin = cast.client_for(cast.admin_a)
    sharing = reverse("records:application_sharing", args=[application.pk])
    page = admin.get(sharing).content.decode()
    assert "no se puede compartir" in page
    assert 'value="grant"' not in page  # no grant form to fill in
    response = admin.post(sharing, {"action": "grant", "institution": cast.institution_b.pk}, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [refused.value.message]

    assert not ApplicationGroupObjectPermission.objects.filter(content_object=application).exists()
    assert not AccessEvent.objects.filter(action="grant").exists()
    officer_b = cast.client_for(cast.officer_b)
    assert officer_b.get(reverse("records:application_detail", args=[application.pk])).status_code == 404


def test_a_grant_made_on_a_draft_before_the_rule_shows_nothing_until_it_is_submitted(cast):
    """A grant written on a draft before the service refused them (guardian directly, as an older release could)
    does not open the draft; once the owner submits the case, the grant applies."""
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    application = make_application(cast)
    group, _ = Group.objects.get_or_create(name=f"institution:{cast.institution_b.code}")
    cast.institution_b.group = group
    cast.institution_b.save(update_fields=["group"])
    assign_perm("records.view_application", group, application)
    detail = reverse("records:application_detail", args=[application.pk])
    officer_b = cast.client_for(cast.officer_b)
    assert officer_b.get(detail).status_code == 404
    services.application_submit(user=cast.officer_a, application=application)
    assert officer_b.get(detail).status_code == 200


# --- Duplicates across institutions --------------------------------------------------------------------------


def test_same_document_in_two_institutions_is_flagged_to_coordinators_only(cast):
    a = make_application(
        cast, state="SUBMITTED", identity_data=f.identity(document_number="1-0234-0567"), case_reference="INAMU-77"
    )
    b = make_application(
        cast,
        owner=cast.officer_b,
        state="SUBMITTED",
        identity_data=f.identity(document_number="102340567"),
        case_reference="PANI-88",
    )
    lone = make_application(cast, state="SUBMITTED", case_reference="SOLO-1")
    assert a.person.person_key == b.person.person_key != ""
    assert a.person.person_key != lone.person.person_key

    queue = cast.client_for(cast.coordinator_a).get(reverse("records:queue"))
    flagged = {row.pk: row.possible_duplicate for row in queue.context["page"].object_list}
    assert flagged == {a.pk: True, b.pk: True, lone.pk: False}
    detail = cast.client_for(cast.coordinator_a).get(reverse("records:application_detail", args=[a.pk]))
    assert "PANI-88" in detail.content.decode()

    # Neither institution learns about the other.
    for client, own, other in (
        (cast.client_for(cast.officer_a), a, "PANI-88"),
        (cast.client_for(cast.officer_b), b, "INAMU-77"),
    ):
        text = client.get(reverse("records:application_detail", args=[own.pk])).content.decode()
        assert other not in text
        assert own.person.person_key not in text
        assert other not in client.get(reverse("records:application_list")).content.decode()


def test_another_institutions_draft_does_not_raise_the_flag(cast):
    a = make_application(cast, state="SUBMITTED", identity_data=f.identity(document_number="5-5555-5555"))
    make_application(cast, owner=cast.officer_b, state="DRAFT", identity_data=f.identity(document_number="555555555"))
    queue = cast.client_for(cast.coordinator_a).get(reverse("records:queue"))
    assert [row.possible_duplicate for row in queue.context["page"].object_list if row.pk == a.pk] == [False]


def test_person_key_is_keyed_and_normalised(settings):
    key = services.person_key_compute(document_type="national_id", document_number="1-0234-0567")
    assert key == services.person_key_compute(document_type="national_id", document_number=" 102340567 ")
    assert key != services.person_key_compute(document_type="passport", document_number="102340567")
    assert len(key) == 64 and "102340567" not in key
    settings.PERSON_KEY_SECRET = "another-secret"
    assert key != services.person_key_compute(document_type="national_id", document_number="102340567")
    assert services.person_key_compute(document_type="none", document_number="") == ""


def test_workflow_events_record_who(cast):
    application = make_application(cast, state="ACCREDITED")
    by = dict(ApplicationEvent.objects.filter(application=application).values_list("to_status", "by__username"))
    assert by["SUBMITTED"] == "officer.inamu"
    assert by["ACCREDITED"] == "coordinator.eri"
