"""Each finding leads the biller to the page where it is fixed; a page not built gives no link."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask

from roster.billing.fixes import fix_link
from roster.domain import billing as rules
from roster.models import BillingLine, Finding


def _stub(name: str, *rules_: str) -> Blueprint:
    bp = Blueprint(name, __name__)
    for rule in rules_:
        endpoint = rule.split("/")[1].replace("-", "_")
        bp.add_url_rule(rule, endpoint, lambda **kw: "")
    return bp


@pytest.fixture
def pages():
    """An app with the agreed endpoints of the people and front-desk pages, and nothing else."""
    app = Flask(__name__)
    app.register_blueprint(_stub("people", "/edit_patient/<int:patient_id>",
                                 "/edit_facilitator/<int:facilitator_id>"), url_prefix="/people")
    app.register_blueprint(_stub("frontdesk", "/session/<int:session_id>",
                                 "/close_session/<int:session_id>"), url_prefix="/frontdesk")
    with app.test_request_context():
        yield


def _finding(code: str, patient_id: int | None = 7) -> Finding:
    return Finding(code=code, severity=rules.FINDING_CODES[code][0], rule=rules.FINDING_CODES[code][1],
                   patient_id=patient_id, session_id=3, message="...")


LINE = BillingLine(id=11, session_id=3, patient_id=7, facilitator_id=5)


FIXES = [
    (rules.NO_CONSENT, "/people/edit_patient/7#consent"),
    (rules.CONSENT_VERBAL_PRE_2025, "/people/edit_patient/7#consent"),
    (rules.OUTSIDE_PLAN_OF_CARE, "/people/edit_patient/7#plan-of-care"),
    (rules.NO_DIAGNOSIS, "/people/edit_patient/7#diagnoses"),
    (rules.NEEDS_MISMATCH, "/people/edit_patient/7#needs"),
    (rules.INVALID_NPI, "/people/edit_facilitator/5"),
    (rules.NO_FACILITATOR, "/frontdesk/close_session/3"),
    (rules.NO_ACTUAL_TIMES, "/frontdesk/close_session/3"),
    (rules.UNDER_MINIMUM_TIME, "/frontdesk/close_session/3"),
    (rules.PATIENT_PRESENT, "/frontdesk/close_session/3"),
    (rules.SINGLE_CAREGIVER_SET, "/frontdesk/session/3"),
    (rules.DUPLICATE_SAME_DAY, "/frontdesk/session/3"),
    (rules.SHARED_CAREGIVER, "/frontdesk/session/3"),
    (rules.TELEHEALTH_NOT_COVERED, "/frontdesk/session/3"),
    (rules.NOT_COVERED_BY_PAYER, "/people/edit_patient/7#insurance"),
    (rules.DISCIPLINE_NOT_ELIGIBLE, "/frontdesk/close_session/3"),
    (rules.CODE_NOT_EFFECTIVE, "/frontdesk/close_session/3"),
    (rules.MUE_EXCEEDED, "/frontdesk/close_session/3"),
]


@pytest.mark.parametrize(("code", "url"), FIXES)
def test_every_finding_code_leads_to_its_fix(pages, code, url):
    link = fix_link(_finding(code), LINE)
    assert link.url == url
    assert link.label


def test_every_finding_code_is_mapped():
    assert {code for code, _ in FIXES} == set(rules.FINDING_CODES)


def test_a_session_level_finding_without_a_patient_or_line_goes_to_the_session(pages):
    assert fix_link(_finding(rules.NO_CONSENT, patient_id=None)).url == "/frontdesk/session/3"
    assert fix_link(_finding(rules.INVALID_NPI)).url == "/frontdesk/session/3"


def test_a_page_that_is_not_built_gives_no_link():
    app = Flask(__name__)
    with app.test_request_context():
        assert fix_link(_finding(rules.NO_CONSENT), LINE) is None
        assert fix_link(_finding(rules.PATIENT_PRESENT)) is None
