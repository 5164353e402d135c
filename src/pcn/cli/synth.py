"""``pcn synth``: build the synthetic twin of a real PCN."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from pcn.cli.common import console, user_errors
from pcn.config import get_settings
from pcn.record.store import RecordError
from pcn.refdata import UnknownCode


def synth(
    out: Path = typer.Option(None, "--out", help="Record directory to write (created if absent)."),
    pcn: str = typer.Option("", "--pcn", help="PCN ODS code (default: settings.default_pcn)."),
    patients: int = typer.Option(
        0, "--patients", min=0, help="Total registered patients; 0 keeps the real list sizes."
    ),
    seed: int = typer.Option(1, "--seed", help="Random seed; the same seed gives the same record."),
    as_of: str = typer.Option("", "--as-of", help="Date the twin describes (YYYY-MM-DD)."),
    workers: int = typer.Option(0, "--workers", min=0, help="Worker processes; 0 = one per core."),
    report: Path = typer.Option(
        None,
        "--report",
        help="Instead of building, compare an existing "
        "record's register prevalence with its QOF reference.",
    ),
) -> None:
    """Build (or --report on) the synthetic twin of a real PCN: real practices, LSOAs, QOF rates."""
    from pcn.synth import build_twin, prevalence_report

    settings = get_settings()
    if report is not None:
        with user_errors(RecordError):
            df = prevalence_report(report)
        from pcn.synth.report import realism_report, render_realism, render_report

        render_report(df, console)
        with user_errors(RecordError):
            realism = realism_report(report)
        render_realism(realism, console)
        return
    if out is None:
        raise typer.BadParameter("--out is required when building a twin", param_hint="--out")
    as_of_date = dt.date.fromisoformat(as_of) if as_of else settings.twin_as_of
    with user_errors(UnknownCode, RecordError, ValueError):
        result = build_twin(
            out,
            pcn_code=pcn or settings.default_pcn,
            patients=patients or None,
            seed=seed,
            as_of=as_of_date,
            workers=workers or settings.effective_workers(),
            progress=True,
        )
    console.print(
        f"[green]twin written[/] to {out}: {result.registered:,} registered patients "
        f"({result.total_patients:,} incl. deceased/left), {result.events:,} clinical events, "
        f"in {result.seconds:.1f} s ({result.registered / max(result.seconds, 1e-9) * 60:,.0f} "
        "patients/min)"
    )
