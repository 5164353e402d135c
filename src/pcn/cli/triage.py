"""``pcn triage``: triage a CSV of online consultation requests, or evaluate against labels.

Shapes (both work verbatim)::

    pcn triage --input IN.csv --output OUT.csv
    pcn triage evaluate --input LABELLED.csv
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
        Path, typer.Option("--input", "-i", help="Labelled CSV: id,age,sex,text,urgency,route.")
    ],
    misses: Annotated[
        bool, typer.Option("--misses", help="List every case that was not exact.")
    ] = False,
    cross_validate: Annotated[
        bool,
        typer.Option(
            "--cross-validate", help="Also cross-validate the classifier on its training corpus."
        ),
    ] = False,
) -> None:
    """Print emergency sensitivity, urgency accuracy (exact and safe), over-triage, route
    accuracy and the urgency confusion matrix."""
    from pcn.triage.evaluation import URGENCY_ORDER, classifier_cross_validation, evaluate
    from pcn.triage.learned import corpus_path

    with user_errors(BatchError), console.status("triaging labelled cases…"):
        result = evaluate(input)
    metrics = Table(title=f"Triage evaluation: {input.name} ({result.cases} cases)")
    metrics.add_column("measure")
    metrics.add_column("value", justify="right")
    metrics.add_column("counts", justify="right")
    metrics.add_row(
        "emergency sensitivity",
        f"{result.emergency_sensitivity:.1%}",
        f"{result.emergencies_caught}/{result.emergencies}",
    )
    metrics.add_row(
        "urgency accuracy (exact)",
        f"{result.urgency_accuracy:.1%}",
        f"{result.urgency_exact}/{result.cases}",
    )
    metrics.add_row(
        "urgency accuracy (safe: not under-triaged)",
        f"{result.safe_urgency_accuracy:.1%}",
        f"{result.urgency_safe}/{result.cases}",
    )
    metrics.add_row(
        "over-triage rate",
        f"{result.over_triage_rate:.1%}",
        f"{result.over_triaged}/{result.cases}",
    )
    metrics.add_row(
        "route accuracy", f"{result.route_accuracy:.1%}", f"{result.route_exact}/{result.cases}"
    )
    console.print(metrics)

    confusion = Table(title="Urgency confusion matrix (rows: expected, columns: triaged)")
    confusion.add_column("expected \\ triaged")
    for u in URGENCY_ORDER:
        confusion.add_column(u.value, justify="right")
    for expected in URGENCY_ORDER:
        confusion.add_row(
            expected.value, *(str(result.confusion[(expected, got)]) for got in URGENCY_ORDER)
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
        for m in result.misses:
            console.print(
                f"[bold]{m.id}[/] expected {m.expected[0]}/{m.expected[1]}, got "
                f"{m.got[0]}/{m.got[1]}: {m.text}\n    {m.explanation}",
                highlight=False,
            )


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
