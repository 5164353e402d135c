"""``pcn demo``: what `make demo` prints about the twin."""

from __future__ import annotations

from pathlib import Path

import typer

from pcn.cli.common import console, frame_table, user_errors
from pcn.record.store import RecordError

app = typer.Typer(help="Demo helpers used by `make demo`.", no_args_is_help=True)


@app.command("summary")
def summary(record: Path = typer.Option(..., "--record", help="Record directory")) -> None:
    """Print a short summary of a record: practices, population, registers."""
    from pcn.synth.report import record_summary

    with user_errors(RecordError):
        s = record_summary(record)
    console.print(f"[bold]{s['pcn_name']}[/] ({s['pcn_code']}) — as at {s['as_of']}")
    console.print(frame_table(s["practices"], title="Practices"))
    console.print(
        frame_table(s["registers"], title="Registers (twin vs QOF-calibrated expectation)")
    )
