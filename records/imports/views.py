"""Thin views: check the right through accounts.access, call one service, respond. Another user's import job
answers 404; a role without the right answers 403."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import access
from accounts.models import AccessEvent

from . import exports, runner, services, template_files
from .forms import ExportForm, ImportUploadForm
from .models import ImportJob
from .parsing import ImportFileError


def _job(request, pk) -> ImportJob:
    return get_object_or_404(access.import_jobs_visible_to(request.user).select_related("institution"), pk=pk)


@access.require(access.can_import_records)
def import_upload(request):
    institutions = access.import_institutions(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None, institutions=institutions)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(
                user=request.user, institution=form.cleaned_data["institution"], upload=form.cleaned_data["file"]
            )
        except ImportFileError as problem:
            form.add_error("file", problem.message)
        else:
            runner.import_step_run(job=job, step="preview")
            return redirect("records:import_preview", pk=job.pk)
    jobs = access.import_jobs_visible_to(request.user)[:10]
    return render(
        request,
        "records/import_upload.html",
        {"form": form, "jobs": jobs, "institutions": institutions, "max_mb": settings.IMPORT_MAX_UPLOAD_BYTES // 2**20},
    )


@require_GET
@access.require(access.can_import_records)
def import_template(request, file_format: str):
    institutions = access.import_institutions(request.user)
    if file_format == "csv":
        response = HttpResponse(template_files.template_csv(), content_type="text/csv; charset=utf-8")
    elif file_format == "xlsx":
        response = HttpResponse(
            template_files.template_xlsx(institution=institutions[0]),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        return HttpResponse(status=404)
    response["Content-Disposition"] = f'attachment; filename="plantilla-solicitudes.{file_format}"'
    return response


@access.require(access.can_import_records)
def import_preview(request, pk: int):
    runner.import_jobs_sweep_embedded()
    job = _job(request, pk)
    progress = services.progress_read(job=job)
    return render(
        request,
        "records/import_preview.html",
        {
            "job": job,
            "progress": progress,
            "phase_label": services.phase_label(progress["phase"]),
            "uncounted": progress["phase"] in services.UNCOUNTED_PHASES,
        },
    )


@require_POST
@access.require(access.can_import_records)
def import_confirm(request, pk: int):
    job = _job(request, pk)
    if not services.import_job_start(job=job):
        messages.error(request, _("This import cannot be confirmed: it has errors, was cancelled or already ran."))
        return redirect("records:import_preview", pk=job.pk)
    access.log_access(request, AccessEvent.Action.IMPORT, obj=job, detail=f"institution={job.institution_id}")
    runner.import_step_run(job=job, step="confirm")  # the job page shows the outcome, or polls for it
    return redirect("records:import_preview", pk=job.pk)


@require_POST
@access.require(access.can_import_records)
def import_cancel(request, pk: int):
    job = _job(request, pk)
    services.import_cancel(job=job)
    messages.info(request, _("The import was cancelled; nothing was written."))
    return redirect("records:import_upload")


@require_GET
@access.require(access.can_import_records)
def import_progress(request, pk: int):
    runner.import_jobs_sweep_embedded()
    job = _job(request, pk)
    data = services.progress_read(job=job)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "running": job.is_running,
            "done": data["done"],
            "total": data["total"],
            "phase": data["phase"],
            "phase_label": services.phase_label(data["phase"]),
            "uncounted": data["phase"] in services.UNCOUNTED_PHASES,
        }
    )


@access.require(access.can_export_records)
def export_applications(request):
    """Without a format: the export page. With one: the file, logged as an access (and as an identity export
    when identity columns are included, which only entitled roles get)."""
    form = ExportForm(request.GET or None)
    entitled = access.reads_records(request.user)  # the roles entitled to identity data (access.can_see_identity)
    if not entitled:
        form.fields.pop("identity")
    if not request.GET or not form.is_valid():
        return render(
            request, "records/import_export.html", {"form": form, "count": exports.export_count(user=request.user)}
        )
    with_identity = entitled and form.cleaned_data.get("identity", False)
    file_format = form.cleaned_data["format"]
    count = exports.export_count(user=request.user)
    detail = f"format={file_format} rows={count}"
    access.log_access(request, AccessEvent.Action.EXPORT, object_type="records.application", detail=detail)
    if with_identity:
        access.log_access(request, AccessEvent.Action.IDENTITY_EXPORT, object_type="records.application", detail=detail)
    stamp = timezone.localdate().isoformat()
    if file_format == "csv":
        response = StreamingHttpResponse(
            exports.export_csv(user=request.user, with_identity=with_identity), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            exports.export_xlsx(user=request.user, with_identity=with_identity),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="solicitudes-{stamp}.{file_format}"'
    return response
