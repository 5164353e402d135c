"""Entry point of the ``pcn`` command; each domain registers its own sub-command group."""

from __future__ import annotations

import typer

from pcn import __version__
from pcn.cli import demo, record, refdata, synth, triage

app = typer.Typer(
    name="pcn",
    help="Run a Primary Care Network: population health, worklists, triage and peer comparison.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(refdata.app, name="refdata")
app.add_typer(record.app, name="record")
app.add_typer(demo.app, name="demo")
app.command("synth")(synth.synth)
app.add_typer(triage.app, name="triage")


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
