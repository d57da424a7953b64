"""Forms of the people pages.

The forms only carry text. The services check it with the same rules as the
API, and ``show_service_error`` puts every reason back on its field.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
)
from wtforms.widgets import DateInput

from roster.forms import show_service_error
from roster.models import DISCIPLINES, POC_DISCIPLINES, Caregiver, Facilitator, Patient
from roster.services import ServiceError
from roster.services.imports import KINDS
from roster.services.patient_claim import CLAIM_FIELDS
from roster.services.people import FLAT_PATIENT_FIELDS, flat_field, patient_from_flat

DISCIPLINE_NAMES = {
    "PT": "Physical therapist", "PTA": "Physical therapist assistant",
    "OT": "Occupational therapist", "OTA": "Occupational therapy assistant",
    "SLP": "Speech-language pathologist", "MD": "Physician (MD)", "DO": "Physician (DO)",
    "NP": "Nurse practitioner", "PA": "Physician assistant", "CNS": "Clinical nurse specialist",
    "PSY": "Clinical psychologist", "CSW": "Clinical social worker",
}
RELATIONSHIPS = ("spouse", "partner", "daughter", "son", "parent", "sibling", "friend", "neighbour", "other family")


def _date_field(label: str, **attrs) -> StringField:
    """A date typed or picked as YYYY-MM-DD; the service checks it."""
    return StringField(label, widget=DateInput(), render_kw=attrs or None)


# --------------------------------------------------------------------------- patients


class PatientForm(FlaskForm):
    mrn = StringField("MRN (medical record number)", render_kw={"maxlength": 40})
    first_name = StringField("First name", render_kw={"maxlength": 80})
    last_name = StringField("Last name", render_kw={"maxlength": 80})
    dob = _date_field("Date of birth", min="1900-01-01")
    payer = StringField("Payer", render_kw={"list": "payer-list", "autocomplete": "off", "maxlength": 80})
    member_id = StringField("Member id", render_kw={"maxlength": 40})
    sex = SelectField("Sex", choices=[("", "Not recorded"), ("F", "Female"), ("M", "Male"), ("U", "Unknown")],
                      validate_choice=False)  # the service checks it
    address_line1 = StringField("Street address", render_kw={"autocomplete": "off"})
    address_city = StringField("City")
    address_state = StringField("State", render_kw={"size": 2, "maxlength": 2})
    address_zip = StringField("ZIP code", render_kw={"inputmode": "numeric"})
    needs = StringField("Needs", id="needs-tags")
    diagnosis_codes = StringField("ICD-10-CM diagnosis codes")
    consent_kind = RadioField(
        "Consent",
        choices=[("none", "No consent on file"), ("written", "Written"), ("verbal", "Verbal")],
        default="none",
    )
    consent_date = _date_field("Consent date")
    poc_discipline = SelectField(
        "Plan of care discipline",
        choices=[("", "No plan of care")] + [(d, f"{d} — {DISCIPLINE_NAMES[d]}") for d in POC_DISCIPLINES],
    )
    poc_start = _date_field("Plan of care start")
    poc_end = _date_field("Plan of care end")

    @classmethod
    def of(cls, patient: Patient) -> PatientForm:
        """The form filled in from a patient (request data, when posted, wins)."""
        return cls(data={
            "mrn": patient.mrn, "first_name": patient.first_name, "last_name": patient.last_name,
            "dob": _iso(patient.dob), "payer": patient.payer, "member_id": patient.member_id,
            "needs": ", ".join(patient.needs or []), "diagnosis_codes": ", ".join(patient.diagnosis_codes or []),
            "consent_kind": patient.consent_kind or "none", "consent_date": _iso(patient.consent_date),
            "poc_discipline": patient.poc_discipline or "", "poc_start": _iso(patient.poc_start),
            "poc_end": _iso(patient.poc_end), "sex": patient.sex or "",
            "address_line1": patient.address_line1, "address_city": patient.address_city,
            "address_state": patient.address_state, "address_zip": patient.address_zip,
        })

    def to_data(self) -> dict[str, Any]:
        """The dict the API takes."""
        return patient_from_flat({name: self[name].data for name in FLAT_PATIENT_FIELDS + CLAIM_FIELDS})

    def show_error(self, exc: ServiceError) -> None:
        show_service_error(self, exc, lambda key: self[flat_field(key)] if flat_field(key) in self else None)


def _iso(day) -> str:
    return day.isoformat() if day else ""


# --------------------------------------------------------------------------- caregivers


class LinkForm(Form):
    patient_mrn = StringField("Patient MRN")
    relationship = StringField("Relationship", render_kw={"list": "relationships", "maxlength": 40})


class CaregiverForm(FlaskForm):
    first_name = StringField("First name", render_kw={"maxlength": 80})
    last_name = StringField("Last name", render_kw={"maxlength": 80})
    phone = TelField("Phone", render_kw={"maxlength": 40, "autocomplete": "off"})
    email = EmailField("E-mail (optional)", render_kw={"maxlength": 254})
    links = FieldList(FormField(LinkForm), min_entries=3)
    add_link = SubmitField("Add another patient")
    confirm_new = HiddenField()  # "1": save a new caregiver although a likely duplicate exists

    @classmethod
    def of(cls, caregiver: Caregiver) -> CaregiverForm:
        form = cls(data={
            "first_name": caregiver.first_name, "last_name": caregiver.last_name,
            "phone": caregiver.phone, "email": caregiver.email or "",
            "links": [{"patient_mrn": link.patient.mrn, "relationship": link.relationship}
                      for link in caregiver.links],
        })
        form.leave_a_blank_link()
        return form

    def first_mrn(self) -> str:
        rows = self._filled_links()
        return (rows[0].patient_mrn.data or "").strip() if rows else ""

    def leave_a_blank_link(self) -> None:
        """At least one empty patient row, so another patient can be added."""
        if len(self._filled_links()) == len(self.links.entries):
            self.links.append_entry()

    def _filled_links(self) -> list[LinkForm]:
        return [entry.form for entry in self.links.entries
                if (entry.form.patient_mrn.data or "").strip() or (entry.form.relationship.data or "").strip()]

    def to_data(self) -> dict[str, Any]:
        """The dict the API takes; empty patient rows are left out."""
        return {
            "first_name": self.first_name.data, "last_name": self.last_name.data,
            "phone": self.phone.data, "email": self.email.data,
            "links": [{"patient_mrn": (row.patient_mrn.data or "").strip(), "relationship": row.relationship.data}
                      for row in self._filled_links()],
        }

    def show_error(self, exc: ServiceError) -> None:
        """A link's reason ("links[1].patient_mrn") goes on its row (rows sent, blanks left out)."""
        rows = self._filled_links()

        def field_for(key: str) -> Field | None:
            if not key.startswith("links["):
                return self[key] if key in self else None
            row = rows[int(key[len("links["):key.index("]")])]
            return row.relationship if key.endswith(".relationship") else row.patient_mrn

        show_service_error(self, exc, field_for)


# --------------------------------------------------------------------------- facilitators


class FacilitatorForm(FlaskForm):
    name = StringField("Name, as on claims", render_kw={"maxlength": 120})
    discipline = SelectField(
        "Discipline", choices=[("", "Choose a discipline")] + [(d, f"{d} — {DISCIPLINE_NAMES[d]}") for d in DISCIPLINES]
    )
    npi = StringField("NPI (10 digits)", render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 10})

    def to_data(self) -> dict[str, Any]:
        return {"name": self.name.data, "discipline": self.discipline.data or None,
                "npi": (self.npi.data or "").strip()}

    def show_error(self, exc: ServiceError) -> None:
        show_service_error(self, exc)


class EditFacilitatorForm(FacilitatorForm):
    active = BooleanField("Active: can be chosen to run sessions")

    @classmethod
    def of(cls, facilitator: Facilitator) -> EditFacilitatorForm:
        return cls(obj=facilitator)

    def to_data(self) -> dict[str, Any]:
        return super().to_data() | {"active": bool(self.active.data)}


# --------------------------------------------------------------------------- CSV import


class ImportForm(FlaskForm):
    kind = RadioField("The file holds", choices=[(k, k.capitalize()) for k in KINDS], default=KINDS[0])
    file = FileField("CSV file", render_kw={"accept": ".csv,text/csv"})
    content = HiddenField()  # the previewed file, sent back to import it
    confirm = SubmitField("Import")

    def show_error(self, exc: ServiceError) -> None:
        show_service_error(self, exc)
