"""Records for the indicator tests, created through the ORM like the records services would."""

from __future__ import annotations

import itertools
from datetime import date

from accounts.models import Institution
from records.models import (
    Application,
    ApplicationExploitationCountry,
    ApplicationNationality,
    Code,
    District,
    Language,
    Person,
    Status,
)

_refs = itertools.count(1)


def code(list_name: str, value: str) -> Code:
    return Code.objects.get(list=list_name, code=value)


def person(institution: Institution, key: str = "") -> Person:
    return Person.objects.create(institution=institution, person_key=key)


def application(
    *,
    institution: Institution,
    person: Person | None = None,
    received_on: date,
    status: str = Status.SUBMITTED,
    decided_on: date | None = None,
    due_on: date | None = None,
    sex: str | None = None,
    age: int | None = None,
    gender_identity: str | None = None,
    nationalities: list[str] = (),
    forms: list[str] = (),
    means: list[str] = (),
    recruitment_methods: list[str] = (),
    control_methods: list[str] = (),
    exploitation_countries: list[str] = (),
    exploitation_districts: list[str] = (),
    residence_district: str | None = None,
    recruitment_district: str | None = None,
    recruitment_country: str = "",
    mother_tongue: str | None = None,
    migration_status: str | None = None,
) -> Application:
    app = Application.all_objects.create(
        institution=institution,
        case_reference=f"T-{next(_refs)}",
        person=person or Person.objects.create(institution=institution),
        received_on=received_on,
        status=status,
        decided_on=decided_on,
        due_on=due_on,
        sex=code("sex", sex) if sex else None,
        age_at_application=age,
        gender_identity=code("gender_identity", gender_identity) if gender_identity else None,
        migration_status=code("migration_status", migration_status) if migration_status else None,
        residence_district=District.objects.get(code=residence_district) if residence_district else None,
        recruitment_district=District.objects.get(code=recruitment_district) if recruitment_district else None,
        recruitment_country=recruitment_country,
        mother_tongue=Language.objects.get(code=mother_tongue) if mother_tongue else None,
    )
    for country in nationalities:
        ApplicationNationality.objects.create(application=app, country=country)
    for country in exploitation_countries:
        ApplicationExploitationCountry.objects.create(application=app, country=country)
    app.exploitation_forms.set([code("exploitation_form", c) for c in forms])
    app.means.set([code("means", c) for c in means])
    app.recruitment_methods.set([code("recruitment_method", c) for c in recruitment_methods])
    app.control_methods.set([code("control_method", c) for c in control_methods])
    app.exploitation_districts.set([District.objects.get(code=c) for c in exploitation_districts])
    return app
