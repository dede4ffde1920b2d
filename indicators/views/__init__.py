"""The report views, one module per kind: ``pages`` (the report pages), ``files`` (a report's files, the annual
PDF), ``saved`` (saved views) and ``base`` (what they share: the role check, the page cache, the page's
context). indicators/urls.py, indicators/charts.py and the tests import the views from here."""

from .base import cached_page, can_view_reports, refused_page, report_block
from .files import annual_pdf, export
from .pages import (
    dashboard,
    dimension,
    dimensions,
    international,
    intersections,
    maps,
    profiles,
    protection,
    quality,
    relations,
    trends_page,
)
from .saved import saved_view_create, saved_view_delete, saved_view_list

__all__ = [
    "annual_pdf",
    "cached_page",
    "can_view_reports",
    "dashboard",
    "dimension",
    "dimensions",
    "export",
    "international",
    "intersections",
    "maps",
    "profiles",
    "protection",
    "quality",
    "refused_page",
    "relations",
    "report_block",
    "saved_view_create",
    "saved_view_delete",
    "saved_view_list",
    "trends_page",
]
