"""The blind evaluation protocol: frozen batches stay frozen, first blind runs are kept and
re-scored, the metrics are computed right, and the published report is the measured one."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from pcn.triage.batch import BatchError
from pcn.triage.batches import Protocol, default_protocol, sha256
from pcn.triage.evaluation import read_labelled, score_outputs, wilson_interval

LABELS = (
    "id,age,sex,text,urgency,route,acceptable_routes,style\n"
    "a,60,M,crushing chest pain,emergency,emergency_services,emergency_services,patient\n"
    "b,40,F,sick note please,routine,admin,admin;gp,patient\n"
    "c,30,F,sore throat,self_care,pharmacy_first,pharmacy_first;anp,clinician\n"
    "d,50,M,75M. RR 30 SpO2 88%,emergency,emergency_services,emergency_services,clinician\n"
)
OUTPUTS = (
    "id,urgency,route,red_flags,explanation\n"
    "a,emergency,emergency_services,x,\n"
    "b,urgent,gp,,\n"  # over-triaged routine, route acceptable
    "c,self_care,anp,,\n"  # exact urgency, acceptable route
    "d,urgent,gp,,\n"  # a missed emergency
)


def test_every_batch_is_as_frozen_and_every_first_run_is_kept() -> None:
    assert default_protocol().problems() == []


def test_a_changed_batch_is_reported(tmp_path: Path) -> None:
    source = default_protocol().folder
    copy = tmp_path / "evaluation"
    shutil.copytree(source, copy)
    batch = Protocol(copy).manifest.batches[0]
    with (copy / batch.file).open("a", encoding="utf-8") as fh:
        fh.write("\n")
    assert sha256(copy / batch.file) != batch.sha256
    assert any("changed since it was frozen" in p for p in Protocol(copy).problems())


def test_first_blind_runs_cover_every_case_of_their_batch() -> None:
    protocol = default_protocol()
    for batch in protocol.manifest.batches:
        if batch.first_blind_run is None:
            continue
        result = score_outputs(protocol.path(batch), protocol.folder / batch.first_blind_run.output)
        assert result.cases == len(read_labelled(protocol.path(batch)))


def test_metrics_on_a_hand_labelled_run(tmp_path: Path) -> None:
    labels, outputs = tmp_path / "labels.csv", tmp_path / "out.csv"
    labels.write_text(LABELS)
    outputs.write_text(OUTPUTS)
    result = score_outputs(labels, outputs)
    assert (result.emergencies, result.emergencies_caught) == (2, 1)
    assert result.under_triaged == 1  # d
    assert result.low_acuity == 2 and result.low_acuity_over_triaged == 1  # b
    assert result.route_acceptable == 3  # a, b (gp acceptable), c (anp acceptable)
    assert result.route_exact == 1  # a
    assert result.by_style("clinician").emergencies_caught == 0
    assert result.emergencies_to_non_clinical == []


def test_wilson_interval_matches_the_formula_worked_by_hand() -> None:
    # 9/10: p = 0.9, z = 1.96 -> centre (0.9 + 0.19208) / 1.38416, half 0.20372 / 1.38416
    low, high = wilson_interval(9, 10)
    assert low == pytest.approx(0.5958, abs=1e-4)
    assert high == pytest.approx(0.9821, abs=1e-4)
    assert wilson_interval(34, 34)[1] == 1.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_outputs_for_unknown_cases_are_refused(tmp_path: Path) -> None:
    labels, outputs = tmp_path / "labels.csv", tmp_path / "out.csv"
    labels.write_text(LABELS)
    outputs.write_text(OUTPUTS + "zz,urgent,gp,,\n")
    with pytest.raises(BatchError, match=r"'zz' is not in labels\.csv"):
        score_outputs(labels, outputs)


def test_the_published_report_is_the_measured_one() -> None:
    """docs/reference/triage-evaluation.md shows what the batches measure today; regenerate it
    with `pcn triage report --write docs/reference/triage-evaluation.md`."""
    from pcn.triage.report import generated_section, render

    protocol = default_protocol()
    document = Path(__file__).resolve().parents[2] / "docs/reference/triage-evaluation.md"
    assert generated_section(document) == render(protocol, protocol.results())
