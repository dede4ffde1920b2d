"""Who may open the report pages, chart data and exports: any role (protected figures), nobody else."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.report_data import reset_report_caches

REPORT_URLS = [
    ("indicators:dashboard", {}, ""),
    ("indicators:dimensions", {}, ""),
    ("indicators:dimension", {"key": "sex"}, ""),
    ("indicators:intersections", {}, "?dims=sex&dims=age_group"),
    ("indicators:trends", {}, "?dims=sex&dims=nationality"),
    ("indicators:profiles", {}, ""),
    ("indicators:relations", {}, ""),
    ("indicators:maps", {}, ""),
    ("indicators:quality", {}, ""),
    ("indicators:international", {}, ""),
    ("indicators:chart", {"slug": "by-year"}, ""),
    ("indicators:chart", {"slug": "map-canton"}, ""),
    ("indicators:chart", {"slug": "map-recruitment-canton"}, ""),
    ("indicators:export", {"slug": "by-year", "fmt": "csv"}, ""),
    ("indicators:export", {"slug": "crosstab", "fmt": "xlsx"}, "?dims=sex&dims=nationality"),
]
ROLES_WITH_ACCESS = ["officer_a", "officer_b", "coordinator_a", "coordinator_b", "analyst_a", "analyst_b", "admin_a"]


@pytest.fixture(autouse=True)
def _fresh_caches():
    reset_report_caches()


def _url(name, kwargs, query):
    return reverse(name, kwargs=kwargs) + query


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs", "query"), REPORT_URLS)
@pytest.mark.parametrize("who", [*ROLES_WITH_ACCESS, "nobody", "anonymous"])
def test_report_url_by_role(cast, who, name, kwargs, query):
    user = cast.users()[who]
    response = cast.client_for(user).get(_url(name, kwargs, query))
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    elif who == "nobody":
        assert response.status_code == 403
    else:
        assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/reports/disaggregations/not-a-dimension/",
        "/reports/chart/not-a-report/",
        "/reports/chart/dimension-not-a-dimension/",
        "/reports/export/dimension-not-a-dimension.csv",
        "/reports/export/not-a-report.csv",
        "/reports/export/by-year.pdf",
    ],
)
def test_unknown_reports_are_404(cast, url):
    assert cast.client_for(cast.analyst_a).get(url).status_code == 404


@pytest.mark.django_db
def test_reports_link_in_navigation(cast):
    page = cast.client_for(cast.analyst_a).get(reverse("home")).content.decode()
    assert reverse("indicators:dashboard") in page
