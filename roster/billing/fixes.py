"""Where a biller fixes what a finding reports: one table, one function.

The pages named here belong to other parts of the app; a page that is not
there (yet) gives no link rather than a broken one.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request, url_for

from roster.domain import billing as rules
from roster.models import BillingLine, Finding
from roster.permissions import can
from roster.templating import AddressById

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
    endpoint, name, value, anchor, label = _target(finding, line)
    links = g.get("fix_links")
    if links is None or links.request is not request._get_current_object():  # (tests: one g, many requests)
        links = g.fix_links = _Links(request._get_current_object())
    how = links.how(endpoint)
    if how == "fix":
        return FixLink(links.url(endpoint, name, value, anchor), label)
    if how == "see" and finding.session_id is not None:
        return FixLink(links.url("billing.session_facts", "session_id", finding.session_id, None),
                       f"see the session's {'closing' if endpoint == 'frontdesk.close_session' else 'attendance'}"
                       " and who can fix it", "See")
    return None


class _Links:
    """One request's answers: a review page links every finding it lists (~200), so whether this user
    may use a page is asked once per endpoint, and each kind of link is built once by url_for (~20-50
    µs a call) with the id filled in afterwards."""

    def __init__(self, asked_by) -> None:
        self.request = asked_by
        self._how: dict[str, str | None] = {}
        self._urls: dict[tuple, AddressById] = {}

    def how(self, endpoint: str) -> str | None:
        """"fix" (the user may use the page), "see" (the read-only session view instead), None (no page)."""
        if endpoint not in self._how:
            views = current_app.view_functions
            permission = getattr(views.get(endpoint), "_roster_permission", None)  # set by @requires
            if endpoint not in views:
                self._how[endpoint] = None
            elif permission is None or can(permission):
                self._how[endpoint] = "fix"
            else:
                self._how[endpoint] = "see" if "billing.session_facts" in views else None
        return self._how[endpoint]

    def url(self, endpoint: str, name: str, value, anchor: str | None) -> str:
        """``url_for(endpoint, **{name: value}, _anchor=anchor)``."""
        if not isinstance(value, int):
            return url_for(endpoint, **{name: value}, _anchor=anchor)
        key = (endpoint, name, anchor)
        if key not in self._urls:
            self._urls[key] = AddressById.of(endpoint, name, anchor)
        return self._urls[key](value)


def _target(finding: Finding, line: BillingLine | None) -> tuple[str, str, int | None, str | None, str]:
    """(endpoint, its id's name, the id, anchor, what the biller does there)."""
    code = finding.code
    if code in PATIENT_SECTIONS and finding.patient_id is not None:
        anchor, label = PATIENT_SECTIONS[code]
        return "people.edit_patient", "patient_id", finding.patient_id, anchor, label
    if code == rules.INVALID_NPI and line is not None and line.facilitator_id is not None:
        return "people.edit_facilitator", "facilitator_id", line.facilitator_id, None, "correct the facilitator's NPI"
    if code in CLOSE_AGAIN:
        return "frontdesk.close_session", "session_id", finding.session_id, None, "close the session again"
    return "frontdesk.session", "session_id", finding.session_id, None, "check the session's attendance"
