"""The ERI's legal deadline: a decision within N business days of receipt (Ley 9095; N = 7 by default).

Business days skip weekends and the holidays of ``settings.HOLIDAY_COUNTRY`` (the ``holidays`` package) of the
kinds listed in ``settings.HOLIDAY_CATEGORIES``, so a partner country runs the same rule with its own calendar.
Costa Rica's calendar has two kinds: ``public`` (compulsory pay) and ``optional`` (non-compulsory pay: 2 August,
31 August, 1 December); the public service, the ERI included, does not work on either, so both stop the clock
by default. This module is the one calendar of the portal: the indicators' ``BusinessDay`` table is built from
``business_day_ordinals`` below. The day of receipt does not count: an application
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
from django.core.exceptions import ImproperlyConfigured

# Every category name the holidays package knows (its constants module): a name outside it is a typo.
_KNOWN_CATEGORIES = frozenset(
    value
    for name, value in vars(holidays.constants).items()
    if name.isupper() and isinstance(value, str) and name != "HOLIDAY_NAME_DELIMITER"
)


@lru_cache(maxsize=256)
def _holidays(country: str, categories: tuple[str, ...], year: int) -> frozenset[dt.date]:
    unknown = sorted(set(categories) - _KNOWN_CATEGORIES)
    if unknown:
        # A typo must not silently give a calendar without those holidays (every deadline early).
        raise ImproperlyConfigured(f"HOLIDAY_CATEGORIES: unknown holiday categories {', '.join(unknown)}.")
    try:
        calendar = holidays.country_holidays(country)
    except NotImplementedError as error:
        raise ImproperlyConfigured(f"HOLIDAY_COUNTRY={country!r}: {error}") from error
    # A kind the country's calendar does not have (Panama has no "optional") is simply absent there.
    wanted = tuple(c for c in categories if c in calendar.supported_categories)
    if not wanted:
        return frozenset()
    return frozenset(holidays.country_holidays(country, years=year, categories=wanted).keys())


def holidays_of(year: int, *, country: str | None = None) -> frozenset[dt.date]:
    """The days of ``year`` that stop the clock (weekends aside)."""
    country = country or settings.HOLIDAY_COUNTRY
    return _holidays(country, tuple(sorted(settings.HOLIDAY_CATEGORIES)), year)


def is_business_day(day: dt.date, *, country: str | None = None) -> bool:
    """Monday to Friday and not a holiday (of the configured kinds) of the portal's holiday country."""
    return day.weekday() < 5 and day not in holidays_of(day.year, country=country)


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


def business_day_ordinals(first: dt.date, last: dt.date) -> list[tuple[dt.date, int]]:
    """Every day from ``first`` to ``last`` with the number of business days up to and including it: the
    indicators' ``BusinessDay`` calendar, so the recompute counts days exactly as the deadline does."""
    out, ordinal, day = [], 0, first
    while day <= last:
        if is_business_day(day):
            ordinal += 1
        out.append((day, ordinal))
        day += dt.timedelta(days=1)
    return out
