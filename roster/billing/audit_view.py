"""The audit trail as people read it: names instead of ids, labels instead of keys, local dates.

Presentation only: the trail's rows come from ``roster.services.audit``; the names of the
patients, caregivers, facilitators, classes, sessions and staff a page mentions are looked up
there in one query per kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from roster.services import audit
from roster.templating import format_clock, format_day, local_time

ACTION_LABELS = {
    "checkin.create": "Checked in", "checkin.undo": "Check-in undone",
    "presence.mark": "Patient marked as here", "presence.unmark": "Patient no longer marked as here",
    "session.create": "Session added", "session.update": "Session changed", "session.cancel": "Session cancelled",
    "session.close": "Session closed", "session.reopen": "Session re-opened",
    "line.create": "Billing line made", "line.update": "Billing line changed", "line.delete": "Billing line removed",
    "line.void": "Billing line voided", "export.create": "Roster exported",
    "patient.create": "Patient added", "patient.update": "Patient changed",
    "caregiver.create": "Caregiver added", "caregiver.update": "Caregiver changed",
    "facilitator.create": "Facilitator added", "facilitator.update": "Facilitator changed",
    "class.create": "Class created", "class.update": "Class changed", "class.delete": "Class deleted",
    "class.archive": "Class archived",
    "enrollment.create": "Enrolled", "enrollment.withdraw": "Withdrawn", "enrollment.promote": "Moved into the class",
    "user.create": "Staff account created", "token.create": "API token created", "token.revoke": "API token revoked",
    "calendar.reset_secret": "Calendar links reset", "auth.locked": "Sign-in locked",
}
KIND_LABELS = {
    "billing_line": "Billing line", "check_in": "Check-in", "class_session": "Session", "group_class": "Class",
    "enrollment": "Enrolment", "export_batch": "Export", "patient": "Patient", "caregiver": "Caregiver",
    "facilitator": "Facilitator", "user": "Staff account", "api_token": "API token",
}
# key of a before/after picture -> (label, kind of id it holds or None)
KEYS = {
    "patient_id": ("Patient", "patient"), "caregiver_id": ("Caregiver", "caregiver"),
    "caregiver_ids": ("Caregivers", "caregiver"), "facilitator_id": ("Facilitator", "facilitator"),
    "actual_facilitator_id": ("Facilitator who ran it", "facilitator"), "class_id": ("Class", "class"),
    "closed_by_id": ("Closed by", "user"), "checked_in_by_id": ("Checked in by", "user"),
    "cpt": ("CPT", None), "npi": ("NPI", None), "rendering_npi": ("Rendering NPI", None), "mrn": ("MRN", None),
    "dob": ("Date of birth", None), "poc_start": ("Plan of care start", None), "poc_end": ("Plan of care end", None),
    "walk_in": ("Walk-in", None), "present": ("Patient here", None), "place_of_service": ("Place of service", None),
    "date_of_service": ("Date of service", None), "actual_start": ("Started", None), "actual_end": ("Ended", None),
}
LISTED = 20  # items of a list value shown on the page (the rest are counted)
# entity type -> kind of its id, to name the record
ENTITY_KINDS = {"patient": "patient", "caregiver": "caregiver", "facilitator": "facilitator",
                "group_class": "class", "class_session": "session", "user": "user"}


@dataclass(frozen=True)
class ReadableEntry:
    event: Any
    action: str
    record: str
    changes: list[audit.Change]  # the key's label, before and after in words


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace(".", ": ").replace("_", " ").capitalize())


def kind_label(entity_type: str) -> str:
    return KIND_LABELS.get(entity_type, entity_type.replace("_", " ").capitalize())


def _key_label(key: str) -> str:
    return KEYS[key][0] if key in KEYS else key.replace("_", " ").capitalize()


def _ids(value) -> list:
    return value if isinstance(value, list) else [value]


def readable(events: list) -> list[ReadableEntry]:
    """The trail's events (``services.audit.trail``) as people read them."""
    wanted: dict[str, set[int]] = {}
    for e in events:
        if e.entity_type in ENTITY_KINDS and e.entity_id is not None:
            wanted.setdefault(ENTITY_KINDS[e.entity_type], set()).add(e.entity_id)
        if e.session_id is not None:
            wanted.setdefault("session", set()).add(e.session_id)
        for picture in (e.before or {}, e.after or {}):
            for key, value in picture.items():
                kind = KEYS.get(key, (None, None))[1]
                if kind and value is not None:
                    wanted.setdefault(kind, set()).update(v for v in _ids(value) if isinstance(v, int))
    names = audit.names_for(wanted)
    return [_entry(e, names) for e in events]


def _entry(e, names: dict) -> ReadableEntry:
    record = kind_label(e.entity_type)
    kind = ENTITY_KINDS.get(e.entity_type)
    if kind and (kind, e.entity_id) in names:
        record += ": " + _name(kind, e.entity_id, names)
    elif e.entity_id is not None:
        record += f" #{e.entity_id}"
    if e.session_id is not None and kind != "session":
        record += " · " + _name("session", e.session_id, names)
    changes = [
        audit.Change(
            _key_label(key),
            "" if old is audit.MISSING else _value(key, old, names),
            "(removed)" if new is audit.MISSING else _value(key, new, names),
        )
        for key, old, new in sorted(audit.changed(e.before, e.after),
                                    key=lambda c: (_key_label(c[0]) != "Patient", _key_label(c[0])))
    ]
    return ReadableEntry(e, action_label(e.action), record, changes)


def _name(kind: str, ident, names: dict) -> str:
    found = names.get((kind, ident))
    if found is None:
        return f"#{ident} (deleted)" if isinstance(ident, int) else str(ident)
    if kind == "session":
        title, starts = found
        return f"{title}, {format_day(starts)} {format_clock(starts)}"
    return found


def _value(key: str, value, names: dict) -> str:
    kind = KEYS.get(key, (None, None))[1]
    if value is None or value == "" or value == []:
        return "—"
    if kind:
        return _listed([_name(kind, v, names) for v in _ids(value)[:LISTED + 1]], len(_ids(value)))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return _listed([_value("", v, names) for v in value[:LISTED + 1]], len(value)) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{_key_label(k)}: {_value(k, v, names)}" for k, v in value.items())
    if isinstance(value, str):
        return _moment(value)
    return str(value)


def _listed(words: list[str], count: int) -> str:
    """At most LISTED of a list's items, then how many more: an export's record holds every line it took
    (a year: 55,000 ids, 400 KB of a page); the record keeps them all."""
    if count <= LISTED:
        return ", ".join(words)
    return f"{', '.join(words[:LISTED])} … and {count - LISTED} more ({count} in all)"


def _moment(text: str) -> str:
    """An ISO date or moment as the clinic reads it; any other text as it is."""
    if len(text) == 10:
        try:
            return format_day(date.fromisoformat(text))
        except ValueError:
            return text
    if 16 <= len(text) <= 32 and text[4] == "-" and "T" in text:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        return local_time(moment) if moment.tzinfo else f"{format_day(moment)}, {format_clock(moment.time())}"
    return text
