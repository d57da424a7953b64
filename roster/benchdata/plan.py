"""People, classes, sessions and enrolments of a bench year, as plain rows (dicts keyed by column).

Each of the ``classes_per_week`` weekly slots (a site, room, weekday and time)
runs one class after another, each a series of nine weekly sessions; slots start
their series on different weeks so every week has the same number of sessions.
Every class enrols five to eight patients of matching needs with one or two of
their caregivers; each patient has about ten caregivers on file (family, friends).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from roster.domain.npi import npi_with_check_digit
from roster.domain.recurrence import local_to_utc
from roster.domain.statuses import EnrollmentStatus, SessionStatus
from roster.domain.text import caregiver_search_key, fold, patient_search_key
from roster.domain.validators import phone_digits

SERIES = 9
CAREGIVERS_PER_PATIENT = 10
SITES = (
    ("Riverside", "America/Chicago"), ("Lakeside", "America/New_York"),
    ("Mesa", "America/Denver"), ("Harbor", "America/Los_Angeles"),
)
ROOMS = ("Gym A", "Gym B", "Room 2", "Room 3", "Room 4", "Therapy kitchen")
WEEKDAYS = (0,) * 18 + (1,) * 18 + (2,) * 18 + (3,) * 18 + (4,) * 18 + (5,) * 6 + (6,) * 4
PROFILES = (  # need, class title, diagnosis codes, plan-of-care discipline
    ("stroke", "Stroke caregiver skills", ("I69.351", "R26.89"), "PT"),
    ("dementia", "Living well with dementia: home routines", ("F03.90",), "OT"),
    ("dementia", "Dementia: communication at home", ("G30.9", "F02.80"), "SLP"),
    ("parkinsons", "Parkinson's: moving safely", ("G20.A1",), "PT"),
    ("hip fracture", "Transfers and falls at home", ("S72.001D", "Z96.641"), "PT"),
    ("dysphagia", "Safe swallowing and mealtimes", ("R13.12", "I69.391"), "SLP"),
    ("brain injury", "Brain injury: daily routines", ("S06.2X9S",), "OT"),
    ("amputation", "Limb loss: care at home", ("Z89.511",), "PT"),
)
DISCIPLINE_FOR = {"PT": ("PT", "PTA"), "OT": ("OT", "OTA"), "SLP": ("SLP",)}
FIRST = ("Walter Helen Omar Ruth George Alma Frank Irene Louis Edna Harold Gloria Arthur Martha Eugene Doris "
         "Ernest Lucille Ralph Vivian Howard Bernice Clarence Marion Chester Thelma Leon Hazel Milton Opal José "
         "María Zoë Renée Björn Agnès Chloé Jürgen Søren Inés Ángel Nuño Albert Beatrice Carl Dolores Earl "
         "Florence Gerald Harriet Isaac Josephine Kenneth Lillian Maurice Nadine Oscar Pauline Raymond Shirley "
         "Theodore Ursula Vernon Wilma Yusuf Aiko Bashir Chen Dmitri Esperanza Farouk Giulia Hiroshi Ingrid "
         "Jamal Katarzyna Lakshmi Mehmet Nkechi Olumide Priya Rashid Sione Thanh Wanjiru Xiomara").split()
LAST = ("Ames Brooks Cruz Dalton Ellis Foster Garcia Hughes Ibarra Jensen Kim Lopez Moreno Nguyen Owens Patel "
        "Quinn Rivera Shah Tran Underwood Vasquez Walsh Xu Young Zimmer Baker Carter Diaz Evans Núñez Muñoz "
        "Peña Müller Ødegaard Lefèvre Brontë Gómez Łukasz O'Brien Smith-Jones Okafor Haddad Novak Abbott "
        "Bianchi Castillo Delgado Eriksen Fitzgerald Gallagher Hoffman Iverson Jankowski Kowalski Lindqvist "
        "Mahoney Nakamura Olsen Petrov Quintero Rasmussen Schneider Takahashi Ueda Villanueva Whitaker "
        "Yamamoto Zhang Adeyemi Bergström Chowdhury Dubois Estrada Fernández Greenberg Hernández Ivanova "
        "Jovanović Kaur Lindgren Martínez Nowak Ortega Popescu Ramírez Sánchez Thompson Uribe Valdés "
        "Wójcik Xiong Yilmaz Zapata Andersen Boyle Chavez Dunn Engel Farrell Gonzales Hayes Ingram Jacobs "
        "Keller Lambert Mendoza Nash Oliveira Pham Reyes Sullivan Torres Vega Warren Acosta Bauer Coleman "
        "Doyle Espinoza Fleming Grant Hanson Ito Jimenez Kane Larsen Molina Nolan Obi Perez Russo Stone "
        "Tanaka Vargas Weber").split()
CAREGIVER_FIRST = ("Rita Tom June Luis Maya Ben Carla Dev Erin Femi Gina Hal Ines Jack Kira Liam Mona Nate Olga "
                   "Paul Rosa Sean Tara Umar Vera Wes Yara Zane Abby Cole Dina Eli Faye Gus Hope Ivan Jade Kurt "
                   "Lena Milo Noé Zoé Raúl Anaïs Dóra Adam Bella Chris Dana Emma Felix Grace Henry Isla Jonah "
                   "Kate Leo Mia Noah Olivia Pedro Quentin Riya Sofia Theo Uma Victor Willa Ximena Yosef Zara "
                   "Amir Brianna Carlos Deepa Elif Fatima Gabriel Hana Ikram Javier Keanu Leila Mateo Nia").split()
RELATIONSHIPS = ("spouse", "daughter", "son", "friend", "partner", "sister", "brother", "neighbor",
                 "grandchild", "niece")
PAYERS = ("Medicare", "Medicare", "Medicare", "Medicare Advantage", "Blue Cross", "Aetna", "Humana")


@dataclass
class Year:
    """Every row of the bench year, by table, plus what attendance needs to know."""

    facilitators: list[dict] = field(default_factory=list)
    patients: list[dict] = field(default_factory=list)
    caregivers: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    classes: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    enrollments: list[dict] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)
    checkins: list[dict] = field(default_factory=list)  # this and the next four: attendance.attend_year
    presence: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    audit: list[dict] = field(default_factory=list)
    caregivers_of: dict[int, list[int]] = field(default_factory=dict)  # patient id -> linked caregivers
    enrolled_sets: dict[int, list[tuple[int, list[int]]]] = field(default_factory=dict)  # class -> sets
    regulars: set[int] = field(default_factory=set)  # long-stay patients, in every class of their slot


def first_monday(today: date, weeks: int) -> date:
    return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)


def plan_year(weeks: int, classes_per_week: int, today: date, seed: int = 12) -> Year:
    rng = random.Random(seed)
    year = Year()
    _facilitators(year, max(4, classes_per_week // 4))
    monday = first_monday(today, weeks)
    for slot in range(classes_per_week):
        _slot(rng, year, slot, weeks, monday)
    return year


def _facilitators(year: Year, n: int) -> None:
    kinds = ("PT", "OT", "SLP", "PT", "OT", "PTA", "SLP", "OTA")
    for i in range(n):
        discipline = kinds[i % len(kinds)]
        name = f"{CAREGIVER_FIRST[i % len(CAREGIVER_FIRST)]} {LAST[(i * 3) % len(LAST)]}, {discipline}"
        year.facilitators.append({"id": i + 1, "name": name, "discipline": discipline,
                                  "npi": npi_with_check_digit(f"1{i:08d}"), "active": True})


def _slot(rng: random.Random, year: Year, slot: int, weeks: int, monday: date) -> None:
    site, tz = SITES[slot % len(SITES)]
    weekday = WEEKDAYS[(slot * 7) % len(WEEKDAYS)]
    start = time(8 + (slot * 5) % 9, (0, 30)[slot % 2])
    minutes = (60, 60, 60, 45, 75, 90)[slot % 6]
    room = f"{site} {ROOMS[(slot // len(SITES)) % len(ROOMS)]}"
    phase = slot % SERIES
    by_class: dict[int, list[int]] = {}
    for week in range(weeks):
        by_class.setdefault((week + phase) // SERIES, []).append(week)
    regular = None  # one slot in 25 has a long-stay patient enrolled in every class it runs
    for class_weeks in by_class.values():
        days = [monday + timedelta(weeks=w, days=weekday) for w in class_weeks]
        if slot % 25 == 0 and regular is None:
            need, _, codes, discipline = PROFILES[(slot + len(year.classes) + 1) % len(PROFILES)]
            regular = _patient(rng, year, need, codes, discipline, days[0], monday + timedelta(weeks=weeks))
            year.regulars.add(regular)
        _class(rng, year, slot, site, tz, room, weekday, start, minutes, days, regular)


def _class(rng, year: Year, slot: int, site: str, tz: str, room: str, weekday: int, start: time,
           minutes: int, days: list[date], regular: int | None) -> None:
    class_id = len(year.classes) + 1
    need, title, codes, discipline = PROFILES[(slot + class_id) % len(PROFILES)]
    wanted = DISCIPLINE_FOR[discipline]
    facs = [f for f in year.facilitators if f["discipline"] in wanted]
    facilitator = facs[(slot // 3) % len(facs)]
    telehealth = rng.random() < 0.08
    year.classes.append({
        "id": class_id, "title": f"{title} ({site})", "needs": [need], "room": "" if telehealth else room,
        "capacity": 12, "facilitator_id": facilitator["id"], "timezone": tz,
        "modality": "telehealth" if telehealth else "in_person",
        "place_of_service": ("02" if rng.random() < 0.8 else "10") if telehealth else "11",
    })
    for day in days:
        begins = local_to_utc(datetime.combine(day, start), tz)
        year.sessions.append({
            "id": len(year.sessions) + 1, "class_id": class_id, "starts_at": begins,
            "ends_at": begins + timedelta(minutes=minutes), "status": SessionStatus.SCHEDULED, "sequence": 0,
        })
    sets = []
    patients = [_patient(rng, year, need, codes, discipline, days[0], days[-1]) for _ in range(rng.randint(5, 8))]
    for patient_id in patients + ([regular] if regular else []):
        cg = year.caregivers_of[patient_id]
        chosen = cg[:1] if rng.random() < 0.55 else cg[:2]
        enrollment_id = len(year.enrollments) + 1
        year.enrollments.append({"id": enrollment_id, "class_id": class_id, "patient_id": patient_id,
                                 "status": EnrollmentStatus.ENROLLED, "position": 0})
        for caregiver_id in chosen:
            year.members.append({"id": len(year.members) + 1, "enrollment_id": enrollment_id,
                                 "caregiver_id": caregiver_id})
        sets.append((patient_id, chosen))
    year.enrolled_sets[class_id] = sets


def _patient(rng, year: Year, need: str, codes, discipline: str, first: date, last: date) -> int:
    pid = len(year.patients) + 1
    first_name, last_name = rng.choice(FIRST), rng.choice(LAST)
    mrn = f"H{pid:07d}"
    roll = rng.random()
    consent_kind = None if roll < 0.02 else ("verbal" if roll < 0.06 else "written")
    poc_end = last + timedelta(days=60) if rng.random() > 0.02 else first + timedelta(days=20)
    year.patients.append({
        "id": pid, "mrn": mrn, "first_name": first_name, "last_name": last_name,
        "search_key": patient_search_key(first_name, last_name, mrn), "mrn_key": mrn.upper(),
        "dob": date(1930 + rng.randrange(36), 1 + rng.randrange(12), 1 + rng.randrange(28)),
        "payer": rng.choice(PAYERS), "member_id": f"{rng.randrange(10**10):010d}", "needs": [need],
        "diagnosis_codes": [] if rng.random() < 0.01 else list(codes),
        "consent_date": first - timedelta(days=rng.randint(1, 30)) if consent_kind else None,
        "consent_kind": consent_kind,
        "poc_discipline": discipline, "poc_start": first - timedelta(days=14), "poc_end": poc_end,
    })
    linked = []
    for i in range(CAREGIVERS_PER_PATIENT):
        cid = len(year.caregivers) + 1
        cg_first = rng.choice(CAREGIVER_FIRST)
        cg_last = last_name if i < 4 else rng.choice(LAST)
        phone = f"({200 + cid % 700}) 555-{cid % 10000:04d}"
        year.caregivers.append({
            "id": cid, "first_name": cg_first, "last_name": cg_last, "search_key": caregiver_search_key(cg_first, cg_last),
            "phone": phone, "phone_digits": phone_digits(phone),
            "email": f"{fold(cg_first).replace(' ', '')}.{cid}@example.com" if i % 3 == 0 else None,
        })
        year.links.append({"id": len(year.links) + 1, "caregiver_id": cid, "patient_id": pid,
                           "relationship": RELATIONSHIPS[(i + pid) % len(RELATIONSHIPS)]})
        linked.append(cid)
    year.caregivers_of[pid] = linked
    return pid
