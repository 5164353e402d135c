"""TRUST row 8: opted-out patients (type 1, national data opt-out) are absent from every
secondary-use export and present in direct-care views; no export path escapes the register.

The oracle is physical deletion: the same record rewritten without the opted-out patients' rows
must give exactly what the secondary-use exports give from the full record."""

from __future__ import annotations

import io
import json
from pathlib import Path

import click
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import typer.main
from typer.testing import CliRunner

from pcn.access.secondary_use import EXPORTS, NOT_EXPORTS, Use
from pcn.cli.main import app as cli_app
from pcn.fhir.deidentify import pseudonym
from pcn.ingest.optouts import opted_out_patient_ids
from pcn.record import open_record
from pcn.record.store import RecordWriter
from tests.web.conftest import WORKLIST, WebRecord, WebWorld, signed_in
from tests.web.test_security import app_routes

runner = CliRunner()


def _pseudonym_key() -> bytes:
    from pcn.config import derived_key, get_settings

    settings = get_settings()
    return derived_key(settings, settings.pseudonym_key, "pcn-pseudonym", "pseudonym.key")


@pytest.fixture(scope="module")
def opted_out(web_record: WebRecord) -> set[int]:
    ids = opted_out_patient_ids(open_record(web_record.record))
    assert len(ids) >= 5, "the twin should carry type 1 and national opt-outs"
    return ids


@pytest.fixture(scope="module")
def deleted_record(web_record: WebRecord, opted_out: set[int],
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The record and its patient profile with every row of an opted-out patient deleted."""
    source = open_record(web_record.record)
    out = tmp_path_factory.mktemp("opted-out-deleted") / "record"
    gone = pa.array(sorted(opted_out), pa.int64())
    with RecordWriter(out, source=dict(source.manifest.source or {})) as writer:
        for name in source.manifest.tables:
            table = source.read(name)
            if "patient_id" in table.column_names:
                table = table.filter(pc.invert(pc.is_in(table["patient_id"], value_set=gone)))
            writer.write(name, table)
    profile = pd.read_parquet(source.base / "outputs" / "current" / "patient_profile.parquet")
    target = open_record(out).base / "outputs" / "current"
    target.mkdir(parents=True)
    profile[~profile["patient_id"].isin(opted_out)].to_parquet(
        target / "patient_profile.parquet", index=False)
    return out


def test_indicator_csv_export_equals_the_record_without_opted_out(
        web_app, deleted_record: Path) -> None:
    from pcn.reporting.network import NetworkView

    oracle = NetworkView(deleted_record)
    full = NetworkView(web_app.state.view.record_dir)
    client = signed_in(web_app, "analyst")
    compared = 0
    for indicator_id in ("dna_rate", "hypertension_bp_control"):
        if indicator_id not in oracle.indicator_definitions:
            continue
        exported = pd.read_csv(io.StringIO(
            client.get(f"/indicators/{indicator_id}/export.csv").text))
        expected = oracle.indicator_table(indicator_id, protected=True)
        everyone = full.indicator_table(indicator_id, protected=True)
        for col in ("numerator", "denominator"):
            got = exported[col].astype("Float64").tolist()
            assert got == expected[col].astype("Float64").tolist(), (indicator_id, col)
        assert exported["denominator"].astype("Float64").tolist() != \
            everyone["denominator"].astype("Float64").tolist(), "opt-outs made no difference"
        compared += 1
    assert compared


def test_api_indicator_equals_the_record_without_opted_out(api, tokens,
                                                           deleted_record: Path) -> None:
    from pcn.reporting.network import NetworkView

    body = api.get("/api/indicators/dna_rate",
                   headers={"Authorization": f"Bearer {tokens['director']}"}).json()
    expected = NetworkView(deleted_record).indicator_table("dna_rate", protected=False)
    assert [(r["org_code"], r["numerator"], r["denominator"]) for r in body["rows"]] == [
        (r.org_code, int(r.numerator), int(r.denominator)) for r in expected.itertuples()]


def test_fhir_bulk_export_leaves_out_opted_out_patients_unless_direct_care(
        web_record: WebRecord, opted_out: set[int], tmp_path: Path) -> None:
    def referenced(folder: Path) -> set[str]:
        ids: set[str] = set()
        for f in folder.glob("*.ndjson"):
            for line in f.read_text().splitlines():
                res = json.loads(line)
                if res["resourceType"] == "Patient":
                    ids.add(res["id"])
                ref = (res.get("subject") or res.get("patient") or {}).get("reference", "")
                if ref.startswith("Patient/"):
                    ids.add(ref.split("/")[1])
                for p in res.get("participant", []):
                    r = (p.get("actor") or {}).get("reference", "")
                    if r.startswith("Patient/"):
                        ids.add(r.split("/")[1])
        return ids

    for purpose in ("secondary", "direct-care"):
        result = runner.invoke(cli_app, ["export", "fhir", "--record", str(web_record.record),
                                         "--out", str(tmp_path / purpose),
                                         "--purpose", purpose])
        assert result.exit_code == 0, result.output
    secondary = referenced(tmp_path / "secondary")
    direct = {int(p) for p in referenced(tmp_path / "direct-care")}
    assert direct & opted_out == opted_out  # direct care: everyone
    # secondary use is pseudonymised (ADR 0093): compare under the same keyed pseudonyms
    key = _pseudonym_key()
    assert not secondary & {pseudonym(key, "planning", "Patient", p) for p in opted_out}
    assert secondary == {pseudonym(key, "planning", "Patient", p) for p in direct - opted_out}


def test_continuity_cli_equals_the_record_without_opted_out(web_record: WebRecord,
                                                            deleted_record: Path) -> None:
    full = runner.invoke(cli_app, ["continuity", "--record", str(web_record.record)])
    oracle = runner.invoke(cli_app, ["continuity", "--record", str(deleted_record)])
    assert full.exit_code == oracle.exit_code == 0, full.output
    assert full.output == oracle.output


def test_direct_care_views_still_show_opted_out_patients(clients, web_world: WebWorld,
                                                         opted_out: set[int]) -> None:
    own = web_world.worklist[web_world.worklist["practice_code"] == web_world.own]
    mine = [p for p in own["patient_id"] if p in opted_out]
    assert mine, "the test worklist should hold an opted-out patient of the own practice"
    assert clients["clin_a"].get(f"/patients/{mine[0]}").status_code == 200
    csv = clients["clin_a"].get(f"/worklists/{WORKLIST}/export.csv").text
    assert str(mine[0]) in {line.split(",")[0] for line in csv.splitlines()}


# ---- no export path escapes the register ---------------------------------------------------
def _cli_commands() -> dict[str, list[str]]:
    root = typer.main.get_command(cli_app)
    ctx = click.Context(root)
    found: dict[str, list[str]] = {}

    def walk(cmd: click.Command, name: str) -> None:
        if hasattr(cmd, "list_commands"):  # a group (typer's groups are not click.Group)
            for sub in cmd.list_commands(ctx):
                child = cmd.get_command(ctx, sub)  # type: ignore[attr-defined]
                assert child is not None
                walk(child, f"{name} {sub}")
        else:
            found[name] = [o for p in cmd.params for o in getattr(p, "opts", [])]

    walk(root, "pcn")
    return found


def test_every_cli_command_reading_a_record_is_classified() -> None:
    commands = _cli_commands()
    registered = {e.entry for e in EXPORTS} | set(NOT_EXPORTS)
    readers = {name for name, opts in commands.items() if "--record" in opts}
    readers |= {name for name in commands if name.startswith("pcn export ")}
    assert "pcn export fhir" in readers and "pcn continuity" in readers
    unclassified = readers - registered
    assert not unclassified, f"classify in pcn.access.secondary_use: {sorted(unclassified)}"
    assert not {e for e in registered if e.startswith("pcn ")} - set(commands), "stale entries"


def test_every_api_route_and_file_download_is_classified(web_app) -> None:
    routes = {f"GET {path}" for path, methods in app_routes(web_app.routes) if "GET" in methods
              and (path.startswith(("/api/", "/fhir/")) or path.endswith((".csv", ".json")))}
    assert "GET /api/indicators/{indicator_id}" in routes
    registered = {e.entry for e in EXPORTS} | set(NOT_EXPORTS)
    assert not routes - registered, f"classify: {sorted(routes - registered)}"
    web = {e.entry for e in EXPORTS if e.entry.startswith("GET ")}
    assert not web - routes, f"stale entries: {sorted(web - routes)}"


def test_every_secondary_export_is_proved_here() -> None:
    """Each secondary entry has a test above; a new one must add its own."""
    proved = {"GET /indicators/{indicator_id}/export.csv", "GET /api/indicators/{indicator_id}",
              "GET /api/worklists", "pcn export fhir", "pcn continuity",
              # proved in tests/web/test_funding_secondary_use.py
              "GET /funding/export.csv", "pcn funding weighted-list", "pcn funding report",
              "pcn funding summary", "pcn indicators show",
              # proved in tests/integration/test_capacity_report.py (demand less opted-out)
              "pcn capacity report"}
    assert {e.entry for e in EXPORTS if e.use is Use.SECONDARY} == proved


# ---- de-identification of secondary use (issue 16, item 4; ADR 0093) ------------------------
DATE = r"\d{4}-\d{2}-\d{2}"
POSTCODE = r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b"


def _secondary_outputs(web_world: WebWorld, tokens: dict[str, str], api, clients,  # type: ignore[no-untyped-def]
                       tmp_path: Path) -> dict[str, str]:
    """The text of every secondary-use export in the register, as a user would get it."""
    analyst = {"Authorization": f"Bearer {tokens['analyst']}"}
    made: dict[str, str] = {}
    made["GET /indicators/{indicator_id}/export.csv"] = "".join(
        clients["analyst"].get(f"/indicators/{i}/export.csv").text
        for i in ("dna_rate", "af_anticoagulation"))
    made["GET /api/indicators/{indicator_id}"] = "".join(
        api.get(f"/api/indicators/{i}", headers=analyst).text
        for i in ("dna_rate", "af_anticoagulation"))
    made["GET /api/worklists"] = api.get("/api/worklists", headers=analyst).text
    out = tmp_path / "fhir"
    result = runner.invoke(cli_app, ["export", "fhir", "--record", str(web_world.record),
                                     "--out", str(out)])
    assert result.exit_code == 0, result.output
    made["pcn export fhir"] = "\n".join(f.read_text() for f in sorted(out.iterdir()))
    continuity = runner.invoke(cli_app, ["continuity", "--record", str(web_world.record)])
    assert continuity.exit_code == 0, continuity.output
    made["pcn continuity"] = continuity.output
    made["GET /funding/export.csv"] = clients["analyst"].get("/funding/export.csv").text
    weighted = tmp_path / "weighted.csv"
    for entry, args in (
            ("pcn funding weighted-list", ["--output", str(weighted)]),
            ("pcn funding report", []),
            ("pcn funding summary", ["--pcn", "U55830"])):
        result = runner.invoke(cli_app, [*entry.split()[1:], "--record", str(web_world.record),
                                         *args])
        assert result.exit_code == 0, result.output
        made[entry] = result.output
    made["pcn funding weighted-list"] += weighted.read_text()
    shown = runner.invoke(cli_app, ["indicators", "show", "dna_rate", "--record",
                                    str(web_world.record)])
    assert shown.exit_code == 0, shown.output
    made["pcn indicators show"] = shown.output
    # one day: the record's own date, so no date in the table can be anyone's birthday
    as_of = str(open_record(web_world.record).manifest.source.get("as_of"))
    capacity = tmp_path / "capacity.csv"
    result = runner.invoke(cli_app, ["capacity", "report", "--record", str(web_world.record),
                                     "--from", as_of, "--to", as_of, "--output", str(capacity)])
    assert result.exit_code == 0, result.output
    made["pcn capacity report"] = result.output + capacity.read_text()
    return made


def test_every_secondary_use_output_is_de_identified(web_world: WebWorld, tokens, api,  # type: ignore[no-untyped-def]
                                                     clients, tmp_path: Path) -> None:
    """No NHS number, exact date of birth, postcode, patient id or small-area code in anything
    the register lists as secondary use (the FHIR extract was identifiable before)."""
    import re

    from pcn.access.log_hygiene import _TEN_DIGITS
    from pcn.record.nhs_number import is_valid

    record = open_record(web_world.record)
    patients = record.read("patients").to_pandas()
    births = {str(d) for d in patients["date_of_birth"]}
    # Dates every output may carry that are not about a patient: the record's date, today.
    not_personal = {str(record.manifest.source.get("as_of")), str(pd.Timestamp.now().date())}
    postcodes = set(record.read("practices").to_pandas()["postcode"].dropna())
    patient_ids = {str(p) for p in patients["patient_id"]}
    outputs = _secondary_outputs(web_world, tokens, api, clients, tmp_path)
    assert set(outputs) == {e.entry for e in EXPORTS if e.use is Use.SECONDARY}
    for entry, text in outputs.items():
        # an NHS number stands alone: not the tail of a decimal or part of a pseudonym
        numbers = ["".join(m.groups()) for m in _TEN_DIGITS.finditer(text)
                   if not (m.start() > 0 and (text[m.start() - 1].isalnum()
                                              or text[m.start() - 1] == "."))
                   and not (m.end() < len(text) and text[m.end()].isalpha())]
        assert not [n for n in numbers if is_valid(n)], f"{entry}: an NHS number"
        dates = set(re.findall(DATE, text)) - not_personal
        assert not dates & births, f"{entry}: exact dates of birth {sorted(dates & births)[:3]}"
        assert not [p for p in postcodes if p in text], f"{entry}: a postcode"
        assert not re.findall(POSTCODE, text), f"{entry}: {re.findall(POSTCODE, text)[:3]}"
    fhir = outputs["pcn export fhir"]
    resources = [json.loads(line) for line in fhir.splitlines()
                 if line.startswith('{"resourceType"')]
    assert resources, "the extract is empty: the test would prove nothing"
    for res in resources:
        text = json.dumps(res)
        assert not re.findall(DATE, text), f"a full date in {res['resourceType']}"
        assert not re.findall(r"\bE0[0-9]\d{6}\b", text), "an LSOA code"
        assert res["id"] not in patient_ids or res["resourceType"] != "Patient"
        assert not re.findall(r'"Patient/\d+"', text), "a patient id in a reference"
    kinds = {r["resourceType"] for r in resources}
    assert {"Patient", "Observation", "Appointment", "Encounter"} <= kinds
    assert "Location" not in kinds  # the LSOAs where patients live: small areas


def test_pseudonyms_are_stable_per_purpose_keyed_and_unlinkable_across_purposes(
        web_record: WebRecord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pcn.config import get_settings

    def patient_ids(project: str, folder: str) -> set[str]:
        out = tmp_path / folder
        result = runner.invoke(cli_app, ["export", "fhir", "--record", str(web_record.record),
                                         "--out", str(out), "--project", project])
        assert result.exit_code == 0, result.output
        return {json.loads(line)["id"] for line in (out / "Patient.ndjson").read_text()
                .splitlines()}

    first, again = patient_ids("planning", "a"), patient_ids("planning", "b")
    other_purpose = patient_ids("evaluation-2026", "c")
    assert first == again and len(first) > 100  # stable: extracts of one purpose link up
    assert not first & other_purpose  # another purpose cannot link to this one
    monkeypatch.setenv("PCN_PSEUDONYM_KEY", "another deployment's secret key")
    get_settings.cache_clear()
    assert not first & patient_ids("planning", "d")  # keyed: no key, no link
    bad = runner.invoke(cli_app, ["export", "fhir", "--record", str(web_record.record),
                                  "--out", str(tmp_path / "e"), "--project", "Bad Name!"])
    assert bad.exit_code == 2 and "purpose" in bad.output
