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


@pytest.fixture
def english(settings):
    """Run a test in English: for tests that check a message's content rather than its translation (the
    Spanish catalogue is checked in tests/test_import_translations.py and tests/test_foundation.py)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
