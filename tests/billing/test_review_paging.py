"""The year's review pages its line-less session findings too: the same queries for a month or the year."""

from __future__ import annotations

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
    login("biller")
    from datetime import timedelta

    with count_queries() as month:
        assert "Session findings without a line" in client.get(
            f"/billing/review?from={lo}&to={lo + timedelta(days=30)}").get_data(as_text=True)
    with count_queries() as year:
        html = client.get(f"/billing/review?from={lo}&to={hi}&fpage=2").get_data(as_text=True)
    assert f"Findings page 2 of {first.findings_pages}" in html and "Previous findings" in html
    assert year.count == month.count
