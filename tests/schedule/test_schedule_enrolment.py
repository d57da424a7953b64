"""Enrolling and withdrawing caregiver sets through the class page: seats, waitlist, audit."""

import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, Enrollment


def family(build, n_caregivers: int, **patient):
    """A patient and n linked caregivers."""
    p = build.patient(**patient)
    return p, [build.caregiver(patients=[p]) for _ in range(n_caregivers)]


def enrol(client, group_class, patient, caregivers):
    return client.post(f"/schedule/classes/{group_class.id}/enrollments",
                       data={"patient_id": patient.id, "caregiver_ids": [c.id for c in caregivers]})


def statuses(app, group_class) -> dict[int, tuple[str, int]]:
    """patient id -> (status, waitlist position)."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Enrollment).where(Enrollment.class_id == group_class.id)).all()
        return {e.patient_id: (e.status, e.position) for e in rows}


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def followed(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_find_a_patient_then_choose_their_caregivers(client, login, build):
    login("coordinator")
    group_class = build.group_class()
    walter = build.patient(first_name="Walter", last_name="Ames", mrn="A1001")
    build.caregiver(patients=[walter], first_name="Rita", last_name="Ames")
    build.caregiver(patients=[walter], first_name="Tom", last_name="Ames", relationship="son")
    build.patient(first_name="Wanda", last_name="Amesbury", mrn="A1002")

    page = client.get(f"/schedule/classes/{group_class.id}?q=ames").get_data(as_text=True)
    assert "Walter Ames" in page and "Wanda Amesbury" in page and "Caregivers who will attend" not in page
    assert f"patient_id={walter.id}" in page

    page = client.get(f"/schedule/classes/{group_class.id}?q=a1001").get_data(as_text=True)  # one match: chosen
    assert "Caregivers who will attend" in page
    assert ">Rita Ames (spouse)</label>" in page and ">Tom Ames (son)</label>" in page
    assert page.count('checked id="caregiver_ids-') == 2

    page = client.get(f"/schedule/classes/{group_class.id}?q=nobody").get_data(as_text=True)
    assert "No patient matches “nobody”." in page


def test_enrol_flashes_enrolled_and_the_needs_mismatch_warning(app, client, login, build):
    login("coordinator")
    group_class = build.group_class(needs=["stroke"])
    walter, (rita,) = family(build, 1, first_name="Walter", last_name="Ames", needs=["dementia"])
    page = followed(client, enrol(client, group_class, walter, [rita]))
    assert f"{rita.full_name} enrolled for Walter Ames." in page
    assert '<p class="flash flash-warning">Walter Ames&#39;s needs (dementia) share nothing' in page
    assert statuses(app, group_class) == {walter.id: ("enrolled", 0)}
    assert audit_actions(app)[-1] == "enrollment.create"


def test_a_patient_is_in_a_class_at_most_once(app, client, login, build):
    login("coordinator")
    group_class = build.group_class()
    walter, (rita, tom) = family(build, 2, first_name="Walter", last_name="Ames")
    followed(client, enrol(client, group_class, walter, [rita]))
    response = enrol(client, group_class, walter, [tom])
    assert response.status_code == 422
    assert "Walter Ames is already enrolled in this class; a patient is in a class once." in (
        response.get_data(as_text=True))
    page = client.get(f"/schedule/classes/{group_class.id}?patient_id={walter.id}").get_data(as_text=True)
    assert "caregivers are already enrolled in this class" in page and "Caregivers who will attend" not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 1


def test_an_unlinked_or_empty_caregiver_choice_is_refused(app, client, login, build):
    login("coordinator")
    group_class = build.group_class()
    walter, _ = family(build, 1)
    stranger = build.caregiver()
    response = enrol(client, group_class, walter, [])
    assert response.status_code == 422
    assert 'id="caregiver_ids-err">Choose at least one caregiver.' in response.get_data(as_text=True)
    response = enrol(client, group_class, walter, [stranger])
    assert response.status_code == 422  # not one of the patient's caregivers: not a choice
    assert statuses(app, group_class) == {}


def test_capacity_counts_seats_so_a_set_of_two_waits_for_the_last_seat(app, client, login, build):
    login("coordinator")
    group_class = build.group_class(capacity=3)
    first, first_set = family(build, 2)
    second, second_set = family(build, 2, first_name="June", last_name="Bell")
    followed(client, enrol(client, group_class, first, first_set))
    page = followed(client, enrol(client, group_class, second, second_set))
    names = " and ".join(c.full_name for c in second_set)
    assert f"Not enough seats left: {names} (June Bell) waitlisted (position 1)." in page
    assert statuses(app, group_class) == {first.id: ("enrolled", 0), second.id: ("waitlisted", 1)}
    assert "<span class=\"stat\">1</span> left: 2 of 3 taken, 1 set waiting" in page


def test_withdraw_promotes_the_first_waiting_set_that_fits(app, client, login, build):
    login("coordinator")
    group_class = build.group_class(capacity=3)
    a, a_set = family(build, 2)
    b, b_set = family(build, 1, first_name="Bo", last_name="Leaving")
    big, big_set = family(build, 2, first_name="Cy", last_name="Toobig")
    small, small_set = family(build, 1, first_name="Di", last_name="Fits")
    for patient, caregivers in ((a, a_set), (b, b_set), (big, big_set), (small, small_set)):
        followed(client, enrol(client, group_class, patient, caregivers))
    assert statuses(app, group_class)[big.id] == ("waitlisted", 1)
    assert statuses(app, group_class)[small.id] == ("waitlisted", 2)

    with app.app_context():
        leaving = db.session.scalar(sa.select(Enrollment.id).where(Enrollment.patient_id == b.id))
    page = followed(client, client.post(f"/schedule/enrollments/{leaving}/withdraw"))
    assert "Bo Leaving&#39;s caregivers are withdrawn from the class." in page
    assert "Di Fits&#39;s caregivers moved from the waitlist into the class." in page
    assert "Cy Toobig&#39;s caregivers moved" not in page
    now = statuses(app, group_class)
    assert now[b.id][0] == "withdrawn" and now[small.id] == ("enrolled", 0) and now[big.id] == ("waitlisted", 1)
    assert audit_actions(app)[-6:] == ["enrollment.create"] * 4 + ["enrollment.withdraw", "enrollment.promote"]


def test_front_desk_may_not_enrol_or_withdraw(client, login, build):
    login("front_desk")
    group_class = build.group_class()
    walter, caregivers = family(build, 1)
    build.enroll(group_class, walter, caregivers)
    assert enrol(client, group_class, walter, caregivers).status_code == 403
    assert client.post("/schedule/enrollments/1/withdraw").status_code == 403
    page = client.get(f"/schedule/classes/{group_class.id}").get_data(as_text=True)
    assert "Withdraw" not in page and "Enrol a caregiver set" not in page
