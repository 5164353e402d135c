"""Entry point of the ``pcn`` command; each domain registers its own sub-command group."""

from __future__ import annotations

import typer

from pcn import __version__
from pcn.cli import (
    analytics,
    bench,
    continuity,
    demo,
    indicators,
    record,
    refdata,
    store,
    synth,
    web,
)

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
app.add_typer(indicators.app, name="indicators")
app.command("synth")(synth.synth)
app.add_typer(bench.app, name="bench")
app.command("serve")(web.serve)
for _name, _sub in (("db", store.db_app), ("users", store.users_app),
                    ("sharing", store.sharing_app), ("audit", store.audit_app)):
    app.add_typer(_sub, name=_name)
app.command("continuity")(continuity.continuity)
app.command("run")(analytics.run)
app.add_typer(analytics.definitions_app, name="definitions")


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
