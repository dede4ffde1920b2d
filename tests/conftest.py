"""Fixtures every test may use, and how the suite runs in parallel (``make test``: pytest-xdist, ``-n auto
--dist loadgroup``).

Each xdist worker (gw0, gw1, ...) has its own test database (pytest-django appends the worker's name:
``test_conatt_ci_gw0``) and two Redis databases of its own, for the Celery broker and for the cache
(settings._test_redis_url: gwN uses REDIS_URL's database minus 2N, and the one below it), so a Celery worker that
a test starts consumes only the tasks of its own xdist worker, and a FLUSHDB of one worker's cache leaves the
other's alone. Groups (``xdist_group``; each runs its tests one after another on one xdist worker):
``celery_worker`` for the tests that start Celery workers or spare redis-servers on free ports, ``browser`` for
the Playwright tests (one chromium at a time, tests/browser_support.py), ``processes`` for the gunicorn tests,
and one group per module that shares one recomputed report data set (``report_data_module``), so that the
recompute is done once, not once per xdist worker. The PostgreSQL tests need no group: each works in its own
test database (the one role a test creates is cluster-wide but created and rolled back in one transaction, and
the advisory-lock probe counts its own database's locks)."""

import os

import pytest

from .cast import Cast, build_cast


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres or redis run where those services are configured (CI) and are skipped elsewhere."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))
        if "slow" in item.keywords and not os.environ.get("CONATT_SLOW_TESTS"):
            item.add_marker(pytest.mark.skip(reason="slow simulation study (set CONATT_SLOW_TESTS=1)"))
    if getattr(config.option, "loadgroup", False):  # set by pytest-xdist on its workers only
        _apply_xdist_groups(items)
        _keep_transactional_groups_last(items)


def pytest_configure(config):
    """Under ``--dist loadgroup``, xdist hands the work out in the collection's order, not biggest group first
    (``--no-loadscope-reorder``): see ``_keep_transactional_groups_last``."""
    if getattr(config.option, "dist", "no") == "loadgroup":
        config.option.loadscopereorder = False


def _db_order(item) -> int:
    """pytest-django's order (Django's): 0 for a test in a rolled-back transaction, 1 for a transactional test
    (flushed at its end), 2 for a test without the database."""
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    if (marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))) or {
        "transactional_db",
        "live_server",
    } & fixtures:
        return 1
    return 0 if marker or "db" in fixtures else 2


def _keep_transactional_groups_last(items) -> None:
    """Django runs the transactional tests after all the others because each ends with a flush, which empties
    the reference data that the migrations loaded (a later test with ``serialized_rollback`` reloads it, a plain
    database test does not) and, on SQLite, the audit triggers. pytest-django sorts so, but xdist hands a group
    out whole at the place of its first test, so a group holding a transactional test (celery_worker: database
    tests, then workers) would run its flush in the middle of its xdist worker's database tests. Such a group
    takes the place of the transactional tests (its own database tests still run first, in the group); with the
    work handed out in this order (pytest_configure), an xdist worker that ran one gets no plain database test
    after it. Stable: the rest keeps pytest-django's order."""
    group_of = {item: item.nodeid.rpartition("@")[2] for item in items if "@" in item.nodeid.rpartition("]")[2]}
    order = {item: _db_order(item) for item in items}
    transactional_groups = {group for item, group in group_of.items() if order[item] == 1}
    items.sort(key=lambda item: 1 if group_of.get(item) in transactional_groups else order[item])


def _apply_xdist_groups(items) -> None:
    """``xdist_group`` for pytest 9: pytest-xdist 3.8 marks a grouped test by appending ``@group`` to
    ``item._nodeid``, which pytest 9 no longer reads (the id lives in ``item._id``), so every group was silently
    ignored and its tests spread over the workers. Do what xdist means, on its workers under ``--dist
    loadgroup``, unless xdist already did (a later release)."""
    from _pytest.nodeid import NodeId

    for item in items:
        marks = item.iter_markers("xdist_group")
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks})
        if names and "@" not in item.nodeid.rpartition("]")[2]:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")


@pytest.fixture
def chromium_browser(monkeypatch):
    """Headless chromium driven by Playwright's sync API; skipped where either is missing (tests/browser_support)."""
    from .browser_support import CHROMIUM, CHROMIUM_ARGS, missing

    if missing():
        pytest.skip(missing())
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls of the test itself are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def celery_conf():
    """The Celery app, with ``task_always_eager`` put back after the test. The app reads the Django settings once,
    so a test that needs a real worker (or an in-process one under REDIS_URL) sets the app's own configuration;
    without this a test that flips it changes every later test of the same process."""
    from conatt_portal.celery import app as celery_app

    before = celery_app.conf.task_always_eager
    try:
        yield celery_app
    finally:
        celery_app.conf.task_always_eager = before


@pytest.fixture
def eager_celery(celery_conf):
    """Tasks run in-process, also when REDIS_URL makes them go to a broker."""
    celery_conf.conf.task_always_eager = True
    return celery_conf


_REPORT_DATA_OPEN: set[str] = set()  # modules whose shared report data transaction is open


@pytest.fixture(scope="module")
def report_data_module(request, django_db_setup, django_db_blocker):
    """The report data set (tests/report_data.py) written and recomputed once for a whole module, in a transaction
    that stays open until the module's last test and is then rolled back. Each test asking for it (with ``db``)
    runs inside a savepoint of that transaction, so what a test writes is undone before the next, as usual; a
    full recompute per test cost 12 to 29 s. Only for modules whose tests need no transactional database."""
    from django.db import transaction
    from django.test import override_settings

    from .report_data import K, seed_report_data

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(DISCLOSURE_K=K):
                cast = build_cast()
                seed_report_data(cast)
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    _REPORT_DATA_OPEN.add(request.module.__name__)
    yield cast
    _REPORT_DATA_OPEN.discard(request.module.__name__)
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _report_data_only_for_its_tests(request):
    """A test that runs while its module's shared report data is open would see that data (and its cast): fail it
    with the reason instead of letting it fail on a duplicate user or a wrong count."""
    if request.module.__name__ in _REPORT_DATA_OPEN and "report_data" not in request.fixturenames:
        pytest.fail(
            "this module's shared report data (report_data_module) is still open: put the tests that use "
            "report_data last in the module, or in a module of their own"
        )


@pytest.fixture
def report_data(report_data_module, db, settings) -> Cast:
    """The module's shared report data, with k set and the report caches forgotten (a test may have changed
    what a cached page would show, e.g. a population, before its savepoint was rolled back)."""
    from .report_data import K, reset_report_caches

    settings.DISCLOSURE_K = K
    reset_report_caches()
    return report_data_module


@pytest.fixture
def english(settings):
    """Run a test in English: for tests that check a message's content rather than its translation (the
    Spanish catalogue is checked in tests/test_import_translations.py and tests/test_foundation.py)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _sqlite_audit_triggers_off_for_flush(request):
    """On SQLite, Django's flush after a transactional test empties tables with DELETE, which the audit table's
    append-only triggers refuse (accounts.audit). Lift them just before that flush and put them back when the
    next transactional test starts (and the post_migrate receiver does, when the flush fires it). PostgreSQL's
    flush is TRUNCATE, which row triggers do not see. Transactional tests that need the seeded reference data
    (institutions, code lists) ask for ``serialized_rollback=True``: the flush empties those tables too."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("serialized_rollback")))
    transactional = transactional or bool({"transactional_db", "live_server"} & set(request.fixturenames))
    if not transactional:
        yield
        return
    from django.db import connections

    from accounts.audit import install_append_only_triggers, remove_append_only_triggers

    request.getfixturevalue("transactional_db")  # set up first, so torn down (flushed) after this fixture
    # A flush with serialized_rollback does not fire post_migrate: put the triggers back for this test.
    for connection in connections.all(initialized_only=True):
        if connection.vendor == "sqlite":
            install_append_only_triggers(connection)
    yield
    for connection in connections.all(initialized_only=True):
        if connection.vendor == "sqlite":
            remove_append_only_triggers(connection)
