"""The shipped funding and workforce reference data: provenance, contents, and the benchmarks
worked out from it by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
PAYMENTS_CSV = SHARED / "funding" / "nhs_payments_to_general_practice_2022_23.csv"
WORKFORCE_CSV = SHARED / "workforce" / "pcn_workforce_fte_by_staff_group.csv"


def test_payments_have_every_practice_with_its_published_lists() -> None:
    from pcn.refdata.funding import gp_payments

    pay = gp_payments()
    assert len(pay) == 6669
    assert pay["practice_code"].is_unique
    park = pay.set_index("practice_code").loc["A81016"]
    assert park["registered_patients"] == pytest.approx(11273.00)
    assert park["weighted_patients"] == pytest.approx(12051.28)
    assert park["global_sum"] == pytest.approx(1131535.62)
    assert park["pcn_code"] == "U55830"
    assert set(pay["rurality"].dropna()) == {"Urban", "Rural"}


@pytest.mark.skipif(not PAYMENTS_CSV.exists(), reason="shared source data not on this machine")
def test_payments_are_the_published_file_unchanged() -> None:
    """Format change only: every shipped value equals the published CSV's (build_refdata)."""
    import importlib.util

    from pcn.refdata.funding import gp_payments

    spec = importlib.util.spec_from_file_location("build_refdata",
                                                  ROOT / "scripts" / "build_refdata.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    columns = build.PAYMENT_COLUMNS

    raw = pd.read_csv(PAYMENTS_CSV, encoding="utf-8-sig", dtype={"Practice Code": str,
                                                                   "Code": str})
    raw = raw[list(columns)].rename(columns=columns)
    pd.testing.assert_frame_equal(gp_payments().reset_index(drop=True),
                                  raw.reset_index(drop=True), check_dtype=False)


@pytest.mark.skipif(not WORKFORCE_CSV.exists(), reason="shared source data not on this machine")
def test_workforce_is_the_published_file_unchanged() -> None:
    from pcn.refdata.funding import pcn_workforce

    raw = pd.read_csv(WORKFORCE_CSV, dtype={"PCN_CODE": str})
    shipped = pcn_workforce()
    assert len(shipped) == len(raw) == 15206
    assert shipped["fte"].sum() == pytest.approx(raw["FTE"].sum())
    assert list(shipped["pcn_code"]) == list(raw["PCN_CODE"])


def test_attribution_names_the_funding_files_and_their_licence() -> None:
    text = (ROOT / "src/pcn/refdata/data/ATTRIBUTION.md").read_text()
    for name in ("gp_payments_2022_23.parquet", "pcn_workforce_fte.parquet"):
        line = next(line for line in text.splitlines() if name in line)
        assert "OGL v3.0" in line
        assert "NHS" in line


def test_workforce_benchmark_by_hand() -> None:
    from pcn.funding.benchmarks import benchmark
    from pcn.refdata.funding import gp_payments, pcn_workforce

    wf = pcn_workforce()
    year = 2024
    got = benchmark("U55830", year).set_index("staff_group")
    lists = gp_payments().groupby("pcn_code")["registered_patients"].sum()
    mine = wf[(wf.pcn_code == "U55830") & (wf.year == year)]
    nurses = mine[mine.staff_group == "Other Nurses"]["fte"].sum()
    assert got.loc["Other Nurses", "fte_per_1000"] == pytest.approx(
        nurses / lists["U55830"] * 1000)
    # peers: every PCN in the same quintile that year with a published list; 0 where none
    quintile = int(mine["imd_quintile"].iloc[0])
    that_year = wf[wf.year == year]
    # a PCN whose rows disagree is counted in its majority quintile (a tie: the lower one)
    majority = {c: rows["imd_quintile"].value_counts().sort_index().idxmax()
                for c, rows in that_year.groupby("pcn_code")}
    codes = [c for c, q in majority.items() if q == quintile and lists.get(c, 0) > 0]
    peers = that_year[that_year.pcn_code.isin(codes)]
    per = [peers[(peers.pcn_code == c) & (peers.staff_group == "Other Nurses")]["fte"].sum()
           / lists[c] * 1000 for c in codes]
    assert got.loc["Other Nurses", "peers"] == len(codes)
    assert got.loc["Other Nurses", "peer_median"] == pytest.approx(pd.Series(per).median())


def test_workforce_benchmark_refuses_a_year_without_a_census() -> None:
    from pcn.funding.benchmarks import NoWorkforceData, benchmark

    with pytest.raises(NoWorkforceData, match="census years are 2020"):
        benchmark("U55830", 2019)
