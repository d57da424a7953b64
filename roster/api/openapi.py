"""The OpenAPI 3.1 description of JSON API v1, served at /api/v1/openapi.json.

Complete and strict: every path parameter is declared, request bodies name
their required fields and refuse unknown ones (``additionalProperties: false``)
where the API does, and every operation lists every status it can answer.
`make test` runs schemathesis over every operation listed here
(tests/api/test_schemathesis.py): a new route described here is covered.
"""

from __future__ import annotations

from roster.domain.families import TRAININGS
from roster.api.openapi_claims import PATIENT_CLAIM_FIELDS, claim_paths, claim_schemas
from roster.api.openapi_families import family_paths, family_schemas
from roster.edge import INT_MAX
from roster.models import CONSENT_KINDS, DISCIPLINES, LINE_STATUSES, MODALITIES, POC_DISCIPLINES, ROLES


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": "Malformed JSON, or an input refused at the edge (control characters, numbers out of range, "
           "nesting too deep)",
    "401": "No or bad token",
    "403": "The token's role may not do this",
    "404": "Not found",
    "405": "Method not allowed (the Allow header lists the allowed ones)",
    "409": "Conflict with what is recorded, or with a change made at the same moment",
    "413": "The body is too large",
    "422": "Invalid fields (all listed; nothing written)",
    "503": "The database is unreachable; retry after the Retry-After seconds",
}
READ_ERRORS = ("400", "401", "403", "404", "405", "503")
WRITE_ERRORS = ("400", "401", "403", "404", "405", "409", "413", "422", "503")
ID = {"type": "integer", "minimum": 1, "maximum": INT_MAX}


def _path_param(name: str) -> dict:
    schema = {"type": "string", "minLength": 1} if name in ("mrn", "cpt") else ID
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _op(summary: str, permission: str, *, body: str | None = None, ok: str | tuple[str, ...] = ("200",),
        answer: dict | None = None, errors: tuple[str, ...] = READ_ERRORS, query: tuple[dict, ...] = (),
        content: dict | None = None) -> dict:
    op: dict = {"summary": summary, "description": f"Needs the `{permission}` permission.", "responses": {}}
    for status in (ok,) if isinstance(ok, str) else ok:
        op["responses"][status] = {"description": "OK", **(content or (_json(answer) if answer else {}))}
    if body:
        op["requestBody"] = {"required": True, **_json(_ref(body))}
    if query:
        op["parameters"] = list(query)
    for code in errors:
        op["responses"][code] = {"description": ERRORS[code], **_json(_ref("Error"))}
        if code == "503":
            op["responses"][code]["headers"] = {"Retry-After": {"required": True, "schema": {"type": "string"}}}
        if code == "405":
            op["responses"][code]["headers"] = {"Allow": {"required": True, "schema": {"type": "string"}}}
    return op


def _write(summary: str, permission: str, **kw) -> dict:
    return _op(summary, permission, errors=WRITE_ERRORS, **kw)


def _object(properties: dict, required: tuple[str, ...] = (), strict: bool = False) -> dict:
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if strict:
        schema["additionalProperties"] = False
    return schema


def _with_path_params(paths: dict) -> dict:
    """Declare every ``{name}`` of each path as a required path parameter, and give every operation
    (also those of roster/api/openapi_claims.py and openapi_families.py) every status the edge and
    the error handlers answer."""
    import re

    for path, operations in paths.items():
        names = re.findall(r"{(\w+)}", path)
        if names:
            operations["parameters"] = [_path_param(n) for n in names]
        for method, op in operations.items():
            if method == "parameters":
                continue
            codes = READ_ERRORS if method == "get" else WRITE_ERRORS
            missing = _op("", "", errors=tuple(c for c in codes if c not in op["responses"]))["responses"]
            missing.pop("200", None)
            op["responses"] = op["responses"] | missing
    return paths


def _window(default: int) -> tuple[dict, ...]:
    """The limit/offset query parameters of a paged list."""
    return (
        {"name": "limit", "in": "query", "description": f"At most this many items (default {default})",
         "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": default}},
        {"name": "offset", "in": "query", "description": "Items to skip (default 0)",
         "schema": {"type": "integer", "minimum": 0, "maximum": INT_MAX, "default": 0}},
    )


def _paged(key: str) -> dict:
    return _object({key: {"type": "array", "items": {"type": "object"}},
                    "next_offset": {"type": ["integer", "null"],
                                    "description": "The offset of the next page; null at the end"}},
                   (key, "next_offset"))


DATE = {"type": "string", "format": "date"}
LOCAL = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$",
         "description": "Wall-clock time in the class's time zone, no offset"}
NULLABLE_ID = {"oneOf": [{"type": "null"}, ID]}
CREATED = _object({"id": ID}, ("id",))


def _schemas() -> dict:
    facilitator = {"name": {"type": "string"}, "npi": {"type": "string", "pattern": r"^\d{10}$"},
                   "discipline": {"enum": list(DISCIPLINES)}, "active": {"type": "boolean"}}
    patient = {
        "mrn": {"type": "string"}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
        "dob": {"oneOf": [{"type": "null"}, DATE]}, "payer": {"type": "string"}, "member_id": {"type": "string"},
        "needs": {"type": "array", "items": {"type": "string"}},
        "diagnosis_codes": {"type": "array", "items": {"type": "string"}},
        "consent": {"oneOf": [{"type": "null"}, _object({"date": DATE, "kind": {"enum": list(CONSENT_KINDS)}},
                                                         ("date", "kind"))]},
        "plan_of_care": {"oneOf": [{"type": "null"}, _object({
            "discipline": {"enum": list(POC_DISCIPLINES)}, "start": DATE, "end": DATE},
            ("discipline", "start", "end"))]},
        **PATIENT_CLAIM_FIELDS,
    }
    caregiver = {
        "first_name": {"type": "string"}, "last_name": {"type": "string"}, "phone": {"type": "string"},
        "email": {"type": "string"},
        "links": {"type": "array", "items": _object({"patient_mrn": {"type": "string"},
                                                     "relationship": {"type": "string"}}, ("patient_mrn",))},
    }
    group_class = {
        "title": {"type": "string"}, "needs": {"type": "array", "items": {"type": "string"}},
        "capacity": {"type": "integer", "minimum": 1, "maximum": 500}, "room": {"type": "string"},
        "facilitator_id": NULLABLE_ID, "timezone": {"type": "string"},
        "modality": {"enum": list(MODALITIES)}, "place_of_service": {"type": "string"},
        "training": {"enum": list(TRAININGS)},
        "sessions": {"type": "array", "items": _object({
            "starts_at": LOCAL, "duration_minutes": {"type": "integer"}}, ("starts_at", "duration_minutes"))},
        "recurrence": _object({
            "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}},
            "start_time": {"type": "string"}, "duration_minutes": {"type": "integer"},
            "first_date": DATE, "count": {"type": "integer"}, "until": DATE},
            ("weekdays", "start_time", "duration_minutes", "first_date")),
    }
    class_changes = {k: v for k, v in group_class.items() if k not in ("sessions", "recurrence")}
    session = _object({
        "id": ID, "class_id": ID, "status": {"type": "string"}, "starts_at": {"type": "string"},
        "ends_at": {"type": "string"}, "room": {"type": ["string", "null"]},
        "cancel_reason": {"type": ["string", "null"]}}, ("id", "class_id", "status", "starts_at", "ends_at"))
    return {
        "Error": _object({"error": _object({
            "code": {"type": "string"}, "message": {"type": "string", "minLength": 1},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}}},
            ("code", "message", "fields"))}, ("error",)),
        "Facilitator": _object(facilitator, ("name", "npi", "discipline"), strict=True),
        "FacilitatorChanges": _object(facilitator, strict=True),
        "Patient": _object(patient, ("mrn", "first_name", "last_name"), strict=True),
        "PatientChanges": _object(patient, strict=True),
        "PatientRecord": _object(patient | {"id": ID}, ("id", "mrn", "first_name", "last_name")),
        "Caregiver": _object(caregiver, ("first_name", "last_name"), strict=True),
        "CaregiverChanges": _object(caregiver, strict=True),
        "Class": _object(group_class, ("title", "capacity", "timezone"), strict=True),
        "ClassChanges": _object(class_changes, strict=True),
        "Session": session,
        "Enrollment": _object({"patient_mrn": {"type": "string"},
                               "caregiver_ids": {"type": "array", "items": ID, "minItems": 1}},
                              ("patient_mrn", "caregiver_ids")),
        "CheckIn": _object({"caregiver_id": ID, "patient_mrn": {
            "type": ["string", "null"], "description": "Needed when the caregiver cares for more than one patient"}},
            ("caregiver_id",)),
        "Close": _object({"facilitator_id": NULLABLE_ID, "started_at": LOCAL, "ended_at": LOCAL,
                          "patients_present": {"type": "array", "items": {"type": "string"}}},
                         ("started_at", "ended_at")),
        "Reason": _object({"reason": {"type": "string"}}, ("reason",)),
        "Range": _object({"from": DATE, "to": DATE}, ("from", "to")),
        "SessionBilling": _object({
            "session_id": ID, "status": {"type": "string"}, "date_of_service": DATE,
            "lines": {"type": "array", "items": {"type": "object"}},
            "findings": {"type": "array", "items": {"type": "object"}}}, ("session_id", "status", "lines")),
    }


def spec() -> dict:
    paths = {
        "/facilitators": {
            "get": _op("List facilitators", "people.view", answer=_object(
                {"facilitators": {"type": "array", "items": {"type": "object"}}}, ("facilitators",))),
            "post": _write("Create a facilitator", "people.edit", body="Facilitator", ok=("201",), answer=CREATED),
        },
        "/facilitators/{facilitator_id}": {
            "patch": _write("Change a facilitator", "people.edit", body="FacilitatorChanges", answer=CREATED)},
        "/patients": {"post": _write("Create a patient (409 on a duplicate MRN)", "people.edit", body="Patient",
                                     ok=("201",), answer=CREATED)},
        "/patients/{mrn}": {
            "get": _op("Read a patient", "people.view", answer=_ref("PatientRecord")),
            "patch": _write("Change any fields of a patient; re-evaluates unexported lines", "people.edit",
                            body="PatientChanges", answer=_ref("PatientRecord")),
        },
        "/caregivers": {"post": _write("Create a caregiver with links", "people.edit", body="Caregiver",
                                       ok=("201",), answer=CREATED)},
        "/caregivers/{caregiver_id}": {
            "patch": _write("Change a caregiver", "people.edit", body="CaregiverChanges", answer=CREATED)},
        "/classes": {"post": _write("Create a class with sessions", "schedule.edit", body="Class", ok=("201",),
                                    answer=_object({"id": ID, "session_ids": {"type": "array", "items": ID}},
                                                   ("id", "session_ids")))},
        "/classes/{class_id}": {
            "get": _op("Read a class and its sessions", "schedule.view", answer=_object({
                "id": ID, "title": {"type": "string"}, "capacity": {"type": "integer"},
                "seats_taken": {"type": "integer"}, "sessions": {"type": "array", "items": _ref("Session")}},
                ("id", "title", "capacity", "sessions"))),
            "patch": _write("Change a class (not its sessions); held sessions keep the class facts they were held with", "schedule.edit",
                            body="ClassChanges", answer=CREATED),
        },
        "/classes/{class_id}/enrollments": {"post": _write(
            "Enrol a patient's caregiver set", "enrollment.edit", body="Enrollment", ok=("201",),
            answer=_object({"id": ID, "status": {"enum": ["enrolled", "waitlisted"]},
                            "warnings": {"type": "array", "items": {"type": "string"}}}, ("id", "status")))},
        "/classes/{class_id}/enrollments/{mrn}": {"delete": _write(
            "Withdraw a set; promotes waiting sets", "enrollment.edit",
            answer=_object({"status": {"const": "withdrawn"}, "promoted": {"type": "array",
                                                                           "items": {"type": "string"}}},
                           ("status", "promoted")))},
        "/sessions/{session_id}": {"get": _op("Read a session", "schedule.view", answer=_ref("Session"))},
        "/sessions/{session_id}/checkins": {"post": _write(
            "Check a caregiver in (201; 200 when already checked in)", "frontdesk.checkin", body="CheckIn",
            ok=("200", "201"), answer=_object({"id": ID, "session_id": ID, "caregiver_id": ID,
                                               "patient_mrn": {"type": "string"}, "created": {"type": "boolean"}},
                                              ("id", "created")))},
        "/sessions/{session_id}/checkins/{caregiver_id}": {"delete": _write(
            "Undo a check-in", "frontdesk.checkin", answer=_object({"removed": {}}, ("removed",)),
            query=({"name": "patient_mrn", "in": "query", "schema": {"type": "string"},
                    "description": "The patient the caregiver came for, when they care for several"},))},
        "/sessions/{session_id}/close": {"post": _write("Close a session; answers its billing", "session.close",
                                                        body="Close", answer=_ref("SessionBilling"))},
        "/sessions/{session_id}/reopen": {"post": _write("Re-open a held session", "session.close", body="Reason",
                                                         answer=_ref("Session"))},
        "/sessions/{session_id}/cancel": {"post": _write("Cancel a session", "schedule.edit", body="Reason",
                                                         answer=_ref("Session"))},
        "/sessions/{session_id}/billing": {"get": _op("A session's lines and findings", "billing.view",
                                                      answer=_ref("SessionBilling"))},
        "/billing/lines": {"get": _op(
            "Lines by date of service (from, to inclusive; status), paged with limit/offset; next_offset is null "
            "on the last page", "billing.view", errors=READ_ERRORS + ("422",), answer=_paged("lines"),
            query=({"name": "from", "in": "query", "required": True, "schema": DATE},
                   {"name": "to", "in": "query", "required": True, "schema": DATE},
                   {"name": "status", "in": "query", "schema": {"enum": [str(s) for s in LINE_STATUSES]}},
                   *_window(default=1000)))},
        "/billing/exports": {
            "get": _op("Export history, newest first, paged with limit/offset", "billing.view",
                       errors=READ_ERRORS + ("422",), answer=_paged("exports"), query=_window(default=100)),
            "post": _write("Export a date range (ready lines and pending voids)", "billing.export", body="Range",
                           ok=("201",), answer=_object({"id": ID, "rows": {"type": "integer"}}, ("id", "rows"))),
        },
        "/billing/exports/{batch_id}.csv": {"get": _op(
            "The roster CSV of an export", "billing.view",
            content={"content": {"text/csv": {"schema": {"type": "string"}}}})},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Roster JSON API", "version": "1",
                 "description": "Group caregiver-training classes and their billing. See docs/api.md."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _with_path_params(paths | claim_paths() | family_paths()),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": f"`roster create-token EMAIL`; roles: {', '.join(ROLES)}"}},
            "schemas": _schemas() | claim_schemas() | family_schemas(),
        },
    }
