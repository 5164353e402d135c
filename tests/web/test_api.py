"""The JSON API: bearer tokens, OpenAPI, disclosure control by role, same data as the pages."""

from __future__ import annotations

import pytest

from tests.web.conftest import WORKLIST, WebWorld


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_openapi_lists_the_api_routes(api, tokens) -> None:  # type: ignore[no-untyped-def]
    schema = api.get("/openapi.json", headers=_auth(tokens["analyst"])).json()
    for path in ("/api/patients/{patient_id}", "/api/worklists", "/api/worklists/{worklist_id}",
                 "/api/indicators/{indicator_id}"):
        assert path in schema["paths"], path
    assert not any(p.startswith("/overview") for p in schema["paths"])


def test_api_needs_a_valid_token(api, web_world: WebWorld) -> None:
    assert api.get("/api/worklists").status_code == 401
    before = web_world.audit_count()
    response = api.get("/api/worklists", headers=_auth("pcn_0000_forged"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert [(e.action, e.outcome) for e in web_world.new_events(before)] == [
        ("sign_in", "failed")]


def test_revoked_token_stops_on_next_request(api, web_world: WebWorld) -> None:
    from pcn.store.accounts import create_user, issue_token, revoke_tokens
    from tests.web.conftest import PASSWORD

    create_user(web_world.store, "apiuser", "analyst", password=PASSWORD)
    token = issue_token(web_world.store, "apiuser")
    assert api.get("/api/worklists", headers=_auth(token)).status_code == 200
    revoke_tokens(web_world.store, "apiuser")
    assert api.get("/api/worklists", headers=_auth(token)).status_code == 401


def test_indicator_exact_for_clinicians_protected_for_analysts(api, tokens, web_app) -> None:
    exact = api.get("/api/indicators/dna_rate", headers=_auth(tokens["director"])).json()
    protected = api.get("/api/indicators/dna_rate", headers=_auth(tokens["analyst"])).json()
    assert exact["disclosure_control"] is False and protected["disclosure_control"] is True
    # The API is a secondary-use export: the truth leaves opted-out patients out.
    from pcn.access.secondary_use import secondary_view

    truth = secondary_view(web_app.state.view).indicator("dna_rate").result.by_practice
    by_org = {r["org_code"]: r for r in exact["rows"]}
    for row in truth.itertuples():
        assert by_org[row.org_code]["numerator"] == row.numerator
        assert by_org[row.org_code]["denominator"] == row.denominator
    counts = [r[k] for r in protected["rows"] for k in ("numerator", "denominator")
              if r[k] is not None]
    assert counts and all(c % 5 == 0 and not 1 <= c <= 7 for c in counts)


def test_indicator_includes_its_monthly_series(api, tokens, web_app) -> None:
    # patient-based: month-end values of rolling windows overlap, so no XmR (issue 19)
    iid = "dm_hba1c_58_no_frailty"
    exact = api.get(f"/api/indicators/{iid}", headers=_auth(tokens["director"])).json()
    assert exact["spc"] is None
    # event-based indicators carry their monthly series: independent monthly values
    iid = "dna_rate"
    exact = api.get(f"/api/indicators/{iid}", headers=_auth(tokens["director"])).json()
    points = exact["spc"]["points"]
    assert len(points) >= 15
    assert exact["spc"]["lower_limit"] <= exact["spc"]["mean"] <= exact["spc"]["upper_limit"]
    assert {p["point_type"] for p in points} <= {"common_cause", "improvement", "concern",
                                                 "neither"}
    protected = api.get(f"/api/indicators/{iid}", headers=_auth(tokens["analyst"])).json()
    counts = [p[k] for p in protected["spc"]["points"] for k in ("numerator", "denominator")
              if p[k] is not None]
    assert counts and all(c % 5 == 0 and not 1 <= c <= 7 for c in counts)


def test_unknown_indicator_is_404(api, tokens) -> None:
    assert api.get("/api/indicators/nope", headers=_auth(tokens["director"])).status_code == 404


def test_worklists_index_counts_and_protection(api, tokens, web_world: WebWorld) -> None:
    exact = api.get("/api/worklists", headers=_auth(tokens["clin_a"])).json()
    entry = next(w for w in exact["worklists"] if w["id"] == WORKLIST)
    # An aggregate for other tools is secondary use: opted-out patients are not counted.
    from pcn.ingest.optouts import opted_out_patient_ids
    from pcn.record import open_record

    out = opted_out_patient_ids(open_record(web_world.record))
    rows = web_world.worklist
    assert rows["patient_id"].isin(out).any(), "the test world needs opted-out patients"
    expected = rows[~rows["patient_id"].isin(out)].groupby("practice_code").size()
    for practice, count in expected.items():
        assert entry["counts"][practice] == count
    protected = api.get("/api/worklists", headers=_auth(tokens["analyst"])).json()
    entry = next(w for w in protected["worklists"] if w["id"] == WORKLIST)
    assert all(v is None or v % 5 == 0 for v in entry["counts"].values())


def test_patient_api_matches_the_record(api, tokens, web_world: WebWorld) -> None:
    from pcn.record import open_record

    patient = web_world.patient_at(web_world.own)
    body = api.get(f"/api/patients/{patient}", headers=_auth(tokens["clin_a"])).json()
    pats = open_record(web_world.record).read("patients").to_pandas().set_index("patient_id")
    assert body["patient_id"] == patient
    assert body["nhs_number"] == pats.loc[patient, "nhs_number"]
    assert body["practices"] == [web_world.own]


@pytest.mark.parametrize("query", ["practice=bad", "page=0", "page_size=100000"])
def test_bad_query_is_a_clear_422(api, tokens, query: str) -> None:
    response = api.get(f"/api/worklists/{WORKLIST}?{query}", headers=_auth(tokens["clin_a"]))
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"].startswith("query.")
