"""The report catalogue's shape (issue 18): one signature for every builder, and a domain error for a report it
does not hold, which every view answers with 404 (the pages, charts and files through
``indicators.views.can_view_reports``, tested in tests/test_reports_access.py; the indicators API here)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from django.http import QueryDict
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from indicators import catalogue
from indicators.api import views as api_views
from indicators.forms import Filters
from tests.report_data import reset_report_caches


@pytest.fixture(autouse=True)
def _fresh_caches():
    reset_report_caches()


def test_every_builder_takes_user_filters_and_query():
    for slug, builder in catalogue.BUILDERS.items():
        # bind raises TypeError where a builder wants anything else than the one signature ``build`` calls.
        bound = inspect.signature(builder).bind(None, Filters(), QueryDict())
        assert len(bound.arguments) == 3, slug


def test_the_catalogue_raises_no_http_error():
    package = Path(catalogue.__file__).parent
    for module in package.glob("*.py"):
        assert "django.http" not in module.read_text(), module.name


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["not-a-report", "dimension-not-a-dimension", "dimension-residence_district"])
def test_an_unknown_report_is_a_lookup_error(cast, slug):
    with pytest.raises(catalogue.UnknownReport) as raised:
        catalogue.build(slug, cast.analyst_a, Filters(), QueryDict())
    assert isinstance(raised.value, LookupError)


def test_an_unknown_dimension_is_a_lookup_error():
    with pytest.raises(catalogue.UnknownReport):
        catalogue.dimension_label("not-a-dimension")


@pytest.mark.django_db
def test_the_api_answers_an_unknown_report_with_404(cast):
    request = Request(APIRequestFactory().get("/api/v1/indicators/"))
    request.user = cast.analyst_a
    with pytest.raises(exceptions.NotFound):
        api_views._build(request, "not-a-report", measure=None, query={})
