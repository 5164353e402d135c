"""``pcn run`` end to end on a small stand-in record: outputs, atomic publication, engines
agree, and the CLI commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pcn.analytics.benchmark import standin_record
from pcn.analytics.primitives import wilson_interval_py
from pcn.analytics.registers import default_registers
from pcn.analytics.run import outputs_path, run
from pcn.cli.main import app

AS_OF = dt.date(2026, 3, 31)


@pytest.fixture(scope="module")
def small_record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("analytics") / "record"
    standin_record(base, 1500, seed=7, as_of=AS_OF)
    return base


@pytest.fixture(scope="module")
def duckdb_outputs(small_record: Path) -> dict[str, pd.DataFrame]:
    result = run(small_record, "duckdb")
    return {name: pd.read_parquet(result.path / f"{name}.parquet") for name in result.rows}


def test_profile_has_one_row_per_registered_patient(small_record: Path,
                                                    duckdb_outputs: dict) -> None:
    prof = duckdb_outputs["patient_profile"]
    regs = pq.read_table(small_record / "current" / "registrations").to_pandas()
    assert len(prof) == regs.patient_id.nunique() == 1500
    assert prof.patient_id.is_unique
    for r in default_registers():
        assert prof[f"reg_{r.id}"].dtype == bool
    ltc = sum(prof[f"reg_{r.id}"].astype(int) for r in default_registers()
              if r.long_term_condition)
    assert (prof.ltc_count == ltc).all()
    assert set(prof.smoking_status.dropna()) <= {"current", "ex", "never"}


def test_passes_over_the_events_do_not_grow_with_registers(small_record: Path) -> None:
    """ADR 0012/0013: every register, observation and flag is answered by a fixed number of
    queries over clinical_events and medications, not one query (or more) per code list."""
    from pcn.analytics.engine import Engine
    from pcn.analytics.profile import RunContext, compute_profile
    from pcn.record import open_record

    registers = default_registers()
    assert len(registers) >= 20
    reads = {}
    for chosen in (registers[:1], registers):
        with Engine.for_record(open_record(small_record), "duckdb") as engine:
            profile = compute_profile(RunContext(engine, AS_OF, registers=chosen))
            assert profile.num_rows == 1500
            reads[len(chosen)] = dict(engine.reads)
    assert reads[1] == reads[len(registers)]
    assert 1 <= reads[1]["clinical_events"] <= 2
    assert 1 <= reads[1]["medications"] <= 2


def test_register_age_limits_hold_in_profile(duckdb_outputs: dict) -> None:
    prof = duckdb_outputs["patient_profile"]
    for r in default_registers():
        if r.min_age:
            assert (prof.loc[prof[f"reg_{r.id}"], "age"] >= r.min_age).all(), r.id
    assert not (prof.reg_ndh & prof.reg_diabetes).any()


def test_summary_recomputed_independently(duckdb_outputs: dict) -> None:
    """An oracle: recompute counts, denominators and intervals from the profile with pandas."""
    prof, summ = duckdb_outputs["patient_profile"], duckdb_outputs["practice_summary"]
    pcn_row = summ[summ.level == "pcn"].iloc[0]
    assert pcn_row.list_size == len(prof)
    assert pcn_row.female + pcn_row.male == len(prof)
    for r in default_registers():
        eligible = prof.age >= (r.min_age or 0)
        x = int((prof[f"reg_{r.id}"] & eligible).sum())
        n = int(eligible.sum())
        assert pcn_row[f"reg_{r.id}_count"] == x
        assert pcn_row[f"reg_{r.id}_denominator"] == n
        lo, hi = wilson_interval_py(x, n)
        assert pcn_row[f"reg_{r.id}_ci_low"] == pytest.approx(lo, abs=1e-12)
        assert pcn_row[f"reg_{r.id}_ci_high"] == pytest.approx(hi, abs=1e-12)
    practices = summ[summ.level == "practice"]
    assert practices.list_size.sum() == len(prof)
    by_practice = prof.groupby("practice_code").size()
    assert dict(zip(practices.practice_code, practices.list_size, strict=True)) == \
        by_practice.to_dict()


def test_outputs_are_published_atomically(small_record: Path, duckdb_outputs: dict) -> None:
    current = outputs_path(small_record)
    assert current.is_symlink()
    before = current.resolve()
    again = run(small_record, "duckdb")
    assert not again.changed and again.path == before  # same inputs, same outputs: a no-op
    other = run(small_record, "duckdb", dt.date(2025, 3, 31))
    assert other.changed and outputs_path(small_record).resolve() != before
    assert not list((small_record / "outputs").glob(".staging-*"))


def test_failed_run_leaves_previous_outputs(small_record: Path, duckdb_outputs: dict,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from pcn.analytics import run as run_module

    run(small_record, "duckdb")
    before = outputs_path(small_record).resolve()

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(run_module.pq, "write_table", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run(small_record, "duckdb", dt.date(2024, 1, 1))
    assert outputs_path(small_record).resolve() == before
    assert not list((small_record / "outputs").glob(".staging-*"))


@pytest.mark.spark
def test_spark_outputs_identical_to_duckdb(small_record: Path, duckdb_outputs: dict) -> None:
    result = run(small_record, "spark")
    assert result.index_date == AS_OF
    for name, expected in duckdb_outputs.items():
        got = pd.read_parquet(result.path / f"{name}.parquet")
        assert list(got.columns) == list(expected.columns)
        assert got.dtypes.to_dict() == expected.dtypes.to_dict()
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=0, atol=1e-9)


def test_cli_run_and_definitions_check(small_record: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["run", "--record", str(small_record), "--index-date", "2026-01-31"])
    assert out.exit_code == 0, out.output
    assert "patient_profile" in out.output
    check = runner.invoke(app, ["definitions", "check"])
    assert check.exit_code == 0, check.output
    assert "21 register files" in check.output and "all" in check.output


def test_cli_errors_are_clear(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["run", "--record", str(tmp_path)])
    assert out.exit_code == 2 and "not a network record" in " ".join(out.output.split())
    bad = runner.invoke(app, ["run", "--record", str(tmp_path), "--index-date", "31/03/2024"])
    assert bad.exit_code == 2 and "not a date" in " ".join(bad.output.split())


def test_bench_sizes_parse() -> None:
    from pcn.analytics.benchmark import parse_sizes

    assert parse_sizes("50k, 500k,2M,1500") == [50_000, 500_000, 2_000_000, 1500]
    with pytest.raises(ValueError, match="bad size"):
        parse_sizes("lots")


def test_ehrql_dataset_matches_profile(small_record: Path, duckdb_outputs: dict) -> None:
    """The ehrQL-comparable dataset at the record's date agrees with the profile's columns."""
    from pcn.analytics.benchmark import ehrql_dataset
    from pcn.analytics.engine import Engine
    from pcn.record import open_record

    with Engine.for_record(open_record(small_record), "duckdb") as engine:
        data = engine.to_arrow(ehrql_dataset(engine, AS_OF)).to_pandas()
    prof = duckdb_outputs["patient_profile"]
    adults = prof[prof.age >= 18].set_index("patient_id").sort_index()
    data = data.set_index("patient_id").sort_index()
    assert list(data.index) == list(adults.index)
    assert (data.age == adults.age).all() and (data.sex == adults.sex).all()
    # hypertension ever (no resolved codes, any age) includes everyone on the register
    assert data.loc[adults.reg_hypertension, "hypertension"].all()
    assert (data.medications >= 0).all() and (data.efi_codes >= 0).all()
    assert data.efi_codes.max() > 0 and data.medications.max() > 0


def test_bench_dataset_writes_the_comparable_dataset(small_record: Path, tmp_path: Path) -> None:
    """`pcn bench dataset` (the pcn half of the ehrQL side-by-side benchmark) writes the
    dataset as an Arrow file, one row per adult in patient order, equal to the expression."""
    import pyarrow.feather as feather

    from pcn.analytics.benchmark import COMPARABLE_COLUMNS, ehrql_dataset
    from pcn.analytics.engine import Engine
    from pcn.record import open_record

    out = tmp_path / "dataset.arrow"
    result = CliRunner().invoke(app, ["bench", "dataset", "--record", str(small_record),
                                      "--output", str(out), "--index-date", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    written = feather.read_table(out).to_pandas()
    assert tuple(written.columns) == COMPARABLE_COLUMNS
    assert written.patient_id.is_monotonic_increasing and written.patient_id.is_unique
    with Engine.for_record(open_record(small_record), "duckdb") as engine:
        expected = engine.to_arrow(ehrql_dataset(engine, AS_OF)).to_pandas()
    expected = expected.sort_values("patient_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    assert f"{len(expected):,} patients" in result.output

    bad = CliRunner().invoke(app, ["bench", "dataset", "--record", str(small_record),
                                   "--output", str(tmp_path / "x.arrow"),
                                   "--index-date", "31/3/26"])
    assert bad.exit_code != 0 and "is not a date" in bad.output
    assert not (tmp_path / "x.arrow").exists()


def test_bench_dataset_refuses_a_record_that_is_not_synthetic(tmp_path: Path) -> None:
    """A patient-level extract of real data would be an export that ignores opt-outs: the
    benchmark command reads synthetic records only."""
    import json

    from pcn.record.store import resolve_snapshot

    record = tmp_path / "record"
    standin_record(record, 200, seed=3, as_of=AS_OF)
    manifest = resolve_snapshot(record) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["source"]["kind"] = "gp_extract"
    manifest.write_text(json.dumps(data))
    out = tmp_path / "x.arrow"
    result = CliRunner().invoke(app, ["bench", "dataset", "--record", str(record),
                                      "--output", str(out)])
    assert result.exit_code == 2 and "only reads synthetic records" in result.output
    assert not out.exists()


def test_bench_run_reports_every_figure(tmp_path: Path) -> None:
    """`pcn bench run` at a tiny size: every figure present, consistent, and printed."""
    import io

    from rich.console import Console

    from pcn.analytics.benchmark import run_benchmarks

    out = io.StringIO()
    (row,) = run_benchmarks([1500], tmp_path, console=Console(file=out, width=250))
    assert row["events"] > 0 and row["pcn_run_rows"] > 1000
    assert row["ratio_vs_scan"] == pytest.approx(row["pcn_run_s"] / row["raw_scan_s"])
    assert row["ratio_vs_grouped"] == pytest.approx(row["pcn_run_s"] / row["grouped_scan_s"])
    assert 0 < row["patient_code_groups"] < row["events"]
    assert 0 < row["event_passes"] < row["event_passes_first_run"]
    assert 0 < row["engine_outputs_s"] < row["pcn_run_s"]
    assert 0 < row["population_health_s"] < row["pcn_run_s"]
    assert row["pcn_run_cold_s"] > 0 and row["ehrql_rows"] > 0
    printed = out.getvalue()
    assert "× scan" in printed and "first run" in printed and "1,500" in printed
    assert "× grouped" in printed and "event passes" in printed
