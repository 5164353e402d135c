"""``pcn continuity``: continuity of care and care closer to home from a network record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from pcn.cli.common import console, fail, frame_table, user_errors

RecordOption = Annotated[Path, typer.Option("--record", help="Record directory.")]
DateOption = Annotated[str, typer.Option(help="YYYY-MM-DD; empty = no limit.")]


def _date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"{text!r} is not a date (YYYY-MM-DD)") from None


def continuity(
    record: RecordOption,
    start: DateOption = "",
    end: DateOption = "",
    min_contacts: Annotated[int, typer.Option(min=2, help="Contacts a patient needs.")] = 3,
) -> None:
    """Per-practice continuity (UPC, COC, usual-GP share, known provider) and care closer to home.

    Counts pass through disclosure control (1-7 hidden, rounded to 5); a practice's means are
    hidden with its patient count; patients who opted out of secondary use are left out. End
    date is exclusive.
    """
    from pcn.access.secondary_use import opted_out, without_opted_out
    from pcn.measures.continuity import care_closer_to_home, patient_continuity, practice_continuity
    from pcn.measures.sdc import protect_counts
    from pcn.record.store import RecordError, open_record

    with user_errors(RecordError):
        rec = open_record(record)
    with console.status("reading appointments and hospital activity"):
        # Planning figures: patients who opted out of secondary use are left out.
        excluded = opted_out(rec)
        appointments = without_opted_out(rec.read("appointments").to_pandas(), excluded)
        hospital = without_opted_out(rec.read("hospital_activity").to_pandas(), excluded)
        registrations = without_opted_out(rec.read("registrations").to_pandas(), excluded)
    lo, hi = _date(start), _date(end)
    with console.status("computing continuity"):
        patients = patient_continuity(appointments, start=lo, end=hi, min_contacts=min_contacts)
        practices = practice_continuity(patients)
        by_month, _ = care_closer_to_home(appointments, hospital, registrations, start=lo, end=hi)

    # Protect the practice rows as parts; the network row is recomputed from what is shown.
    shown = practices[practices["practice_code"] != "ALL"].copy()
    network = practices[practices["practice_code"] == "ALL"].copy()
    for col in ("patients", "usual_gp_share_patients"):
        shown[col] = protect_counts(shown[col].reset_index(drop=True)).to_numpy()
        network[col] = int(shown[col].fillna(0).sum())
    hidden = shown["patients"].isna().to_numpy()
    for col in ("mean_upc", "mean_coc", "mean_known_provider"):
        shown.loc[hidden, col] = None
    shown.loc[shown["usual_gp_share_patients"].isna().to_numpy(), "mean_usual_gp_share"] = None
    shown = pd.concat([shown, network], ignore_index=True)
    console.print(frame_table(_rounded(shown), title="Continuity of care by practice"))

    totals = by_month.groupby("practice_code")[
        ["primary_contacts", "hospital_contacts"]].sum()
    for col in totals.columns:
        totals[col] = protect_counts(totals[col]).to_numpy()
    both = totals["primary_contacts"] + totals["hospital_contacts"]
    totals["share_primary"] = (totals["primary_contacts"] / both).round(3)
    console.print(frame_table(totals.reset_index(), title="Care closer to home (whole window)"))


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if col.startswith("mean_"):
            out[col] = out[col].astype("Float64").round(3)
    return out
