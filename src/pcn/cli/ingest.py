"""``pcn ingest``: load FHIR R4, practice extracts (CSV/Parquet) and opt-out lists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pcn.cli.common import console, fail, require_record_dir, user_errors
from pcn.ingest.report import IngestReport
from pcn.record.store import RecordError

app = typer.Typer(help="Load practice data into the network record (atomic, idempotent).",
                  no_args_is_help=True)

MAX_LISTED = 30


def finish(report: IngestReport, strict: bool) -> None:
    """Print the report; exit 1 when --strict refused the load, or when rows were rejected and
    not one was loaded (an input that is all garbage never "succeeds")."""
    print_report(report)
    if strict and report.rejected:
        raise typer.Exit(1)
    if report.rejected and not sum(report.loaded.values()):
        raise fail("nothing loaded: every input row or resource was rejected", code=1)


def print_report(report: IngestReport) -> None:
    t = Table(header_style="bold", title="loaded")
    t.add_column("input")
    t.add_column("count", justify="right")
    for k, v in sorted(report.loaded.items()):
        t.add_row(k, f"{v:,}")
    console.print(t)
    if report.rows:
        console.print("rows: " + ", ".join(f"{k} {v:,}" for k, v in sorted(report.rows.items())))
    if report.rejected:
        console.print(f"[yellow]skipped {report.skipped:,}[/] — reasons:")
        for why, n in report.reasons().most_common(10):
            console.print(f"  {n:>7,}  {why}", highlight=False)
        for r in report.rejected[:MAX_LISTED]:
            console.print(f"  [dim]{r}[/]", highlight=False)
        if report.skipped > MAX_LISTED:
            console.print(f"  [dim]… and {report.skipped - MAX_LISTED:,} more[/]")
    for note in report.notes:
        console.print(note)
    if report.content_hash:
        state = "changed" if report.changed else "unchanged (same content)"
        console.print(f"record {state}, content hash {report.content_hash[:16]}")


@app.command("fhir")
def fhir(
    inputs: Annotated[list[Path], typer.Option(
        "--input", "-i", help="Bundle .json / Bulk Data .ndjson files or folders.")],
    record: Annotated[Path, typer.Option(help="Record directory (created if absent).")],
    validation: Annotated[str, typer.Option(
        help="full: every resource through the fhir.resources R4B model; "
        "fast: the mapper's own checks only.")] = "full",
    strict: Annotated[bool, typer.Option(
        help="Write nothing if any resource is rejected.")] = False,
    workers: Annotated[int, typer.Option(
        min=1, help="Processes for large inputs (experimental; 1 = in this process).")] = 1,
) -> None:
    """Load FHIR R4 (UK Core) Bundles and Bulk Data NDJSON into the record."""
    from pcn.ingest.fhir import IngestError, ingest_fhir

    if validation not in ("full", "fast"):
        raise fail("--validation must be full or fast")
    require_record_dir(record)
    with user_errors(IngestError, RecordError), console.status("loading FHIR…"):
        report = ingest_fhir(inputs, record, validation=validation,  # type: ignore[arg-type]
                             strict=strict, workers=workers)
    finish(report, strict)


def _extract(fmt: str, inputs: list[Path], mapping: str, record: Path, practice: str | None,
             strict: bool) -> None:
    from pcn.ingest.extract import ExtractError, ingest_extract
    from pcn.ingest.mapping import MappingError, load_mapping

    require_record_dir(record)
    with user_errors(MappingError, ExtractError, RecordError), \
            console.status(f"loading {fmt} extract…"):
        m = load_mapping(mapping)
        report = ingest_extract(inputs, m, record, fmt=fmt,  # type: ignore[arg-type]
                                practice=practice, strict=strict)
    console.print(f"layout {m.layout} v{m.version} ({m.source_system}"
                  f"{', illustrative' if m.illustrative else ''})")
    finish(report, strict)


MappingOpt = Annotated[str, typer.Option(
    help="Mapping YAML file, or a shipped layout: emis_search_v1, systmone_search_v1.")]
InputsOpt = Annotated[list[Path], typer.Option("--input", "-i", help="Files or folders.")]
RecordOpt = Annotated[Path, typer.Option(help="Record directory (created if absent).")]
PracticeOpt = Annotated[str | None, typer.Option(
    help="Practice ODS code when the extract has no practice column.")]
StrictOpt = Annotated[bool, typer.Option(help="Write nothing if any row is rejected.")]


@app.command("csv")
def csv_(inputs: InputsOpt, mapping: MappingOpt, record: RecordOpt,
         practice: PracticeOpt = None, strict: StrictOpt = False) -> None:
    """Load a practice's CSV search export, read through a column mapping."""
    _extract("csv", inputs, mapping, record, practice, strict)


@app.command("parquet")
def parquet(inputs: InputsOpt, mapping: MappingOpt, record: RecordOpt,
            practice: PracticeOpt = None, strict: StrictOpt = False) -> None:
    """Load a practice extract saved as Parquet, read through a column mapping."""
    _extract("parquet", inputs, mapping, record, practice, strict)


@app.command("opt-outs")
def opt_outs(
    input_: Annotated[Path, typer.Option("--input", "-i",
                                         help="CSV with an nhs_number column.")],
    record: RecordOpt,
    received: Annotated[str, typer.Option(help="Date received (YYYY-MM-DD); default "
                                          "today.")] = "",
) -> None:
    """Replace the national data opt-out list held in the record."""
    import datetime as dt

    from pcn.ingest.optouts import OptOutError, ingest_opt_out_list

    require_record_dir(record)
    with user_errors(OptOutError, RecordError, ValueError):
        day = dt.date.fromisoformat(received) if received else None
        report = ingest_opt_out_list(input_, record, day)
    print_report(report)
    if report.rejected:
        raise typer.Exit(1)
