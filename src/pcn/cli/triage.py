"""``pcn triage``: triage a CSV of online consultation requests, or evaluate against labels.

Shapes (both work verbatim)::

    pcn triage --input IN.csv --output OUT.csv
    pcn triage evaluate --input LABELLED.csv
    pcn triage report [--write docs/reference/triage-evaluation.md]
    pcn triage explain "my chest hurts" --age 60 --sex M
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track
from rich.table import Table

from pcn.cli.common import console, fail, user_errors
from pcn.triage.batch import BatchError

app = typer.Typer(
    help="Triage online consultation requests (urgency and route) and evaluate the engine.",
    invoke_without_command=True,
)

INPUT_HELP = "CSV with columns id,age,sex,text (sex F or M)."


@app.callback()
def batch(
    ctx: typer.Context,
    input: Annotated[Path | None, typer.Option("--input", "-i", help=INPUT_HELP)] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="CSV to write: id,urgency,route,red_flags,explanation."
        ),
    ] = None,
) -> None:
    """Triage every row of --input into --output (nothing is written if any row is bad)."""
    if ctx.invoked_subcommand is not None:
        if input is not None or output is not None:
            raise fail("put --input/--output after the sub-command name")
        return
    if input is None or output is None:
        console.print(ctx.get_help())
        raise typer.Exit(0 if input is None and output is None else 2)
    from pcn.triage.batch import run_batch
    from pcn.triage.engine import default_engine

    with user_errors(BatchError):
        engine = default_engine()
        with console.status("loading rules and training the classifier…"):
            _ = engine.classifier
        written = run_batch(
            input,
            output,
            engine.triage,
            progress=lambda cases: track(cases, description="triaging", console=console),
        )
    console.print(f"[green]ok[/]: {written} request(s) triaged → {output}")


@app.command("evaluate")
def evaluate_command(
    input: Annotated[
        Path,
        typer.Option(
            "--input", "-i",
            help="Labelled CSV: id,age,sex,text,urgency,route[,acceptable_routes,style].",
        ),
    ],
    misses: Annotated[
        bool, typer.Option("--misses", help="List every case under-triaged or misrouted.")
    ] = False,
    cross_validate: Annotated[
        bool,
        typer.Option(
            "--cross-validate", help="Also cross-validate the classifier on its training corpus."
        ),
    ] = False,
) -> None:
    """Emergency sensitivity (with a 95% interval), under- and over-triage, urgency and route
    accuracy, for patient-style and clinician-style text, and the urgency confusion matrix."""
    from pcn.triage.evaluation import (
        STYLES,
        URGENCY_ORDER,
        Evaluation,
        classifier_cross_validation,
        evaluate,
    )
    from pcn.triage.learned import corpus_path

    with user_errors(BatchError), console.status("triaging labelled cases…"):
        result = evaluate(input)
    metrics = Table(title=f"Triage evaluation: {input.name} ({result.cases} cases)")
    metrics.add_column("measure")
    parts = [(s, result.by_style(s)) for s in STYLES if result.by_style(s).cases]
    if len(parts) > 1:
        parts.append(("all", result))
    for name, _ in parts:
        metrics.add_column(name, justify="right")

    def fraction(k: int, n: int) -> str:
        return f"{k}/{n} ({k / n:.1%})" if n else "–"

    def sensitivity(r: Evaluation) -> str:
        low, high = r.emergency_interval
        text = fraction(r.emergencies_caught, r.emergencies)
        return f"{text} [{low:.1%}–{high:.1%}]" if r.emergencies else text

    metrics.add_row("emergencies caught [95% CI]", *(sensitivity(r) for _, r in parts))
    metrics.add_row("emergencies sent to admin, pharmacy or self-care",
                    *(str(len(r.emergencies_to_non_clinical)) for _, r in parts))
    metrics.add_row("under-triaged", *(fraction(r.under_triaged, r.cases) for _, r in parts))
    metrics.add_row("urgency right or safely over-triaged",
                    *(fraction(r.urgency_safe, r.cases) for _, r in parts))
    metrics.add_row("urgency exact", *(fraction(r.urgency_exact, r.cases) for _, r in parts))
    metrics.add_row("routine and self-care over-triaged",
                    *(fraction(r.low_acuity_over_triaged, r.low_acuity) for _, r in parts))
    metrics.add_row("route acceptable",
                    *(fraction(r.route_acceptable, r.cases) for _, r in parts))
    metrics.add_row("route exact", *(fraction(r.route_exact, r.cases) for _, r in parts))
    console.print(metrics)

    confusion = Table(title="Urgency confusion matrix (rows: expected, columns: triaged)")
    confusion.add_column("expected \\ triaged")
    for u in URGENCY_ORDER:
        confusion.add_column(u.value, justify="right")
    counts = result.confusion
    for expected in URGENCY_ORDER:
        confusion.add_row(
            expected.value, *(str(counts[(expected, got)]) for got in URGENCY_ORDER)
        )
    console.print(confusion)

    if cross_validate:
        with console.status("cross-validating the classifier…"):
            cv = classifier_cross_validation(corpus_path())
        console.print(
            f"classifier alone, {cv.folds}-fold cross-validation on its training corpus "
            f"({cv.cases} cases): route {cv.route_accuracy:.1%}, urgency {cv.urgency_accuracy:.1%}"
        )
    if misses:
        for o in result.outcomes:
            if o.under_triaged or not o.route_acceptable:
                console.print(
                    f"[bold]{o.id}[/] ({o.style}) expected {o.expected_urgency.value}/"
                    f"{'|'.join(sorted(r.value for r in o.acceptable))}, got "
                    f"{o.urgency.value}/{o.route.value}: {o.text}\n    {o.explanation}",
                    highlight=False,
                )


@app.command("report")
def report_command(
    write: Annotated[
        Path | None,
        typer.Option("--write", help="Update the generated section of this Markdown file "
                     "(docs/reference/triage-evaluation.md) instead of printing it."),
    ] = None,
) -> None:
    """Re-score every frozen blind batch: its first blind run (from the kept output) and today's
    engine, by patient-style and clinician-style text; check no batch changed since frozen."""
    from pcn.triage.batches import default_protocol
    from pcn.triage.report import render, update_document

    protocol = default_protocol()
    problems = protocol.problems()
    if problems:
        raise fail("; ".join(problems))
    with user_errors(BatchError, ValueError), console.status("triaging every batch…"):
        rendered = render(protocol, protocol.results())
        if write is not None:
            changed = update_document(write, rendered)
    if write is None:
        console.print(rendered, highlight=False, markup=False, soft_wrap=True)
    else:
        console.print(f"[green]ok[/]: {write} {'updated' if changed else 'already current'}")


@app.command("explain")
def explain(
    text: Annotated[str, typer.Argument(help="The request as the patient wrote it.")],
    age: Annotated[float | None, typer.Option("--age", help="Age in years.")] = None,
    sex: Annotated[str | None, typer.Option("--sex", help="F or M.")] = None,
) -> None:
    """Triage one message and show every rule and piece of evidence behind the decision."""
    from pydantic import ValidationError

    from pcn.triage import TriageRequest, triage

    with user_errors(ValidationError):
        decision = triage(TriageRequest(text=text, age=age, sex=sex))
    console.print(f"[bold]{decision.urgency.value}[/] → [bold]{decision.route.value}[/]")
    for part in decision.explanation.split("; "):
        console.print(f"  • {part}", highlight=False)
    console.print(f"advice: {decision.advice}", highlight=False)


@app.command("capacity")
def capacity(
    practice: Annotated[str, typer.Option("--practice", help="ODS code of the practice.")],
    role: Annotated[str, typer.Option("--role", help="gp, anp, practice_nurse, paramedic, …")],
    slots: Annotated[int, typer.Option("--slots", help="Free appointment slots for the role.")],
    on: Annotated[str | None, typer.Option("--date", help="Day (YYYY-MM-DD); default today.")]
    = None,
) -> None:
    """Declare a practice's free slots for a role on a day; online requests use them to route
    to a role with room (urgent and routine work), shown in the explanation."""
    import datetime as dt

    from pcn.cli.store import _audit_admin, _store
    from pcn.store.database import now_utc
    from pcn.triage.requests import RequestError, set_capacity

    try:
        day = dt.date.fromisoformat(on) if on else now_utc().date()
    except ValueError:
        raise fail(f"--date {on!r}: use YYYY-MM-DD") from None
    store = _store()
    with user_errors(RequestError):
        set_capacity(store, practice.strip().upper(), role.strip(), slots, day, "cli")
    _audit_admin(store, "manage_capacity", {"practice_code": practice.strip().upper(),
                                            "role": role.strip(), "free_slots": slots,
                                            "on_date": day.isoformat()})
    console.print(f"[green]ok[/]: {practice.upper()} {role} has {slots} free slot(s) on {day}")
