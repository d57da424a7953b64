"""Forms of the clinic billing settings page. They carry text; the clinic service checks it."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.widgets import DateInput

from roster.domain.families import ALL_CODES, FAMILIES, FAMILY_OF_CODE, MEDICARE, TRAININGS
from roster.forms import MultiCheckboxField, show_service_error
from roster.services import ServiceError
from roster.services.clinic import FILING_INDICATORS, SETTINGS_FIELDS


class _TextForm(FlaskForm):
    FIELDS: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {name: self[name].data or "" for name in self.FIELDS}

    def show_error(self, exc: ServiceError) -> None:
        show_service_error(self, exc)


class SettingsForm(_TextForm):
    FIELDS = SETTINGS_FIELDS

    organization_name = StringField("Organisation name")
    npi = StringField("Organisation NPI (type 2)", render_kw={"inputmode": "numeric"})
    tax_id = StringField("Tax id (EIN)")
    taxonomy = StringField("Taxonomy code")
    address_line1 = StringField("Street address")
    address_city = StringField("City")
    address_state = StringField("State", render_kw={"size": 2, "maxlength": 2})
    address_zip = StringField("ZIP+4")
    contact_name = StringField("Billing contact")
    contact_phone = StringField("Contact phone")
    submitter_id = StringField("Submitter id (from the clearinghouse)")
    receiver_id = StringField("Receiver id (the clearinghouse)")
    receiver_name = StringField("Receiver name")
    x12_usage = RadioField("Claim files are", choices=[("T", "Test files (ISA15 T)"),
                                                       ("P", "Production files (ISA15 P)")], default="T")
    hl7_host = StringField("Interface engine host")
    hl7_port = StringField("Interface engine port", render_kw={"inputmode": "numeric"})
    hl7_receiving_application = StringField("Receiving application (MSH-5)")
    hl7_receiving_facility = StringField("Receiving facility (MSH-6)")

    @classmethod
    def of(cls, row) -> "SettingsForm":
        data = {name: getattr(row, name) for name in SETTINGS_FIELDS}
        data["hl7_port"] = "" if row.hl7_port is None else str(row.hl7_port)
        return cls(data=data)


FILING_CHOICES = [(code, f"{code} — {label}") for code, label in FILING_INDICATORS.items()]


class PayerForm(_TextForm):
    FIELDS = ("name", "payer_id", "claim_filing_indicator")

    name = StringField("Payer name")
    payer_id = StringField("Payer id (from the clearinghouse's payer list)")
    claim_filing_indicator = SelectField("Claim filing indicator", choices=FILING_CHOICES, default="MB",
                                         validate_choice=False)  # the service checks it
    # The payer's profile (rule book R17-R21): Medicare's answers unless changed.
    telehealth_from = StringField("Telehealth covered from", default=MEDICARE.telehealth_from.isoformat(),
                                  widget=DateInput())
    verbal_consent_from = StringField("Verbal consent counts from",
                                      default=MEDICARE.verbal_consent_from.isoformat(), widget=DateInput())
    families = MultiCheckboxField("Caregiver training it covers", default=list(TRAININGS), validate_choice=False,
                                  choices=[(f.name, f"{f.label} ({', '.join(f.codes)})") for f in FAMILIES.values()])

    def to_data(self) -> dict[str, Any]:
        """Empty dates mean never; no box ticked means the payer covers no caregiver training."""
        return super().to_data() | {
            "telehealth_from": self.telehealth_from.data or None,
            "verbal_consent_from": self.verbal_consent_from.data or None,
            "families": list(self.families.data or []),
        }


class FeeForm(_TextForm):
    FIELDS = ("cpt", "charge")

    cpt = StringField("Code")
    charge = StringField("Charge per unit ($)", render_kw={"inputmode": "decimal"})


class UnitCapForm(_TextForm):
    """R21: a code's cap per patient per date of service."""

    FIELDS = ("cpt", "max_units")

    # Own ids: the fee form on the same page also has a `cpt` field.
    cpt = SelectField("Capped code", id="cap-cpt", validate_choice=False,  # the service checks it
                      choices=[(code, f"{code} ({FAMILIES[FAMILY_OF_CODE[code]].label})") for code in ALL_CODES])
    max_units = StringField("Most units per patient per day", id="cap-max_units", render_kw={"inputmode": "numeric"})
