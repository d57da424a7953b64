"""The claim preflight of many lines as things to fix, most lines held back first.

A year's batch of 55,000 lines can carry 200,000 problems, but only a few
hundred things to fix: the clinic's billing settings, the payer list, each
payer, each code's fee, each facilitator's NPI and each patient's record.
Pure: tallies in (what the database counted per patient, payer name, code
and rendering NPI), the same rules and words as ``claim_preflight``, things
to fix out.
"""

from __future__ import annotations

from dataclasses import dataclass

from roster.domain import claim_preflight as pf


@dataclass(frozen=True)
class Tally:
    """One problem (no line: ``fix_kind`` and ``fix_id`` say where it is fixed) and the lines it is on."""

    problem: pf.Problem
    lines: int


@dataclass(frozen=True)
class Fix:
    """One thing to fix: what it lacks and how many lines it holds back."""

    fix_kind: str  # settings, payer_list, payer, fee, facilitator, patient
    fix_id: int | str | None
    title: str
    tallies: tuple[Tally, ...]
    lines: int


@dataclass(frozen=True)
class PatientTally:
    """A patient's lines with a problem of their record: ``lines`` held back, and the lines per code."""

    patient_id: int
    name: str
    mrn: str
    lines: int
    codes: dict[str, int]


@dataclass(frozen=True)
class Summary:
    lines: int  # lines checked
    problems: int  # problems in all, counted as the line-by-line preflight counts them
    settings: tuple[Fix, ...]  # the clinic, the payer list, payers, fees, facilitators: most lines first
    patients: tuple[Fix, ...]  # one page of patients' records, most lines first
    patient_total: int  # patients whose record holds lines back, in all
    patient_page: int
    patient_pages: int
    per_page: int  # patients a page

    @property
    def empty(self) -> bool:
        return self.problems == 0


def patient_fix(t: PatientTally) -> Fix:
    name = pf.who(t.name, t.mrn)
    tallies = tuple(Tally(pf.Problem(code, message.format(who=name), "patient", t.patient_id), t.codes[code])
                    for code, message in pf.PATIENT_MESSAGES.items() if t.codes.get(code))
    return Fix("patient", t.patient_id, name, tallies, t.lines)


def settings_fixes(clinic: pf.ClinicFacts, purpose: str, lines: int,
                   payer_names: list[tuple[str, pf.PayerFacts | None, int]],
                   unfeed_codes: list[tuple[str, bool, int]],
                   renderings: list[tuple[str | None, int | None, str | None, int]]) -> list[Fix]:
    """What the clinic's settings, payers, fees and facilitators hold back.

    ``payer_names``: (a line's payer name, not blank; its payer on the list or None; lines);
    ``unfeed_codes``: (code, whether the code has a fee, lines whose charge is not fixed yet);
    ``renderings``: (rendering NPI, facilitator id, facilitator name, lines)."""
    fixes: list[Fix] = [Fix("settings", None, "The clinic's billing settings",
                            tuple(Tally(p, lines) for p in pf.clinic_problems(clinic, purpose)), lines)]
    unlisted = [(name, n) for name, payer, n in payer_names if payer is None]
    fixes.append(Fix("payer_list", None, "The clinic's payer list", tuple(
        Tally(pf.Problem("PAYER_NOT_ON_LIST", f"Payer \u201c{name}\u201d is not on the clinic's payer list.",
                         "payer_list", None), n) for name, n in sorted(unlisted, key=lambda x: (-x[1], x[0]))),
        sum(n for _, n in unlisted)))
    by_payer: dict[int | None, tuple[pf.PayerFacts, int]] = {}
    for _, payer, n in payer_names:
        if payer is not None:
            by_payer[payer.id] = (payer, by_payer.get(payer.id, (payer, 0))[1] + n)
    for payer, n in by_payer.values():
        fixes.append(Fix("payer", payer.id, f"Payer {payer.name}", tuple(
            Tally(pf.Problem(code, message, "payer", payer.id), n) for code, message in pf.payer_problems(payer, purpose)),
            n))
    for cpt, has_fee, n in unfeed_codes:
        if not has_fee and n:
            fixes.append(Fix("fee", cpt, f"Code {cpt}'s fee",
                             (Tally(pf.Problem("NO_FEE", pf.FEE_MESSAGE.format(cpt=cpt), "fee", cpt), n),), n))
    by_facilitator: dict[int | None, tuple[str | None, int]] = {}
    for npi, facilitator_id, name, n in renderings:
        if not pf.rendering_npi_ok(npi):
            by_facilitator[facilitator_id] = (name, by_facilitator.get(facilitator_id, (name, 0))[1] + n)
    for facilitator_id, (name, n) in by_facilitator.items():
        title = f"Facilitator {name}" if facilitator_id is not None else "Lines with no facilitator recorded"
        fixes.append(Fix("facilitator", facilitator_id, title, (
            Tally(pf.Problem("NO_RENDERING_NPI", pf.RENDERING_MESSAGE, "facilitator", facilitator_id), n),), n))
    kinds = ("settings", "payer_list", "payer", "fee", "facilitator")
    return sorted((f for f in fixes if f.tallies), key=lambda f: (-f.lines, kinds.index(f.fix_kind), f.title))


def problem_count(settings: list[Fix], patient_codes: dict[str, int]) -> int:
    """The problems the line-by-line preflight lists: the clinic's once, every other one per line."""
    return sum(1 if f.fix_kind == "settings" else t.lines for f in settings for t in f.tallies) + sum(
        patient_codes.values())
