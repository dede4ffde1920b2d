"""Faults with a real Redis: a separate redis-server (tests/fault_services.SpareRedis, never the shared one) is
the Celery broker, and is killed (SIGKILL) and started again around saves. Complements
tests/test_indicators_faults.py, whose broker-down case uses a closed port.

A Redis without persistence loses the messages queued before it died; the outbox in the database keeps the
years to recompute, so nothing is lost: the periodic sweep, queued through the restarted broker, catches up."""

from __future__ import annotations

import pytest
import redis
from django.db import connection
from django.test import override_settings

from conatt_portal.celery import app as celery_app
from indicators import selectors, services, tasks
from indicators.models import IndicatorVersion, RecomputeRun
from indicators.recompute import outbox
from records.models import Status

from .fault_services import CeleryWorker, RecomputePause, SpareRedis, wait_for
from .test_indicators_faults import _save_and_mark, two_years  # noqa: F401 - fixture

# Spare redis-servers on free ports and real workers: one xdist worker runs them all (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("celery_worker")]


def _reset_pools() -> None:
    """Drop Celery's cached connections and producers (they point at the previous broker)."""
    from kombu import pools

    celery_app.pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    pools.reset()  # kombu keeps producer pools per connection in a global registry


@pytest.fixture
def spare_broker():
    server = SpareRedis().start()
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=server.url, task_always_eager=False)
    _reset_pools()
    try:
        with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=server.url):
            yield server
    finally:
        celery_app.conf.update(saved)
        _reset_pools()
        server.kill()


def _queued(server: SpareRedis) -> int:
    return redis.Redis(host="127.0.0.1", port=server.port).llen("celery")


def test_redis_killed_during_saves_loses_nothing(two_years, spare_broker, django_capture_on_commit_callbacks):  # noqa: F811
    from django.core.cache import cache

    # Redis up: a save queues the recompute on the real broker.
    cache.delete(services.DEBOUNCE_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        _save_and_mark(two_years[2], status=Status.ACCREDITED)
    assert _queued(spare_broker) == 1
    assert services.pending_years() == [2024]

    # Redis killed: the next save still succeeds and its year stays in the outbox.
    spare_broker.kill()
    cache.delete(services.DEBOUNCE_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        _save_and_mark(two_years[0], status=Status.NOT_ACCREDITED)
    two_years[0].refresh_from_db()
    assert two_years[0].status == Status.NOT_ACCREDITED
    assert services.pending_years() == [2023, 2024]

    # Redis back, empty (the queued message died with it): the sweep goes through the broker again ...
    spare_broker.start()
    tasks.recompute_pending.apply_async(kwargs={"trigger": "beat-sweep"}, retry=False)
    assert _queued(spare_broker) == 1
    # ... and, run, recomputes both years from the outbox.
    run_id = tasks.recompute_pending.run(trigger="beat-sweep")
    assert RecomputeRun.objects.get(pk=run_id).outcome == RecomputeRun.Outcome.SUCCESS
    assert services.pending_years() == []
    accredited = selectors.measure_by_year(measure="accredited")
    assert accredited.get(2024) == 2
    assert accredited.get(2023) in (None, 0)


# -------------------------------------------------------------------- PostgreSQL: the import's connection killed


def _terminate_from_another_connection(pid: int) -> None:
    """What an administrator's ``pg_terminate_backend`` (or a failover) does to the import's connection: from a
    separate connection, terminate it and wait until PostgreSQL no longer lists it."""
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        autocommit=True,
    ) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        assert wait_for(
            lambda: not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone(), timeout=10
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_import_connection_terminated_mid_write_writes_nothing_and_a_retry_succeeds(
    cast, settings, tmp_path, monkeypatch
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from records.imports import samples
    from records.imports import services as import_services
    from records.imports.models import ImportJob
    from records.models import Application

    from .security_helpers import table_checksums

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_SYNC_MAX_BYTES = 10 * 2**20  # confirmed within the request, as small files are
    monkeypatch.setattr(import_services, "CHUNK", 10)  # several chunks: the kill lands after the first is written
    rows = samples.sample_rows(30)
    client = cast.client_for(cast.officer_a)

    def upload() -> ImportJob:
        page = client.post(
            reverse("records:import_upload"), {"file": SimpleUploadedFile("casos.csv", samples.to_csv(rows))}
        )
        assert page.status_code == 302
        job = ImportJob.objects.filter(user=cast.officer_a).latest("pk")
        assert job.status == ImportJob.Status.PREVIEWED, job.errors
        return job

    job = upload()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND "
            "(table_name LIKE 'records\\_%%' OR table_name LIKE 'indicators\\_%%') "
            "AND table_name <> 'records_importjob'"
        )
        tables = sorted(name for (name,) in cursor.fetchall())
    before = table_checksums(tables)
    own_before = Application.all_objects.filter(institution=cast.institution_a).count()

    original_create = import_services._Writer.create
    killed = []

    def create_then_lose_the_connection(self, records):
        original_create(self, records)  # the first chunk is written, uncommitted, inside the import's transaction
        if not killed:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                killed.append(cursor.fetchone()[0])
            _terminate_from_another_connection(killed[0])

    monkeypatch.setattr(import_services._Writer, "create", create_then_lose_the_connection)
    response = client.post(reverse("records:import_confirm", args=[job.pk]), follow=True)
    assert killed, "the import never reached its write"
    # The officer gets the job page (not a 500), saying in Spanish that nothing was written.
    assert response.status_code == 200
    page = response.content.decode()
    assert "La importación se detuvo por un error del portal; no se guardó nada." in page
    assert "Traceback" not in page
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.errors[0]["message"].startswith("La importación se detuvo por un error del portal")
    assert not job.file  # the uploaded identity data is not kept
    # Nothing of the import is in the database: every records_ and indicators_ table is as before.
    assert table_checksums(tables) == before

    # The connection is back (Django opens a new one): the same file uploaded again imports in full.
    monkeypatch.setattr(import_services._Writer, "create", original_create)
    retry = upload()
    response = client.post(reverse("records:import_confirm", args=[retry.pk]), follow=True)
    assert response.status_code == 200
    retry.refresh_from_db()
    assert retry.status == ImportJob.Status.DONE and retry.count_new == len(rows)
    assert Application.all_objects.filter(institution=cast.institution_a).count() == own_before + len(rows)


# -------------------------------------------------------------------- a recompute running in a real worker
# The worker is another process, so these need PostgreSQL (a test's SQLite database is in memory). The build is
# held just before its commit by tests/fault_services.RecomputePause, so the kill lands mid-build every time.


def _no_advisory_lock_held() -> bool:
    """True once no session holds the recompute's advisory lock (a killed worker's session is gone)."""
    with connection.cursor() as cursor:
        # pg_locks is the whole server's: count this database's locks only (other xdist workers' databases and
        # other test runs share the server).
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()[0] == 0


def _runs(trigger: str) -> list[str]:
    return sorted(RecomputeRun.objects.filter(trigger=trigger).values_list("outcome", flat=True))


def _equals_a_full_rebuild() -> None:
    from .test_indicators_faults import _snapshot

    caught_up = _snapshot()
    services.recompute_full(trigger="check")
    assert _snapshot() == caught_up


@pytest.fixture
def worker_setup(two_years, spare_broker, tmp_path, monkeypatch):  # noqa: F811
    """Data with a current version, one committed change waiting in the outbox (its own enqueue left out, so the
    test queues the one task it follows), the spare Redis as broker and cache, and a build pause."""
    from django.core.cache import caches

    monkeypatch.setattr(outbox, "_enqueue_pending", lambda: None)
    _save_and_mark(two_years[2], status=Status.ACCREDITED)
    monkeypatch.undo()
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": spare_broker.url}
    with override_settings(CACHES={"default": cache}):
        caches["default"].clear()
        yield two_years, spare_broker, RecomputePause(tmp_path)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_killed_mid_recompute_keeps_the_old_version_and_the_redelivered_task_completes(worker_setup, tmp_path):
    _, broker, pause = worker_setup
    version = IndicatorVersion.objects.get(is_current=True)
    assert selectors.measure_by_year(measure="accredited")[2024] == 1 and services.pending_years() == [2024]

    first = CeleryWorker(broker.url, name="doomed", env=pause.env, log=tmp_path / "doomed.log").start()
    try:
        tasks.recompute_pending.apply_async(kwargs={"trigger": "delivered"}, retry=False)
        assert pause.wait_reached(), (tmp_path / "doomed.log").read_text()
        # Mid-build (new cells written, outbox emptied, not committed): readers see the old version.
        assert IndicatorVersion.objects.get(is_current=True) == version
        assert selectors.measure_by_year(measure="accredited")[2024] == 1
        assert services.pending_years() == [2024]
    finally:
        first.kill()  # SIGKILL, as the OOM killer would
    # PostgreSQL ends the dead worker's session and rolls its transaction back.
    assert wait_for(_no_advisory_lock_held, timeout=15)
    assert IndicatorVersion.objects.get(is_current=True) == version and IndicatorVersion.objects.count() == 1
    assert selectors.measure_by_year(measure="accredited")[2024] == 1
    assert services.pending_years() == [2024]  # the outbox rows are kept
    assert _runs("delivered") == [RecomputeRun.Outcome.RUNNING]  # its row says it never finished

    # A new worker: the unacknowledged message is delivered again after the visibility timeout and completes.
    pause.release()
    with CeleryWorker(broker.url, name="second", log=tmp_path / "second.log"):
        assert wait_for(lambda: RecomputeRun.Outcome.SUCCESS in _runs("delivered"), timeout=30), (
            tmp_path / "second.log"
        ).read_text()
    assert services.pending_years() == []
    assert selectors.measure_by_year(measure="accredited")[2024] == 2
    assert IndicatorVersion.objects.filter(is_current=True).count() == 1
    _equals_a_full_rebuild()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_redis_killed_during_a_running_recompute_loses_nothing(worker_setup, tmp_path):
    apps, broker, pause = worker_setup
    version = IndicatorVersion.objects.get(is_current=True)
    log = tmp_path / "worker.log"
    with CeleryWorker(broker.url, name="survivor", env=pause.env, log=log):
        tasks.recompute_pending.apply_async(kwargs={"trigger": "running"}, retry=False)
        assert pause.wait_reached(), log.read_text()
        broker.kill()  # broker and cache gone while the build runs
        # A save during the outage commits; its year waits in the outbox (the enqueue failed quietly).
        _save_and_mark(apps[0], status=Status.NOT_ACCREDITED)
        apps[0].refresh_from_db()
        assert apps[0].status == Status.NOT_ACCREDITED
        assert IndicatorVersion.objects.get(is_current=True) == version  # still readable, still the old one
        assert selectors.measure_by_year(measure="accredited") == {2023: 1, 2024: 1}
        assert set(services.pending_years()) == {2023, 2024}
        pause.release()
        # The build needs only the database: it commits (its message cannot be acknowledged; Redis lost it).
        assert wait_for(lambda: _runs("running") == [RecomputeRun.Outcome.SUCCESS], timeout=20), log.read_text()
        assert selectors.measure_by_year(measure="accredited")[2024] == 2
        assert services.pending_years() == [2023]  # the outage's change is still remembered
        # Redis back, empty: the periodic sweep goes through it and the worker, reconnected, does the rest.
        broker.start()
        _reset_pools()
        tasks.recompute_pending.apply_async(kwargs={"trigger": "beat-sweep"}, retry=False)
        assert wait_for(lambda: _runs("beat-sweep") == [RecomputeRun.Outcome.SUCCESS], timeout=30), log.read_text()
    assert services.pending_years() == []
    assert selectors.measure_by_year(measure="accredited").get(2023) in (None, 0)
    assert IndicatorVersion.objects.filter(is_current=True).get() == version
    _equals_a_full_rebuild()
