"""Spec: monthly series of patient-based indicators on a tiny hand-made record, through the real
analytics engine profile at each month end. Expected numerators and denominators are worked out
by hand, month by month, in the comments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from pcn.analytics.engine import Engine
from pcn.analytics.run import run
from pcn.measures.indicators import load_indicators
from pcn.measures.series import (
    SERIES_FILE,
    SeriesError,
    SeriesResult,
    build_series,
    month_ends,
    patient_indicators,
    profiles_at,
    series_from_profiles,
)
from tests.spec.conftest import build_record, ev, patient, practice, reg

D = dt.date
HYP = "38341003"  # Hypertensive disorder (HYP_COD)
HYP_RESOLVED = "162659009"  # Hypertension resolved (HYPRES_COD)
DM = "44054006"  # Type 2 diabetes mellitus (DM_COD)
SBP = "72313002"  # Systolic arterial pressure
DBP = "1091811000000102"  # Diastolic arterial pressure
HBA1C = "999791000000106"  # HbA1c level (IFCC)
MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]


def bp(pid: int, day: dt.date, sbp: float, dbp: float) -> list[dict[str, object]]:
    return [ev(pid, day, SBP, sbp), ev(pid, day, DBP, dbp)]


def _record(base: Path):
    """Month ends 2025-01-31 .. 2025-06-30; practices A00001 and B00002."""
    born = D(1960, 6, 15)  # 64-65 years old throughout
    return build_record(
        base,
        as_of=D(2025, 6, 30),
        practices=[practice("A00001"), practice("B00002")],
        patients=[
            patient(1, born), patient(2, born), patient(3, born, died=D(2025, 4, 10)),
            patient(4, born), patient(5, D(1945, 4, 15)), patient(6, born), patient(7, born),
            patient(8, born),
        ],
        registrations=[
            reg(1, "A00001"),
            reg(2, "A00001", start=D(2025, 3, 15)),  # registers mid-series
            reg(3, "A00001"),
            reg(4, "A00001"),
            reg(5, "A00001"),
            reg(6, "A00001", end=D(2025, 5, 5)),  # leaves A ...
            reg(6, "B00002", start=D(2025, 5, 6)),  # ... for B
            reg(7, "A00001"),
            reg(8, "B00002"),
        ],
        clinical_events=[
            # 1: controlled reading 2024-02-15 ages out of the 12-month window after January
            ev(1, D(2020, 1, 1), HYP), *bp(1, D(2024, 2, 15), 130, 80),
            # 2: diagnosed before joining; uncontrolled in March, controlled from May
            ev(2, D(2019, 5, 1), HYP), *bp(2, D(2025, 3, 20), 150, 85),
            *bp(2, D(2025, 5, 10), 128, 78),
            # 3: controlled, dies 2025-04-10
            ev(3, D(2018, 1, 1), HYP), *bp(3, D(2024, 12, 1), 120, 70),
            # 4: controlled, hypertension resolved 2025-02-20 (off the register from February)
            ev(4, D(2015, 1, 1), HYP), *bp(4, D(2024, 11, 1), 135, 85),
            ev(4, D(2025, 2, 20), HYP_RESOLVED),
            # 5: controlled, turns 80 on 2025-04-15 (leaves the "79 or under" denominator)
            ev(5, D(2010, 1, 1), HYP), *bp(5, D(2025, 1, 10), 138, 88),
            # 6: controlled, moves from A to B in May
            ev(6, D(2012, 1, 1), HYP), *bp(6, D(2025, 1, 20), 125, 75),
            # 7: diabetes diagnosed 2025-02-10 (HbA1c 62), 55 by May
            ev(7, D(2025, 2, 10), DM), ev(7, D(2025, 2, 10), HBA1C, 62),
            ev(7, D(2025, 5, 1), HBA1C, 55),
            # 8: diabetes; HbA1c 50 on 2024-03-15 counts at month ends up to February only
            ev(8, D(2010, 1, 1), DM), ev(8, D(2024, 3, 15), HBA1C, 50),
        ],
    )


# (numerator, denominator) by practice, month by month, worked out from the comments above
EXPECTED = {
    "hyp_bp_140_90_under_80": {
        # Jan: 1,3,4,5,6 all controlled. Feb: 1 aged out, 4 resolved. Mar: 2 joins (150/85).
        # Apr: 3 died, 5 is 80. May: 6 left for B; 2 controlled.
        "A00001": [(5, 5), (3, 4), (3, 5), (1, 3), (1, 2), (1, 2)],
        "B00002": [(0, 0), (0, 0), (0, 0), (0, 0), (1, 1), (1, 1)],
    },
    "dm_hba1c_58_no_frailty": {
        # 7 on the register from February (62 > 58), controlled from May
        "A00001": [(0, 0), (0, 1), (0, 1), (0, 1), (1, 1), (1, 1)],
        # 8's reading of 2024-03-15 is out of the window at 2025-03-31
        "B00002": [(1, 1), (1, 1), (0, 1), (0, 1), (0, 1), (0, 1)],
    },
}


@dataclass(frozen=True)
class Published:
    base: Path
    run_path: Path
    run_files: list[str]
    result: SeriesResult


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The tiny record after `pcn run` then `pcn indicators series --months 6`."""
    record = _record(tmp_path_factory.mktemp("series") / "rec")
    with pytest.raises(SeriesError, match="run `pcn run"):
        build_series(record.base, months=6)
    first = run(record.base)
    files = sorted(p.name for p in first.path.iterdir())
    return Published(record.base, first.path, files, build_series(record.base, months=6))


@pytest.fixture(scope="module")
def series(published: Published) -> pd.DataFrame:
    return pd.read_parquet(published.result.path / SERIES_FILE)


@pytest.mark.parametrize("indicator_id", list(EXPECTED))
def test_monthly_counts_by_practice_match_hand_worked_values(series, indicator_id) -> None:
    rows = series[(series["indicator_id"] == indicator_id) & (series["level"] == "practice")]
    got = {(r.org_code, str(r.month_end)[:7]): (r.numerator, r.denominator)
           for r in rows.itertuples()}
    want = {(org, month): counts for org, by_month in EXPECTED[indicator_id].items()
            for month, counts in zip(MONTHS, by_month, strict=True)}
    assert got == want


@pytest.mark.parametrize("indicator_id", list(EXPECTED))
def test_pcn_row_sums_the_practices_each_month(series, indicator_id) -> None:
    rows = series[series["indicator_id"] == indicator_id]
    pcn = rows[rows["level"] == "pcn"].set_index("month_end")
    assert set(pcn["org_code"]) == {"U00001"}
    for i, month in enumerate(MONTHS):
        num = sum(v[i][0] for v in EXPECTED[indicator_id].values())
        den = sum(v[i][1] for v in EXPECTED[indicator_id].values())
        row = pcn[[str(m)[:7] == month for m in pcn.index]].iloc[0]
        assert (row["numerator"], row["denominator"]) == (num, den)
        assert row["value"] == pytest.approx(100 * num / den) if den else pd.isna(row["value"])


def test_month_ends_are_whole_months_up_to_as_of() -> None:
    assert month_ends(D(2026, 3, 31), 3) == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31)]
    # a mid-month date ends the series at the previous month end
    assert month_ends(D(2024, 3, 15), 2) == [D(2024, 1, 31), D(2024, 2, 29)]
    with pytest.raises(SeriesError, match="at least 1"):
        month_ends(D(2026, 3, 31), 0)


def test_only_patient_based_indicators_need_stored_series() -> None:
    chosen = {i.id for i in patient_indicators()}
    assert {"hyp_bp_140_90_under_80", "dm_hba1c_58_no_frailty", "smr_care_home"} <= chosen
    assert not chosen & {"dna_rate", "emergency_admissions_per_1000"}


def test_series_are_published_with_the_run_outputs(published: Published, series) -> None:
    current = (published.base / "outputs" / "current").resolve()
    assert current == published.result.path and current != published.run_path
    # everything pcn run wrote is still there, plus the series; the run's snapshot is untouched
    assert sorted(p.name for p in current.iterdir()) == sorted([*published.run_files,
                                                                SERIES_FILE])
    assert SERIES_FILE not in published.run_files
    assert not (published.run_path / SERIES_FILE).exists()
    assert len(series) == published.result.rows
    assert set(series["indicator_id"]) == {i.id for i in patient_indicators()}
    assert published.result.months == month_ends(D(2025, 6, 30), 6)
    manifest = (current / "manifest.json").read_text()
    assert '"indicator_series"' in manifest and '"last_month_end": "2025-06-30"' in manifest


@pytest.mark.slow
def test_building_the_same_series_again_publishes_nothing_new(published: Published) -> None:
    current = (published.base / "outputs" / "current").resolve()
    snapshots = sorted(p.name for p in (published.base / "outputs" / "snapshots").iterdir())
    assert build_series(published.base, months=6).path == current
    assert sorted(p.name for p in (published.base / "outputs" / "snapshots").iterdir()) \
        == snapshots


def test_profiles_at_builds_each_month_end_from_the_engine(published: Published) -> None:
    # the published series reused pcn run's profile for June; a fresh engine profile agrees
    from pcn.record import open_record

    hyp = load_indicators()["hyp_bp_140_90_under_80"]
    with Engine.for_record(open_record(published.base), "duckdb") as engine:
        fresh = series_from_profiles([hyp], profiles_at(engine, [D(2025, 6, 30)]))
    a = fresh[(fresh["level"] == "practice")].set_index("org_code")
    assert [tuple(a.loc[org, ["numerator", "denominator"]]) for org in ("A00001", "B00002")] \
        == [EXPECTED[hyp.id]["A00001"][-1], EXPECTED[hyp.id]["B00002"][-1]]
