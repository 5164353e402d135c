"""The evaluation report in docs/reference/triage-evaluation.md, rendered from the frozen batches
(``pcn triage report``). The tables between the ``report`` markers are generated; a test checks
the document matches what this module renders, so the published figures are the measured ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pcn.triage.batches import BatchResult, Protocol
from pcn.triage.evaluation import STYLES, Evaluation

START, END = "<!-- report:start -->", "<!-- report:end -->"

GOALS = {
    "patient": {"safe": 0.90},
    "clinician": {"safe": 0.70},
}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _row(label: str, result: Evaluation) -> str:
    low, high = result.emergency_interval
    sensitivity = (f"{result.emergencies_caught}/{result.emergencies} "
                   f"({_pct(result.emergency_sensitivity)}; {_pct(low)}–{_pct(high)})"
                   if result.emergencies else "no emergencies")
    return (
        f"| {label} | {result.cases} | {sensitivity} | "
        f"{len(result.emergencies_to_non_clinical)} | "
        f"{_pct(result.under_triage_rate)} | {_pct(result.safe_urgency_accuracy)} | "
        f"{_pct(result.urgency_accuracy)} | "
        f"{result.low_acuity_over_triaged}/{result.low_acuity} "
        f"({_pct(result.low_acuity_over_triage_rate)}) | "
        f"{_pct(result.route_acceptable_rate)} |"
    )


HEADER = (
    "| batch / style | cases | emergencies caught (95% CI) | emergencies to admin, pharmacy or "
    "self-care | under-triage | urgency right or safely over | urgency exact | routine and "
    "self-care over-triaged | route acceptable |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def _rows(results: Iterable[tuple[str, Evaluation]]) -> list[str]:
    rows = []
    for label, result in results:
        for style in STYLES:
            part = result.by_style(style)
            if part.cases:
                rows.append(_row(f"{label}, {style}", part))
        rows.append(_row(f"**{label}, all**", result))
    return rows


def render(protocol: Protocol, results: list[BatchResult]) -> str:
    lines = ["### Batches", "",
             "| batch | cases (patient / clinician) | written | by | focus | SHA-256 | locked | "
             "first blind run on |",
             "|---|---|---|---|---|---|---|---|"]
    for item in results:
        batch = item.batch
        counts = "not yet run"
        source = item.first or item.current
        if source is not None:
            counts = (f"{source.cases} ({source.by_style('patient').cases} / "
                      f"{source.by_style('clinician').cases})")
        run = batch.first_blind_run
        lines.append(
            f"| {batch.id} | {counts} | {batch.written_on} | {batch.written_by} | {batch.focus} | "
            f"`{batch.sha256[:16]}…` | {'yes' if batch.locked else 'no'} | "
            f"{f'engine {run.engine_commit}, {run.run_on}' if run else 'not run'} |")
    lines += ["", "### First blind run of each batch, as run", "",
              "Each batch scored once, by the engine of the day, before anyone looked at its "
              "answers; re-scored here from the kept output (`runs/`).", "", HEADER]
    lines += _rows((r.batch.id, r.first) for r in results if r.first is not None)
    for item in results:
        if item.batch.first_blind_run and item.batch.first_blind_run.note:
            lines.append("")
            lines.append(f"{item.batch.id}: {item.batch.first_blind_run.note}.")
    lines += ["", "### Today's engine on the same batches", "",
              "Development batches were used to improve the engine after their first run, so "
              "these figures are not blind; a locked batch was changed for only after its one "
              "blind run, as its note says.", "", HEADER]
    lines += _rows((r.batch.id + (" (locked)" if r.batch.locked else ""), r.current)
                   for r in results if r.current is not None)
    return "\n".join(lines) + "\n"


def update_document(path: Path, rendered: str) -> bool:
    """Replace the generated section of ``path``; True when it changed."""
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{path}: no {START} … {END} section to replace")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    new = f"{before}{START}\n{rendered}{END}{after}"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def generated_section(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text.split(START, 1)[1].split(END, 1)[0].lstrip("\n")
