"""``pcn export``: write the record out in standard formats."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from pcn.cli.common import console, user_errors
from pcn.record.store import RecordError, open_record


class Purpose(StrEnum):
    SECONDARY = "secondary"
    DIRECT_CARE = "direct-care"


app = typer.Typer(help="Export the network record (FHIR R4 Bulk Data NDJSON).",
                  no_args_is_help=True)


@app.command("fhir")
def fhir(
    record: Annotated[Path, typer.Option("--record", help="Record directory.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (replaced atomically).")],
    purpose: Annotated[Purpose, typer.Option(
        "--purpose", help="secondary (planning, analytics: opted-out patients left out) or "
                          "direct-care (everyone, e.g. moving records between clinical systems).")
    ] = Purpose.SECONDARY,
) -> None:
    """Write UK Core FHIR R4 resources, one NDJSON file per resource type."""
    from pcn.access.secondary_use import opted_out
    from pcn.fhir.outbound import export_ndjson

    with user_errors(RecordError):
        rec = open_record(record)
    exclude = opted_out(rec) if purpose is Purpose.SECONDARY else frozenset()
    tables = rec.manifest.tables
    total = sum(e.rows for n, e in tables.items() if n != "opt_outs")
    total += tables["staff"].rows  # Practitioner and PractitionerRole
    with Progress(TextColumn("exporting"), BarColumn(), TextColumn("{task.completed:,}"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("export", total=total)
        counts = export_ndjson(rec, out, progress=lambda n: bar.advance(task, n),
                               exclude=exclude)
    for rtype, n in sorted(counts.items()):
        console.print(f"{rtype:<20} {n:>10,}")
    console.print(f"wrote {sum(counts.values()):,} resources to {out}")
    if exclude:
        console.print(f"left out {len(exclude):,} patients who opted out of secondary use")
