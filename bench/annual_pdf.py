"""The annual statistical report's PDF for one year (issue 15: at most 10 s at 1M applications):
``DATABASE_URL=postgres://.../bench_1m python bench/annual_pdf.py [--year Y]``.

On a database whose indicators are computed (a full recompute has run), for an analyst (protected figures) and a
coordinator (exact ones): the seconds to build the report's sections from the catalogue (``annual_report_build``,
with the report cache emptied first, so every table is built from the indicator tables) and to render the PDF
(``annual_report_pdf``, WeasyPrint), then the same again with the report cache warm (the pages' cache). Prints one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conatt_portal.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.utils import translation  # noqa: E402

from accounts.memberships import membership_bootstrap  # noqa: E402
from accounts.models import Institution, Role, User  # noqa: E402
from indicators import annual, catalogue  # noqa: E402
from records.models import Application  # noqa: E402


def _user(role: str) -> User:
    user, _created = User.objects.get_or_create(username=f"bench.annual-{role}")
    if not user.memberships.filter(role=role, active=True).exists():
        membership_bootstrap(user=user, institution=Institution.objects.get(code="CONATT"), role=role)
    return user


def _timed(year: int, user: User) -> dict:
    started = time.perf_counter()
    report = annual.annual_report_build(year=year, user=user)
    built = time.perf_counter() - started
    started = time.perf_counter()
    pdf = annual.annual_report_pdf(report)
    rendered = time.perf_counter() - started
    return {
        "build_seconds": round(built, 2),
        "pdf_seconds": round(rendered, 2),
        "total": round(built + rendered, 2),
        "pdf_bytes": len(pdf),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int)
    args = parser.parse_args()
    years = catalogue.years()
    if not years:
        raise SystemExit("No indicators: run a full recompute first (manage.py recompute_indicators --full).")
    year = args.year or years[-2 if len(years) > 1 else -1]  # the last complete year
    result: dict = {"applications": Application.all_objects.count(), "year": year}
    with translation.override("es"):
        for role in (Role.ANALYST, Role.COORDINATOR):
            user = _user(role)
            cache.clear()
            cold = _timed(year, user)
            warm = _timed(year, user)
            result[str(role)] = {"cold_cache": cold, "warm_cache": warm}
    result["target_seconds"] = 10
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
