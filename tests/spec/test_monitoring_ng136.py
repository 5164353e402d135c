"""NICE NG136 home blood pressure: the `pcn monitoring import/summary` contract (issue 22) on
hand-made readings, every threshold edge, on SQLite and PostgreSQL stores."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pcn.cli.main import app
from pcn.config import get_settings
from pcn.refdata import codelist
from pcn.store.database import Store
from tests.spec.conftest import build_record, ev, patient, practice, reg

HYP = sorted(codelist("nhsd-primary-care-domain-refsets-hyp_cod").codes)[0]
HYPRES = sorted(codelist("nhsd-primary-care-domain-refsets-hypres_cod").codes)[0]
START = dt.date(2026, 12, 1)
TIMES = ("08:00", "08:02", "20:00", "20:02")  # two seated readings, twice daily (NG136 1.2.7)
COLUMNS = ["patient_id", "taken_at", "systolic", "diastolic", "pulse"]


def day_readings(
    pid: int, day: dt.date, sys: float, dia: float, times: tuple[str, ...] = TIMES
) -> list[list[object]]:
    return [[pid, f"{day.isoformat()}T{t}", sys, dia, 70] for t in times]


def days(pid: int, first: dt.date, n: int, sys: float, dia: float) -> list[list[object]]:
    out: list[list[object]] = []
    for i in range(n):
        out += day_readings(pid, first + dt.timedelta(days=i), sys, dia)
    return out


D = dt.timedelta
#: (readings, expected rows) per scenario; means written by hand from the readings.
NOT_ON_REGISTER = {
    1: days(1, START, 4, 134, 84),
    2: days(2, START, 4, 135, 84),
    3: days(3, START, 4, 134, 85),
    4: days(4, START, 4, 149, 94),
    5: days(5, START, 4, 150, 94),
    6: days(6, START, 4, 149, 95),
    7: days(7, START, 4, 179, 119),
    # a severe reading on the discarded first day still makes the series severe
    8: [[8, f"{START}T07:00", 180, 100, 70], *days(8, START + D(1), 3, 120, 80)],
    9: [*days(9, START, 3, 120, 80), [9, f"{START + D(3)}T09:00", 150, 120, 70]],
    # first day + 2 days: only 2 days left after the discard
    10: days(10, START, 3, 120, 80),
    # high first day is discarded: the rest is normal
    11: day_readings(11, START, 170, 100) + days(11, START + D(1), 3, 120, 80),
    # a gap of exactly 3 days keeps one series (days 1,2,3 and 6: 3 days after the discard)
    12: days(12, START, 3, 120, 80) + day_readings(12, START + D(5), 120, 80),
    # a gap of 4 days starts a new series: two insufficient series
    13: days(13, START, 3, 120, 80) + day_readings(13, START + D(6), 120, 80),
    14: [[14, f"{START}T08:00", 140, 90, ""]],
    # the exact mean decides: (134 + 135 + 135) / 3 = 134.67 is below 135
    15: [[15, f"{START}T08:00", 120, 70, 70]]
    + [
        [15, f"{START + D(k)}T0{h}:00", s, 80, 70]
        for k in (1, 2, 3)
        for h, s in ((8, 134), (9, 135), (7, 135))
    ],
    # (134 + 136) / 2 = 135 reaches stage 1
    16: [
        [16, f"{START + D(k)}T0{h}:00", s, 80, 70]
        for k in (0, 1, 2, 3)
        for h, s in ((8, 134), (9, 136))
    ],
}
EXPECTED_NOT_ON_REGISTER = [
    ["1", "2026-12-01", "12", "134.0", "84.0", "normal"],
    ["2", "2026-12-01", "12", "135.0", "84.0", "stage1"],
    ["3", "2026-12-01", "12", "134.0", "85.0", "stage1"],
    ["4", "2026-12-01", "12", "149.0", "94.0", "stage1"],
    ["5", "2026-12-01", "12", "150.0", "94.0", "stage2"],
    ["6", "2026-12-01", "12", "149.0", "95.0", "stage2"],
    ["7", "2026-12-01", "12", "179.0", "119.0", "stage2"],
    ["8", "2026-12-01", "12", "120.0", "80.0", "severe"],
    ["9", "2026-12-01", "9", "123.3", "84.4", "severe"],
    ["10", "2026-12-01", "8", "120.0", "80.0", "insufficient"],
    ["11", "2026-12-01", "12", "120.0", "80.0", "normal"],
    ["12", "2026-12-01", "12", "120.0", "80.0", "normal"],
    ["13", "2026-12-01", "8", "120.0", "80.0", "insufficient"],
    ["13", "2026-12-07", "0", "", "", "insufficient"],
    ["14", "2026-12-01", "0", "", "", "insufficient"],
    ["15", "2026-12-01", "9", "134.7", "80.0", "normal"],
    ["16", "2026-12-01", "6", "135.0", "80.0", "stage1"],
]

AGE_79 = dt.date(1946, 12, 2)  # 79 on 1 December 2026, 80 the next day
AGE_80 = dt.date(1946, 12, 1)  # 80 on 1 December 2026
ON_REGISTER = {  # pid: (date of birth, readings)
    20: (AGE_79, days(20, START, 4, 144, 84)),
    21: (AGE_80, days(21, START, 4, 144, 84)),
    22: (AGE_80, days(22, START, 4, 145, 84)),
    23: (AGE_80, days(23, START, 4, 144, 85)),
    24: (AGE_79, days(24, START, 4, 134, 84)),
    25: (AGE_79, days(25, START, 4, 135, 84)),
    26: (AGE_79, days(26, START, 4, 134, 85)),
    27: (AGE_80, [*days(27, START, 4, 130, 80)[:-1], [27, f"{START + D(3)}T21:00", 180, 80, 70]]),
}
EXPECTED_ON_REGISTER = [
    ["20", "2026-12-01", "12", "144.0", "84.0", "above_target"],
    ["21", "2026-12-01", "12", "144.0", "84.0", "target_met"],
    ["22", "2026-12-01", "12", "145.0", "84.0", "above_target"],
    ["23", "2026-12-01", "12", "144.0", "85.0", "above_target"],
    ["24", "2026-12-01", "12", "134.0", "84.0", "target_met"],
    ["25", "2026-12-01", "12", "135.0", "84.0", "above_target"],
    ["26", "2026-12-01", "12", "134.0", "85.0", "above_target"],
    ["27", "2026-12-01", "12", "134.2", "80.0", "severe"],
]
# Hypertension resolved after diagnosis: judged as not on the register (stage 1 at 140/80).
RESOLVED = days(30, START, 4, 140, 80)
# A person the record does not hold: judged without register or age.
UNKNOWN = days(99, START, 4, 136, 80)
EXPECTED_OTHERS = [
    ["30", "2026-12-01", "12", "140.0", "80.0", "stage1"],
    ["99", "2026-12-01", "12", "136.0", "80.0", "stage1"],
]


@pytest.fixture
def world(tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    pids = [*NOT_ON_REGISTER, *ON_REGISTER, 30]
    dob = {pid: d for pid, (d, _) in ON_REGISTER.items()}
    build_record(
        tmp_path / "record",
        as_of=dt.date(2026, 12, 31),
        practices=[practice("A00001")],
        patients=[patient(p, dob=dob.get(p, dt.date(1960, 6, 15))) for p in pids],
        registrations=[reg(p) for p in pids],
        clinical_events=[ev(p, dt.date(2015, 3, 1), HYP) for p in [*ON_REGISTER, 30]]
        + [ev(30, dt.date(2020, 3, 1), HYPRES)],
    )
    monkeypatch.setenv("PCN_DATABASE_URL", store.url)
    get_settings.cache_clear()
    yield tmp_path / "record"
    get_settings.cache_clear()


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def summary(record: Path, out: Path) -> list[list[str]]:
    run("monitoring", "summary", "--record", str(record), "--output", str(out))
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "patient_id",
        "series_start",
        "n_readings_used",
        "mean_systolic",
        "mean_diastolic",
        "category",
    ]
    return rows[1:]


def test_every_ng136_threshold_edge(world: Path, tmp_path: Path) -> None:
    rows = [r for rs in NOT_ON_REGISTER.values() for r in rs]
    rows += [r for _, rs in ON_REGISTER.values() for r in rs] + RESOLVED + UNKNOWN
    out = run(
        "monitoring",
        "import",
        "--record",
        str(world),
        "--input",
        str(write_csv(tmp_path / "readings.csv", rows)),
    )
    assert f"{len(rows)} reading(s) added" in out and "1 patient(s) are not in this record" in out
    got = summary(world, tmp_path / "summary.csv")
    expected = sorted(
        EXPECTED_NOT_ON_REGISTER + EXPECTED_ON_REGISTER + EXPECTED_OTHERS,
        key=lambda r: (int(r[0]), r[1]),
    )
    assert got == expected


def test_importing_again_changes_nothing_and_readings_may_share_a_moment(
    world: Path, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", days(1, START, 4, 140, 80))
    run("monitoring", "import", "--record", str(world), "--input", str(path))
    again = run("monitoring", "import", "--record", str(world), "--input", str(path))
    assert "0 reading(s) added" in again and "16 already held" in again
    # pairs written with one time (same or different values) are all readings; each day has
    # two pairs at 08:00 and two at 20:00
    paired = [
        [2, f"{START + dt.timedelta(days=d)}T{t}", s, 80, ""]
        for d in range(4)
        for t in ("08:00", "20:00")
        for s in (150, 150 if d % 2 else 140)
    ]
    added = run(
        "monitoring",
        "import",
        "--record",
        str(world),
        "--input",
        str(write_csv(tmp_path / "b.csv", paired)),
    )
    assert "16 reading(s) added" in added
    again = run("monitoring", "import", "--record", str(world), "--input", str(tmp_path / "b.csv"))
    assert "0 reading(s) added" in again
    # used: days 2-4 = 12 readings: 4 x 150 (day 2), 2 x 140 + 2 x 150 (day 3), 4 x 150 (day 4)
    assert summary(world, tmp_path / "s.csv") == [
        ["1", "2026-12-01", "12", "140.0", "80.0", "stage1"],
        ["2", "2026-12-01", "12", "148.3", "80.0", "stage1"],
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([1, "2026-12-01T08:00", "abc", 80, 70], "row 3: systolic: 'abc' is not a number"),
        ([1, "2026-12-01T08:00", 120, 130, 70], "row 3: diastolic: 130 is not below"),
        ([1, "yesterday", 120, 80, 70], "row 3: taken_at: 'yesterday' is not a date"),
        (["x1", "2026-12-01T08:00", 120, 80, 70], "row 3: patient_id: 'x1' is not a whole"),
        ([1, "2026-12-01T08:00", 420, 80, 70], "row 3: systolic: 420 mmHg is outside"),
        ([1, "2026-12-01T08:00", 120, "", 70], "row 3: diastolic: missing"),
    ],
)
def test_a_bad_row_is_named_and_nothing_is_written(
    world: Path, tmp_path: Path, row: list[object], message: str
) -> None:
    path = write_csv(tmp_path / "bad.csv", [[1, "2026-11-30T08:00", 120, 80, 70], row])
    result = CliRunner().invoke(
        app, ["monitoring", "import", "--record", str(world), "--input", str(path)]
    )
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert summary(world, tmp_path / "s.csv") == []


def test_a_missing_column_is_named(world: Path, tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("patient_id,taken_at,systolic\n1,2026-12-01T08:00,120\n")
    result = CliRunner().invoke(
        app, ["monitoring", "import", "--record", str(world), "--input", str(path)]
    )
    assert result.exit_code == 2 and "missing column(s) diastolic" in result.output


def test_a_time_with_an_offset_is_read_on_the_uk_clock(world: Path, tmp_path: Path) -> None:
    # 23:30 UTC on 30 June is 00:30 BST on 1 July: the reading belongs to 1 July.
    rows = [
        [5, "2026-06-30T23:30:00+00:00", 120, 80, ""],
        *days(5, dt.date(2026, 7, 2), 3, 120, 80),
    ]
    run(
        "monitoring",
        "import",
        "--record",
        str(world),
        "--input",
        str(write_csv(tmp_path / "tz.csv", rows)),
    )
    assert summary(world, tmp_path / "s.csv") == [
        ["5", "2026-07-01", "12", "120.0", "80.0", "normal"]
    ]


def test_uk_written_dates_are_read_day_first(world: Path, tmp_path: Path) -> None:
    rows = [[6, f"0{d}/12/2026 08:00", 120, 80, ""] for d in range(1, 5)]
    run(
        "monitoring",
        "import",
        "--record",
        str(world),
        "--input",
        str(write_csv(tmp_path / "uk.csv", rows)),
    )
    assert summary(world, tmp_path / "s.csv") == [
        ["6", "2026-12-01", "3", "120.0", "80.0", "normal"]
    ]
