"""Search people by name, MRN or phone, whatever the accents, case or word order.

Each record keeps a ``search_key`` (its names folded by ``roster.domain.text``);
a query matches when every query token occurs in the key. Every branch is one
indexable predicate (``key LIKE '%token%'``: pg_trgm GIN indexes on PostgreSQL)
and the branches are joined by UNION, never OR, so each can use its index.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.text import search_tokens
from roster.domain.validators import phone_digits
from roster.extensions import db
from roster.models import Caregiver, CaregiverLink, Patient
from roster.services.paging import Page, paginate

MIN_QUERY = 2
MIN_PHONE_DIGITS = 3


def _contains_all(column, tokens: list[str]):
    return sa.and_(*(column.like(f"%{token}%") for token in tokens))


def patient_ids_matching(query: str) -> sa.Select | None:
    """Patients whose names or MRN hold every token of the query (one indexed predicate)."""
    tokens = search_tokens(query)
    if not tokens:
        return None
    return sa.select(Patient.id).where(_contains_all(Patient.search_key, tokens))


def caregiver_ids_matching(query: str, *, through_patients: bool) -> sa.Select | None:
    """Caregivers by name, by phone digits and (walk-in) by a linked patient's name or MRN: a UNION."""
    tokens = search_tokens(query)
    if not tokens:
        return None
    branches = [sa.select(Caregiver.id).where(_contains_all(Caregiver.search_key, tokens))]
    digits = phone_digits(query)
    if len(digits) >= MIN_PHONE_DIGITS:
        branches.append(sa.select(Caregiver.id).where(Caregiver.phone_digits.like(f"%{digits}%")))
    if through_patients:
        branches.append(
            sa.select(CaregiverLink.caregiver_id)
            .join(Patient, Patient.id == CaregiverLink.patient_id)
            .where(_contains_all(Patient.search_key, tokens))
        )
    return sa.union(*branches) if len(branches) > 1 else branches[0]


def _name_order(model):
    return (model.last_name, model.first_name, model.id)


def search_caregivers(query: str, limit: int = 10) -> list[Caregiver]:
    """Walk-in search: caregiver name, phone digits, patient name or MRN; links and patients loaded."""
    if len((query or "").strip()) < MIN_QUERY:
        return []
    ids = caregiver_ids_matching(query, through_patients=True)
    if ids is None:
        return []
    stmt = (
        sa.select(Caregiver)
        .where(Caregiver.id.in_(ids))
        .options(selectinload(Caregiver.links).selectinload(CaregiverLink.patient))
        .order_by(*_name_order(Caregiver))
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def patient_page(query: str, page: int | None, per_page: int) -> Page[Patient]:
    """One page of patients (all, or those matching the query by name or MRN); the page number is clamped."""
    stmt = sa.select(Patient)
    ids = patient_ids_matching(query)
    if ids is not None:
        stmt = stmt.where(Patient.id.in_(ids))
    return paginate(stmt.order_by(*_name_order(Patient)), page, per_page)


def caregiver_page(query: str, page: int | None, per_page: int) -> Page[Caregiver]:
    """One page of caregivers (all, or those matching by name or phone) with their patients."""
    stmt = sa.select(Caregiver)
    ids = caregiver_ids_matching(query, through_patients=False)
    if ids is not None:
        stmt = stmt.where(Caregiver.id.in_(ids))
    return paginate(stmt.order_by(*_name_order(Caregiver)), page, per_page,
                    options=(selectinload(Caregiver.links).selectinload(CaregiverLink.patient),))
