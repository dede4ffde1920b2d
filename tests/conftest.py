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
