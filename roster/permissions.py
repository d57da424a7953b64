"""One permission table that every view and API route consults.

Views declare what they need with ``@requires("permission")``; the
decorator records the endpoint so a test can walk every protected endpoint
against every role.
"""

from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, current_app, g, request
from flask_login import current_user

PERMISSIONS: dict[str, str] = {
    "people.view": "See patients (name, MRN, needs, caregivers), caregivers and facilitators",
    # Minimum necessary: what check-in needs is above; this is the rest of a patient's record.
    "people.view_clinical": "See patients' dates of birth, insurance, diagnoses, consent and plans of care",
    "people.edit": "Add and change patients, caregivers and facilitators",
    "people.import": "Import patients and caregivers from CSV",
    "schedule.view": "See classes, sessions and calendars",
    "schedule.edit": "Create and change classes and sessions, cancel sessions",
    "enrollment.edit": "Enrol and withdraw caregiver sets",
    "frontdesk.checkin": "Check caregivers in and mark patients present",
    "session.close": "Close and re-open sessions",
    "billing.view": "Review billing lines and findings",
    "billing.export": "Export billing rosters",
    "audit.view": "Read the audit trail",
    "users.manage": "Manage staff accounts and API tokens",
    "clinic.settings": "Change the clinic's billing settings, payer list and fee schedule",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "coordinator": frozenset(
        {
            "people.view", "people.view_clinical", "people.edit", "people.import", "schedule.view", "schedule.edit",
            "enrollment.edit", "frontdesk.checkin", "session.close", "audit.view",
        }
    ),
    "front_desk": frozenset({"people.view", "schedule.view", "frontdesk.checkin"}),
    "biller": frozenset(
        {"people.view", "people.view_clinical", "people.edit", "schedule.view", "billing.view", "billing.export",
         "audit.view"}
    ),
    "facilitator": frozenset({"people.view", "schedule.view", "frontdesk.checkin", "session.close"}),
}

ROLE_LABELS = {
    "admin": "Administrator",
    "coordinator": "Coordinator",
    "front_desk": "Front desk",
    "biller": "Biller",
    "facilitator": "Facilitator",
}

# endpoint name -> permission, filled by @requires at import time of the views
ENDPOINT_PERMISSIONS: dict[str, str] = {}
# endpoints anyone may reach (sign-in page, static files, calendar feeds by secret, ...)
PUBLIC_ENDPOINTS: set[str] = {"static"}
# endpoints every signed-in user may reach
ANY_ROLE_ENDPOINTS: set[str] = set()


def role_can(role: str | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return role is not None and permission in ROLE_PERMISSIONS.get(role, frozenset())


def can(permission: str) -> bool:
    """True if the signed-in user (or API token's user) has the permission."""
    user = getattr(g, "api_user", None) or current_user
    return bool(user and user.is_authenticated and role_can(user.role, permission))


def requires(permission: str) -> Callable:
    """Guard a view. Unauthenticated: sign-in (pages) or 401 (API); wrong role: 403."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view: Callable) -> Callable:
        view._roster_permission = permission

        @wraps(view)
        def guarded(*args, **kwargs):
            user = getattr(g, "api_user", None) or current_user
            if not user or not user.is_authenticated:
                if request.blueprint == "api":
                    abort(401)
                from roster.extensions import login_manager

                return login_manager.unauthorized()
            if not role_can(user.role, permission):
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


def permission_of(endpoint: str) -> str | None:
    """The permission the current app's view for ``endpoint`` @requires (None: no such view, or not guarded
    by one permission)."""
    return getattr(current_app.view_functions.get(endpoint), "_roster_permission", None)


def public(view: Callable) -> Callable:
    """Reachable without signing in (sign-in page, feeds guarded by their own secret)."""
    view._roster_public = True
    return view


def signed_in(view: Callable) -> Callable:
    """Any signed-in staff member, whatever the role (their own account page)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            from roster.extensions import login_manager

            return login_manager.unauthorized()
        return view(*args, **kwargs)

    guarded._roster_any_role = True
    return guarded


def collect_endpoint_permissions(app) -> None:
    """Record each endpoint's permission from its view function (after registration)."""
    for endpoint, view in app.view_functions.items():
        permission = getattr(view, "_roster_permission", None)
        if permission:
            ENDPOINT_PERMISSIONS[endpoint] = permission
        elif getattr(view, "_roster_any_role", False):
            ANY_ROLE_ENDPOINTS.add(endpoint)
        elif getattr(view, "_roster_public", False):
            PUBLIC_ENDPOINTS.add(endpoint)
