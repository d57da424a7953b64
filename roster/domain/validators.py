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
