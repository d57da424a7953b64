"""The classes list is paged in the database: the same queries for 60 classes or 120, soonest first."""

from __future__ import annotations

import re


def _rows(html: str) -> int:
    return len(re.findall(r'href="/schedule/classes/\d+"', html))


def test_classes_list_is_paged_with_upcoming_classes_first(app, runner, client, login, count_queries):
    result = runner.invoke(args=["roster", "bench-data", "--weeks", "2", "--classes-per-week", "55"])
    assert result.exit_code == 0, result.output
    from roster.extensions import db
    from roster.models import GroupClass

    with app.app_context():
        total = db.session.query(GroupClass).count()
    assert 50 < total <= 100
    login("coordinator")
    with count_queries() as few:
        first = client.get("/schedule/classes").get_data(as_text=True)
    assert _rows(first) == 50 and "Page 1 of 2" in first
    second = client.get("/schedule/classes?page=2").get_data(as_text=True)
    assert 0 < _rows(second) <= 50 and "Page 2 of 2" in second and 'rel="prev"' in second
    with app.app_context():  # classes with a session to come first, soonest first; then the others
        from roster.models import utcnow
        from roster.services import scheduling

        listing = [s for p in (1, 2) for s in scheduling.class_summaries(utcnow(), p, 50).summaries]
        starts = [s.next_start for s in listing]
        assert len(listing) == total
        upcoming = [s for s in starts if s is not None]
        assert upcoming == sorted(upcoming) and starts == upcoming + [None] * (len(starts) - len(upcoming))
    assert client.get("/schedule/classes?page=99").status_code == 200  # past the end: the last page

    from roster.benchdata.load import _insert  # more classes without sessions: the page costs the same

    with app.app_context():
        start = total + 1
        _insert(GroupClass, [{"id": start + i, "title": f"Extra {i:03d}", "needs": [], "room": "", "capacity": 8,
                              "timezone": "America/Chicago", "modality": "in_person", "place_of_service": "11"}
                             for i in range(60)])
        db.session.commit()
    with count_queries() as many:
        html = client.get("/schedule/classes").get_data(as_text=True)
    assert _rows(html) == 50 and f"Page 1 of {-(-(total + 60) // 50)}" in html
    assert many.count == few.count
