"""TRUST row 13: Schemathesis generates requests from the app's own OpenAPI schema and sends them
in process (ASGI), with valid bearer tokens and without one: no answer is a 5xx and every 4xx
says what was wrong. Bounded (30 examples per operation) so it stays well under a minute per
store engine. (Schemathesis' pytest plugin is not used: the app comes from a parametrized
session fixture, so the operations are driven through Hypothesis directly.)"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.web.conftest import WebWorld

EXAMPLES = 30


def test_generated_requests_never_get_a_5xx(web_app, tokens, web_world: WebWorld) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", web_app, headers={"Authorization": f"Bearer {tokens['analyst']}"})
    credentials = ({}, {"Authorization": f"Bearer {tokens['clin_a']}"},
                   {"Authorization": f"Bearer {tokens['analyst']}"})
    seen: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        seen.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def probe(case) -> None:  # type: ignore[no-untyped-def]
            for headers in credentials:
                response = case.call(headers=headers)
                assert response.status_code < 500, (case.method, case.formatted_path,
                                                    response.status_code, response.text[:300])
                if response.status_code >= 400:
                    body = response.json()
                    assert body.get("detail") or body.get("issue"), response.text[:300]

        probe()
    assert "GET /api/patients/{patient_id}" in seen and "GET /fhir/Patient" in seen
    assert web_world.audit_count() > 0  # requests reached the guard, not just the router
