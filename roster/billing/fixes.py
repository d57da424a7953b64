"""Where a biller fixes what a finding reports: one table, one function.

The pages named here belong to other parts of the app; a page that is not
there (yet) gives no link rather than a broken one.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, url_for

from roster.domain import billing as rules
from roster.models import BillingLine, Finding
from roster.permissions import can

# finding code -> (section of the patient's edit page, what the biller does there)
PATIENT_SECTIONS = {
    rules.NO_CONSENT: ("consent", "record the patient's consent"),
    rules.CONSENT_VERBAL_PRE_2025: ("consent", "check the patient's consent"),
    rules.OUTSIDE_PLAN_OF_CARE: ("plan-of-care", "record the patient's plan of care"),
    rules.NO_DIAGNOSIS: ("diagnoses", "add the patient's diagnoses"),
    rules.NEEDS_MISMATCH: ("needs", "check the patient's needs"),
    rules.NOT_COVERED_BY_PAYER: ("insurance", "check the patient's payer"),
}
# findings fixed by closing the session again (facilitator, actual times, who was present)
CLOSE_AGAIN = frozenset({
    rules.NO_FACILITATOR, rules.NO_ACTUAL_TIMES, rules.UNDER_MINIMUM_TIME, rules.PATIENT_PRESENT,
    rules.DISCIPLINE_NOT_ELIGIBLE, rules.CODE_NOT_EFFECTIVE, rules.MUE_EXCEEDED,
})


@dataclass(frozen=True)
class FixLink:
    url: str
    label: str  # what the biller does there, for the link's accessible name
    verb: str = "Fix"  # "See" when the page only shows the facts and says who can fix them


def fix_link(finding: Finding, line: BillingLine | None = None) -> FixLink | None:
    """The page where `finding` is fixed, or None when that page does not exist.

    A user who may not use that page (a biller and attendance or closing) is sent to a
    read-only view of the session that says who can fix it, never to Forbidden.
    """
    endpoint, values, label = _target(finding, line)
    if endpoint not in current_app.view_functions:
        return None
    permission = getattr(current_app.view_functions[endpoint], "_roster_permission", None)  # set by @requires
    if permission is not None and not _may(permission):
        if finding.session_id is None or "billing.session_facts" not in current_app.view_functions:
            return None
        return FixLink(_url("billing.session_facts", {"session_id": finding.session_id}),
                       f"see the session's {'closing' if endpoint == 'frontdesk.close_session' else 'attendance'}"
                       " and who can fix it", "See")
    return FixLink(_url(endpoint, values), label)


_HOLE = 918273645546372819  # stands for the id in a link built once


def _url(endpoint: str, values: dict) -> str:
    """``url_for(endpoint, **values)`` for a page of one record (one id, perhaps an anchor): built once
    per request and kind of link, then the id filled in (a review page links ~200 findings; url_for
    costs ~20-50 µs a call)."""
    anchor = values.get("_anchor")
    (name, value), = ((k, v) for k, v in values.items() if k != "_anchor")
    if not isinstance(value, int):
        return url_for(endpoint, **values)
    built = g.setdefault("fix_urls", {})
    key = (endpoint, name, anchor)
    if key not in built:
        built[key] = url_for(endpoint, **{name: _HOLE, "_anchor": anchor}).split(str(_HOLE))
    head, tail = built[key]
    return f"{head}{value}{tail}"


def _may(permission: str) -> bool:
    """``can(permission)``, asked once per request: a review page links every finding it lists."""
    asked = g.setdefault("fix_permissions", {})
    if permission not in asked:
        asked[permission] = can(permission)
    return asked[permission]


def _target(finding: Finding, line: BillingLine | None) -> tuple[str, dict, str]:
    code = finding.code
    if code in PATIENT_SECTIONS and finding.patient_id is not None:
        anchor, label = PATIENT_SECTIONS[code]
        return "people.edit_patient", {"patient_id": finding.patient_id, "_anchor": anchor}, label
    if code == rules.INVALID_NPI and line is not None and line.facilitator_id is not None:
        return "people.edit_facilitator", {"facilitator_id": line.facilitator_id}, "correct the facilitator's NPI"
    if code in CLOSE_AGAIN:
        return "frontdesk.close_session", {"session_id": finding.session_id}, "close the session again"
    return "frontdesk.session", {"session_id": finding.session_id}, "check the session's attendance"
