"""What a re-evaluation reads once its sessions are locked, in ONE statement (`statements.Together`).

The clinic's unit caps and payer list (`policy.BOTH`), the sessions' check-ins and patients present
with their patients' facts (`facts.ATTENDANCE`), their stored lines (on PostgreSQL locked as they are
read, in id order: patients, sessions, then lines, as ever) and their findings (`reconcile.stored_rows`):
four reads of different shapes, one round trip instead of four. Lines and findings are handed back in
id order, as their own statements read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from roster.domain import billing as rules
from roster.domain.families import PayerProfile
from roster.services.billing.facts import attendance_select
from roster.services.billing.policy import BOTH, policy_from_rows
from roster.services.billing.reconcile import FindingRow, LineRow, by_session, stored_rows
from roster.services.billing.statements import Together


def _parts(kind: str, some: bool) -> list:
    lines, findings = stored_rows(kind, some)
    return [BOTH, attendance_select(kind), lines, findings]


# for every patient of the sessions, or for some (``only``)
_READ = {some: Together(lambda kind, some=some: _parts(kind, some)) for some in (False, True)}


@dataclass(frozen=True)
class Stored:
    policy: rules.BillingPolicy
    profiles: Mapping[str, PayerProfile]
    attendance: list  # rows of `facts.ATTENDANCE`, for `load_facts`
    lines: dict[int, list]  # `LineRow`s by session
    findings: dict[int, list]  # `FindingRow`s by session


def read(session_ids: list[int], found: list[int], only: frozenset[int] | None) -> Stored:
    """All of it for these sessions (the attendance of those ``found``; ``only``: the lines and findings
    of these patients only)."""
    params = {"ids": found, "sessions": session_ids}
    if only is not None:
        params["patients"] = sorted(only)
    return of_rows(*_READ[only is not None].apart(params))


def of_rows(policy_rows: list, attendance: list, lines: list, findings: list) -> Stored:
    """`Stored` from the rows of its four parts."""
    policy, profiles = policy_from_rows(policy_rows)
    return Stored(policy, profiles, attendance, by_session([LineRow._make(r) for r in lines]),
                  by_session([FindingRow._make(r) for r in findings]))


def with_first(first: sa.CTE, alone: sa.ColumnElement[bool], **options) -> Together:
    """PostgreSQL: ``first`` (a statement with RETURNING, as a CTE: the UPDATE that closes a session) and
    what re-evaluation reads of one session (parameters ``ids`` and ``sessions``, that session), ONE
    statement: its parts `first`'s rows, then `read`'s four; the lines locked and read only when ``alone``
    holds (a condition on ``first``: no other session to evaluate with it, whose row would be locked first);
    ``options``: its execution options."""
    lines, findings = stored_rows("postgresql", False, when=alone)
    return Together(lambda kind: [first, BOTH, attendance_select(kind), lines, findings], kinds=("postgresql",),
                    **options)
