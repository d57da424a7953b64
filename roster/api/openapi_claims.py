"""OpenAPI paths and schemas of the claim endpoints (settings, payers, fees, 837P and HL7)."""

from __future__ import annotations

from roster.api.openapi_families import PAYER_PROFILE_FIELDS
from roster.models import SEXES

PATIENT_CLAIM_FIELDS = {
    "sex": {"enum": [*SEXES, None]}, "address_line1": {"type": "string"}, "address_city": {"type": "string"},
    "address_state": {"type": "string", "pattern": "^([A-Za-z]{2})?$"}, "address_zip": {"type": "string"},
}
_W = ("400", "401", "403", "404", "409", "422")


DATE = {"type": "string", "format": "date"}


def _file_op(summary: str, mimetype: str) -> dict:
    from roster.api.openapi import _json, _op, _ref

    op = _op(summary, "billing.export", errors=("401", "403", "404"))
    op["responses"]["200"] = {"description": "The file, as an attachment", "content": {mimetype: {}}}
    op["responses"]["409"] = {"description": "Lines lack what a claim needs: the preflight's list",
                              **_json(_ref("PreflightError"))}
    return op


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
        "/billing/preflight": {"get": {**_op(
            "Claim preflight: every ready line of the range that cannot go on a valid claim, and why",
            "billing.view", answer=_ref("Problems"), errors=("401", "403", "422")),
            "parameters": [{"name": "from", "in": "query", "required": True, "schema": DATE},
                           {"name": "to", "in": "query", "required": True, "schema": DATE}]}},
        "/billing/exports/{batch_id}.837": {"get": _file_op(
            "The batch as an X12 837P (005010X222A1) claim file, checked by pyx12; kept, so a later "
            "download repeats it", "application/edi-x12")},
        "/billing/exports/{batch_id}.hl7": {"get": _file_op(
            "The batch as HL7 v2.5.1 DFT^P03 messages in a FHS/BHS batch file, each checked by hl7apy",
            "application/hl7-v2")},
        "/billing/exports/{batch_id}/hl7-messages": {"get": _op(
            "The batch's charge messages and their send status", "billing.view", errors=("401", "403", "404"))},
        "/billing/exports/{batch_id}/hl7-send": {"post": _op(
            "Send the batch's pending charge messages to the interface engine over MLLP, waiting for each ACK",
            "billing.export", errors=_W)},
        "/billing/hl7-messages/{message_id}/resend": {"post": _op(
            "Rebuild a rejected message from today's data (new control id) and send it again",
            "billing.export", errors=_W)},
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
            "id": {"type": "integer"}, "name": text, "payer_id": text, "claim_filing_indicator": text,
            **PAYER_PROFILE_FIELDS}},
        "Problem": {"type": "object", "properties": {
            "code": text, "message": text, "line_id": {"type": ["integer", "null"]},
            "patient_mrn": {"type": ["string", "null"]}, "cpt": {"type": ["string", "null"]},
            "date_of_service": {"type": ["string", "null"]}}},
        "Problems": {"type": "object", "properties": {"problems": {
            "type": "array", "items": {"$ref": "#/components/schemas/Problem"}}}},
        "PreflightError": {"type": "object", "properties": {"error": {"type": "object", "properties": {
            "code": {"const": "claim_preflight"}, "message": text, "fields": {"type": "object"},
            "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}}}}},
        "Fee": {"type": "object", "properties": {"cpt": text, "charge": {"type": ["string", "number"]}}},
    }
