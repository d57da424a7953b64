"""Forms of the schedule pages. They check shape; the scheduling service checks meaning."""

from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import HiddenInput

from roster import forms as shared
from roster.domain.families import DEFAULT_TRAINING, FAMILIES
from roster.forms import MultiCheckboxField, optional_id
from roster.models import Facilitator, Patient
from roster.services import ServiceError

US_TIMEZONES = (
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Arizona (Phoenix, no daylight saving)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico)"),
)
WEEKDAYS = tuple(enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")))
MODALITY_CHOICES = (("in_person", "In person"), ("telehealth", "Telehealth"))
TRAINING_CHOICES = tuple(
    (f.name, f"{f.label}: {f.individual.initial}/{f.individual.addon} individual, "
             f"{'/'.join(f.group.codes)} group") for f in FAMILIES.values()
)
PLACE_OF_SERVICE_CHOICES = (
    ("", "Automatic: 11 in person, 02 telehealth"),
    ("11", "11 Office"),
    ("02", "02 Telehealth, patient not at home"),
    ("10", "10 Telehealth in the patient's home"),
    ("19", "19 Off-campus outpatient hospital"),
    ("22", "22 On-campus outpatient hospital"),
)


def with_choice(choices, value: str) -> list[tuple[str, str]]:
    """The choices, with ``value`` first (labelled by itself) if it is not one of them."""
    choices = list(choices)
    if value not in dict(choices):
        choices.insert(0, (value, value))
    return choices


def timezone_choices(clinic_zone: str) -> list[tuple[str, str]]:
    """The common US zones, with the clinic's own zone first if it is not one of them."""
    return with_choice(US_TIMEZONES, clinic_zone)


def facilitator_choices(facilitators: list[Facilitator], blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [
        (str(f.id), f.name if f.active else f"{f.name} (inactive)") for f in facilitators
    ]


def caregiver_choices(patient: Patient) -> list[tuple[int, str]]:
    """The patient's caregivers (links loaded), by name, with their relationship."""
    links = sorted(patient.links, key=lambda link: (link.caregiver.last_name, link.caregiver.first_name))
    return [
        (link.caregiver_id, f"{link.caregiver.full_name} ({link.relationship})" if link.relationship
         else link.caregiver.full_name)
        for link in links
    ]


def show_service_error(form: FlaskForm, exc: ServiceError) -> None:
    """The shared placement of service errors; a series' `recurrence.*` keys land on the series fields."""
    shared.show_service_error(form, exc, lambda key: form._fields.get(key.removeprefix("recurrence.")))


class ClassDetailsForm(FlaskForm):
    """What a class is, apart from its sessions: created with them, changed on its own."""

    title = StringField("Title", validators=[InputRequired("Give the class a title.")], render_kw={"maxlength": 160})
    needs = StringField("Focus needs")
    room = StringField("Room", render_kw={"maxlength": 80})
    capacity = IntegerField("Caregiver seats", validators=[InputRequired("Say how many caregivers it seats.")])
    facilitator_id = SelectField("Planned facilitator")
    timezone = SelectField("Time zone")
    modality = SelectField("Modality", choices=MODALITY_CHOICES)
    training = SelectField("Training family", choices=TRAINING_CHOICES, default=DEFAULT_TRAINING)
    place_of_service = SelectField("Place of service", choices=PLACE_OF_SERVICE_CHOICES, default="")

    def service_data(self) -> dict:
        """The class as the scheduling service (and the JSON API) takes it."""
        return {
            "title": self.title.data,
            "needs": self.needs.data,
            "room": self.room.data,
            "capacity": self.capacity.data,
            "facilitator_id": optional_id(self.facilitator_id.data),
            "timezone": self.timezone.data,
            "modality": self.modality.data,
            "place_of_service": self.place_of_service.data,
            "training": self.training.data,
        }


class ClassForm(ClassDetailsForm):
    """A new class and its weekly series of sessions."""

    weekdays = MultiCheckboxField("Weekdays", coerce=int, choices=WEEKDAYS,
                                  validators=[InputRequired("Choose at least one weekday.")])
    start_time = TimeField("Start time", validators=[InputRequired("Give the start time.")])
    duration_minutes = IntegerField("Duration (minutes)", default=60,
                                    validators=[InputRequired("Give the length in minutes.")])
    first_date = DateField("First date", validators=[InputRequired("Give the first date.")])
    count = IntegerField("Number of sessions", validators=[Optional()])
    until = DateField("Or: last date", validators=[Optional()])
    confirm_past = BooleanField("Yes, create sessions in the past (to record attendance that already happened)")

    def local_start(self) -> datetime:
        """The first date at the start time: the earliest any session of the series can be."""
        return datetime.combine(self.first_date.data, self.start_time.data)

    def service_data(self) -> dict:
        return super().service_data() | {
            "recurrence": {
                "weekdays": self.weekdays.data,
                "start_time": self.start_time.data.strftime("%H:%M"),
                "duration_minutes": self.duration_minutes.data,
                "first_date": self.first_date.data.isoformat(),
                "count": self.count.data,
                "until": self.until.data.isoformat() if self.until.data else None,
            },
        }


class SessionTimeForm(FlaskForm):
    date = DateField("Date", validators=[InputRequired("Give the date.")])
    start_time = TimeField("Start time", validators=[InputRequired("Give the start time.")])
    duration_minutes = IntegerField("Duration (minutes)", validators=[InputRequired("Give the length in minutes.")])
    confirm_past = BooleanField("Yes, add a session in the past")

    def local_start(self) -> datetime:
        return datetime.combine(self.date.data, self.start_time.data)


class EditSessionForm(SessionTimeForm):
    room = StringField("Room", render_kw={"maxlength": 80})
    facilitator_id = SelectField("Facilitator")
    scope = RadioField(
        "Apply to",
        choices=(("this", "This session only"), ("following", "This and the following sessions")),
        default="this",
    )


class CancelSessionForm(FlaskForm):
    reason = TextAreaField("Reason", render_kw={"maxlength": 300})


class EnrolForm(FlaskForm):
    patient_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    caregiver_ids = MultiCheckboxField("Caregivers who will attend", coerce=int)
