"""FHIR read API: same tokens, scoping and audit as the JSON API; errors are OperationOutcomes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pcn.record import open_record
from tests.web.conftest import WebWorld


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _nhs(world: WebWorld, patient_id: int) -> str:
    pats = open_record(world.record).read("patients").to_pandas()
    return str(pats.loc[pats.patient_id == patient_id, "nhs_number"].iloc[0])


def test_read_own_patient_and_everything(api, tokens, web_world: WebWorld) -> None:
    pid = web_world.patient_at(web_world.own)
    r = api.get(f"/fhir/Patient/{pid}", headers=_auth(tokens["clin_a"]))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    body = r.json()
    assert body["resourceType"] == "Patient" and body["id"] == str(pid)
    bundle = api.get(f"/fhir/Patient/{pid}/$everything", headers=_auth(tokens["clin_a"])).json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"
    refs = {e["resource"].get("subject", {}).get("reference") for e in bundle["entry"][1:]}
    assert refs <= {f"Patient/{pid}", None}


def test_other_practice_patient_is_the_same_404_as_no_patient(api, tokens,
                                                              web_world: WebWorld) -> None:
    other = web_world.patient_at(web_world.other)
    before = web_world.audit_count()
    denied = api.get(f"/fhir/Patient/{other}", headers=_auth(tokens["clin_a"]))
    missing = api.get("/fhir/Patient/999999999999", headers=_auth(tokens["clin_a"]))
    assert denied.status_code == missing.status_code == 404
    assert denied.json()["resourceType"] == "OperationOutcome"
    assert denied.json()["issue"][0]["code"] == missing.json()["issue"][0]["code"] == "not-found"
    events = [e for e in web_world.new_events(before) if e.action != "sign_in"]
    assert [(e.action, e.outcome) for e in events] == [("view_patient", "denied")] * 2
    assert events[0].patient_id == other
    for path in (f"/fhir/Patient/{other}/$everything", f"/fhir/Observation?patient={other}"):
        assert api.get(path, headers=_auth(tokens["clin_a"])).status_code == 404


def test_search_by_nhs_number_is_scoped(api, tokens, web_world: WebWorld) -> None:
    own, other = web_world.patient_at(web_world.own), web_world.patient_at(web_world.other)
    system = "https://fhir.nhs.uk/Id/nhs-number"
    found = api.get(f"/fhir/Patient?identifier={system}|{_nhs(web_world, own)}",
                    headers=_auth(tokens["clin_a"])).json()
    assert found["total"] == 1 and found["entry"][0]["resource"]["id"] == str(own)
    hidden = api.get(f"/fhir/Patient?identifier={system}|{_nhs(web_world, other)}",
                     headers=_auth(tokens["clin_a"])).json()
    assert hidden["resourceType"] == "Bundle" and hidden["total"] == 0 and hidden["entry"] == []
    bad = api.get("/fhir/Patient?identifier=urn:x|1", headers=_auth(tokens["clin_a"]))
    assert bad.status_code == 400 and bad.json()["resourceType"] == "OperationOutcome"


def test_observation_search_by_code(api, tokens, web_world: WebWorld) -> None:
    pid = web_world.patient_at(web_world.own)
    everything = api.get(f"/fhir/Observation?patient=Patient/{pid}",
                         headers=_auth(tokens["clin_a"])).json()
    assert everything["resourceType"] == "Bundle"
    for entry in everything.get("entry", []):
        assert entry["resource"]["resourceType"] == "Observation"
    if everything.get("entry"):
        code = everything["entry"][0]["resource"]["code"]["coding"][0]["code"]
        only = api.get(f"/fhir/Observation?patient={pid}&code=http://snomed.info/sct|{code}",
                       headers=_auth(tokens["clin_a"])).json()
        assert all(e["resource"]["code"]["coding"][0]["code"] == code for e in only["entry"])


def test_fhir_needs_a_token(api) -> None:
    r = api.get("/fhir/Patient/1")
    assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["/fhir/Patient/{}", "/fhir/Patient/{}/$everything",
                        "/fhir/Observation?patient={}", "/fhir/Patient?identifier={}",
                        "/fhir/Observation?patient=1&code={}"]),
       st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_malformed_requests_get_an_operation_outcome_never_a_crash(api, tokens, path: str,
                                                                   junk: str) -> None:
    from urllib.parse import quote

    r = api.get(path.format(quote(junk, safe="")), headers=_auth(tokens["director"]))
    assert r.status_code < 500
    if r.status_code >= 400:
        assert r.json()["resourceType"] == "OperationOutcome"
