"""Entry point of the ``pcn`` command; each domain registers its own sub-command group."""

from __future__ import annotations

import typer

from pcn import __version__
from pcn.cli import analytics as analytics_cli
from pcn.cli import bench as bench_cli
from pcn.cli import capacity as capacity_cli
from pcn.cli import continuity as continuity_cli
from pcn.cli import demo as demo_cli
from pcn.cli import export as export_cli
from pcn.cli import funding as funding_cli
from pcn.cli import indicators as indicators_cli
from pcn.cli import ingest as ingest_cli
from pcn.cli import monitoring as monitoring_cli
from pcn.cli import record as record_cli
from pcn.cli import refdata as refdata_cli
from pcn.cli import risk as risk_cli
from pcn.cli import social as social_cli
from pcn.cli import store as store_cli
from pcn.cli import synth as synth_cli
from pcn.cli import tasks as tasks_cli
from pcn.cli import triage as triage_cli
from pcn.cli import web as web_cli
from pcn.cli import worklist as worklist_cli

app = typer.Typer(
    name="pcn",
    help="Run a Primary Care Network: population health, worklists, triage and peer comparison.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(refdata_cli.app, name="refdata")
app.add_typer(record_cli.app, name="record")
app.command("synth")(synth_cli.synth)
app.add_typer(risk_cli.app, name="risk")
app.add_typer(demo_cli.app, name="demo")
app.add_typer(bench_cli.app, name="bench")
app.add_typer(indicators_cli.app, name="indicators")
app.add_typer(export_cli.app, name="export")
app.add_typer(ingest_cli.app, name="ingest")
app.add_typer(worklist_cli.app, name="worklist")
app.add_typer(store_cli.db_app, name="db")
app.add_typer(store_cli.users_app, name="users")
app.add_typer(store_cli.sharing_app, name="sharing")
app.add_typer(store_cli.audit_app, name="audit")
app.command("continuity")(continuity_cli.continuity)
app.command("run")(analytics_cli.run)
app.add_typer(analytics_cli.definitions_app, name="definitions")
app.command("serve")(web_cli.serve)
app.add_typer(triage_cli.app, name="triage")
app.add_typer(funding_cli.app, name="funding")
app.add_typer(funding_cli.arrs_app, name="arrs")
app.add_typer(tasks_cli.app, name="tasks")
app.add_typer(monitoring_cli.app, name="monitoring")
app.add_typer(social_cli.app, name="social")
app.add_typer(capacity_cli.app, name="capacity")
app.add_typer(capacity_cli.rota_app, name="rota")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pcn {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """pcn — an open platform that runs an NHS England Primary Care Network."""
