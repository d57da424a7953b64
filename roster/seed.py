"""A believable demo clinic, built through the same services the app uses.

Four facilitators of different disciplines, 30 patients with needs and
diagnoses, 40 caregivers, four classes of six weekly sessions around today,
the past sessions held with attendance (so billing has lines to review).
Deterministic: the same names every time.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from roster.domain.recurrence import utc_to_local
from roster.domain.statuses import EnrollmentStatus
from roster.extensions import db
from roster.models import CaregiverLink, CheckIn, ClassSession, Patient
from roster.services import clock
from roster.services import accounts, attendance, clinic, people, scheduling

DEMO_PASSWORD = "roster-demo-2026"
DEMO_TIMEZONE = "America/Chicago"
DEMO_USERS = (
    ("admin@roster.demo", "admin", "Avery Admin"),
    ("coordinator@roster.demo", "coordinator", "Casey Coordinator"),
    ("frontdesk@roster.demo", "front_desk", "Frankie Desk"),
    ("biller@roster.demo", "biller", "Billie Biller"),
    ("facilitator@roster.demo", "facilitator", "Dana Reyes"),
)
FACILITATORS = (
    {"name": "Dana Reyes, PT", "discipline": "PT", "npi": "1234567893"},
    {"name": "Sam Ortiz, OTR/L", "discipline": "OT", "npi": "1987654328"},
    {"name": "Lee Park, CCC-SLP", "discipline": "SLP", "npi": "1456789019"},
    {"name": "Jordan Miles, PTA", "discipline": "PTA", "npi": "1679576722"},
)
FIRST = ("Walter Helen Omar Ruth George Alma Frank Irene Louis Edna Harold Gloria Arthur Martha Eugene "
         "Doris Ernest Lucille Ralph Vivian Howard Bernice Clarence Marion Chester Thelma Leon Hazel "
         "Milton Opal").split()
LAST = ("Ames Brooks Cruz Dalton Ellis Foster Garcia Hughes Ibarra Jensen Kim Lopez Moreno Nguyen "
        "Owens Patel Quinn Rivera Shah Tran Underwood Vasquez Walsh Xu Young Zimmer Baker Carter "
        "Diaz Evans").split()
CAREGIVER_FIRST = ("Rita Tom June Luis Maya Ben Carla Dev Erin Femi Gina Hal Ines Jack Kira Liam Mona "
                   "Nate Olga Paul Rosa Sean Tara Umar Vera Wes Yara Zane Abby Cole Dina Eli Faye Gus "
                   "Hope Ivan Jade Kurt Lena Milo").split()
RELATIONSHIPS = ("spouse", "daughter", "son", "friend", "partner", "sister", "brother", "neighbor")
PROFILES = (
    ("stroke", ("I69.351", "R26.89")),
    ("stroke", ("I69.391",)),
    ("dementia", ("F03.90",)),
    ("dementia", ("G30.9", "F02.80")),
    ("parkinsons", ("G20.A1",)),
    ("hip fracture", ("S72.001D", "Z96.641")),
    ("dysphagia", ("R13.12", "I69.391")),
)
CLASSES = (
    {"title": "Stroke caregiver skills", "needs": ["stroke"], "room": "Gym A", "fac": 0,
     "weekday": 1, "start": time(10, 0), "minutes": 60, "capacity": 12},
    {"title": "Living well with dementia: home routines", "needs": ["dementia"], "room": "Room 2",
     "fac": 1, "weekday": 2, "start": time(14, 0), "minutes": 75, "capacity": 10},
    {"title": "Safe swallowing and mealtimes", "needs": ["dysphagia", "stroke"], "room": "Room 3",
     "fac": 2, "weekday": 3, "start": time(11, 0), "minutes": 60, "capacity": 8},
    {"title": "Transfers and falls at home", "needs": ["hip fracture", "parkinsons"], "room": "Gym B",
     "fac": 3, "weekday": 4, "start": time(9, 30), "minutes": 60, "capacity": 10},
)
# What claims need (issue 14): the clinic as billing provider, its clearinghouse and interface
# engine, a payer list covering every demo patient's payer, and a fee for every code Roster bills.
BILLING_SETTINGS = {
    "organization_name": "Lakeshore Rehabilitation Clinic", "npi": "1555012347", "tax_id": "361234567",
    "taxonomy": "261QR0400X", "address_line1": "200 N Michigan Ave", "address_city": "Chicago",
    "address_state": "IL", "address_zip": "606011234", "contact_name": "Billie Biller",
    "contact_phone": "3125550100", "submitter_id": "LAKESHORE01", "receiver_id": "CLEARHOUSE01",
    "receiver_name": "Prairie Claims Clearinghouse", "x12_usage": "T", "hl7_host": "127.0.0.1",
    "hl7_port": "2575", "hl7_receiving_application": "HOSPITAL_BILLING", "hl7_receiving_facility": "LAKESHORE_MC",
}
PAYERS = (
    {"name": "Medicare", "payer_id": "06102", "claim_filing_indicator": "MB"},
    {"name": "Medicare Advantage", "payer_id": "87726", "claim_filing_indicator": "16"},
    {"name": "Blue Cross", "payer_id": "00621", "claim_filing_indicator": "BL"},
    {"name": "Aetna", "payer_id": "60054", "claim_filing_indicator": "CI"},
)
FEES = {
    "97550": "95.00", "97551": "45.00", "97552": "35.00", "G0539": "90.00", "G0540": "40.00",
    "G0541": "90.00", "G0542": "40.00", "G0543": "30.00", "96202": "85.00", "96203": "30.00",
}
STREETS = ("W Belmont Ave", "N Clark St", "S Halsted St", "W Division St", "N Broadway", "W Addison St")


def demo_logins() -> list[tuple[str, str]]:
    return [(email, role) for email, role, _ in DEMO_USERS]


def reset_database() -> None:
    """Delete every row of every table (children first), keeping the schema. The caller commits."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())


def only_demo_staff() -> bool:
    """True when no staff account is a real one (every e-mail is a demo address)."""
    from roster.models import User

    return not db.session.scalar(
        sa.select(sa.func.count(User.id)).where(User.email.not_in([email for email, _, _ in DEMO_USERS]))
    )


def seed_demo_clinic(now: datetime | None = None) -> None:
    """Create the demo clinic (the caller commits). Safe only on an empty database."""
    now = now or clock.now()
    rng = random.Random(2026)
    facilitators = [people.create_facilitator(dict(f)) for f in FACILITATORS]
    for email, role, name in DEMO_USERS:
        user = accounts.create_user(email, role, DEMO_PASSWORD, name)
        if role == "facilitator":
            user.facilitator_id = facilitators[0].id
    today = utc_to_local(now, DEMO_TIMEZONE).date()
    _billing_setup()
    patients = _patients(rng, today)
    caregivers = _caregivers(rng, patients)
    classes = _classes(facilitators, today)
    _enrol(rng, classes, patients, caregivers)
    _hold_past_sessions(rng, classes, now)
    db.session.flush()


def _billing_setup() -> None:
    clinic.update_settings(dict(BILLING_SETTINGS))
    for payer in PAYERS:
        clinic.create_payer(dict(payer))
    for cpt, charge in FEES.items():
        clinic.set_fee(cpt, charge)


def _patients(rng: random.Random, today: date) -> list[Patient]:
    out = []
    for i in range(30):
        need, codes = PROFILES[i % len(PROFILES)]
        consent = None if i in (7, 19) else {
            "date": (today - timedelta(days=60 + i)).isoformat(), "kind": "verbal" if i % 9 == 0 else "written"}
        poc = None if i == 23 else {
            "discipline": ("PT", "OT", "SLP")[i % 3],
            "start": (today - timedelta(days=70)).isoformat(),
            "end": (today + timedelta(days=60)).isoformat(),
        }
        out.append(people.create_patient({
            "mrn": f"A{1001 + i}", "first_name": FIRST[i], "last_name": LAST[i],
            "dob": date(1936 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28)).isoformat(),
            "payer": rng.choice(("Medicare", "Medicare", "Medicare Advantage", "Blue Cross", "Aetna")),
            "member_id": f"1EG4TE5MK{i:02d}", "needs": [need],
            "diagnosis_codes": [] if i == 12 else list(codes),
            "consent": consent, "plan_of_care": poc,
            "sex": "M" if i % 2 == 0 else "F", "address_line1": f"{1200 + 37 * i} {STREETS[i % len(STREETS)]}",
            "address_city": "Chicago", "address_state": "IL", "address_zip": f"606{13 + i % 20:02d}",
        }))
    return out


def _caregivers(rng: random.Random, patients: list[Patient]) -> list:
    out = []
    for i, first in enumerate(CAREGIVER_FIRST):
        patient = patients[i % len(patients)]
        links = [{"patient_mrn": patient.mrn, "relationship": rng.choice(RELATIONSHIPS)}]
        if i == 35:  # one caregiver looks after two patients in the same class
            links.append({"patient_mrn": patients[(i + 7) % len(patients)].mrn, "relationship": "daughter"})
        out.append(people.create_caregiver({
            "first_name": first, "last_name": patient.last_name if i < 30 else LAST[(i * 7) % 30],
            "phone": f"(312) 555-{1000 + i * 37:04d}",
            "email": f"{first.lower()}@example.com" if i % 3 == 0 else None,
            "links": links,
        }))
    return out


def _classes(facilitators, today: date):
    out = []
    for spec in CLASSES:
        first = today - timedelta(days=21)
        first += timedelta(days=(spec["weekday"] - first.weekday()) % 7)
        out.append(scheduling.create_class({
            "title": spec["title"], "needs": spec["needs"], "capacity": spec["capacity"],
            "room": spec["room"], "facilitator_id": facilitators[spec["fac"]].id,
            "timezone": DEMO_TIMEZONE, "modality": "in_person", "place_of_service": "11",
            "recurrence": {"weekdays": [spec["weekday"]], "start_time": spec["start"].strftime("%H:%M"),
                           "duration_minutes": spec["minutes"], "first_date": first.isoformat(), "count": 6},
        }).group_class)
    return out


def _enrol(rng, classes, patients, caregivers) -> None:
    linked: dict[int, list[int]] = {}
    for link in db.session.scalars(sa.select(CaregiverLink)):
        linked.setdefault(link.patient_id, []).append(link.caregiver_id)
    for group_class in classes:
        fits = [p for p in patients if set(p.needs) & set(group_class.needs)]
        for patient in fits[:6]:
            cids = linked.get(patient.id, [])
            if cids:
                scheduling.enroll(group_class.id, patient, cids)


def _hold_past_sessions(rng, classes, now: datetime) -> None:
    from roster.models import Enrollment, EnrollmentCaregiver

    for index, group_class in enumerate(classes):
        sets = db.session.execute(
            sa.select(Enrollment.patient_id, EnrollmentCaregiver.caregiver_id, Patient.mrn)
            .join(EnrollmentCaregiver, EnrollmentCaregiver.enrollment_id == Enrollment.id)
            .join(Patient, Patient.id == Enrollment.patient_id)
            .where(Enrollment.class_id == group_class.id, Enrollment.status == EnrollmentStatus.ENROLLED)
        ).all()
        sessions = db.session.scalars(
            sa.select(ClassSession).where(ClassSession.class_id == group_class.id).order_by(ClassSession.starts_at)
        ).all()
        past = [session for session in sessions if session.ends_at <= now]
        for number, session in enumerate(past):
            for arrival, (patient_id, caregiver_id, mrn) in enumerate(sets):
                if rng.random() < 0.8:
                    result = attendance.check_in(session, caregiver_id, mrn, None)
                    db.session.execute(sa.update(CheckIn).where(CheckIn.id == result.checkin.id).values(
                        checked_in_at=session.starts_at - timedelta(minutes=10 - arrival % 10)))
            if number == 2 and sets:
                attendance.set_present(session, db.session.get(Patient, sets[0].patient_id), True, None)
            if index == 0 and number == len(past) - 1:
                continue  # the first class's latest past session is left open, for the end-of-day list
            tz = group_class.timezone
            start = utc_to_local(session.starts_at, tz) + timedelta(minutes=rng.choice((0, 2, 5)))
            end = utc_to_local(session.ends_at, tz)
            present = [mrn for pid, _, mrn in sets[:1]] if number == 2 else []
            attendance.close_session(
                session, facilitator_id=group_class.facilitator_id, started_at=start, ended_at=end,
                patients_present=present, user=None,
            )
