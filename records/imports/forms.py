from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Institution
from conatt_portal.forms import AccessibleFormMixin, model_choice_field

from .parsing import ImportFileError, check_upload


class ImportUploadForm(AccessibleFormMixin, forms.Form):
    """The file and, for an officer of several institutions, which one it is for (only their own)."""

    institution = forms.ModelChoiceField(queryset=Institution.objects.none(), label=_("Institution to import into"))
    file = forms.FileField(
        label=_("File to import"),
        help_text=_("A .xlsx or .csv file made from the template."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
        error_messages={"empty": _("The file is empty."), "required": _("Choose the file to import.")},
    )

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "institution").queryset = Institution.objects.filter(
            pk__in=[i.pk for i in institutions]
        )
        self.only_institution = institutions[0] if len(institutions) == 1 else None
        if self.only_institution is not None:
            # Nothing to choose: the officer's one institution, decided here, not by what the browser sends.
            self.fields["institution"].required = False
            self.fields["institution"].widget = forms.HiddenInput()

    def clean_institution(self):
        return self.only_institution or self.cleaned_data.get("institution")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_upload(upload.name, upload.size)
        except ImportFileError as problem:
            raise forms.ValidationError(problem.message) from None
        return upload


class ExportForm(AccessibleFormMixin, forms.Form):
    format = forms.ChoiceField(label=_("File format"), choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")])
    identity = forms.BooleanField(label=_("Include identity data (names, document, birth date)"), required=False)
