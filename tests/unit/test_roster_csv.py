import csv
import io
from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roster.domain.line_coding import LineCoding
from roster.domain.roster_csv import COLUMNS, RosterRow, iter_csv, neutralise

HEADER = (
    "line_id,action,date_of_service,session_id,class_title,patient_mrn,patient_last_name,"
    "patient_first_name,patient_dob,payer,member_id,cpt,modifiers,units,diagnosis_codes,"
    "place_of_service,rendering_npi,rendering_name,rendering_discipline,caregivers,minutes"
)


def make_row(**kw) -> RosterRow:
    base = dict(
        line_id=31, action="new", date_of_service=date(2026, 2, 3), session_id=7,
        class_title="Stroke caregiver skills", patient_mrn="A1001",
        patient_last_name="Ames", patient_first_name="Walter",
        patient_dob=date(1950, 4, 2), payer="Medicare", member_id="1EG4TE5MK73",
        cpt="97552", modifiers=("GP",), units=1, diagnosis_codes=("I69.351", "R26.89"),
        place_of_service="11", rendering_npi="1234567893",
        rendering_name="Dana Reyes, PT", rendering_discipline="PT",
        caregivers=(("Rita", "Ames", "spouse"), ("Tom", "Ames", "son")), minutes=58,
    )  # fmt: skip
    base.update(kw)
    return RosterRow(**base)


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def render(rows) -> str:
    return "".join(iter_csv(rows))


def test_header_exact():
    assert ",".join(COLUMNS) == HEADER
    assert next(iter_csv([])) == HEADER + "\r\n"
    assert render([]) == HEADER + "\r\n"


def test_row_fields_match_columns():
    """A field per column and a column per field: the line's coding (LineCoding) first, then the rest
    in the columns' order."""
    coding = [f.name for f in fields(LineCoding)]
    assert set(coding) <= set(COLUMNS)
    assert [f.name for f in fields(RosterRow)] == coding + [c for c in COLUMNS if c not in coding]


def test_full_row_round_trip():
    (parsed,) = parse(render([make_row()]))
    assert parsed == {
        "line_id": "31", "action": "new", "date_of_service": "2026-02-03", "session_id": "7",
        "class_title": "Stroke caregiver skills", "patient_mrn": "A1001",
        "patient_last_name": "Ames", "patient_first_name": "Walter",
        "patient_dob": "1950-04-02", "payer": "Medicare", "member_id": "1EG4TE5MK73",
        "cpt": "97552", "modifiers": "GP", "units": "1", "diagnosis_codes": "I69.351;R26.89",
        "place_of_service": "11", "rendering_npi": "1234567893",
        "rendering_name": "Dana Reyes, PT", "rendering_discipline": "PT",
        "caregivers": "Rita Ames (spouse); Tom Ames (son)", "minutes": "58",
    }  # fmt: skip


def test_empty_and_none_values():
    row = make_row(
        action="void", modifiers=(), diagnosis_codes=(), patient_dob=None, rendering_npi=None,
        rendering_name=None, rendering_discipline=None, caregivers=(), minutes=None,
    )
    (parsed,) = parse(render([row]))
    for column in ("modifiers", "diagnosis_codes", "patient_dob", "rendering_npi",
                   "rendering_name", "rendering_discipline", "caregivers", "minutes"):
        assert parsed[column] == "", column
    assert parsed["action"] == "void"


def test_multiple_modifiers_and_caregiver_without_relationship():
    row = make_row(modifiers=("GP", "KX", "59"), caregivers=(("Rita", "Ames", ""),))
    (parsed,) = parse(render([row]))
    assert parsed["modifiers"] == "GP;KX;59"
    assert parsed["caregivers"] == "Rita Ames"


def test_lines_end_with_crlf_and_one_line_per_row():
    lines = list(iter_csv([make_row(line_id=1), make_row(line_id=2)]))
    assert len(lines) == 3
    assert all(line.endswith("\r\n") for line in lines)
    assert [r["line_id"] for r in parse("".join(lines))] == ["1", "2"]


def test_action_must_be_new_or_void():
    with pytest.raises(ValueError):
        make_row(action="adjust")


# --- formula injection -------------------------------------------------------


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("=HYPERLINK(\"http://x\",\"click\")", "'=HYPERLINK(\"http://x\",\"click\")"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Ames", "Ames"),
        ("O'Brien", "O'Brien"),
        ("a=b", "a=b"),
        ("", ""),
        (" =1", " =1"),
    ],
)
def test_neutralise(cell, expected):
    assert neutralise(cell) == expected


def test_injection_in_every_text_column_is_neutralised():
    row = make_row(
        class_title="=HYPERLINK(\"http://evil\",\"x\")",
        patient_mrn="+A1001", patient_last_name="-Ames", patient_first_name="@Walter",
        payer="=1+1", member_id="+1", cpt="-2", place_of_service="@SUM(1)",
        rendering_name="=cmd|' /C calc'!A0", rendering_npi="+123",
        rendering_discipline="-PT", modifiers=("=GP",), diagnosis_codes=("+I69.351",),
        caregivers=(("=Rita", "Ames", "spouse"),), units=-1, minutes=-5,
    )
    (parsed,) = parse(render([row]))
    for column in ("class_title", "patient_mrn", "patient_last_name", "patient_first_name",
                   "payer", "member_id", "cpt", "place_of_service", "rendering_name",
                   "rendering_npi", "rendering_discipline", "modifiers", "diagnosis_codes",
                   "caregivers", "units", "minutes"):
        assert parsed[column].startswith("'"), column
    assert parsed["class_title"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert parsed["caregivers"] == "'=Rita Ames (spouse)"


def test_names_with_commas_quotes_and_newlines_round_trip():
    row = make_row(
        patient_last_name='O\'Brien, "Jr."', patient_first_name="Mary\nAnn",
        class_title="Falls, balance & \"safe\" transfers\r\nweek 2",
        caregivers=(("Ann, Jr", 'Lee "Al"', "daughter"),),
    )
    text = render([row, make_row(line_id=32)])
    parsed = parse(text)
    assert len(parsed) == 2
    assert parsed[0]["patient_last_name"] == 'O\'Brien, "Jr."'
    assert parsed[0]["patient_first_name"] == "Mary\nAnn"
    assert parsed[0]["class_title"] == "Falls, balance & \"safe\" transfers\r\nweek 2"
    assert parsed[0]["caregivers"] == 'Ann, Jr Lee "Al" (daughter)'
    assert parsed[1]["line_id"] == "32"


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(last=text, first=text, title=text)
def test_any_text_round_trips_modulo_neutralising(last, first, title):
    row = make_row(patient_last_name=last, patient_first_name=first, class_title=title)
    (parsed,) = parse(render([row]))
    assert parsed["patient_last_name"] == neutralise(last)
    assert parsed["patient_first_name"] == neutralise(first)
    assert parsed["class_title"] == neutralise(title)
    for value in parsed.values():
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_utf8():
    row = make_row(patient_last_name="Muñoz", patient_first_name="José")
    data = render([row]).encode("utf-8")
    (parsed,) = parse(data.decode("utf-8"))
    assert parsed["patient_last_name"] == "Muñoz"


# --- streaming ---------------------------------------------------------------


def test_streams_lazily():
    pulled = []

    def rows():
        for n in range(1, 4):
            pulled.append(n)
            yield make_row(line_id=n)

    out = iter_csv(rows())
    assert isinstance(out, Iterator)
    assert pulled == []
    assert next(out) == HEADER + "\r\n"
    assert pulled == []
    assert next(out).startswith("1,new,")
    assert pulled == [1]
    assert next(out).startswith("2,new,")
    assert pulled == [1, 2]
    assert len(list(out)) == 1
    assert pulled == [1, 2, 3]


def test_each_line_is_independent_of_the_previous():
    long_row = make_row(class_title="x" * 500)
    short_row = make_row(line_id=2, class_title="y")
    _header, _first, second = iter_csv([long_row, short_row])
    assert "x" not in second
    assert second == render([short_row]).split("\r\n", 1)[1]


def test_rows_are_immutable():
    row = make_row()
    with pytest.raises(AttributeError):
        row.units = 2  # type: ignore[misc]
    assert replace(row, units=2).units == 2


def test_a_row_survives_the_trip_through_json_and_can_become_a_void_row():
    import json

    from roster.domain.roster_csv import row_from_json, row_to_json

    row = make_row(action="new")
    kept = json.loads(json.dumps(row_to_json(row)))
    assert "action" not in kept
    assert row_from_json(kept, "new") == row
    void = row_from_json(kept, "void")
    assert void.action == "void" and void.line_id == row.line_id and void.cpt == row.cpt
