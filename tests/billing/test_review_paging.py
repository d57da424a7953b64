"""The year's review pages its line-less session findings too: the same queries for a month or the year."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from roster.extensions import db
from roster.models import BillingLine, Finding


def test_review_pages_session_findings(app, runner, client, login, count_queries):
    result = runner.invoke(args=["roster", "bench-data", "--weeks", "20", "--classes-per-week", "40"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        lo, hi = db.session.execute(sa.select(sa.func.min(BillingLine.date_of_service),
                                              sa.func.max(BillingLine.date_of_service))).one()
        lineless = db.session.scalar(sa.select(sa.func.count(Finding.id)).where(Finding.line_id.is_(None)))
        from roster.services import billing

        first = billing.review(lo, hi, None)
        assert first.findings_total == lineless > 50
        assert len(first.session_findings) == 50 and first.findings_pages == -(-lineless // 50)
        last = billing.review(lo, hi, None, findings_page=first.findings_pages)
        assert len(last.session_findings) == lineless - 50 * (first.findings_pages - 1)
        seen = {sf.finding.id for p in range(1, first.findings_pages + 1)
                for sf in billing.review(lo, hi, None, findings_page=p).session_findings}
        assert len(seen) == lineless
        # issue 12: the findings are read by the date of service each keeps; any range gives the findings
        # converting each session gives, in the same order (four zones, classes until 16:30 local, so late
        # sessions fall on the next UTC day)
        from roster.services.billing.review import line_less_findings

        every = billing.session_findings_without_lines(lo - timedelta(days=2), hi + timedelta(days=2))
        found = []
        for offset in range(0, (hi - lo).days + 1, 7):
            for days in (0, 2, 30):
                start = lo + timedelta(days=offset)
                end = start + timedelta(days=days)
                expected = [sf.finding.id for sf in every if start <= sf.date_of_service <= end]
                assert [sf.finding.id for sf in line_less_findings(start, end, 1, 10_000)[0]] == expected, (start, end)
                found.append(len(expected))
        assert sum(1 for n in found if n) > len(found) // 2, found
    login("biller")

    with count_queries() as month:
        assert "Session findings without a line" in client.get(
            f"/billing/review?from={lo}&to={lo + timedelta(days=30)}").get_data(as_text=True)
    with count_queries() as year:
        html = client.get(f"/billing/review?from={lo}&to={hi}&fpage=2").get_data(as_text=True)
    assert f"Findings page 2 of {first.findings_pages}" in html and "Previous findings" in html
    assert year.count == month.count


def test_line_less_findings_near_the_ends_of_a_range_are_placed_by_their_zone(app, api):
    """A Pacific session at 17:30 falls on the next UTC day: each finding keeps its session's local date
    (issue 12), and a range's findings are those converting each session gives."""
    from datetime import date

    from roster.services import billing
    from roster.services.billing.review import line_less_findings
    from tests.billing.clinic import Clinic

    clinic = Clinic(api("admin"))
    fid = clinic.facilitator()

    def present(start: str, tz: str) -> None:  # a patient marked present: a finding on no line
        mrns = [clinic.patient(), clinic.patient()]
        sid = clinic.held_session([(clinic.caregiver(m), m) for m in mrns], fid, start=start, timezone=tz)
        clinic.close(sid, start, fid, present=(mrns[0],))

    present("2026-02-10T17:30", "America/Los_Angeles")  # 2026-02-11 01:30 UTC
    present("2026-02-11T08:00", "America/New_York")
    present("2026-02-13T23:00", "Pacific/Auckland")  # 2026-02-13 10:00 UTC
    present("2026-02-16T17:30", "America/Los_Angeles")  # 2026-02-17 01:30 UTC
    with app.app_context():
        every = billing.session_findings_without_lines(date(2026, 2, 1), date(2026, 2, 28))
        assert len({sf.finding.session_id for sf in every}) == 4
        for lo, hi in ((10, 10), (11, 11), (11, 13), (10, 16), (11, 16), (12, 16), (13, 17), (17, 28), (1, 28)):
            start, end = date(2026, 2, lo), date(2026, 2, hi)
            expected = [sf.finding.id for sf in every if start <= sf.date_of_service <= end]
            page, total = line_less_findings(start, end, 1, 10_000)
            assert [sf.finding.id for sf in page] == expected and total == len(expected), (lo, hi)
