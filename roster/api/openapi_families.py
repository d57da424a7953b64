"""OpenAPI paths and schemas of the code-family settings: unit caps (R21) and payer profiles."""

from __future__ import annotations

from roster.domain.families import FAMILY_OF_CODE, TRAININGS

CAP_CODES = sorted(FAMILY_OF_CODE)
_NEVER_OR_DATE = {"oneOf": [{"type": "null"}, {"type": "string", "format": "date"}]}
# A payer's profile (POST/PATCH /billing/payers); left out of a new payer: Medicare's answers.
PAYER_PROFILE_FIELDS = {
    "telehealth_from": {**_NEVER_OR_DATE, "description": "First date of service telehealth is covered; null: never"},
    "verbal_consent_from": {**_NEVER_OR_DATE, "description": "First date of service verbal consent counts; "
                                                             "null: never"},
    "families": {"type": "array", "items": {"enum": list(TRAININGS)},
                 "description": "The caregiver-training families it covers"},
}


def family_paths() -> dict:
    from roster.api.openapi import _object, _op, _ref, _write

    return {
        "/billing/unit-caps": {
            "get": _op("The clinic's unit caps per code per patient per date of service (R21)", "billing.view",
                       answer=_object({"unit_caps": {"type": "array", "items": _ref("UnitCap")}}, ("unit_caps",))),
            "post": _write("Set (or change) a code's unit cap; re-evaluates its unexported lines",
                           "clinic.settings", body="UnitCap", answer=_ref("UnitCap")),
        },
        "/billing/unit-caps/{cpt}": {
            "delete": _write("Remove a code's unit cap (404 when it has none); re-evaluates its unexported lines",
                             "clinic.settings", ok=("204",)),
        },
    }


def family_schemas() -> dict:
    from roster.api.openapi import _object

    return {
        "UnitCap": _object({"cpt": {"type": "string", "description": f"One of {', '.join(CAP_CODES)} (any case; "
                                                                     "answered in capitals)"},
                            "max_units": {"type": ["integer", "string"], "minimum": 1, "maximum": 99,
                                          "description": "Units per patient per date of service (1-99)"}},
                           ("cpt", "max_units"), strict=True),
    }
