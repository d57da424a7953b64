"""OpenAPI paths and schemas of the claim endpoints (settings, payers, fees, 837P and HL7)."""

from __future__ import annotations

from roster.models import SEXES

PATIENT_CLAIM_FIELDS = {
    "sex": {"enum": [*SEXES, None]}, "address_line1": {"type": "string"}, "address_city": {"type": "string"},
    "address_state": {"type": "string", "pattern": "^([A-Za-z]{2})?$"}, "address_zip": {"type": "string"},
}
_W = ("400", "401", "403", "404", "409", "422")


def claim_paths() -> dict:
    from roster.api.openapi import _op, _ref

    return {
        "/billing/settings": {
            "get": _op("The clinic's billing settings", "clinic.settings", answer=_ref("BillingSettings")),
            "patch": _op("Change billing settings (any fields)", "clinic.settings", body="BillingSettings",
                         answer=_ref("BillingSettings"), errors=_W),
        },
        "/billing/payers": {
            "get": _op("The payer list", "billing.view"),
            "post": _op("Add a payer (409 when the name is taken, whatever its case)", "clinic.settings",
                        body="Payer", ok="201", answer=_ref("Payer"), errors=_W),
        },
        "/billing/payers/{payer_id}": {"patch": _op("Change a payer", "clinic.settings", body="Payer",
                                                    answer=_ref("Payer"), errors=_W)},
        "/billing/fees": {
            "get": _op("The fee schedule (charge per unit by code)", "billing.view"),
            "post": _op("Set the charge per unit of a code (replaces its fee)", "clinic.settings", body="Fee",
                        errors=_W),
        },
    }


def claim_schemas() -> dict:
    text = {"type": "string"}
    return {
        "BillingSettings": {"type": "object", "properties": {
            "organization_name": text, "npi": {"type": "string", "pattern": r"^(\d{10})?$"}, "tax_id": text,
            "taxonomy": text, "address_line1": text, "address_city": text, "address_state": text,
            "address_zip": text, "contact_name": text, "contact_phone": text, "submitter_id": text,
            "receiver_id": text, "receiver_name": text, "x12_usage": {"enum": ["T", "P"]}, "hl7_host": text,
            "hl7_port": {"type": ["integer", "string", "null"]}, "hl7_receiving_application": text,
            "hl7_receiving_facility": text}},
        "Payer": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": text, "payer_id": text, "claim_filing_indicator": text}},
        "Fee": {"type": "object", "properties": {"cpt": text, "charge": {"type": ["string", "number"]}}},
    }
