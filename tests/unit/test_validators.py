import pytest
from hypothesis import given
from hypothesis import strategies as st

from roster.domain.validators import icd10_shape_ok, normalise_icd10, parse_tags, phone_digits


@pytest.mark.parametrize(
    "code",
    ["I69.351", "R26.89", "F03.90", "Z99.3", "S72.001A", "T36.0X1A", "U07.1", "C4A.9",
     "I10", "R26", "I69351", "Z993", "S72001A"],
)
def test_icd10_good_shapes(code):
    assert icd10_shape_ok(code)


@pytest.mark.parametrize(
    "code",
    [
        "", "I6", "I69.", "I69.35123", "S72001AB",  # too short / too long / dangling dot
        "169.351", "II9.351", "IA9.3",  # first must be a letter, second a digit
        "I69.3-1", "I69..351", "I6.9351", ".I69",  # misplaced or bad punctuation
        "i69.351", " I69.351", "I69.351\n",  # not normalised
        "I69 351", "I６9.351",  # space, non-ASCII digit
    ],
)
def test_icd10_bad_shapes(code):
    assert not icd10_shape_ok(code)


def test_normalise_then_check():
    assert normalise_icd10("  i69.351 \n") == "I69.351"
    assert icd10_shape_ok(normalise_icd10(" s72.001a "))


@pytest.mark.parametrize(
    "phone, digits",
    [
        ("555-0101", "5550101"),
        ("(312) 555-0101 ext. 12", "312555010112"),
        ("+1 312.555.0101", "13125550101"),
        ("", ""),
        ("call me", ""),
        ("٣١٢ 555", "555"),  # only ASCII digits count
    ],
)
def test_phone_digits(phone, digits):
    assert phone_digits(phone) == digits


@pytest.mark.parametrize(
    "text, tags",
    [
        ("Stroke, dementia ;falls", ["stroke", "dementia", "falls"]),
        ("stroke, Stroke, STROKE", ["stroke"]),
        ("falls;stroke;falls", ["falls", "stroke"]),
        (" , ;; ,", []),
        ("", []),
        ("Fall   risk,\tlow vision", ["fall risk", "low vision"]),
        ("stroke\ndementia\r\nfalls", ["stroke", "dementia", "falls"]),
    ],
)
def test_parse_tags(text, tags):
    assert parse_tags(text) == tags


@given(st.text())
def test_parse_tags_properties(text):
    tags = parse_tags(text)
    assert len(tags) == len(set(tags))
    for tag in tags:
        assert tag and tag == tag.strip() and tag == tag.lower()
        assert not any(sep in tag for sep in ",;\n\r")
    assert parse_tags(", ".join(tags)) == tags


# --------------------------------------------------------------------------- believable dates and phones (issue 13)
from datetime import date as _date  # noqa: E402

from roster.domain.validators import birth_date_problem, not_after_today_problem, phone_problem  # noqa: E402

TODAY = _date(2026, 11, 27)


def test_a_birth_date_is_neither_in_the_future_nor_before_1900():
    assert birth_date_problem(_date(1950, 4, 2), TODAY) is None
    assert birth_date_problem(_date(1900, 1, 1), TODAY) is None and birth_date_problem(TODAY, TODAY) is None
    assert birth_date_problem(_date(2026, 11, 28), TODAY) == "Date of birth cannot be in the future."
    assert birth_date_problem(_date(1899, 12, 31), TODAY) == "Date of birth must be in 1900 or later."


def test_a_consent_date_is_not_in_the_future():
    assert not_after_today_problem(TODAY, TODAY, "Consent date") is None
    assert not_after_today_problem(_date(2026, 12, 1), TODAY, "Consent date") == "Consent date cannot be in the future."


def test_a_phone_has_seven_to_fifteen_digits():
    assert phone_problem("(312) 555-0101") is None and phone_problem("+44 20 7946 0958") is None
    assert phone_problem("555-01") == "Phone needs at least 7 digits."
    assert phone_problem("1" * 20) == "Phone has 20 digits; a phone number has at most 15."
