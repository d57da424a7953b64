"""What a claim needs of a patient and the roster does not: sex and home address.

Flat fields in the API, forms and CSV alike (``sex``, ``address_line1``,
``address_city``, ``address_state``, ``address_zip``); all optional here, the
claim preflight names what a claim still lacks.
"""

from __future__ import annotations

from typing import Any, Callable

from roster.models import SEXES
from roster.services.clinic import clean_state, clean_text, clean_zip

CLAIM_FIELDS = ("sex", "address_line1", "address_city", "address_state", "address_zip")
SEX_LABELS = {"F": "Female", "M": "Male", "U": "Unknown"}


def validate_claim_fields(data: dict, wants: Callable[[str], bool], errors: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if wants("sex"):
        sex = data.get("sex")
        sex = sex.strip().upper() if isinstance(sex, str) else sex
        if sex in (None, ""):
            out["sex"] = None
        elif sex not in SEXES:
            errors["sex"] = "Sex must be F, M or U (unknown)."
        else:
            out["sex"] = sex
    if wants("address_line1"):
        out["address_line1"] = clean_text(data, "address_line1", errors, "Address", 55)
    if wants("address_city"):
        out["address_city"] = clean_text(data, "address_city", errors, "City", 30)
    if wants("address_state"):
        out["address_state"] = clean_state(clean_text(data, "address_state", errors, "State", 2),
                                           "address_state", errors)
    if wants("address_zip"):
        out["address_zip"] = clean_zip(clean_text(data, "address_zip", errors, "ZIP code", 10),
                                       "address_zip", errors)
    return out
