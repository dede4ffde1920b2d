"""The one validator of an application's values. The page's form (``records.forms.ApplicationForm.clean``), the
import (``records.imports.validation.RowValidator``), the API (through the form) and the services
(``application_create`` / ``application_update``) all call ``application_values_check``, so a value one of them
refuses, every one of them refuses, with the same message.

Values are in the model's terms, keyed by field name (``records.facts``): dates, ages, the identity document,
places (a row or its code) and the country of recruitment. A key that is absent was not given and is not checked
(an import file may leave a column out); ``None`` or ``""`` is a blank value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from .facts import MAX_AGE, PLACES, place_fields

NO_DOCUMENT = "none"


@dataclass(frozen=True)
class Problem:
    """One refused value: the field it concerns, a stable code (for tests and callers) and the user's message."""

    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Geography:
    """Which canton each district is in, and which province each canton is in (by code). Read once per caller;
    the import builds it from its own reference dictionaries."""

    canton_of_district: Mapping[str, str]
    province_of_canton: Mapping[str, str]

    @classmethod
    def load(cls) -> Geography:
        from .models import Canton, District

        return cls(
            canton_of_district=dict(District.objects.values_list("code", "canton_id")),
            province_of_canton=dict(Canton.objects.values_list("code", "province_id")),
        )


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Completed years at ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _code(value) -> str:
    """A place as its code, whether given as a row (form, services) or as a code (import, API)."""
    return str(getattr(value, "pk", value) or "")


def age_range_message() -> str:
    return _("An age must be between 0 and %(max)s years.") % {"max": MAX_AGE}


class _Collector(dict):
    def add(self, field: str, code: str, message: str) -> None:
        self.setdefault(field, []).append(Problem(field, code, message))


def application_values_check(
    values: Mapping, *, today: dt.date | None = None, geography: Geography | None = None
) -> dict[str, list[Problem]]:
    """Every domain rule on the values of one application, returned as problems keyed by field (empty: valid).

    - no date of receipt or birth in the future; the birth date not after the date of receipt;
    - ages from 0 to ``MAX_AGE`` (the age at application derived from the birth date when it is known), the age
      at recruitment not greater than the age at application;
    - an identity document type comes with its number, and a number with its type;
    - each place's canton is in its province and its district in its canton (or province);
    - a place of recruitment in the portal's country, or a country abroad, not both.
    """
    today = today or timezone.localdate()
    problems = _Collector()
    _check_dates_and_ages(values, today, problems)
    _check_document(values, problems)
    _check_places(values, geography, problems)
    return dict(problems)


def derived_age(values: Mapping) -> int | None:
    """The age at application: from the birth date when both dates are known, else the age recorded."""
    received, birth = values.get("received_on"), values.get("birth_date")
    if received and birth and birth <= received:
        return age_on(birth, received)
    return values.get("age_at_application")


def _check_dates_and_ages(values: Mapping, today: dt.date, problems: _Collector) -> None:
    received, birth = values.get("received_on"), values.get("birth_date")
    if received and received > today:
        problems.add("received_on", "future", _("The date of receipt cannot be in the future."))
    if birth and birth > today:
        problems.add("birth_date", "future", _("The birth date cannot be in the future."))
    elif birth and received and birth > received:
        problems.add("birth_date", "birth_after_receipt", _("The birth date cannot be after the date of receipt."))
    elif birth and received and age_on(birth, received) > MAX_AGE:
        problems.add("birth_date", "age_range", age_range_message())
    for name in ("age_at_application", "age_at_recruitment"):
        age = values.get(name)
        if age is not None and not 0 <= age <= MAX_AGE:
            problems.add(name, "age_range", age_range_message())
    age, recruited = derived_age(values), values.get("age_at_recruitment")
    if age is not None and recruited is not None and 0 <= age <= MAX_AGE and recruited > age:
        problems.add(
            "age_at_recruitment",
            "recruited_older",
            _("The age at recruitment cannot be greater than the age at application."),
        )


def _check_document(values: Mapping, problems: _Collector) -> None:
    if "document_type" not in values:
        return
    kind, number = values.get("document_type") or "", (values.get("document_number") or "").strip()
    if kind not in ("", NO_DOCUMENT) and not number:
        problems.add(
            "document_number",
            "document_number_missing",
            _("Enter the number of the identity document, or choose 'No document'."),
        )
    if kind in ("", NO_DOCUMENT) and number:
        problems.add(
            "document_type",
            "document_type_missing",
            _("Choose the type of the identity document whose number you entered."),
        )


def _check_places(values: Mapping, geography: Geography | None, problems: _Collector) -> None:
    given = {name: _code(values.get(name)) for place in PLACES for name in place_fields(place)}
    if any(given.values()):
        geography = geography or Geography.load()
        for place in PLACES:
            province_field, canton_field, district_field = place_fields(place)
            province, canton, district = given[province_field], given[canton_field], given[district_field]
            if canton and province and geography.province_of_canton.get(canton) != province:
                problems.add(canton_field, "canton_not_in_province", _("This canton is not in the chosen province."))
            district_canton = geography.canton_of_district.get(district, "")
            if district and canton and district_canton != canton:
                problems.add(district_field, "district_not_in_canton", _("This district is not in the chosen canton."))
            elif district and province and not canton and geography.province_of_canton.get(district_canton) != province:
                problems.add(
                    district_field, "district_not_in_province", _("This district is not in the chosen province.")
                )
    country = str(values.get("recruitment_country") or "")
    in_country = any(given[name] for name in place_fields("recruitment"))
    if in_country and country not in ("", settings.PORTAL_COUNTRY):
        problems.add(
            "recruitment_country",
            "place_and_abroad",
            _("Give either a place in %(country)s or a country abroad as the place of recruitment.")
            % {"country": countries.name(settings.PORTAL_COUNTRY) or settings.PORTAL_COUNTRY},
        )


def place_levels(values: Mapping, *, geography: Geography) -> dict[str, str | None]:
    """Every level of each place given in ``values``, as codes keyed by field name, from the finest level given:
    a district's canton and province, a canton's province. The services and the import store these, so the
    levels of a stored place always agree (and a place given only as a province or a canton is kept)."""
    levels: dict[str, str | None] = {}
    for place in PLACES:
        province_field, canton_field, district_field = place_fields(place)
        if not any(name in values for name in (province_field, canton_field, district_field)):
            continue
        district, canton = _code(values.get(district_field)), _code(values.get(canton_field))
        if district:
            canton = geography.canton_of_district.get(district, canton)
        province = geography.province_of_canton.get(canton, "") if canton else _code(values.get(province_field))
        levels.update(
            {province_field: province or None, canton_field: canton or None, district_field: district or None}
        )
    return levels
