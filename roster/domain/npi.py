"""National Provider Identifier checks.

An NPI is 10 digits whose last digit is a Luhn check digit computed over the
NPI prefixed with the health-industry issuer code ``80840`` (CMS, "NPI check
digit"). Pure functions, no I/O.
"""

from __future__ import annotations

import re

NPI_ISSUER_PREFIX = "80840"
_TEN_DIGITS = re.compile(r"[0-9]{10}")


def npi_has_shape(npi: object) -> bool:
    """True if ``npi`` is a string of exactly 10 ASCII digits."""
    return isinstance(npi, str) and _TEN_DIGITS.fullmatch(npi) is not None


def npi_is_valid(npi: object) -> bool:
    """True if ``npi`` has the NPI shape and its check digit is right."""
    return npi_has_shape(npi) and _luhn_ok(NPI_ISSUER_PREFIX + npi)  # type: ignore[operator]


def npi_with_check_digit(first9: str) -> str:
    """A valid NPI: the nine digits given and their check digit."""
    return first9 + str((10 - _luhn_sum(NPI_ISSUER_PREFIX + first9, doubled=0)) % 10)


def _luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check over a digit string whose last digit is the check digit."""
    return _luhn_sum(digits, doubled=1) == 0


def _luhn_sum(digits: str, doubled: int) -> int:
    """The Luhn sum mod 10, doubling every second digit from the right, starting at position ``doubled``."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == doubled:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10
