"""``pcn monitoring``: home readings in (CSV), NG136 series summary out, alerts as tasks."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from pcn.cli.common import console, fail, require_record_dir, user_errors

app = typer.Typer(
    help="Home monitoring: home blood pressure readings, NICE NG136 averages and "
    "categories, alerts as tasks.",
    no_args_is_help=True,
)


SYSTEM_ROLE = "system"


def _operator() -> str:
    return f"os:{getpass.getuser()}"


def _errors() -> Any:
    from pcn.monitoring.readings import ReadingError
    from pcn.record.store import RecordError
    from pcn.store.database import StoreError
    from pcn.tasks.service import TaskConflict, TaskError

    return user_errors(ReadingError, RecordError, StoreError, TaskError, TaskConflict)


def operational_store() -> Any:
    """The configured store; a brand-new empty one is migrated first (a store at another
    revision is refused, as everywhere: `pcn db upgrade`)."""
    from pcn.store import migrate
    from pcn.store.database import open_store

    with _errors():
        store = open_store()
        if migrate.current_revision(store) is None:
            migrate.upgrade(store)
        migrate.require_head(store)
    return store


def _record(path: Path) -> Any:
    from pcn.record.store import open_record

    require_record_dir(path)
    with _errors():
        return open_record(path)


@app.command("import")
def import_(
    record: Annotated[
        Path,
        typer.Option("--record", help="Record directory (the patients the readings belong to)."),
    ],
    input_: Annotated[
        Path,
        typer.Option(
            "--input", "-i", help="CSV with columns patient_id,taken_at,systolic,diastolic,pulse."
        ),
    ],
) -> None:
    """Take in home blood pressure readings from a CSV (all rows checked before any is kept;
    re-importing the same readings changes nothing)."""
    from pcn.monitoring.alerts import raise_alerts
    from pcn.monitoring.readings import patient_facts, read_csv, store_bp_readings
    from pcn.monitoring.summary import series_of

    rec = _record(record)
    if not input_.is_file():
        raise fail(f"{input_} is not a file")
    with _errors():
        readings = read_csv(input_)
    known = patient_facts(rec, {r.patient_id for r in readings})
    store = operational_store()
    try:
        with _errors():
            result = store_bp_readings(store, readings, source="csv", created_by=_operator())
            series = series_of(store, rec, {r.patient_id for r in readings})
            tasks = raise_alerts(store, rec, series, username=_operator(), role=SYSTEM_ROLE)
    finally:
        store.dispose()
    if tasks:
        console.print(f"[yellow]{len(tasks):,} alert task(s) raised[/] (see `pcn tasks list`).")
    console.print(
        f"[green]{result.added:,} reading(s) added[/] for {result.patients:,} "
        f"patient(s); {result.already_held:,} already held."
    )
    unknown = {r.patient_id for r in readings} - set(known)
    if unknown:
        console.print(
            f"[yellow]{len(unknown):,} patient(s) are not in this record[/] "
            f"(e.g. {min(unknown)}): their series are judged without a register "
            "or age."
        )


@app.command("summary")
def summary(
    record: Annotated[
        Path,
        typer.Option(
            "--record", help="Record directory (hypertension register and dates of birth)."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV to write.")],
) -> None:
    """One row per series of home blood pressure readings with its NICE NG136 category:
    patient_id, series_start, n_readings_used, mean_systolic, mean_diastolic, category."""
    from pcn.monitoring.summary import series_of, write_summary

    rec = _record(record)
    store = operational_store()
    try:
        with _errors():
            series = series_of(store, rec)
    finally:
        store.dispose()
    write_summary(series, output)
    counts: dict[str, int] = {}
    for s in series:
        counts[s.category] = counts.get(s.category, 0) + 1
    detail = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())) or "none"
    console.print(f"[green]{len(series):,} series[/] written to {output} ({detail}).")


@app.command("link")
def link(
    record: Annotated[
        Path, typer.Option("--record", help="Record directory (the patient must be in it).")
    ],
    patient: Annotated[int, typer.Option("--patient", help="The patient's id in the record.")],
    text: Annotated[
        str,
        typer.Option(
            "--text", help="Text the link to this UK mobile number through GOV.UK Notify."
        ),
    ] = "",
    email: Annotated[
        str, typer.Option("--email", help="Email the link through GOV.UK Notify.")
    ] = "",
) -> None:
    """Issue a one-time link for a patient to send home blood pressure readings (valid 14 days;
    no account needed). Prints the link, and texts or emails it when asked."""
    from pcn.config import get_settings
    from pcn.monitoring import links
    from pcn.monitoring.notify import NotifyNotConfigured, send_readings_reminder
    from pcn.monitoring.readings import patient_facts
    from pcn.store import audit

    rec = _record(record)
    if patient not in patient_facts(rec, [patient]):
        raise fail(f"patient {patient} is not in {record}")
    if text and email:
        raise typer.BadParameter("give --text or --email, not both", param_hint="--text")
    settings = get_settings()
    with user_errors(ValueError):
        settings.require_secret()
    token = links.issue(settings, patient)
    base = settings.public_base_url.rstrip("/") or "http://127.0.0.1:8000"
    url = f"{base}/readings/{token}"
    store = operational_store()
    try:
        sent = None
        if text or email:
            from notifications_python_client.errors import APIError

            with user_errors(NotifyNotConfigured, APIError, ValueError):
                sent = send_readings_reminder(
                    settings, link=url, phone_number=text or None, email_address=email or None
                )
        audit.record(
            store,
            audit.Event(
                username=_operator(),
                role=SYSTEM_ROLE,
                action="monitoring_link_issued",
                outcome="ok",
                patient_id=patient,
                purpose="direct_care",
                detail={
                    "sent_by": "sms" if text else "email" if email else None,
                    "notification": sent.notification_id if sent else None,
                },
            ),
        )
    finally:
        store.dispose()
    console.print(f"Link for patient {patient} (valid {links.LINK_DAYS} days):")
    console.print(url, soft_wrap=True)
    if sent:
        console.print(
            f"[green]Sent[/] through GOV.UK Notify (notification {sent.notification_id})."
        )


@app.command("import-fhir")
def import_fhir(
    record: Annotated[
        Path,
        typer.Option(
            "--record", help="Record directory (NHS numbers are matched to its patients)."
        ),
    ],
    input_: Annotated[
        Path,
        typer.Option(
            "--input", "-i", help="A FHIR R4 Bundle of Observations, or one Observation (JSON)."
        ),
    ],
) -> None:
    """Take in home readings as FHIR Observations: blood pressure panel (LOINC 85354-9 with
    8480-6/8462-4), weight (29463-7) and oxygen saturation (59408-5)."""
    from pcn.monitoring.alerts import raise_alerts
    from pcn.monitoring.fhir_readings import read_fhir_file
    from pcn.monitoring.readings import store_bp_readings, store_other_readings
    from pcn.monitoring.summary import series_of

    rec = _record(record)
    if not input_.is_file():
        raise fail(f"{input_} is not a file")
    with _errors():
        bps, others = read_fhir_file(input_, rec)
    store = operational_store()
    try:
        with _errors():
            result = store_bp_readings(store, bps, source="fhir", created_by=_operator())
            added_other = store_other_readings(store, others, source="fhir", created_by=_operator())
            series = series_of(store, rec, {r.patient_id for r in bps})
            tasks = raise_alerts(store, rec, series, username=_operator(), role=SYSTEM_ROLE)
    finally:
        store.dispose()
    if tasks:
        console.print(f"[yellow]{len(tasks):,} alert task(s) raised[/] (see `pcn tasks list`).")
    console.print(
        f"[green]{result.added:,} blood pressure reading(s) added[/], "
        f"{result.already_held:,} already held; {added_other:,} weight or oxygen "
        "reading(s) added."
    )
