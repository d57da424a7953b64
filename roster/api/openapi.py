"""The OpenAPI 3.1 description of JSON API v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from roster.domain.families import TRAININGS
from roster.models import CONSENT_KINDS, DISCIPLINES, LINE_STATUSES, MODALITIES, POC_DISCIPLINES, ROLES


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _op(summary: str, permission: str, *, body: str | None = None, ok: str = "200",
        answer: dict | None = None, errors: tuple[str, ...] = ("401", "403")) -> dict:
    op = {"summary": summary, "description": f"Needs the `{permission}` permission.",
          "responses": {ok: {"description": "OK", **(_json(answer) if answer else {})}}}
    if body:
        op["requestBody"] = {"required": True, **_json(_ref(body))}
    for code in errors:
        op["responses"][code] = {"description": ERRORS[code], **_json(_ref("Error"))}
    return op


ERRORS = {
    "400": "Malformed JSON", "401": "No or bad token", "403": "The token's role may not do this",
    "404": "Not found", "409": "Conflict", "422": "Invalid fields (all listed; nothing written)",
}
ID = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
DATE = {"type": "string", "format": "date"}
LOCAL = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$",
         "description": "Wall-clock time in the class's time zone, no offset"}
W = ("400", "401", "403", "404", "409", "422")


def _window(default: int) -> list[dict]:
    """The limit/offset query parameters of a paged list."""
    return [
        {"name": "limit", "in": "query", "description": f"At most this many items (default {default})",
         "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": default}},
        {"name": "offset", "in": "query", "description": "Items to skip (default 0)",
         "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0}},
    ]


def _paged(key: str) -> dict:
    return {"type": "object", "required": [key, "next_offset"], "properties": {
        key: {"type": "array", "items": {"type": "object"}},
        "next_offset": {"type": ["integer", "null"], "description": "The offset of the next page; null at the end"}}}


from roster.api.openapi_claims import PATIENT_CLAIM_FIELDS, claim_paths, claim_schemas  # noqa: E402


def spec() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Roster JSON API", "version": "1",
                 "description": "Group caregiver-training classes and their billing. See docs/api.md."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/facilitators": {
                "get": _op("List facilitators", "people.view"),
                "post": _op("Create a facilitator", "people.edit", body="Facilitator", ok="201", answer=ID, errors=W),
            },
            "/facilitators/{facilitator_id}": {"patch": _op("Change a facilitator", "people.edit", body="Facilitator", errors=W)},
            "/patients": {"post": _op("Create a patient (409 on a duplicate MRN)", "people.edit", body="Patient",
                                      ok="201", answer=ID, errors=W)},
            "/patients/{mrn}": {
                "get": _op("Read a patient", "people.view", answer=_ref("Patient")),
                "patch": _op("Change any fields of a patient; re-evaluates unexported lines", "people.edit",
                             body="Patient", errors=W),
            },
            "/caregivers": {"post": _op("Create a caregiver with links", "people.edit", body="Caregiver",
                                        ok="201", answer=ID, errors=W)},
            "/caregivers/{caregiver_id}": {"patch": _op("Change a caregiver", "people.edit", body="Caregiver", errors=W)},
            "/classes": {"post": _op("Create a class with sessions", "schedule.edit", body="Class", ok="201",
                                     answer={"type": "object", "properties": {
                                         "id": {"type": "integer"},
                                         "session_ids": {"type": "array", "items": {"type": "integer"}}}},
                                     errors=W)},
            "/classes/{class_id}": {
                "get": _op("Read a class and its sessions", "schedule.view"),
                "patch": _op("Change a class (not its sessions); re-evaluates its held sessions", "schedule.edit",
                             body="Class", errors=W),
            },
            "/classes/{class_id}/enrollments": {"post": _op(
                "Enrol a patient's caregiver set", "enrollment.edit", body="Enrollment", ok="201",
                answer={"type": "object", "properties": {"status": {"enum": ["enrolled", "waitlisted"]}}},
                errors=W)},
            "/classes/{class_id}/enrollments/{mrn}": {"delete": _op("Withdraw a set; promotes waiting sets",
                                                               "enrollment.edit", errors=W)},
            "/sessions/{session_id}": {"get": _op("Read a session", "schedule.view")},
            "/sessions/{session_id}/checkins": {"post": _op(
                "Check a caregiver in (201; 200 when already checked in)", "frontdesk.checkin", body="CheckIn",
                ok="201", errors=W)},
            "/sessions/{session_id}/checkins/{caregiver_id}": {"delete": _op("Undo a check-in", "frontdesk.checkin",
                                                                      errors=W)},
            "/sessions/{session_id}/close": {"post": _op("Close a session; answers its billing", "session.close",
                                                 body="Close", answer=_ref("SessionBilling"), errors=W)},
            "/sessions/{session_id}/reopen": {"post": _op("Re-open a held session", "session.close", body="Reason",
                                                  errors=W)},
            "/sessions/{session_id}/cancel": {"post": _op("Cancel a session", "schedule.edit", body="Reason", errors=W)},
            "/sessions/{session_id}/billing": {"get": _op("A session's lines and findings", "billing.view",
                                                  answer=_ref("SessionBilling"))},
            "/billing/lines": {"get": {**_op("Lines by date of service (from, to inclusive; status), paged with "
                                             "limit/offset; next_offset is null on the last page", "billing.view",
                                             answer=_paged("lines"), errors=("401", "403", "422")),
                                       "parameters": [
                                           {"name": "from", "in": "query", "required": True, "schema": DATE},
                                           {"name": "to", "in": "query", "required": True, "schema": DATE},
                                           {"name": "status", "in": "query", "schema": {"enum": list(LINE_STATUSES)}},
                                           *_window(default=1000)]}},
            "/billing/exports": {
                "get": {**_op("Export history, newest first, paged with limit/offset", "billing.view",
                              answer=_paged("exports"), errors=("401", "403", "422")),
                        "parameters": _window(default=100)},
                "post": _op("Export a date range (ready lines and pending voids)", "billing.export", body="Range",
                            ok="201", answer={"type": "object", "properties": {"id": {"type": "integer"},
                                                                              "rows": {"type": "integer"}}},
                            errors=W),
            },
            "/billing/exports/{batch_id}.csv": {"get": {**_op("The roster CSV of an export", "billing.view"),
                                                  "responses": {"200": {"description": "RFC 4180 CSV",
                                                                        "content": {"text/csv": {}}}}}},
            **claim_paths(),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": f"`roster create-token EMAIL`; roles: {', '.join(ROLES)}"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}},
                "Facilitator": {"type": "object", "properties": {
                    "name": {"type": "string"}, "npi": {"type": "string", "pattern": r"^\d{10}$"},
                    "discipline": {"enum": list(DISCIPLINES)}, "active": {"type": "boolean"}}},
                "Patient": {"type": "object", "properties": {
                    "mrn": {"type": "string"}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
                    "dob": DATE, "payer": {"type": "string"}, "member_id": {"type": "string"},
                    "needs": {"type": "array", "items": {"type": "string"}},
                    "diagnosis_codes": {"type": "array", "items": {"type": "string"}},
                    "consent": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                        "date": DATE, "kind": {"enum": list(CONSENT_KINDS)}}}]},
                    "plan_of_care": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                        "discipline": {"enum": list(POC_DISCIPLINES)}, "start": DATE, "end": DATE}}]},
                    **PATIENT_CLAIM_FIELDS}},
                "Caregiver": {"type": "object", "properties": {
                    "first_name": {"type": "string"}, "last_name": {"type": "string"}, "phone": {"type": "string"},
                    "email": {"type": "string"}, "links": {"type": "array", "items": {"type": "object", "properties": {
                        "patient_mrn": {"type": "string"}, "relationship": {"type": "string"}}}}}},
                "Class": {"type": "object", "properties": {
                    "title": {"type": "string"}, "needs": {"type": "array", "items": {"type": "string"}},
                    "capacity": {"type": "integer", "minimum": 1}, "room": {"type": "string"},
                    "facilitator_id": {"type": ["integer", "null"]}, "timezone": {"type": "string"},
                    "modality": {"enum": list(MODALITIES)}, "place_of_service": {"type": "string"},
                    "training": {"enum": list(TRAININGS)},
                    "sessions": {"type": "array", "items": {"type": "object", "properties": {
                        "starts_at": LOCAL, "duration_minutes": {"type": "integer"}}}},
                    "recurrence": {"type": "object", "properties": {
                        "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}},
                        "start_time": {"type": "string"}, "duration_minutes": {"type": "integer"},
                        "first_date": DATE, "count": {"type": "integer"}, "until": DATE}}}},
                "Enrollment": {"type": "object", "properties": {
                    "patient_mrn": {"type": "string"},
                    "caregiver_ids": {"type": "array", "items": {"type": "integer"}}}},
                "CheckIn": {"type": "object", "properties": {
                    "caregiver_id": {"type": "integer"}, "patient_mrn": {"type": "string"}}},
                "Close": {"type": "object", "properties": {
                    "facilitator_id": {"type": ["integer", "null"]}, "started_at": LOCAL, "ended_at": LOCAL,
                    "patients_present": {"type": "array", "items": {"type": "string"}}}},
                "Reason": {"type": "object", "properties": {"reason": {"type": "string"}}},
                "Range": {"type": "object", "properties": {"from": DATE, "to": DATE}},
                **claim_schemas(),
                "SessionBilling": {"type": "object", "properties": {
                    "session_id": {"type": "integer"}, "status": {"type": "string"},
                    "lines": {"type": "array", "items": {"type": "object"}},
                    "findings": {"type": "array", "items": {"type": "object"}}}},
            },
        },
    }
