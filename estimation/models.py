"""Runs of multiple systems estimation (MSE): the number of victims no institution has identified.

A run is a job: it records its inputs (the period, the list definition, the capture-history counts read from the
records when it was requested, the parameters), then a Celery task fits the models and writes the chosen model,
the estimate and its interval. The capture-history counts are exact and small: only coordinators may see them
(``accounts.access.can_see_capture_histories``); the pages, the exports and the API for everyone else read only
``result['overall']`` / ``result['strata']`` estimates through ``estimation.selectors.public_result``.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EstimationRun(models.Model):
    """One estimation over one period and list definition. ``input_digest`` identifies the inputs (counts and
    parameters): a request whose digest matches a finished run reuses it, so results stay cached until the
    records of the period change. ``records_stamp`` is a cheap fingerprint of the period's applications, which
    tells the page whether the records changed since the run read them."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCESS = "success", _("Finished")
        REFUSED = "refused", _("Not estimable")
        FAILED = "failed", _("Failed")

    FINISHED = (Status.SUCCESS, Status.REFUSED, Status.FAILED)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    year_from = models.PositiveSmallIntegerField(_("from year"))
    year_to = models.PositiveSmallIntegerField(_("to year"))
    # Inputs: {"lists": [{"label", "institutions", "persons"}], "cells": [[history, sex, child, count]],
    # "undocumented": n, "applications": n} -- counts only, no person key or record id.
    inputs = models.JSONField(default=dict)
    replications = models.PositiveIntegerField(_("bootstrap replications"), default=1000)
    seed = models.PositiveIntegerField(_("random seed"), default=2024)
    p_threshold = models.FloatField(_("p-value threshold"), default=0.02)
    interval_method = models.CharField(_("interval"), max_length=20, default="bca")
    input_digest = models.CharField(max_length=64, db_index=True)
    records_stamp = models.CharField(max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration (s)"), null=True, blank=True)
    # The headline figures, also inside ``result``, as columns for the admin and the run list.
    observed = models.PositiveIntegerField(_("persons detected"), null=True, blank=True)
    estimate = models.FloatField(_("estimated total"), null=True, blank=True)
    interval_low = models.FloatField(_("interval, lower limit"), null=True, blank=True)
    interval_high = models.FloatField(_("interval, upper limit"), null=True, blank=True)
    chosen_model = models.CharField(_("chosen model"), max_length=500, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    # Where it runs: a Celery task id, or "process:<pid>" for a runner process of the embedded mode
    # (conatt_portal.runners). The heartbeat is rewritten with the progress; a running run silent for
    # IMPORT_HEARTBEAT_MINUTES lost its runner, and the sweep (services.estimation_runs_sweep) fails it.
    task_id = models.CharField(max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["year_from", "year_to", "-requested_at"], name="estimation_run_period")]
        verbose_name = _("estimation run")
        verbose_name_plural = _("estimation runs")

    def __str__(self) -> str:
        return f"{self.year_from}-{self.year_to} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED
