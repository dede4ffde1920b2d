"""Saved views (issue 15, point 10): a user names a report with its filters, finds it again in a list, opens,
shares and deletes it. A saved view is only a link to a report page of this portal: never another site nor a
records page; only its owner lists or deletes it (404 for anyone else); whoever opens a shared link sees the
report through their own rights. Over the report data set (tests/report_data.py), so that filters are real."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import escape

from indicators import saved_views, views
from indicators.models import SavedView
from tests.report_data import K
from tests.test_security_hostile_input import _UNESCAPED, HOSTILE

pytestmark = pytest.mark.django_db

CREATE = reverse("indicators:saved_view_create")
LIST = reverse("indicators:saved_views")
NATIONALITY = "/reports/disaggregations/nationality/"
NATIONALITY_QUERY = "measure=received&year_from=2024&year_to=2024"


@pytest.fixture
def data(report_data):
    return report_data


def _save(client, name: str, path: str = NATIONALITY, query: str = NATIONALITY_QUERY, **extra):
    return client.post(CREATE, {"name": name, "path": path, "query": query}, **extra)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _delete_url(saved: SavedView) -> str:
    return reverse("indicators:saved_view_delete", args=[saved.pk])


@pytest.mark.parametrize("member", ["analyst_a", "coordinator_a"])
def test_a_report_is_saved_listed_opened_and_deleted(data, member):
    user = getattr(data, member)
    client = data.client_for(user)
    page = client.get(f"{NATIONALITY}?{NATIONALITY_QUERY}").content.decode()
    assert 'data-testid="save-view-form"' in page and f'action="{CREATE}"' in page
    assert 'data-testid="saved-views-link"' in page  # in the reports' tabs

    response = _save(client, "  Recibidas   2024 por nacionalidad ", query=NATIONALITY_QUERY + "&sex=", follow=True)
    assert response.redirect_chain[-1] == (f"{NATIONALITY}?{NATIONALITY_QUERY}", 302)  # back to the report
    assert any("Recibidas 2024 por nacionalidad" in m and "guardó" in m for m in _messages(response))
    saved = SavedView.objects.get(owner=user)
    # Spaces tidied, the blank field the filter form sends left out, the rest as on the page.
    assert (saved.name, saved.path, saved.query) == ("Recibidas 2024 por nacionalidad", NATIONALITY, NATIONALITY_QUERY)

    listing = client.get(LIST)
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "Mis vistas guardadas" in html and "Recibidas 2024 por nacionalidad" in html
    assert "Desagregaciones: Nacionalidad" in html  # the report's title
    assert '<th scope="col">Nombre</th>' in html and '<th scope="col">Filtros</th>' in html
    # The filters in the panel's words and order: years first, then what is counted.
    assert "Desde el año: 2024" in html and html.index("Desde el año") < html.index("Qué contar: Solicitudes")
    assert f'href="{escape(saved.url)}"' in html  # open
    assert f'value="http://testserver{escape(saved.url)}"' in html and "data-copy-link=" in html  # copy link
    assert 'src="/static/js/saved-views.js"' in html
    assert client.get(saved.url).status_code == 200

    confirm = client.get(_delete_url(saved))
    assert confirm.status_code == 200 and "Recibidas 2024 por nacionalidad" in confirm.content.decode()
    assert SavedView.objects.filter(pk=saved.pk).exists()  # asking is not deleting
    deleted = client.post(_delete_url(saved), follow=True)
    assert deleted.redirect_chain[-1] == (LIST, 302)
    assert not SavedView.objects.filter(pk=saved.pk).exists()
    assert 'data-testid="no-saved-views"' in deleted.content.decode()


def test_every_report_page_with_filters_offers_to_save_it(data):
    client = data.client_for(data.analyst_a)
    for name in sorted(saved_views.REPORT_PAGES - {"dimension"}):
        html = client.get(reverse(f"indicators:{name}")).content.decode()
        assert 'data-testid="save-view-form"' in html, name
        assert f'name="path" value="{reverse(f"indicators:{name}")}"' in html, name


def test_the_form_carries_the_pages_own_address_and_the_users_own_token(data, monkeypatch):
    """The second request is answered from the page cache (views.cached_page): the form, outside the cached
    fragment, still carries this address and this user's CSRF token, never a cached one."""
    url = "/reports/intersections/?dims=sex&dims=nationality"
    first = data.client_for(data.analyst_a).get(url).content.decode()
    second = data.client_for(data.analyst_b, enforce_csrf_checks=True)  # same audience: cached
    # Served from the cache, the page's context is not built at all.
    monkeypatch.setattr(views.pages, "_context", lambda *args, **kwargs: pytest.fail("not served from the cache"))
    cached = second.get(url)
    for html in (first, cached.content.decode()):
        assert 'name="path" value="/reports/intersections/"' in html
        assert 'name="query" value="dims=sex&amp;dims=nationality"' in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', cached.content.decode()).group(1)
    response = second.post(
        CREATE,
        {
            "csrfmiddlewaretoken": token,
            "name": "Cruce",
            "path": "/reports/intersections/",
            "query": "dims=sex&dims=nationality",
        },
    )
    assert response.status_code == 302
    assert SavedView.objects.get(owner=data.analyst_b).url == url


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Dé un nombre a la vista"),
        ("   ", "Dé un nombre a la vista"),
        ("x" * 121, "como máximo 120 caracteres"),
        ("Niñas\u202e4202", "caracteres que no se pueden guardar"),  # a right-to-left override
    ],
)
def test_a_missing_or_too_long_name_is_refused_in_spanish_and_the_report_kept(data, name, message):
    client = data.client_for(data.analyst_a)
    response = _save(client, name, follow=True)
    assert response.redirect_chain[-1] == (f"{NATIONALITY}?{NATIONALITY_QUERY}", 302)
    assert any(message in m for m in _messages(response)), _messages(response)
    assert response.status_code == 200 and 'data-testid="save-view-form"' in response.content.decode()
    assert not SavedView.objects.exists()


def test_a_duplicate_name_is_refused_whatever_its_case(data):
    client = data.client_for(data.analyst_a)
    _save(client, "Niñas 2024")
    response = _save(client, "Niñas 2024", query="year_from=2024", follow=True)
    assert any("Ya tiene una vista guardada con este nombre" in m for m in _messages(response))
    assert SavedView.objects.filter(owner=data.analyst_a).count() == 1
    # Names are unique per owner only: someone else may use the same one.
    _save(data.client_for(data.coordinator_a), "Niñas 2024")
    assert SavedView.objects.filter(name="Niñas 2024").count() == 2


def test_the_same_name_in_another_case_is_a_duplicate(data):
    saved_views.saved_view_create(owner=data.analyst_a, name="Mujeres 2024", path=NATIONALITY)
    with pytest.raises(ValidationError) as refused:
        saved_views.saved_view_create(owner=data.analyst_a, name="mujeres 2024", path="/reports/")
    assert "name" in refused.value.message_dict


@pytest.mark.parametrize(
    "path",
    [
        "/records/1/",
        "/records/",
        "https://evil.example/",
        "//evil",
        "//evil.example/reports/",
        "/\\evil.example",
        "http://testserver/reports/",
        "reports/",
        "/reports/chart/by-year/",
        "/reports/export/by-year.csv",
        "/reports/saved/",
        "/reports/protection/",
        "/reports/disaggregations/not-a-dimension/",
        "/reports/?year_from=2024",
        "/reports/\n",
        "/admin/",
        "",
    ],
)
def test_a_path_outside_the_reports_is_refused(data, path):
    client = data.client_for(data.analyst_a)
    response = client.post(CREATE, {"name": "Fuera", "path": path, "query": ""})
    # Refused, and the way back is the overview: never the address that was refused.
    assert response.status_code == 302 and response["Location"] == reverse("indicators:dashboard")
    followed = client.get(response["Location"])
    assert any("Solo se puede guardar una página de reportes" in m for m in _messages(followed))
    assert not SavedView.objects.exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sex=F%0Aevil", "caracteres que no se pueden guardar"),
        ("sex=F\x07", "caracteres que no se pueden guardar"),
        ("year_from=2024&" + "x" * 1000, "demasiado largos"),
        ("&".join(f"a{i}=1" for i in range(100)), "demasiado largos"),
        ("year_from=1850", "Desde el año"),  # the report page itself would refuse it
        ("measure=nothing", "Qué contar"),
        ("next=https://evil.example/", "parámetros que no son filtros"),
        ("sex=F%E2%80%AE", "caracteres que no se pueden guardar"),  # a right-to-left override, once decoded
    ],
)
def test_a_query_that_is_not_report_parameters_is_refused(data, query, message):
    client = data.client_for(data.analyst_a)
    response = _save(client, "Filtros raros", query=query, follow=True)
    assert response.redirect_chain[-1] == (NATIONALITY, 302)  # the report, without what was refused
    assert any(message in m for m in _messages(response)), _messages(response)
    assert not SavedView.objects.exists()


def test_another_user_cannot_list_see_or_delete_a_saved_view(data):
    mine = saved_views.saved_view_create(owner=data.analyst_a, name="Solo mía", path=NATIONALITY)
    for other in (data.analyst_b, data.coordinator_a, data.officer_a, data.admin_a):
        client = data.client_for(other)
        assert "Solo mía" not in client.get(LIST).content.decode()
        assert client.get(_delete_url(mine)).status_code == 404
        assert client.post(_delete_url(mine)).status_code == 404
        # The same answer as for a saved view that does not exist: nothing tells that it does.
        assert client.post(reverse("indicators:saved_view_delete", args=[987654]), {}).status_code == 404
    assert SavedView.objects.filter(pk=mine.pk).exists()
    with pytest.raises(SavedView.DoesNotExist):
        saved_views.saved_view_delete(owner=data.analyst_b, saved_view_id=mine.pk)
    with pytest.raises(SavedView.DoesNotExist):
        saved_views.saved_view_rename(owner=data.analyst_b, saved_view_id=mine.pk, name="Robada")
    assert list(saved_views.saved_views_of(user=data.analyst_b)) == []


def test_the_owner_renames_a_saved_view(data):
    first = saved_views.saved_view_create(owner=data.analyst_a, name="Primera", path=NATIONALITY)
    saved_views.saved_view_create(owner=data.analyst_a, name="Segunda", path="/reports/")
    assert saved_views.saved_view_rename(owner=data.analyst_a, saved_view_id=first.pk, name=" Nueva ").name == "Nueva"
    with pytest.raises(ValidationError):
        saved_views.saved_view_rename(owner=data.analyst_a, saved_view_id=first.pk, name="segunda")


def test_a_shared_link_shows_each_person_what_their_role_allows(data):
    """The analyst's saved view is only the report's address: a coordinator opening it sees exact counts, an
    officer or another analyst the protected figures, someone without report rights a 403."""
    saved = saved_views.saved_view_create(
        owner=data.analyst_a, name="Recibidas por nacionalidad", path=NATIONALITY, query="measure=received"
    )
    link = saved.url
    analyst = data.client_for(data.analyst_b).get(link).content.decode()
    assert f"&lt;{K}" in analyst and "Para proteger a las personas" in analyst
    officer = data.client_for(data.officer_b).get(link).content.decode()
    assert f"&lt;{K}" in officer and "Para proteger a las personas" in officer
    coordinator = data.client_for(data.coordinator_b).get(link).content.decode()
    assert f"&lt;{K}" not in coordinator and "ve conteos exactos" in coordinator
    assert data.client_for(data.nobody).get(link).status_code == 403


def test_without_report_rights_nothing_is_saved_or_listed(data):
    client = data.client_for(data.nobody)
    assert client.get(LIST).status_code == 403
    assert _save(client, "Nada").status_code == 403
    assert not SavedView.objects.exists()
    with pytest.raises(PermissionDenied):
        saved_views.saved_view_create(owner=data.nobody, name="Nada", path=NATIONALITY)


def test_anonymous_visitors_go_to_the_login_page(data):
    client = data.client_for(None)
    mine = saved_views.saved_view_create(owner=data.analyst_a, name="Mía", path=NATIONALITY)
    for response in (client.get(LIST), _save(client, "Anónima"), client.post(_delete_url(mine))):
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert SavedView.objects.count() == 1


def test_a_post_without_the_csrf_token_is_refused(data):
    mine = saved_views.saved_view_create(owner=data.analyst_a, name="Mía", path=NATIONALITY)
    client = data.client_for(data.analyst_a, enforce_csrf_checks=True)
    assert _save(client, "Sin token").status_code == 403
    assert client.post(_delete_url(mine)).status_code == 403
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Mía"]


def test_create_answers_post_only(data):
    assert data.client_for(data.analyst_a).get(CREATE + "?" + urlencode({"name": "x"})).status_code == 405


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_strings_as_name_path_or_query_are_answered_safely(data, kind):
    """Each hostile string (tests/test_security_hostile_input.py) as the name, the path or the query: never a
    500, never rendered unescaped, and a path or a query that is not a report's is never saved."""
    client = data.client_for(data.analyst_a)
    value = HOSTILE[kind]
    for fields in (
        {"name": value, "path": NATIONALITY, "query": ""},
        {"name": f"ruta {kind}", "path": value, "query": ""},
        {"name": f"filtros {kind}", "path": NATIONALITY, "query": value},
    ):
        response = client.post(CREATE, fields, follow=True)
        assert response.status_code in (200, 400), fields["name"][:20]  # 400: a NUL byte, refused before any view
        html = response.content.decode()
        assert all(raw not in html for raw in _UNESCAPED)
    saved = {view.name: view for view in SavedView.objects.filter(owner=data.analyst_a)}
    assert f"ruta {kind}" not in saved and f"filtros {kind}" not in saved
    listing = client.get(LIST).content.decode()
    assert all(raw not in listing for raw in _UNESCAPED)
    for view in saved.values():  # only a hostile name can have been kept, escaped, on a report's path
        assert view.path == NATIONALITY and "\x00" not in view.name
