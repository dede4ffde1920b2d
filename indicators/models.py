"""Analytics and indicator tables, rebuilt from committed records by ``indicators.services``.

Three layers, all free of identity data (no names, documents, birth dates, contact or free text):

* ``ApplicationFact`` and ``ApplicationFactValue``: one row per submitted application with its profile and case
  facts as codes at the application date, and one bridge row per value of a multi-valued fact. The recompute
  aggregates from these; no page reads them.
* ``IndicatorCell``: the precomputed counts the report pages and the API read through
  ``indicators.selectors``, each row tagged with the ``IndicatorVersion`` it belongs to. A full recompute writes
  a new version and makes it current in the same transaction, so readers never see half a recompute.
* ``RecomputeRun``, ``PendingRecompute``, ``RecomputeLock``, ``BusinessDay``: the machinery (run history, the
  outbox of years to recompute, the lock that keeps two recomputes apart, the business-day calendar).

And ``SavedView``, a user's named link to a report page with its filters (``indicators.saved_views``).
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .dimensions import CELL_DIMENSION_COLUMNS


class ApplicationFact(models.Model):
    """One submitted application (drafts are not counted anywhere) with non-identifying facts only: codes of
    its profile at the application date, the years that place it in each measure, and its timeliness.

    ``person_ref`` is the lowest Person id sharing the person's pseudonymous key (the Person id itself when the
    key is blank), so one person referred by two institutions counts once among distinct persons.
    Multi-valued facts of a code list are kept as bit masks (``<dimension>_mask``, one bit per code, see
    ``MaskBit``): one column instead of a bridge row per value, which keeps a full rebuild of a million
    applications within its time budget. Countries and places of exploitation are bridge rows
    (``ApplicationFactValue``), since the list of countries is open.
    """

    application_id = models.BigIntegerField(primary_key=True)
    person_ref = models.BigIntegerField(db_index=True)
    institution = models.CharField(max_length=20)
    status = models.CharField(max_length=20)
    received_year = models.SmallIntegerField(db_index=True)
    decided_year = models.SmallIntegerField(null=True, db_index=True)
    # "A" accredited, "N" not accredited, "O" open (submitted, under review, information requested),
    # "W" withdrawn.
    outcome = models.CharField(max_length=1)
    # True on an accredited application whose person has another accredited application the same year: such
    # persons are counted with COUNT(DISTINCT), everyone else by a plain sum (see indicators.recompute).
    person_dup = models.BooleanField(default=False)
    overdue = models.BooleanField(default=False)
    # The four columns above in one integer (received year * 100000 + decided year * 10 + outcome * 2 +
    # overdue), what the recompute groups by: see recompute.sql._time_key_sql.
    time_key = models.IntegerField(default=0)
    business_days = models.IntegerField(null=True)
    within_deadline = models.BooleanField(null=True)
    age_at_application = models.SmallIntegerField(null=True)
    # Profile and place codes; "" when not recorded.
    age_group = models.CharField(max_length=20, blank=True)
    victim_group = models.CharField(max_length=10, blank=True)
    sex = models.CharField(max_length=40, blank=True)
    gender_identity = models.CharField(max_length=40, blank=True)
    nationality = models.CharField(max_length=2, blank=True)
    migration_status = models.CharField(max_length=40, blank=True)
    occupation = models.CharField(max_length=40, blank=True)
    education = models.CharField(max_length=40, blank=True)
    residence_district = models.CharField(max_length=10, blank=True)
    residence_canton = models.CharField(max_length=10, blank=True)
    residence_province = models.CharField(max_length=10, blank=True)
    mother_tongue = models.CharField(max_length=3, blank=True)
    relationship = models.CharField(max_length=40, blank=True)
    recruitment_province = models.CharField(max_length=10, blank=True)
    recruitment_canton = models.CharField(max_length=10, blank=True)
    recruitment_country = models.CharField(max_length=2, blank=True)
    recruitment_place = models.CharField(max_length=10, blank=True)
    exploitation_form_mask = models.BigIntegerField(default=0)
    means_mask = models.BigIntegerField(default=0)
    recruitment_method_mask = models.BigIntegerField(default=0)
    control_method_mask = models.BigIntegerField(default=0)
    exploitation_province_mask = models.BigIntegerField(default=0)
    # The secret keys of the cell key method (``RecordKey`` of the application, ``PersonKey`` of person_ref).
    record_key = models.IntegerField(default=0)
    person_key = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("application fact")
        verbose_name_plural = _("application facts")


class MaskBit(models.Model):
    """The bit of a code in the masks of ``ApplicationFact`` (``bit`` holds the value 2**k). Append-only, so
    the masks already stored keep their meaning; at most 63 codes per dimension."""

    dimension = models.CharField(max_length=30)
    code = models.CharField(max_length=40)
    bit = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dimension", "code"], name="ind_maskbit_unique")]
        verbose_name = _("mask bit")
        verbose_name_plural = _("mask bits")


class ApplicationFactValue(models.Model):
    """One value of a multi-valued fact of an application whose list is open (a country of exploitation, a
    place of exploitation), keyed by the dimension name of ``indicators.dimensions``."""

    application_id = models.BigIntegerField()
    dimension = models.CharField(max_length=30)
    code = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["application_id", "dimension"], name="ind_factvalue_app_dim")]
        verbose_name = _("application fact value")
        verbose_name_plural = _("application fact values")


class RecordKey(models.Model):
    """The secret record key of an application for the cell key method (``indicators.disclosure``): a random
    integer in [0, disclosure.KEY_MODULUS), drawn by the recompute the first time the application is counted
    and never changed, so the same cell always gets the same perturbation. Never shown, never exported; only
    the recompute reads it. Keys of deleted applications are left behind: they key nothing."""

    application_id = models.BigIntegerField(primary_key=True)
    key = models.IntegerField()

    class Meta:
        verbose_name = _("record key")
        verbose_name_plural = _("record keys")


class PersonKey(models.Model):
    """The secret record key of a person (by ``ApplicationFact.person_ref``) for the distinct-persons measures;
    as ``RecordKey``."""

    person_id = models.BigIntegerField(primary_key=True)
    key = models.IntegerField()

    class Meta:
        verbose_name = _("person key")
        verbose_name_plural = _("person keys")


class IndicatorVersion(models.Model):
    """One complete set of indicator tables. Exactly one version is current; a full recompute creates the next
    one and switches ``is_current`` in the transaction that completes it. ``data_as_of`` is the moment the
    records were read by the latest recompute that changed this version (full or incremental)."""

    created_at = models.DateTimeField(auto_now_add=True)
    data_as_of = models.DateTimeField()
    is_current = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=models.Q(is_current=True), name="ind_one_current_version"
            )
        ]
        verbose_name = _("indicator version")
        verbose_name_plural = _("indicator versions")

    def __str__(self) -> str:
        return f"v{self.pk}"


def _cell_fields() -> dict:
    return {name: models.CharField(max_length=40, null=True) for name in CELL_DIMENSION_COLUMNS}


class IndicatorCellBase(models.Model):
    """One precomputed count of applications sharing a time key and the codes of a cell set.

    The time key places the applications in every measure: ``received_year``, ``decided_year`` (null when
    undecided), ``outcome`` ("A" accredited, "N" not accredited, "O" open, "W" withdrawn) and ``overdue``.
    Selectors turn it into measures (received in a year, accredited in a year, pending at a year end, ...).
    ``n`` counts applications, ``within_deadline`` those decided within the deadline, ``persons`` distinct
    accredited persons (rows of duplicated persons have ``n`` = 0 and ``received_year`` null). Rows of kind
    "d" hold the histogram of business days to decision (``days``) by year of decision.

    ``cell_set`` names the dimensions the row is broken down by ("" for the total, otherwise the sorted
    dimension names joined with "|"); the columns of the other dimensions are null. Several rows may share a
    cell: readers always sum. Exact counts: disclosure control is applied by the pages that publish them.
    """

    COUNT = "c"
    DAYS = "d"

    # No database constraint: only the recompute writes cells, always for a version it has just created or
    # holds, and a constraint would queue a check per row of the millions a full rebuild writes.
    version = models.ForeignKey(IndicatorVersion, on_delete=models.CASCADE, db_index=False, db_constraint=False)
    cell_set = models.CharField(max_length=120)
    kind = models.CharField(max_length=1, default=COUNT)
    received_year = models.SmallIntegerField(null=True)
    decided_year = models.SmallIntegerField(null=True)
    outcome = models.CharField(max_length=1, null=True)
    overdue = models.BooleanField(null=True)
    days = models.IntegerField(null=True)
    n = models.IntegerField(default=0)
    persons = models.IntegerField(default=0)
    within_deadline = models.IntegerField(default=0)
    # Cell keys (sums of record keys modulo disclosure.KEY_MODULUS) of n, persons and within_deadline; rows with
    # a minus sign carry negative keys, and readers sum and reduce.
    n_key = models.IntegerField(default=0)
    persons_key = models.IntegerField(default=0)
    within_key = models.IntegerField(default=0)

    class Meta:
        abstract = True


if TYPE_CHECKING:  # the type checker's view of the class built below: a concrete cell model with a manager

    class IndicatorCell(IndicatorCellBase):
        pass

else:
    IndicatorCell = type(
        "IndicatorCell",
        (IndicatorCellBase,),
        {
            "__module__": __name__,
            "__doc__": IndicatorCellBase.__doc__,
            **_cell_fields(),
            "Meta": type(
                "Meta",
                (),
                {
                    "indexes": [
                        models.Index(fields=["version", "cell_set", "kind"], name="ind_cell_lookup"),
                    ],
                    "verbose_name": _("indicator cell"),
                    "verbose_name_plural": _("indicator cells"),
                },
            ),
        },
    )


class RecomputeRun(models.Model):
    """One recompute: what it did, how long it took and how it ended. Left as ``running`` by a worker that was
    killed; the next run that takes the lock marks such rows ``abandoned``."""

    class Kind(models.TextChoices):
        FULL = "full", _("Full rebuild")
        INCREMENTAL = "incremental", _("Incremental (changed years)")

    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCESS = "success", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (another recompute was running)")
        ABANDONED = "abandoned", _("Abandoned (worker stopped)")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    years = models.JSONField(_("years"), default=list, blank=True)
    trigger = models.CharField(_("started by"), max_length=40, blank=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    rows_written = models.BigIntegerField(_("rows written"), default=0)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.RUNNING)
    error = models.TextField(_("error"), blank=True)
    version = models.ForeignKey(IndicatorVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("indicator recompute")
        verbose_name_plural = _("indicator recomputes")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M:%S}"


class PendingRecompute(models.Model):
    """The outbox: a year whose indicators a committed change made stale. Written inside the change's own
    transaction, so a broker outage loses nothing. Append-only: a recompute deletes exactly the rows it read,
    so a mark committed while it runs stays for the next one."""

    year = models.SmallIntegerField(null=True)
    # Set when the caller names the changed application: the recompute then applies the difference it makes
    # (its old cells out, its new cells in) instead of recomputing whole years.
    application_id = models.BigIntegerField(null=True)
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pending recompute")
        verbose_name_plural = _("pending recomputes")


class RecomputeLock(models.Model):
    """A single row locked (SELECT ... FOR UPDATE) by the transaction of a recompute, so two recomputes never
    interleave. On SQLite every write transaction already holds the database's write lock."""

    name = models.CharField(max_length=20, primary_key=True)

    class Meta:
        verbose_name = _("recompute lock")
        verbose_name_plural = _("recompute locks")


class BusinessDay(models.Model):
    """The business-day calendar: ``ordinal`` counts the business days (weekdays that are not holidays of
    ``settings.HOLIDAY_COUNTRY`` of the kinds in ``HOLIDAY_CATEGORIES``; built by ``records.deadlines``, the
    deadline's own calendar) up to and including ``day``, so business days between two dates is a subtraction
    the database does."""

    day = models.DateField(primary_key=True)
    ordinal = models.IntegerField()

    class Meta:
        verbose_name = _("business day")
        verbose_name_plural = _("business days")


class SavedView(models.Model):
    """A report page with its filters, named by its owner to find it again (issue 15, point 10). Only a link:
    whoever opens it sees the report through their own rights, so it grants nothing and holds nothing but
    report parameters (aggregates' filters, never identity data). ``path`` is always a report page of the
    ``indicators`` namespace and ``query`` its parameters, both checked by ``indicators.saved_views`` before
    any row is written; only the owner lists, renames or deletes it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=120)
    path = models.CharField(_("report"), max_length=200)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # "Mujeres 2024" and "mujeres 2024" would be the same name in a list read by people.
            models.UniqueConstraint("owner", Lower("name"), name="ind_savedview_owner_name"),
        ]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        """The report's address with its filters: what "open" follows and "copy link" shares."""
        return f"{self.path}?{self.query}" if self.query else self.path
