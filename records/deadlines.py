"""The ERI's legal deadline: a decision within N business days of receipt (Ley 9095; N = 7 by default).

Business days skip weekends and the public holidays of ``settings.HOLIDAY_COUNTRY`` (the ``holidays`` package),
so a partner country runs the same rule with its own calendar. The day of receipt does not count: an application
received on a Monday with no holidays that week is due the Wednesday of the following week. While the ERI waits
for information it requested from the institution, the clock stops if
``settings.DEADLINE_PAUSES_ON_INFORMATION_REQUEST`` is on: the business days spent waiting are added back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import holidays
from django.conf import settings


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


def is_business_day(day: dt.date, *, country: str | None = None) -> bool:
    """Monday to Friday and not a public holiday of the portal's holiday country."""
    country = country or settings.HOLIDAY_COUNTRY
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def add_business_days(start: dt.date, days: int, *, country: str | None = None) -> dt.date:
    """The date ``days`` business days after ``start`` (``start`` itself never counts)."""
    day = start
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_business_day(day, country=country):
            counted += 1
    return day


def business_days_between(start: dt.date, end: dt.date, *, country: str | None = None) -> int:
    """Business days d with start < d <= end (0 when end <= start)."""
    n = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_business_day(day, country=country):
            n += 1
    return n


def paused_business_days(pauses: Iterable[tuple[dt.date, dt.date]]) -> int:
    """Business days spent waiting for the institution, over every (requested, answered) interval."""
    return sum(business_days_between(start, end) for start, end in pauses)


def due_on(received_on: dt.date, *, paused_days: int = 0) -> dt.date:
    """When the ERI's decision is due: N business days after receipt, plus the business days the clock was
    stopped (only counted when pausing is configured)."""
    extra = paused_days if settings.DEADLINE_PAUSES_ON_INFORMATION_REQUEST else 0
    return add_business_days(received_on, settings.DECISION_DEADLINE_BUSINESS_DAYS + extra)


def deadline_state(due: dt.date | None, *, today: dt.date) -> str:
    """``overdue`` after the due date, ``due_soon`` within DEADLINE_DUE_SOON_BUSINESS_DAYS business days
    (the due day included), ``on_time`` otherwise, ``paused`` when there is no running clock."""
    if due is None:
        return "paused"
    if due < today:
        return "overdue"
    if business_days_between(today, due) <= settings.DEADLINE_DUE_SOON_BUSINESS_DAYS:
        return "due_soon"
    return "on_time"


def business_day_index(first: dt.date, last: dt.date, *, country: str | None = None) -> list[dt.date]:
    """Every business day from ``first`` to ``last``, in order: lets bulk generators (seed_demo) compute many
    deadlines with an index lookup instead of a day-by-day walk per row."""
    out = []
    day = first
    while day <= last:
        if is_business_day(day, country=country):
            out.append(day)
        day += dt.timedelta(days=1)
    return out
