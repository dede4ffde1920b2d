"""seed_demo's large-load path, which exists on PostgreSQL only (COPY, indexes rebuilt, a writer thread)."""

import pytest

from records.models import Application
from records.scopes import scopes_disabled


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bulk_load_on_postgresql_rebuilds_every_index(monkeypatch):
    """The large-load path (indexes dropped, a writer thread, one transaction) leaves the schema as it was."""
    from django.db import connection

    from records import demo

    def schema():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'records_%%' UNION ALL "
                "SELECT count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                "WHERE t.relname LIKE 'records_%%'"
            )
            return [row[0] for row in cursor.fetchall()]

    before = schema()
    monkeypatch.setattr(demo.seeding, "BULK_THRESHOLD", 100)
    with scopes_disabled():  # as the seed_demo command runs it (records/scopes.py)
        totals = demo.seed(applications=500, seed=3, chunk_size=200)
    assert totals["bulk"] is True
    assert Application.all_objects.count() == 500
    assert schema() == before
    assert Application.all_objects.filter(decisions__isnull=False).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_failed_bulk_load_leaves_nothing_behind(monkeypatch):
    from records import demo

    monkeypatch.setattr(demo.seeding, "BULK_THRESHOLD", 100)
    calls = {"n": 0}
    real_write = demo.ChunkWriter.write

    def failing_write(self, chunk):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real_write(self, chunk)

    monkeypatch.setattr(demo.ChunkWriter, "write", failing_write)
    with pytest.raises(RuntimeError, match="disk full"), scopes_disabled():
        demo.seed(applications=600, seed=3, chunk_size=200)
    assert Application.all_objects.count() == 0
