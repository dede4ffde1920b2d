"""The audit table is append-only in the database itself (accounts/migrations/0003_accessevent_append_only.py):
UPDATE and DELETE of accounts_accessevent rows are refused by triggers on SQLite and PostgreSQL, through the
ORM and through raw SQL alike. On PostgreSQL the documented least-privilege role (docs/SECURITY.md) is also
shown to be able to insert and read audit rows but not change them."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from accounts.audit import TRIGGERS, installed_triggers
from accounts.models import AccessEvent

from .cast import make_user


@pytest.fixture
def event(db):
    return AccessEvent.objects.create(
        action=AccessEvent.Action.IDENTITY_VIEW,
        object_type="records.application",
        object_id="42",
        ip_address="192.0.2.1",
    )


def _refused(statement):
    """Run ``statement`` in a savepoint and report whether the database refused it."""
    try:
        with transaction.atomic():
            statement()
    except DatabaseError as error:
        assert "append-only" in str(error)
        return True
    return False


def test_orm_update_is_refused(event):
    assert _refused(lambda: AccessEvent.objects.filter(pk=event.pk).update(object_id="43"))
    event.refresh_from_db()
    assert event.object_id == "42"


def test_orm_save_of_an_existing_row_is_refused(event):
    event.detail = "rewritten"
    assert _refused(lambda: event.save(update_fields=["detail"]))
    assert AccessEvent.objects.get(pk=event.pk).detail == ""


def test_orm_delete_is_refused(event):
    assert _refused(lambda: AccessEvent.objects.filter(pk=event.pk).delete())
    assert _refused(event.delete)
    assert AccessEvent.objects.filter(pk=event.pk).exists()


def test_raw_sql_update_and_delete_are_refused(event):
    table = connection.ops.quote_name("accounts_accessevent")

    def raw(sql):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql)

        return run

    assert _refused(raw(f"UPDATE {table} SET object_id = '1'"))  # noqa: S608 - constant table name
    assert _refused(raw(f"DELETE FROM {table}"))  # noqa: S608
    assert AccessEvent.objects.get(pk=event.pk).object_id == "42"


def test_inserting_and_reading_still_work(event):
    AccessEvent.objects.create(action=AccessEvent.Action.LOGIN)
    assert AccessEvent.objects.count() == 2


def test_a_user_with_audit_rows_cannot_be_deleted_only_deactivated(db):
    user = make_user("audited.person")
    AccessEvent.objects.create(user=user, action=AccessEvent.Action.LOGIN)
    with pytest.raises(ProtectedError):
        user.delete()
    user.is_active = False
    user.save()
    assert AccessEvent.objects.filter(user=user).count() == 1


def test_a_user_without_audit_rows_can_still_be_deleted(db):
    user = make_user("never.logged.in")
    user.delete()
    assert not AccessEvent.objects.exists()


@pytest.mark.postgres
def test_postgres_triggers_are_installed(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'accounts_accessevent'::regclass AND NOT tgisinternal"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert names == {"accessevent_no_update", "accessevent_no_delete"}


@pytest.mark.postgres
def test_postgres_least_privilege_role_can_insert_but_not_change_audit_rows(event):
    """The hardened deployment of docs/SECURITY.md: migrations run as the owner, the portal runs as a role that
    may only SELECT and INSERT on the audit table (no UPDATE, DELETE or TRUNCATE, and it does not own the table,
    so it cannot disable the triggers either). CREATE ROLE is transactional: the test's rollback removes it."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE conatt_portal_app_test NOLOGIN")
        cursor.execute("GRANT SELECT, INSERT ON accounts_accessevent TO conatt_portal_app_test")
        cursor.execute("GRANT USAGE ON SEQUENCE accounts_accessevent_id_seq TO conatt_portal_app_test")
        cursor.execute("SET ROLE conatt_portal_app_test")
        try:
            cursor.execute(
                "INSERT INTO accounts_accessevent (at, action, object_type, object_id, detail) "
                "VALUES (now(), 'login', '', '', '')"
            )
            cursor.execute("SELECT count(*) FROM accounts_accessevent")
            assert cursor.fetchone()[0] == 2
            for statement in (
                "UPDATE accounts_accessevent SET detail = 'x'",
                "DELETE FROM accounts_accessevent",
                "TRUNCATE accounts_accessevent",
                "ALTER TABLE accounts_accessevent DISABLE TRIGGER USER",
            ):
                cursor.execute("SAVEPOINT refused")
                with pytest.raises(DatabaseError) as refused:
                    cursor.execute(statement)
                assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)
                cursor.execute("ROLLBACK TO SAVEPOINT refused")
        finally:
            cursor.execute("RESET ROLE")


def test_triggers_are_installed(db):
    assert installed_triggers(connection) == set(TRIGGERS)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_transactional_test_that_writes_audit_rows_is_flushed_cleanly(cast):
    """Audit rows written with real commits (as Celery and import tests do) must not break the flush between
    tests, and the triggers must be back afterwards (checked by the test below, which runs after it)."""
    cast.client_for(cast.officer_a)  # a login: writes an audit row
    assert AccessEvent.objects.filter(action=AccessEvent.Action.LOGIN).exists()
    assert _refused(lambda: AccessEvent.objects.update(detail="x"))


def test_triggers_are_back_after_a_transactional_test(db):
    assert installed_triggers(connection) == set(TRIGGERS)
    event = AccessEvent.objects.create(action=AccessEvent.Action.LOGIN)
    assert _refused(event.delete)
