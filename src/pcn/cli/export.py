"""``pcn export``: write the record out in standard formats."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from pcn.cli.common import console, user_errors
from pcn.record.store import RecordError, open_record


class Purpose(StrEnum):
    SECONDARY = "secondary"
    DIRECT_CARE = "direct-care"


app = typer.Typer(help="Export the network record (FHIR R4 Bulk Data NDJSON).",
                  no_args_is_help=True)


def _work_resources(rec: Any) -> list[dict[str, Any]]:
    """Direct care: the store's care plans and tasks about the record's patients (UK Core
    CarePlan and Task), when an operational store exists; audited as the operator."""
    import getpass

    from pcn.care.plans import plans_of
    from pcn.cli.tasks import existing_store
    from pcn.fhir.workflow import iter_workflow
    from pcn.store import audit
    from pcn.tasks.service import list_tasks_as_operator

    store = existing_store()
    if store is None:
        return []
    try:
        patients = set(rec.read("patients", columns=["patient_id"]).column("patient_id")
                       .to_pylist())
        tasks = [t for t in list_tasks_as_operator(store, f"os:{getpass.getuser()}",
                                                   limit=10**9)
                 if t.patient_id in patients]
        plans = [p for pid in sorted({t.patient_id for t in tasks if t.patient_id is not None}
                                     | _plan_patients(store)) if pid in patients
                 for p in plans_of(store, pid)[:1]]
        audit.record(store, audit.Event(
            username=f"os:{getpass.getuser()}", role="system", action="export_fhir_work",
            outcome="ok", purpose="direct_care",
            detail={"tasks": len(tasks), "care_plans": len(plans)}))
        return list(iter_workflow(tasks, plans))
    finally:
        store.dispose()


def _plan_patients(store: Any) -> set[int]:
    from sqlalchemy import select

    from pcn.store.models import CarePlanRow

    with store.read() as session:
        return {int(p) for p in session.scalars(select(CarePlanRow.patient_id).distinct())}


@app.command("fhir")
def fhir(
    record: Annotated[Path, typer.Option("--record", help="Record directory.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (replaced atomically).")],
    purpose: Annotated[Purpose, typer.Option(
        "--purpose", help="secondary (planning, analytics: opted-out patients left out) or "
                          "direct-care (everyone, e.g. moving records between clinical systems).")
    ] = Purpose.SECONDARY,
    project: Annotated[str, typer.Option(
        "--project", help="Secondary use: the purpose or project the extract is for (a short "
        "lower-case name). Pseudonyms are stable within a project and unlinkable between "
        "projects.")] = "planning",
    small_areas: Annotated[bool, typer.Option(
        "--small-areas", help="Secondary use: keep LSOA codes and practice addresses (only when "
        "the purpose needs small areas and its approval allows it).")] = False,
) -> None:
    """Write UK Core FHIR R4 resources, one NDJSON file per resource type.

    Secondary use (the default) is de-identified: opted-out patients left out, keyed pseudonyms
    instead of ids, no NHS numbers, dates cut to the month, no small areas unless allowed
    (ADR 0093). Direct care exports the record as it is, for moving records between systems."""
    from pcn.access.secondary_use import opted_out
    from pcn.fhir.deidentify import Deidentifier, PurposeError
    from pcn.fhir.outbound import export_ndjson

    with user_errors(RecordError):
        rec = open_record(record)
    deidentify = None
    if purpose is Purpose.SECONDARY:
        from pcn.config import derived_key, get_settings

        settings = get_settings()
        key = derived_key(settings, settings.pseudonym_key, "pcn-pseudonym", "pseudonym.key")
        lsoa = rec.read("lsoa", columns=["lsoa_code", "imd_decile"]).to_pandas().dropna()
        with user_errors(PurposeError):
            deidentify = Deidentifier(key, project, small_areas, dict(zip(
                lsoa["lsoa_code"].astype(str), lsoa["imd_decile"].astype(int), strict=True)))
    exclude = opted_out(rec) if purpose is Purpose.SECONDARY else frozenset()
    tables = rec.manifest.tables
    total = sum(e.rows for n, e in tables.items() if n != "opt_outs")
    total += tables["staff"].rows  # Practitioner and PractitionerRole
    with Progress(TextColumn("exporting"), BarColumn(), TextColumn("{task.completed:,}"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("export", total=total)
        counts = export_ndjson(rec, out, progress=lambda n: bar.advance(task, n),
                               exclude=exclude, deidentify=deidentify,
                               extra=_work_resources(rec) if deidentify is None else ())
    for rtype, n in sorted(counts.items()):
        console.print(f"{rtype:<20} {n:>10,}")
    console.print(f"wrote {sum(counts.values()):,} resources to {out}")
    if exclude:
        console.print(f"left out {len(exclude):,} patients who opted out of secondary use")
    if deidentify is not None:
        console.print(f"de-identified for '{project}': pseudonyms, dates to the month"
                      f"{', small areas kept' if small_areas else ', no small areas'}")
