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
from pcn.ingest.optouts import opted_out_patient_ids
from pcn.record import open_record
from pcn.record.store import RecordWriter
from tests.web.conftest import WORKLIST, WebRecord, WebWorld, signed_in
from tests.web.test_security import app_routes

runner = CliRunner()


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
    def referenced(folder: Path) -> set[int]:
        ids: set[int] = set()
        for f in folder.glob("*.ndjson"):
            for line in f.read_text().splitlines():
                res = json.loads(line)
                if res["resourceType"] == "Patient":
                    ids.add(int(res["id"]))
                ref = (res.get("subject") or res.get("patient") or {}).get("reference", "")
                if ref.startswith("Patient/"):
                    ids.add(int(ref.split("/")[1]))
                for p in res.get("participant", []):
                    r = (p.get("actor") or {}).get("reference", "")
                    if r.startswith("Patient/"):
                        ids.add(int(r.split("/")[1]))
        return ids

    for purpose in ("secondary", "direct-care"):
        result = runner.invoke(cli_app, ["export", "fhir", "--record", str(web_record.record),
                                         "--out", str(tmp_path / purpose),
                                         "--purpose", purpose])
        assert result.exit_code == 0, result.output
    secondary, direct = referenced(tmp_path / "secondary"), referenced(tmp_path / "direct-care")
    assert direct & opted_out == opted_out  # direct care: everyone
    assert not secondary & opted_out
    assert secondary == direct - opted_out


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
              "GET /api/worklists", "pcn export fhir", "pcn continuity"}
    assert {e.entry for e in EXPORTS if e.use is Use.SECONDARY} == proved
