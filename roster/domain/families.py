"""Caregiver-training code families (rule book R17-R21) and payer profiles, as data.

Three families of codes bill caregiver training. Each is one row of `FAMILIES`:
its individual codes (one patient's caregiver set), its group codes (two or
more patients), whether each is timed and by which ladder, the first date of
service of every code, whether the therapy modifier applies and which
facilitator disciplines may bill it. The billing core reads these tables; it
has no branch per family.

Pure: no Flask, no database, no clock. Finding messages are built here as
plain strings so the billing core can wrap them in its own `Finding`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

FUNCTIONAL = "functional"
DIRECT_CARE = "direct_care"
BEHAVIOR = "behavior"
TRAININGS = (FUNCTIONAL, DIRECT_CARE, BEHAVIOR)
DEFAULT_TRAINING = FUNCTIONAL

# Finding codes of R19-R21 and payer profiles: code -> (severity, rule).
CODE_NOT_EFFECTIVE = "CODE_NOT_EFFECTIVE"
DISCIPLINE_NOT_ELIGIBLE = "DISCIPLINE_NOT_ELIGIBLE"
MUE_EXCEEDED = "MUE_EXCEEDED"
NOT_COVERED_BY_PAYER = "NOT_COVERED_BY_PAYER"
FAMILY_FINDING_CODES: Mapping[str, tuple[str, str]] = MappingProxyType({
    CODE_NOT_EFFECTIVE: ("warn", "R19"),
    DISCIPLINE_NOT_ELIGIBLE: ("block", "R20"),
    MUE_EXCEEDED: ("warn", "R21"),
    NOT_COVERED_BY_PAYER: ("block", "R22"),  # "payer profiles" in the rule book
})

PRACTITIONERS = frozenset({"MD", "DO", "NP", "PA", "CNS"})
THERAPISTS = frozenset({"PT", "PTA", "OT", "OTA", "SLP"})
MENTAL_HEALTH = frozenset({"PSY", "CSW"})
DISCIPLINE_NAMES: Mapping[str, str] = MappingProxyType({
    "PT": "physical therapist", "PTA": "physical therapist assistant",
    "OT": "occupational therapist", "OTA": "occupational therapy assistant",
    "SLP": "speech-language pathologist", "MD": "physician (MD)", "DO": "physician (DO)",
    "NP": "nurse practitioner", "PA": "physician assistant", "CNS": "clinical nurse specialist",
    "PSY": "clinical psychologist", "CSW": "clinical social worker",
})


# --------------------------------------------------------------------------- time ladders


@dataclass(frozen=True)
class Ladder:
    """A CPT time ladder: the initial code from `initial_from` minutes; from `addon_from`
    minutes also the add-on code x floor((minutes - addon_base) / addon_step)."""

    initial_from: int
    addon_from: int
    addon_base: int
    addon_step: int

    def units(self, minutes: int) -> tuple[int, int]:
        """(initial units, add-on units) for a session of `minutes`."""
        if minutes < self.initial_from:
            return 0, 0
        if minutes < self.addon_from:
            return 1, 0
        return 1, max(0, (minutes - self.addon_base) // self.addon_step)


# R2/R17: initial 30 minutes (reached at 16), each further 15 (reached past the midpoint).
INDIVIDUAL_LADDER = Ladder(initial_from=16, addon_from=38, addon_base=23, addon_step=15)
# R18: 96202 initial 60 minutes (reached at 31), 96203 each further 15 from 68.
BEHAVIOR_GROUP_LADDER = Ladder(initial_from=31, addon_from=68, addon_base=53, addon_step=15)


@dataclass(frozen=True)
class CodeSet:
    """The codes billed for one patient in one situation (individual or group)."""

    initial: str
    addon: str | None = None
    ladder: Ladder | None = None  # None: untimed, the initial code x1 whatever the minutes

    @property
    def timed(self) -> bool:
        return self.ladder is not None

    @property
    def codes(self) -> tuple[str, ...]:
        return (self.initial,) if self.addon is None else (self.initial, self.addon)

    @property
    def minimum_minutes(self) -> int:
        return self.ladder.initial_from if self.ladder else 0

    def lines(self, minutes: int | None) -> list[tuple[str, int]]:
        """[(code, units)] for a session of `minutes`; the add-on never without the initial."""
        if self.ladder is None:
            return [(self.initial, 1)]
        if minutes is None:
            return []
        initial, addon = self.ladder.units(minutes)
        if not initial:
            return []
        out = [(self.initial, initial)]
        if addon and self.addon:
            out.append((self.addon, addon))
        return out


# --------------------------------------------------------------------------- the families


@dataclass(frozen=True)
class Family:
    name: str  # functional | direct_care | behavior
    label: str  # what a biller calls it
    description: str  # one line for coordinators
    individual: CodeSet  # one patient's caregiver set
    group: CodeSet  # each patient of two or more
    first_dos: Mapping[str, date] = field(hash=False)  # R19, per code
    therapy_modifier: bool  # R5 applies (GP/GO/GN, CQ/CO)
    disciplines: frozenset[str]  # R20: facilitator disciplines that may bill it

    @property
    def codes(self) -> tuple[str, ...]:
        return self.individual.codes + self.group.codes

    def codes_for(self, patients: int, minutes: int | None) -> list[tuple[str, int]]:
        """R1/R2/R17/R18: one patient's codes in a session with `patients` patients in P."""
        if patients <= 0:
            return []
        return (self.group if patients >= 2 else self.individual).lines(minutes)

    def not_effective(self, codes: Iterable[str], dos: date) -> list[str]:
        """R19: the codes not yet payable on `dos`."""
        return [code for code in codes if dos < self.first_dos[code]]

    def may_bill(self, discipline: str) -> bool:
        """R20."""
        return discipline in self.disciplines


_ALL_2024 = date(2024, 1, 1)
_ALL_2025 = date(2025, 1, 1)


def _therapy_family(name: str, label: str, description: str, codes: tuple[str, str, str], first: date) -> Family:
    """A family billed under a therapy plan of care (R5 modifiers) by therapists and practitioners:
    `codes` = (individual initial, individual add-on on the R17 ladder, untimed group code), every
    code payable from `first`."""
    initial, addon, group = codes
    return Family(
        name=name, label=label, description=description,
        individual=CodeSet(initial, addon, INDIVIDUAL_LADDER), group=CodeSet(group),
        first_dos=MappingProxyType(dict.fromkeys(codes, first)),
        therapy_modifier=True, disciplines=THERAPISTS | PRACTITIONERS,
    )


FAMILIES: Mapping[str, Family] = MappingProxyType({
    FUNCTIONAL: _therapy_family(
        FUNCTIONAL, "Functional performance",
        "Strategies and techniques for the patient's functional performance",
        ("97550", "97551", "97552"), _ALL_2024,
    ),
    DIRECT_CARE: _therapy_family(
        DIRECT_CARE, "Direct care",
        "Direct care strategies and techniques (wound care, infection control, preventing pressure injuries)",
        ("G0541", "G0542", "G0543"), _ALL_2025,
    ),
    BEHAVIOR: Family(
        name=BEHAVIOR,
        label="Behavior management",
        description="Behavior management and modification training",
        individual=CodeSet("G0539", "G0540", INDIVIDUAL_LADDER),
        group=CodeSet("96202", "96203", BEHAVIOR_GROUP_LADDER),
        first_dos=MappingProxyType({"G0539": _ALL_2025, "G0540": _ALL_2025,
                                    "96202": _ALL_2024, "96203": _ALL_2024}),
        therapy_modifier=False,
        disciplines=PRACTITIONERS | MENTAL_HEALTH,
    ),
})

ALL_CODES = tuple(code for family in FAMILIES.values() for code in family.codes)
FAMILY_OF_CODE: Mapping[str, str] = MappingProxyType(
    {code: family.name for family in FAMILIES.values() for code in family.codes}
)


def family(training: str | None) -> Family:
    """The family a class names; an unknown name is a programming error."""
    try:
        return FAMILIES[training or DEFAULT_TRAINING]
    except KeyError:
        raise ValueError(f"unknown training family {training!r}") from None


# --------------------------------------------------------------------------- payers


@dataclass(frozen=True)
class PayerProfile:
    """A payer's own answers to R6, R12 and family coverage.

    `telehealth_from` / `verbal_consent_from`: the first date of service on which
    telehealth is covered / verbal consent counts; None means never.
    """

    name: str
    telehealth_from: date | None
    verbal_consent_from: date | None
    families: frozenset[str] = frozenset(TRAININGS)

    def covers(self, training: str) -> bool:
        return training in self.families

    def covers_telehealth(self, dos: date) -> bool:
        return self.telehealth_from is not None and dos >= self.telehealth_from

    def accepts_verbal_consent(self, dos: date) -> bool:
        return self.verbal_consent_from is not None and dos >= self.verbal_consent_from


MEDICARE = PayerProfile("Medicare", telehealth_from=_ALL_2025, verbal_consent_from=_ALL_2025)


def payer_key(name: str | None) -> str:
    """How a patient's payer is matched to the clinic's list: case and spacing do not matter."""
    return " ".join((name or "").split()).lower()


def profile_for(payer: str | None, profiles: Mapping[str, PayerProfile],
                default: PayerProfile = MEDICARE) -> PayerProfile:
    """The payer's profile from `profiles` (keyed by `payer_key`); not on the list: Medicare's."""
    return profiles.get(payer_key(payer), default)


# --------------------------------------------------------------------------- R21 unit caps


def over_cap(cpt: str, units: int, caps: Mapping[str, int]) -> int | None:
    """R21: the cap `units` of `cpt` exceed (per patient per date of service), else None."""
    cap = caps.get(cpt)
    return cap if cap is not None and units > cap else None


# --------------------------------------------------------------------------- messages


def not_effective_message(who: str, codes: list[str], fam: Family, dos: date) -> str:
    named = " and ".join(f"{c} (payable from {fam.first_dos[c].isoformat()})" for c in codes)
    return (f"{named} cannot be billed for {who} on {dos.isoformat()}, before the code took effect, "
            f"so no line is made for it; check the session's date.")


def discipline_message(who: str, facilitator: str, discipline: str, fam: Family) -> str:
    allowed = ", ".join(sorted(fam.disciplines))
    kind = DISCIPLINE_NAMES.get(discipline, discipline)
    return (f"{facilitator} is a {kind} ({discipline}), who may not bill {fam.label.lower()} "
            f"caregiver training ({'/'.join(fam.codes)}), so {who}'s line is held; record the "
            f"facilitator who actually ran the session (one of {allowed}) by closing it again, or "
            f"correct the class's training family.")


def mue_message(who: str, over: list[tuple[str, int, int]], dos: date) -> str:
    """`over`: (code, the patient's units of it that day, the cap)."""
    named = " and ".join(f"{units} units of {cpt} (cap {cap})" for cpt, units, cap in over)
    return (f"{who} has {named} on {dos.isoformat()}, over the clinic's cap per patient per day; "
            f"the line keeps its units: check the session's times, or the cap in the billing "
            f"settings.")


def not_covered_message(who: str, payer: str, fam: Family) -> str:
    return (f"{who}'s payer {payer} does not cover {fam.label.lower()} caregiver training "
            f"({'/'.join(fam.codes)}), so the line is held; check the patient's payer or the "
            f"payer's profile in the billing settings.")
