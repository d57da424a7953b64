"""What a claim line codes: one home for the fields the rule book decides and the roster exports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class LineCoding:
    """A line's coding: the rule book's ``LineDraft`` and the exported ``RosterRow`` both carry it
    (keyword-only, so each record keeps its own fields first)."""

    cpt: str
    modifiers: tuple[str, ...]
    units: int
    diagnosis_codes: tuple[str, ...]
    place_of_service: str
    rendering_npi: str | None
