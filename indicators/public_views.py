"""The public statistics pages (``/estadisticas/``), open without login and the same for everyone: the fixed
tables of ``indicators.public``, their CSV files, the map's data and the page that explains the protection.

No view reads the query string: the tables are fixed, so any parameter in the address is ignored and the
answer is the same page. Nothing here depends on the user, so a coordinator who is logged in sees the public,
protected figures like anyone else."""

from __future__ import annotations

from django.core.cache import cache
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from . import disclosure, public
from .reporting import PUBLIC, audience

# Browsers may keep a public answer a minute. Private, not public: each page carries the visitor's CSRF token
# (the language form), which a shared cache must not hand to someone else. A logged-in user's answers are
# no-store (accounts.middleware.NoStoreMiddleware), whatever is set here.
BROWSER_SECONDS = 60


def _browser_cache(response):
    patch_cache_control(response, private=True, max_age=BROWSER_SECONDS)
    return response


def _table_context(table: public.PublicTable) -> dict:
    report = table.report
    return {
        "slug": table.slug,
        "report": report,
        "chart": table.chart,
        "label_count": table.label_count,
        "header": report.header(),
        "rows": report.body(),
        "totals_row": report.totals_row() if report.show_totals_row else None,
    }


def _key_figures(release: public.PublicRelease) -> dict:
    """The last year's key figures, as the key figures table publishes them (the same cells)."""
    report = release.table("public-headline").report
    if not report.table.col_keys:
        return {}
    return {
        "year": report.table.col_keys[-1],
        "figures": [
            {"label": report.row_label(key), "display": row[-1].display, "hidden": row[-1].hidden}
            for key, row in zip(report.table.row_keys, report.table.cells, strict=True)
        ],
    }


@require_safe
def statistics(request):
    """The page. Its content is rendered once per indicator version and language (``public.cache_key``) and
    reused for every visitor; the release is built only when that content is not cached. The content is read
    once and handed to the template (``{% page_content %}``, as the report pages do), so content evicted
    while the page renders cannot give a page without its figures."""
    key = public.cache_key("page")
    _exact, k = audience(PUBLIC)
    context = {"page_title": _("Public statistics on trafficking in persons"), "k": k, "k_minus_1": k - 1}
    content = cache.get(key)
    if content is not None:
        return _browser_cache(render(request, "public/statistics.html", {**context, "page_content": content}))
    release = public.release()
    context.update(
        release=release,
        key_figures=_key_figures(release),
        tables=[_table_context(table) for table in release.tables],
    )
    response = render(request, "public/statistics.html", context)
    cache.set(key, request.rendered_page_content, public.CACHE_SECONDS)
    return _browser_cache(response)


def _table(slug: str) -> public.PublicTable:
    if slug not in public.SLUGS:
        raise Http404
    try:
        return public.release().table(slug)
    except KeyError:  # a table not published (no indicators yet)
        raise Http404 from None


@require_safe
def table_csv(request, table: str):
    found = _table(table)
    release = public.release()
    response = HttpResponse(("\ufeff" + public.csv_content(found, release)).encode(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="conatt-{found.slug}.csv"'
    return _browser_cache(response)


@require_safe
def map_data(request):
    """The province map's data for static/js/reports-charts.js (choropleth): the published figure of each
    province, hidden ones as null with their "<k" text."""
    report = _table("public-province-map").report
    return _browser_cache(JsonResponse({"title": report.title, **report.extra["geo"]}))


@require_safe
def protection(request):
    """How the public figures are protected: the analysts' explanation with the public threshold."""
    _exact, k = audience(PUBLIC)
    table = disclosure.current_table()
    return _browser_cache(
        render(
            request,
            "public/protection.html",
            {
                "page_title": _("How the public figures are protected"),
                "exact": False,
                "k": k,
                "k_minus_1": k - 1,
                "k_analysts": disclosure.threshold(disclosure.ANALYSTS),
                "k_public": k,
                "max_deviation": table.max_deviation,
                "variance": table.variance,
                "probabilities": [
                    {"noise": f"{e:+d}" if e else "0", "percent": f"{100 * p:.2f}"}
                    for e, p in table.probabilities(1000).items()
                ],
            },
        )
    )
