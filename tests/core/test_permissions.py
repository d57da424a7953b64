"""The permission table, walked: every role against every protected endpoint."""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from roster.permissions import (
    ANY_ROLE_ENDPOINTS,
    ENDPOINT_PERMISSIONS,
    PERMISSIONS,
    PUBLIC_ENDPOINTS,
    ROLE_PERMISSIONS,
    role_can,
)
from roster.models import ROLES

PASSWORD = "correct-horse-battery"


def _rules(app) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _url(rule: Rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        values[name] = 987654 if "Integer" in converter else "nothing-here"
    return rule.build(values)[1]


def _method(rule: Rule) -> str:
    for m in ("GET", "POST", "PATCH", "DELETE"):
        if m in rule.methods:
            return m
    raise AssertionError(rule)


def test_every_endpoint_is_in_the_permission_table(app):
    unguarded = [
        r.endpoint for r in _rules(app)
        if r.endpoint not in ENDPOINT_PERMISSIONS
        and r.endpoint not in PUBLIC_ENDPOINTS
        and r.endpoint not in ANY_ROLE_ENDPOINTS
    ]
    assert unguarded == []


def test_every_role_has_known_permissions():
    assert set(ROLE_PERMISSIONS) == set(ROLES)
    for perms in ROLE_PERMISSIONS.values():
        assert perms <= set(PERMISSIONS)
    assert ROLE_PERMISSIONS["admin"] == frozenset(PERMISSIONS)


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(KeyError):
        role_can("admin", "no.such.permission")


@pytest.mark.parametrize("role", ROLES)
def test_role_against_every_protected_page(app, client, login, role):
    login(role)
    checked = 0
    for rule in _rules(app):
        if rule.endpoint.startswith("api.") or rule.endpoint not in ENDPOINT_PERMISSIONS:
            continue
        response = client.open(_url(rule), method=_method(rule))
        allowed = role_can(role, ENDPOINT_PERMISSIONS[rule.endpoint])
        if allowed:
            assert response.status_code != 403, f"{role} refused {rule.endpoint}"
            assert response.status_code < 500, f"{role} broke {rule.endpoint}"
        else:
            assert response.status_code == 403, f"{role} reached {rule.endpoint} ({response.status_code})"
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("role", ROLES)
def test_role_against_every_api_endpoint(app, api, role):
    client = api(role)
    checked = 0
    for rule in _rules(app):
        if not rule.endpoint.startswith("api.") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        method = _method(rule)
        response = client._call(method, _url(rule), json={} if method in ("POST", "PATCH") else None)
        allowed = role_can(role, ENDPOINT_PERMISSIONS[rule.endpoint])
        if allowed:
            assert response.status_code not in (401, 403), f"{role} refused {rule.endpoint}"
            assert response.status_code < 500, f"{role} broke {rule.endpoint}"
        else:
            assert response.status_code == 403, f"{role} reached {rule.endpoint} ({response.status_code})"
            assert response.get_json()["error"]["code"] == "forbidden"
        checked += 1
    assert checked >= 10


def test_signed_out_pages_go_to_sign_in_and_api_answers_401(app, client):
    for rule in _rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        response = client.open(_url(rule), method=_method(rule))
        if rule.endpoint.startswith("api."):
            assert response.status_code == 401, rule.endpoint
            assert response.get_json()["error"]["code"] == "unauthorized"
        else:
            assert response.status_code == 302, rule.endpoint
            assert "/login?next=" in response.headers["Location"], rule.endpoint


def test_bad_or_revoked_token_is_401(app, client, build):
    assert client.get("/api/v1/facilitators", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/facilitators", headers={"Authorization": "Basic abc"}).status_code == 401
    raw = build.token("admin")
    ok = client.get("/api/v1/facilitators", headers={"Authorization": f"Bearer {raw}"})
    assert ok.status_code == 200
    with app.app_context():
        import sqlalchemy as sa

        from roster.extensions import db
        from roster.models import ApiToken, utcnow
        from roster.services import accounts

        token = db.session.scalars(sa.select(ApiToken)).one()
        assert token.token_hash != raw and raw not in token.token_hash  # only the hash is stored
        accounts.revoke_token(token, utcnow())
        db.session.commit()
    assert client.get("/api/v1/facilitators", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
