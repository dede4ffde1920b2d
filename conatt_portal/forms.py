"""Shared form behaviour: Bootstrap classes and accessible error wiring on every field."""

from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

# The mixin goes in front of a Form or ModelForm; the type checker is told so, the runtime MRO stays as it was.
if TYPE_CHECKING:
    _FormBase = forms.BaseForm
else:
    _FormBase = object

# Django's own wording (translated in its catalogue) for a refused choice that does not repeat the value: a
# value sent in an address can be a megabyte long or hold characters that reorder the sentence on screen.
INVALID_CHOICE = _("Select a valid choice. That choice is not one of the available choices.")


class IsoDateInput(forms.DateInput):
    """The browser's date picker (``<input type="date">``). Its value is always ISO yyyy-mm-dd, whatever the
    page's language: rendered in the language's format (dd/mm/yyyy in Spanish) the browser rejects the value and
    shows an empty field, so saving an unchanged form erased its dates. Every date a person edits uses this."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class AccessibleFormMixin(_FormBase):
    """Adds Bootstrap's classes, and marks invalid fields with aria-invalid and aria-describedby pointing at the
    error text rendered next to them (templates/includes/field.html). A refused choice is never quoted back."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
                field.error_messages["invalid_choice"] = INVALID_CHOICE
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["aria-invalid"] = "true"
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"
                widget.attrs["aria-describedby"] = f"id_{self.add_prefix(name)}_error"


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's field ``name``, whose choices a form sets at run time; any other kind of field is a mistake."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a choice field")
    return field


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """The form's field ``name``, whose queryset a form narrows at run time."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a model choice field")
    return field
