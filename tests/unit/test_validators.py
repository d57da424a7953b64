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
