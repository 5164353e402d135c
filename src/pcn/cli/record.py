"""``pcn record``: inspect and validate a network record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from pcn.cli.common import console, fail, user_errors
from pcn.record.check import check_record
from pcn.record.store import RecordError, open_record

app = typer.Typer(help="Inspect and validate a network record.", no_args_is_help=True)


@app.command("info")
def info(path: Path = typer.Argument(..., help="Record directory")) -> None:
    """Print the manifest (schema version, source, hashes) and row counts."""
    with user_errors(RecordError):
        rec = open_record(path)
    m = rec.manifest
    console.print(f"[bold]record[/] {rec.path}")
    console.print(f"schema version {m.schema_version}, created {m.created_at}")
    console.print(f"content hash {m.content_hash}")
    console.print("source: " + ", ".join(f"{k}={v}" for k, v in m.source.items()))
    t = Table(header_style="bold")
    t.add_column("table")
    t.add_column("rows", justify="right")
    t.add_column("files", justify="right")
    t.add_column("content hash")
    for name, e in m.tables.items():
        t.add_row(name, f"{e.rows:,}", str(len(e.files)), e.content_hash)
    console.print(t)


@app.command("check")
def check(
    path: Path = typer.Argument(..., help="Record directory"),
    latest: str = typer.Option("", help="Last plausible date (YYYY-MM-DD); default today + 1y."),
) -> None:
    """Validate schemas, keys, dates, NHS numbers (modulus 11), codes and references."""
    with user_errors(RecordError):
        rec = open_record(path)
    latest_date = dt.date.fromisoformat(latest) if latest else None
    with console.status("checking record…"):
        report = check_record(rec, latest_date)
    if report.ok:
        total = sum(report.rows.values())
        console.print(f"[green]ok[/]: {len(report.rows)} tables, {total:,} rows, no problems")
        return
    for p in report.problems:
        console.print(f"[red]✗[/] {p}", highlight=False)
    raise fail(f"{len(report.problems)} problem(s) found", code=1)
