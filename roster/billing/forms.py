"""Billing forms. The filters are GET forms (no CSRF token: they change nothing)."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.widgets import HiddenInput
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from roster.services import billing

STATUS_CHOICES = [("all", "All"), ("held", "Held"), ("ready", "Ready"), ("exported", "Exported"), ("void", "Void")]


def current_month(now: datetime, tz: str) -> tuple[date, date]:
    """The first and last day of the month `now` falls in, in zone `tz`."""
    today = now.astimezone(ZoneInfo(tz)).date()
    return today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1])


class _DateField(DateField):
    """A date whose blank value is just missing (the required check then says so once)."""

    def process_formdata(self, valuelist):
        if valuelist and not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


def _date_field(label: str, name: str) -> DateField:
    return _DateField(label, name=name, validators=[DataRequired(message=f"Enter the {label.lower()} date.")])


class RangeForm(FlaskForm):
    """A from-to range of dates of service; the fields are sent as ``from`` and ``to``, as in the API."""

    date_from = _date_field("From", "from")
    date_to = _date_field("To", "to")

    def validate_date_to(self, field):
        if self.date_from.data and field.data:
            problem = billing.range_problems(self.date_from.data, field.data).get("to")
            if problem:
                raise ValidationError(problem)


class ReviewFilterForm(RangeForm):
    class Meta:
        csrf = False

    status = SelectField("Status", choices=STATUS_CHOICES, default="all")
    # narrowing links from the counters (no field of their own on the form)
    cpt = HiddenField()
    facilitator = IntegerField(widget=HiddenInput(), validators=[Optional()])
    patient = IntegerField(widget=HiddenInput(), validators=[Optional()])

    @property
    def narrowing(self) -> dict:
        """The counter filters in use, as URL arguments."""
        out = {"cpt": self.cpt.data or None, "facilitator": self.facilitator.data, "patient": self.patient.data}
        return {k: v for k, v in out.items() if v not in (None, "")}

    @property
    def status_filter(self) -> str | None:
        return None if self.status.data == "all" else self.status.data


class ExportForm(RangeForm):
    """Export the ready lines (and pending voids) of a range."""


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = _DateField("From", name="from", validators=[Optional()])
    date_to = _DateField("To", name="to", validators=[Optional()])
    actor = SelectField("Person", default="")
    patient = StringField("Patient MRN", validators=[Length(max=40)], render_kw={"maxlength": 40})
    entity_type = SelectField("Kind of record", default="")
    session_id = IntegerField("Session number", validators=[
        Optional(), NumberRange(min=1, message="A session number is a whole number from 1."),
    ])

    def __init__(self, *args, entity_types: list[str], actors: list[tuple[int, str]], **kwargs):
        from roster.billing.audit_view import kind_label

        super().__init__(*args, **kwargs)
        self.entity_type.choices = [("", "All")] + [(t, kind_label(t)) for t in entity_types]
        self.actor.choices = [("", "Anyone")] + [(str(uid), name) for uid, name in actors]

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError("The range must end on or after its start.")

    @property
    def narrowed(self) -> bool:
        return any(f.data for f in (self.date_from, self.date_to, self.actor, self.patient, self.entity_type,
                                    self.session_id))
