"""The admin shows reference data and resolutions, never case or identity data."""

from django.contrib import admin
from django.urls import reverse

from records.models import Application, Code, Identity, Person

from .records_factories import make_application


def test_case_and_identity_models_are_not_in_the_admin():
    for model in (Application, Person, Identity):
        assert model not in admin.site._registry


def test_admin_pages_for_reference_data_and_decisions(cast):
    make_application(cast, state="ACCREDITED")
    client = cast.client_for(cast.admin_a)
    for name in ("records_code", "records_district", "records_decision", "records_applicationgroupobjectpermission"):
        response = client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200, name
    decision_page = client.get(reverse("admin:records_decision_changelist")).content.decode()
    assert "Motivos de prueba" not in decision_page  # reasons are not shown
    code = Code.objects.first()
    assert client.post(reverse("admin:records_code_delete", args=[code.pk])).status_code == 403


def test_non_admins_do_not_reach_the_admin(cast):
    response = cast.client_for(cast.coordinator_a).get(reverse("admin:records_code_changelist"))
    assert response.status_code == 302
