"""What every blueprint's forms share."""

from __future__ import annotations

from typing import Callable

from flask_wtf import FlaskForm
from wtforms import Field, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from roster.services import Conflict, ServiceError
from roster.transactions import discard_changes


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (the template puts it in a fieldset with a legend)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def optional_id(value: str | int | None) -> int | None:
    """A select's id, or None for its blank choice (a SelectField ``coerce``)."""
    return int(value) if value not in (None, "") else None


def show_service_error(
    form: FlaskForm, exc: ServiceError, field_for: Callable[[str], Field | None] | None = None
) -> None:
    """Put each reason of ``exc`` on its field; ``field_for`` finds the field of a
    service's key (default: the form field of that name). A reason without a
    field, or on a field of a list row, also goes to the form's summary.
    The request was refused, so nothing it changed is kept (``discard_changes``)."""
    discard_changes()
    field_for = field_for or (lambda key: form[key] if key in form else None)
    for key, why in exc.fields.items():
        why = exc.message if isinstance(exc, Conflict) else why
        target = field_for(key)
        if target is not None:
            target.errors.append(why)
        if target is None or target.name not in form:
            form.form_errors.append(why)
    if not exc.fields:
        form.form_errors.append(exc.message)
