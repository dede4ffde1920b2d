"""Shared form behaviour: Bootstrap classes and accessible error wiring on every field."""

from django import forms
from django.utils.translation import gettext_lazy as _

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


class AccessibleFormMixin:
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
