"""Saved views (issue 15, point 10): a user names a report page with its filters and finds it again in a list.

A saved view is only a link. Sharing one is sharing the report's address, and whoever opens it sees the report
through their own rights (``accounts.access``, as every report page), so no saved view grants anything. What
this module guards is the link itself: it is always a report page of this portal (never another site, never a
records page: no open redirect), its parameters are report parameters only, and only its owner lists or
deletes it (another user's saved view is not found, like one that does not exist).

Writes are the services (``saved_view_create``, ``saved_view_rename``, ``saved_view_delete``), reads the
selectors (``saved_views_of``, ``saved_view_of``). They live here rather than in ``indicators.services`` and
``indicators.selectors``, which are the indicator engine's and the indicator tables' contracts: checking a
saved view's filters needs the report catalogue, which itself reads ``indicators.selectors``.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from accounts import access

from . import catalogue
from .models import SavedView
from .reporting import InvalidFilters

# The report pages that take filters (views of the indicators namespace extending base_reports.html). Charts,
# exports, the protection page and the saved views' own pages are not reports one comes back to.
REPORT_PAGES = frozenset(
    {
        "dashboard",
        "dimensions",
        "dimension",
        "intersections",
        "trends",
        "profiles",
        "relations",
        "maps",
        "quality",
        "international",
    }
)
NAME_MAX_LENGTH = SavedView._meta.get_field("name").max_length or 120
PATH_MAX_LENGTH = SavedView._meta.get_field("path").max_length or 200
QUERY_MAX_LENGTH = SavedView._meta.get_field("query").max_length or 1000
# More than any report page's parameters (years, institution, one filter per dimension, measure, three dims).
QUERY_MAX_FIELDS = 60


def _has_control_characters(text: str) -> bool:
    """Control characters, and the invisible format characters (zero-width spaces, direction overrides) that
    would make a name in the list, or a link, read other than it is."""
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def report_parameters() -> frozenset[str]:
    """The parameters a report page reads from its address: the filter panel's fields, what to count, the
    dimensions to cross, the province a map zooms to and a disaggregation's ranking (by value, top N). A
    parameter a page starts to read belongs here too."""
    return frozenset(catalogue.filter_form(None).fields) | {
        "measure",
        "dims",
        catalogue.ZOOM,
        *catalogue.RANKING_PARAMETERS,
    }


def report_path_clean(path: str) -> str:
    """``path`` if it is the path of a report page of this portal, else ValidationError. Anything with a scheme,
    a host (``//evil``), a backslash (which browsers read as a slash) or a query, and any page that is not a
    report of the ``indicators`` namespace, is refused: a saved view can only ever lead to a report."""
    refused = ValidationError({"path": _("Only a report page can be saved.")})
    if not isinstance(path, str) or not path.startswith("/") or len(path) > PATH_MAX_LENGTH:
        raise refused
    if path.startswith("//") or "\\" in path or _has_control_characters(path):
        raise refused
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or parts.query or parts.fragment:
        raise refused
    try:
        match = resolve(path)
    except Resolver404:
        raise refused from None
    if match.namespace != "indicators" or match.url_name not in REPORT_PAGES:
        raise refused
    if match.url_name == "dimension" and match.kwargs.get("key") not in {d.key for d in catalogue.profile_dimensions()}:
        raise refused
    return path


def report_query_clean(query: str) -> str:
    """The report parameters of ``query`` in one canonical form (blank fields dropped, as the filter form sends
    them), or ValidationError: too long, control characters (in the address or once decoded), a parameter no
    report page reads, or filters the report pages would refuse themselves (unknown years, values, measures or
    dimensions)."""
    query = (query or "").lstrip("?")
    if len(query) > QUERY_MAX_LENGTH:
        raise ValidationError({"query": _("The filters of this page are too long to be saved.")})
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=QUERY_MAX_FIELDS)
    except ValueError:
        raise ValidationError({"query": _("The filters of this page are too long to be saved.")}) from None
    if _has_control_characters(query) or any(_has_control_characters(k + v) for k, v in pairs):
        raise ValidationError({"query": _("The filters of this page hold characters that cannot be saved.")})
    if {k for k, _v in pairs} - report_parameters():
        raise ValidationError({"query": _("The address of this page holds parameters that are not report filters.")})
    cleaned = urlencode([(k, v) for k, v in pairs if v])
    if len(cleaned) > QUERY_MAX_LENGTH:
        raise ValidationError({"query": _("The filters of this page are too long to be saved.")})
    try:
        catalogue.filter_form(QueryDict(cleaned)).filters()
    except InvalidFilters as refusal:
        raise ValidationError({"query": str(refusal)}) from None
    return cleaned


def saved_view_name_clean(name: str) -> str:
    name = " ".join((name or "").split())  # no leading, trailing or repeated spaces in a list read by people
    if not name:
        raise ValidationError({"name": _("Give the view a name, so that you can find it again.")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": _("A name has at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}})
    if _has_control_characters(name):
        raise ValidationError({"name": _("The name holds characters that cannot be saved.")})
    return name


def _require_report_rights(owner) -> None:
    # Re-checked here, not only by the view's decorator: a user who may not see reports has no reports to save.
    if not access.can_view_reports(owner):
        raise PermissionDenied


def _name_taken(*, owner, name: str, excluding: int | None = None) -> bool:
    same = SavedView.objects.filter(owner=owner, name__iexact=name)
    if excluding is not None:
        same = same.exclude(pk=excluding)
    return same.exists()


def _duplicate_name() -> ValidationError:
    return ValidationError({"name": _("You already have a saved view with this name. Choose another one.")})


@transaction.atomic
def saved_view_create(*, owner, name: str, path: str, query: str = "") -> SavedView:
    """Save the report at ``path`` with ``query`` under ``name`` for ``owner``. Names are unique per owner
    (whatever the case); the path and query are checked by ``report_path_clean`` and ``report_query_clean``.
    ValidationError (by field) for a refused value, PermissionDenied for a user without report rights."""
    _require_report_rights(owner)
    name = saved_view_name_clean(name)
    path = report_path_clean(path)
    query = report_query_clean(query)
    if _name_taken(owner=owner, name=name):
        raise _duplicate_name()
    try:
        with transaction.atomic():  # the same name saved twice at once: the constraint decides, the same message
            return SavedView.objects.create(owner=owner, name=name, path=path, query=query)
    except IntegrityError:
        raise _duplicate_name() from None


@transaction.atomic
def saved_view_rename(*, owner, saved_view_id: int, name: str) -> SavedView:
    """Rename one of ``owner``'s saved views; another user's is not found (SavedView.DoesNotExist)."""
    _require_report_rights(owner)
    saved = SavedView.objects.select_for_update().get(pk=saved_view_id, owner=owner)
    name = saved_view_name_clean(name)
    if _name_taken(owner=owner, name=name, excluding=saved.pk):
        raise _duplicate_name()
    saved.name = name
    saved.save(update_fields=["name"])
    return saved


@transaction.atomic
def saved_view_delete(*, owner, saved_view_id: int) -> None:
    """Delete one of ``owner``'s saved views; another user's is not found (SavedView.DoesNotExist) and stays."""
    _require_report_rights(owner)
    SavedView.objects.select_for_update().get(pk=saved_view_id, owner=owner).delete()


def saved_views_of(*, user) -> QuerySet[SavedView]:
    """``user``'s own saved views, newest first. There is no read of another user's saved views."""
    return SavedView.objects.filter(owner=user)


def saved_view_of(*, user, saved_view_id: int) -> SavedView:
    """One of ``user``'s own saved views (SavedView.DoesNotExist for anyone else's, as for a missing one)."""
    return saved_views_of(user=user).get(pk=saved_view_id)
