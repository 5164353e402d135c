"""Demand: appointments (and the requests behind them) by date, practice and role.

GP Appointments Data conventions (NHS England "Appointments in General Practice"): an
appointment that happened is attended or DNA; a cancelled one used no clinician time but was
still asked for. So here ``demand_requests`` counts every booking (each stands for a request in
the twin, which has no separate request log), ``booked`` counts attended + DNA (slots used) and
``dna`` the DNAs. Modes map to GPAD APPT_MODE.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pcn.capacity.definitions import CapacityDefinitions, load_definitions
from pcn.record.store import Record

#: record mode -> GPAD APPT_MODE
GPAD_MODE = {
    "face_to_face": "Face-to-Face",
    "telephone": "Telephone",
    "video": "Video Conference/Online",
    "online": "Video Conference/Online",
    "home_visit": "Home Visit",
}
#: record role -> GPAD HCP_TYPE
GPAD_HCP_TYPE = {"gp": "GP"}


def daily_demand(
    record: Record,
    start: dt.date,
    end: dt.date,
    definitions: CapacityDefinitions | None = None,
    excluded: frozenset[int] = frozenset(),
) -> pd.DataFrame:
    """date, practice_code, role, demand_requests, booked, dna, booked_minutes in [start, end].

    ``excluded``: patients left out (opted out of secondary use, for planning figures)."""
    d = definitions or load_definitions()
    files = [str(p) for p in record.files("appointments")]
    cols = ["date", "practice_code", "role", "demand_requests", "booked", "dna", "booked_minutes"]
    if not files:
        return pd.DataFrame(columns=cols)
    con = duckdb.connect()
    try:
        con.register("excluded", pd.DataFrame({"patient_id": sorted(excluded)}, dtype="int64"))
        frame = con.execute(
            """
            SELECT CAST(start_at AS DATE) AS date, practice_code, role,
                   count(*) AS demand_requests,
                   count(*) FILTER (WHERE status <> 'cancelled') AS booked,
                   count(*) FILTER (WHERE status = 'did_not_attend') AS dna
            FROM read_parquet(?)
            WHERE start_at >= ? AND start_at < ?
              AND patient_id NOT IN (SELECT patient_id FROM excluded)
            GROUP BY ALL
            """,
            [
                files,
                dt.datetime.combine(start, dt.time()),
                dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
            ],
        ).df()
    finally:
        con.close()
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    slot = frame["role"].map(lambda r: d.slot_minutes(r) or 0)
    frame["booked_minutes"] = (frame["booked"] * slot).astype(int)
    return frame[cols]


def gpad_summary(record: Record, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Appointments by practice, GPAD HCP type, mode and status in [start, end]."""
    files = [str(p) for p in record.files("appointments")]
    if not files:
        return pd.DataFrame(columns=["practice_code", "hcp_type", "mode", "status", "count"])
    con = duckdb.connect()
    try:
        frame = con.execute(
            """SELECT practice_code, role, mode, status, count(*) AS count
               FROM read_parquet(?) WHERE start_at >= ? AND start_at < ? GROUP BY ALL""",
            [
                files,
                dt.datetime.combine(start, dt.time()),
                dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
            ],
        ).df()
    finally:
        con.close()
    frame["hcp_type"] = frame["role"].map(lambda r: GPAD_HCP_TYPE.get(r, "Other Practice staff"))
    frame["mode"] = frame["mode"].map(lambda m: GPAD_MODE.get(m, "Unknown"))
    frame["status"] = frame["status"].map(
        {"attended": "Attended", "did_not_attend": "DNA", "cancelled": "Cancelled"}
    )
    return frame.groupby(["practice_code", "hcp_type", "mode", "status"], as_index=False).agg(
        count=("count", "sum")
    )
