"""The ERI's 7-business-day deadline across Costa Rican public holidays, the pause while information is
requested, and the due-soon / overdue flags of the queue."""

import datetime as dt

import pytest
from django.urls import reverse

from records import deadlines, services
from records.models import Application

from .records_factories import make_application

D = dt.date


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (D(2025, 3, 3), D(2025, 3, 12)),  # an ordinary fortnight: Monday -> Wednesday of the next week
        (D(2025, 4, 14), D(2025, 4, 25)),  # Holy Week: Maundy Thursday 17 and Good Friday 18 April skipped
        (D(2025, 4, 10), D(2025, 4, 24)),  # Juan Santamaría (11 April) and Holy Week
        (D(2025, 7, 24), D(2025, 8, 5)),  # 25 July, Annexation of Nicoya
        (D(2025, 12, 22), D(2026, 1, 2)),  # Christmas and New Year's Day
        (D(2025, 3, 8), D(2025, 3, 18)),  # received on a Saturday: counting starts on Monday
        (D(2025, 4, 17), D(2025, 4, 29)),  # received on a holiday
    ],
)
def test_due_date_skips_weekends_and_costa_rican_holidays(received, due):
    assert deadlines.due_on(received) == due


def test_holiday_calendar_is_a_setting(settings):
    settings.HOLIDAY_COUNTRY = "PA"  # Panama does not stop on 25 July
    assert deadlines.is_business_day(D(2025, 7, 25))
    settings.HOLIDAY_COUNTRY = "CR"
    assert not deadlines.is_business_day(D(2025, 7, 25))


def test_deadline_length_is_a_setting(settings):
    settings.DECISION_DEADLINE_BUSINESS_DAYS = 10
    assert deadlines.due_on(D(2025, 3, 3)) == D(2025, 3, 17)


def test_business_days_between():
    assert deadlines.business_days_between(D(2025, 4, 16), D(2025, 4, 21)) == 1  # 17, 18 holidays, weekend
    assert deadlines.business_days_between(D(2025, 4, 21), D(2025, 4, 16)) == 0


@pytest.mark.parametrize(
    ("due", "state"),
    [
        (D(2025, 4, 15), "overdue"),
        (D(2025, 4, 16), "due_soon"),  # due today
        (D(2025, 4, 21), "due_soon"),  # next business day after the Easter holidays
        (D(2025, 4, 22), "due_soon"),  # two business days ahead
        (D(2025, 4, 23), "on_time"),
        (None, "paused"),
    ],
)
def test_deadline_state(due, state):
    assert deadlines.deadline_state(due, today=D(2025, 4, 16)) == state


def _backdate(event, day: dt.date):
    """Tests only: pretend a workflow step happened on ``day``."""
    at = dt.datetime(day.year, day.month, day.day, 15, 0, tzinfo=dt.UTC)
    type(event).objects.filter(pk=event.pk).update(at=at)


def test_clock_stops_while_information_is_requested(cast, settings):
    settings.DEADLINE_PAUSES_ON_INFORMATION_REQUEST = True
    application = make_application(cast, state="INFO_REQUESTED", received_on=D(2025, 3, 3))
    assert application.due_on is None  # no running clock while the institution answers
    for event in application.events.all():
        _backdate(event, D(2025, 3, 5) if event.to_status == "INFO_REQUESTED" else D(2025, 3, 3))
    resubmitted = services.application_submit(user=cast.officer_a, application=application)
    _backdate(resubmitted.events.order_by("-id").first(), D(2025, 3, 10))
    # Asked on Wednesday 5 March, answered on Monday 10: Thursday 6, Friday 7 and Monday 10 do not count.
    assert services._pauses(resubmitted) == [(D(2025, 3, 5), D(2025, 3, 10))]
    assert services._due_on(resubmitted) == D(2025, 3, 17)


def test_clock_keeps_running_when_configured(cast, settings):
    settings.DEADLINE_PAUSES_ON_INFORMATION_REQUEST = False
    application = make_application(cast, state="INFO_REQUESTED", received_on=D(2025, 3, 3))
    assert application.due_on == D(2025, 3, 12)
    assert deadlines.due_on(D(2025, 3, 3), paused_days=3) == D(2025, 3, 12)


def test_queue_flags_overdue_and_due_soon(cast, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: D(2025, 4, 16))
    overdue = make_application(cast, state="SUBMITTED", received_on=D(2025, 4, 1))  # due 10 April
    soon = make_application(cast, state="UNDER_REVIEW", received_on=D(2025, 4, 8))  # due 22 April
    later = make_application(cast, state="SUBMITTED", received_on=D(2025, 4, 14))  # due 25 April
    waiting = make_application(cast, state="INFO_REQUESTED", received_on=D(2025, 4, 14))
    closed = make_application(cast, state="ACCREDITED", received_on=D(2025, 4, 1))
    assert Application.all_objects.get(pk=soon.pk).due_on == D(2025, 4, 22)
    client = cast.client_for(cast.coordinator_a)
    response = client.get(reverse("records:queue"))
    rows = {row.pk: row.deadline_state for row in response.context["page"].object_list}
    assert rows == {overdue.pk: "overdue", soon.pk: "due_soon", later.pk: "on_time", waiting.pk: "paused"}
    assert closed.pk not in rows
    order = [row.pk for row in response.context["page"].object_list]
    assert order == [overdue.pk, soon.pk, later.pk, waiting.pk]  # by due date, stopped clocks last
    only_overdue = client.get(reverse("records:queue"), {"state": "overdue"}).context["page"].object_list
    assert [row.pk for row in only_overdue] == [overdue.pk]
    only_soon = client.get(reverse("records:queue"), {"state": "due_soon"}).context["page"].object_list
    assert [row.pk for row in only_soon] == [soon.pk]
    by_received = client.get(reverse("records:queue"), {"sort": "-received"}).context["page"].object_list
    assert [row.pk for row in by_received][-1] == overdue.pk
    assert "deadline-overdue" in response.content.decode()


# --- which kinds of holiday stop the clock (issue 14.10) -----------------------------------------------------


@pytest.mark.parametrize("holiday", [D(2025, 12, 1), D(2024, 8, 2), D(2026, 8, 31)])
def test_holidays_of_non_compulsory_pay_stop_the_clock_by_default(holiday):
    """1 December (Army Abolition), 2 August (Our Lady of the Angels) and 31 August (Black Person's Day) are
    weekdays in these years; the ERI does not sit on them."""
    assert holiday.weekday() < 5
    assert not deadlines.is_business_day(holiday)


def test_an_application_received_before_1_december_is_due_a_day_later():
    # Wednesday 26 November 2025: 27, 28 Nov, (1 Dec is a holiday), 2, 3, 4, 5, 8 Dec.
    assert deadlines.due_on(D(2025, 11, 26)) == D(2025, 12, 8)


def test_which_kinds_of_holiday_stop_the_clock_is_a_setting(settings):
    settings.HOLIDAY_CATEGORIES = ["public"]
    assert deadlines.is_business_day(D(2025, 12, 1))
    assert deadlines.due_on(D(2025, 11, 26)) == D(2025, 12, 5)
    assert not deadlines.is_business_day(D(2025, 12, 25))


def test_an_unknown_holiday_category_is_refused_with_its_name(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.HOLIDAY_CATEGORIES = ["public", "opcional"]
    with pytest.raises(ImproperlyConfigured, match="opcional"):
        deadlines.is_business_day(D(2025, 12, 2))


def test_the_indicators_calendar_is_the_deadline_calendar(cast, settings):
    """The recompute's BusinessDay table comes from records.deadlines: 1 December is not a business day there
    either, and changing the setting rebuilds it."""
    from indicators import services as indicator_services
    from indicators.models import BusinessDay

    make_application(cast, state="SUBMITTED", received_on=D(2025, 11, 26))
    indicator_services.recompute_full()

    def ordinals():
        days = BusinessDay.objects.filter(day__range=(D(2025, 11, 28), D(2025, 12, 2)))
        return dict(days.values_list("day", "ordinal"))

    ordinal = ordinals()
    assert ordinal[D(2025, 12, 1)] == ordinal[D(2025, 11, 28)]  # no business day added on 1 December
    assert ordinal[D(2025, 12, 2)] == ordinal[D(2025, 11, 28)] + 1
    settings.HOLIDAY_CATEGORIES = ["public"]
    indicator_services.recompute_full()
    ordinal = ordinals()
    assert ordinal[D(2025, 12, 1)] == ordinal[D(2025, 11, 28)] + 1
