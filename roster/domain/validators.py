"""Small field checks and normalisers shared by the API and the forms."""

from __future__ import annotations

import re
from datetime import date

# ICD-10-CM: a letter, a digit, a letter or digit (the category), then up to four
# more letters or digits. Dotted form puts a "." after the category and needs at
# least one character after it (I69.351, R26.89, S72.001A); undotted form is the
# same 3 to 7 characters run together (I69351, Z993). Shape only: whether the code
# exists is not checked. Upper case only, so normalise_icd10 first.
_ICD10_DOTTED = re.compile(r"[A-Z][0-9][A-Z0-9]\.[A-Z0-9]{1,4}")
_ICD10_UNDOTTED = re.compile(r"[A-Z][0-9][A-Z0-9]{1,5}")
_TAG_SEPARATORS = re.compile(r"[,;\n\r]")


def normalise_icd10(code: str) -> str:
    """Surrounding whitespace removed, upper case."""
    return code.strip().upper()


def icd10_shape_ok(code: str) -> bool:
    """Whether ``code`` (already normalised) has the shape of an ICD-10-CM code."""
    return bool(_ICD10_DOTTED.fullmatch(code) or _ICD10_UNDOTTED.fullmatch(code))


def phone_digits(phone: str) -> str:
    """The ASCII digits of ``phone``, for search ("(555) 010-1" -> "5550101")."""
    return re.sub(r"[^0-9]", "", phone)


def parse_tags(text: str) -> list[str]:
    """Split on commas, semicolons and line breaks; trim, collapse inner
    whitespace, lower-case; drop empties and repeats, keeping first-seen order."""
    tags: dict[str, None] = {}
    for part in _TAG_SEPARATORS.split(text):
        tag = " ".join(part.split()).lower()
        if tag:
            tags.setdefault(tag)
    return list(tags)


# --------------------------------------------------------------------------- believable dates and phones
# (pass the clinic's today in: no clock here)

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
MAX_PHONE_DIGITS = 15  # E.164: no phone number has more digits, country code included
MIN_PHONE_DIGITS = 7


def birth_date_problem(dob: date, today: date) -> str | None:
    """Why a date of birth cannot be right (in the future, or before 1900), or None."""
    if dob > today:
        return "Date of birth cannot be in the future."
    if dob < EARLIEST_BIRTH_DATE:
        return "Date of birth must be in 1900 or later."
    return None


def not_after_today_problem(day: date, today: date, label: str) -> str | None:
    """A day that must already have happened (a consent given, say)."""
    if day > today:
        return f"{label} cannot be in the future."
    return None


def phone_problem(phone: str) -> str | None:
    """Too few or too many digits for a phone number, or None."""
    digits = len(phone_digits(phone))
    if digits < MIN_PHONE_DIGITS:
        return f"Phone needs at least {MIN_PHONE_DIGITS} digits."
    if digits > MAX_PHONE_DIGITS:
        return f"Phone has {digits} digits; a phone number has at most {MAX_PHONE_DIGITS}."
    return None
# --------------------------------------------------------------------------- characters and dates
# Text may hold tabs and line breaks, never other control characters (NUL...) or
# lone UTF-16 surrogates (neither database can store them). Addresses, search
# terms and other one-line values may not hold line breaks either.
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_BAD_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

SESSION_YEARS_BACK = 10  # sessions, closes and day views: from 1 January ten years back
SESSION_YEARS_AHEAD = 5  # ... to 31 December five years ahead
EARLIEST_BIRTH = date(1900, 1, 1)


def text_problem(value: str, *, one_line: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can."""
    match = (_BAD_LINE if one_line else _BAD_TEXT).search(value)
    if match is None:
        return None
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return "contains a broken character (a lone UTF-16 surrogate); type it again."
    return f"contains a control character (U+{ord(char):04X}) that cannot be stored; remove it."


def session_window(today: date) -> tuple[date, date]:
    """The days a session, a close or a day view may fall on, seen from ``today``."""
    return date(today.year - SESSION_YEARS_BACK, 1, 1), date(today.year + SESSION_YEARS_AHEAD, 12, 31)


def birth_window(today: date) -> tuple[date, date]:
    return EARLIEST_BIRTH, today


def record_window(today: date) -> tuple[date, date]:
    """Any other date of a record (consent, plan of care): from 1900 to the session window's end."""
    return EARLIEST_BIRTH, session_window(today)[1]


def date_problem(day: date, window: tuple[date, date]) -> str | None:
    """Why ``day`` is outside ``window`` (inclusive), or None."""
    first, last = window
    if first <= day <= last:
        return None
    return f"must be between {first.isoformat()} and {last.isoformat()}."
