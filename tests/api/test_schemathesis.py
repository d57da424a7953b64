"""schemathesis over every operation the OpenAPI document lists: zero 5xx, zero schema violations.

Runs on the PostgreSQL pass of `make test` (the database of production) with a
bounded number of examples per operation, signed in as an administrator over a
small clinic, so both the happy paths and the refusals are exercised. A route
added to roster/api/openapi.py is covered without touching this file.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from roster.api.openapi import spec

pytestmark = pytest.mark.postgres_only

EXAMPLES = 15  # per operation; the whole run stays around a minute on an idle machine
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]


@pytest.fixture
def admin_token(build) -> str:
    """An administrator's token over a clinic with a little of everything."""
    facilitator = build.facilitator()
    patient = build.patient(mrn="P00001")
    caregiver = build.caregiver([patient])
    group_class = build.group_class(facilitator=facilitator, capacity=3)
    build.enroll(group_class, patient, [caregiver])
    return build.token("admin")


# The document the app serves at /api/v1/openapi.json (a pure function of the code).
schema = schemathesis.openapi.from_dict(spec())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_schema(case, app, admin_token):
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)
