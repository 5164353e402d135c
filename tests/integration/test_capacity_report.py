"""``pcn capacity report`` on the default twin: the column contract, one row per date x practice
x role, bank holidays, and forecasts only where there is one (issue 20)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from pcn.access.secondary_use import opted_out
from pcn.cli.main import app
from pcn.record.store import open_record

CONTRACT = [
    "date",
    "practice_code",
    "role",
    "capacity_minutes",
    "booked_minutes",
    "demand_requests",
    "forecast_requests",
    "forecast_low",
    "forecast_high",
]


def test_report_contract_on_the_default_twin(default_twin: Path, tmp_path: Path) -> None:
    out = tmp_path / "capacity.csv"
    result = CliRunner().invoke(
        app,
        [
            "capacity",
            "report",
            "--record",
            str(default_twin),
            "--from",
            "2026-03-23",
            "--to",
            "2026-04-12",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype={"practice_code": str})
    assert list(table.columns) == CONTRACT
    rec = open_record(default_twin)
    practices = set(rec.manifest.extra["practices"])
    assert set(table["practice_code"]) == practices
    assert not table.duplicated(["date", "practice_code", "role"]).any()
    assert len(table) == 21 * len(practices) * table["role"].nunique()
    assert "admin" not in set(table["role"])  # no appointment book
    by_date = table.groupby("date")
    assert by_date["capacity_minutes"].sum()["2026-04-03"] == 0  # Good Friday
    assert by_date["capacity_minutes"].sum()["2026-03-28"] == 0  # a Saturday
    assert by_date["capacity_minutes"].sum()["2026-03-25"] > 0
    # the record ends on 31 March 2026 (a Tuesday): demand known to then, forecast from the
    # Monday after the last complete week
    known = table[table["date"] <= "2026-03-31"]
    assert known["demand_requests"].notna().all()
    assert table[table["date"] > "2026-03-31"]["demand_requests"].isna().all()
    assert table[table["date"] < "2026-03-30"]["forecast_requests"].isna().all()
    ahead = table[table["date"] >= "2026-03-30"]
    assert ahead["forecast_requests"].notna().all()
    assert (ahead["forecast_low"] <= ahead["forecast_requests"]).all()
    assert (ahead["forecast_requests"] <= ahead["forecast_high"]).all()
    # demand equals the appointments booked on a day, summed over the network, less those of
    # patients who opted out of secondary use (a planning figure)
    appts = rec.read("appointments", columns=["patient_id", "start_at"]).to_pandas()
    appts = appts[~appts["patient_id"].isin(sorted(opted_out(rec)))]
    on_day = int((appts["start_at"].dt.date == dt.date(2026, 3, 25)).sum())
    everyone = rec.read("appointments", columns=["start_at"]).to_pandas()
    assert int((everyone["start_at"].dt.date == dt.date(2026, 3, 25)).sum()) > on_day
    assert table[table["date"] == "2026-03-25"]["demand_requests"].sum() == on_day


def test_report_refuses_bad_dates_without_writing(default_twin: Path, tmp_path: Path) -> None:
    out = tmp_path / "capacity.csv"
    result = CliRunner().invoke(
        app,
        [
            "capacity",
            "report",
            "--record",
            str(default_twin),
            "--from",
            "2026-04-12",
            "--to",
            "2026-03-23",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 2 and "--to" in result.output and not out.exists()


def test_backtest_reports_an_mae_ratio(default_twin: Path) -> None:
    result = CliRunner().invoke(app, ["capacity", "backtest", "--record", str(default_twin)])
    assert result.exit_code == 0, result.output
    assert "MAE ratio" in result.output
