"""`pcn run` on the default twin fills every population-health column and writes every worklist."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pcn.analytics.run import outputs_path, run
from pcn.worklists import load_worklists


@pytest.fixture(scope="module")
def outputs(default_twin: Path) -> Path:
    run(default_twin)
    return outputs_path(default_twin)


def test_profile_has_every_phm_column_filled(outputs: Path) -> None:
    df = pd.read_parquet(outputs / "patient_profile.parquet")
    old = df[df.age >= 65]
    assert old.efi_category.notna().all() and df[df.age < 65].efi_category.isna().all()
    assert set(old.efi_category) == {"fit", "mild", "moderate", "severe"}
    eligible = (df.age.between(25, 84) & ~(df.reg_chd | df.reg_stroke_tia | df.reg_pad)
                & ~df.on_statin)  # QRISK3 is not valid for people on a statin
    assert (df.qrisk3_eligible == eligible).all()
    assert df.loc[eligible, "qrisk3"].between(0, 100).all()
    assert df.loc[~eligible, "qrisk3"].isna().all()
    assert df.segment.notna().all() and df.segment.nunique() >= 7
    assert df.cms_score.ge(0).all()
    assert df.loc[df.reg_af, "cha2ds2_vasc"].notna().all()
    assert df.core20.any() and (df.plus_groups != "").any()
    assert df.admission_risk.between(0, 1).all()
    assert sorted(df.admission_risk_rank) == list(range(1, len(df) + 1))


def test_every_worklist_is_written_with_reasons(outputs: Path) -> None:
    for wid, d in load_worklists().items():
        if d.not_available:  # not built: the reason is where the list would be
            assert not (outputs / "worklists" / f"{wid}.parquet").exists()
            meta = json.loads((outputs / "worklists" / f"{wid}.json").read_text())
            assert meta["not_available"] == d.not_available
            continue
        wl = pd.read_parquet(outputs / "worklists" / f"{wid}.parquet")
        assert len(wl) > 0, wid
        assert wl.reasons.str.len().gt(0).all()
        assert {"patient_id", "practice_code", "core20", "plus_groups"} <= set(wl.columns)
        assert set(d.fields) <= set(wl.columns)


def test_admission_model_reports_out_of_time_performance(outputs: Path) -> None:
    report = json.loads((outputs / "admission_model.json").read_text())
    assert report["n_test"] > 40_000
    assert 0.55 < report["auroc"] < 1
    assert 0.5 < report["observed_over_expected"] < 2
    assert report["top5_capture"] > 0.05  # better than chance (5%)


def test_inequalities_gradients_per_practice(outputs: Path) -> None:
    g = pd.read_parquet(outputs / "inequalities.parquet")
    assert {"PCN", "A81016"} <= set(g.unit)
    assert set(g.imd_quintile) == {1, 2, 3, 4, 5}


def test_rerunning_an_unchanged_record_changes_nothing(outputs: Path, default_twin: Path) -> None:
    before = (outputs / "manifest.json").read_text()
    again = run(default_twin)
    assert not again.changed
    assert (outputs_path(default_twin) / "manifest.json").read_text() == before


def test_realism_report_compares_the_record_with_published_figures(default_twin: Path) -> None:
    from pcn.synth.report import EXTERNAL_FIGURES, realism_report

    rep = realism_report(default_twin).set_index("measure")
    assert list(rep.index) == list(EXTERNAL_FIGURES)
    assert rep["twin"].notna().all() and (rep["twin"] >= 0).all()
    assert (rep["external"] == [v for v, _, _ in EXTERNAL_FIGURES.values()]).all()
    assert 0 < rep.loc["cervical_screening_25_49", "twin"] < 1
    assert rep["source"].str.len().gt(20).all()  # every figure cites its source


def test_the_default_twin_is_within_half_again_of_every_published_figure(
    default_twin: Path,
) -> None:
    # Issue 19 / ADR 0125: prescribing, polypharmacy, smoking recording, electives, the
    # prior-admission risk ratio and practice variation calibrated to the cited figures, as
    # counted from the record (the report never reads the generator's parameters).
    from pcn.synth.report import realism_report

    rep = realism_report(default_twin).set_index("measure")
    off = rep[~rep["plausible"]]
    assert off.empty, off[["twin", "external", "ratio"]]
    # practices differ beyond chance, and a prior admission predicts the next
    assert rep.loc["between_practice_overdispersion_phi", "twin"] > 1.5
    assert rep.loc["prior_admission_relative_risk", "twin"] > 2.5
