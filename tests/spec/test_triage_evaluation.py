"""The labelled evaluation sets: their coverage, their independence from the training corpus,
the metric arithmetic, and the accuracy the issue demands (a drop below 100% emergency
sensitivity fails the build)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pcn.triage import TriageRequest, default_engine
from pcn.triage.evaluation import evaluate
from pcn.triage.learned import corpus_path
from pcn.triage.model import Route, Urgency
from pcn.triage.text import normalise

LABELLED = corpus_path("labelled_cases.csv")
HOLDOUT = corpus_path("holdout_cases.csv")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_labelled_set_is_large_and_covers_every_route_and_urgency() -> None:
    rows = _rows(LABELLED)
    assert len(rows) >= 200
    assert {r["route"] for r in rows} == {r.value for r in Route}
    assert {r["urgency"] for r in rows} == {u.value for u in Urgency}
    assert all(r["rationale"].strip() for r in rows)


def test_evaluation_sets_share_no_message_with_the_training_corpus() -> None:
    training = {normalise(r["text"]) for r in _rows(corpus_path())}
    for path in (LABELLED, HOLDOUT):
        overlap = [r["id"] for r in _rows(path) if normalise(r["text"]) in training]
        assert overlap == [], f"{path.name} cases also in the training corpus: {overlap}"


@pytest.fixture(scope="module")
def labelled_result():  # type: ignore[no-untyped-def]
    return evaluate(LABELLED)


def test_emergency_sensitivity_is_100_percent(labelled_result) -> None:  # type: ignore[no-untyped-def]
    missed = [m.id for m in labelled_result.misses if m.expected[0] == "emergency"]
    assert labelled_result.emergency_sensitivity == 1.0, f"missed emergencies: {missed}"


def test_urgency_and_route_accuracy_meet_the_bar(labelled_result) -> None:  # type: ignore[no-untyped-def]
    # The bar: urgency right or safely over-triaged, little over-triage of routine and
    # self-care requests, and the route right.
    assert labelled_result.safe_urgency_accuracy >= 0.95
    assert labelled_result.low_acuity_over_triage_rate <= 0.30
    assert labelled_result.route_accuracy >= 0.85


def test_holdout_set_meets_the_same_bar() -> None:
    result = evaluate(HOLDOUT)
    assert result.emergency_sensitivity == 1.0
    assert result.safe_urgency_accuracy >= 0.95
    assert result.low_acuity_over_triage_rate <= 0.31
    assert result.route_accuracy >= 0.85


@pytest.mark.parametrize("path", [LABELLED, HOLDOUT], ids=["labelled", "holdout"])
def test_every_labelled_emergency_is_caught_by_a_red_flag_rule(path: Path) -> None:
    # Sensitivity must come from cited rules, not from the classifier happening to agree.
    engine = default_engine()
    not_by_rule = [
        r["id"]
        for r in _rows(path)
        if r["urgency"] == "emergency"
        and engine.triage(
            TriageRequest(text=r["text"], age=float(r["age"]), sex=r["sex"])
        ).decided_by
        != "red_flag"
    ]
    assert not_by_rule == []


def test_metric_arithmetic_on_hand_labelled_cases(tmp_path: Path) -> None:
    # Labels are chosen so each case lands in a known cell whatever the exact wording matched:
    # a caught emergency, an under-triaged request, an over-triaged request and an exact one.
    path = tmp_path / "labelled.csv"
    path.write_text(
        "id,age,sex,text,urgency,route\n"
        "a,60,M,crushing chest pain going down my left arm,emergency,emergency_services\n"
        "b,40,F,please can I have a sick note for work,urgent,admin\n"
        "c,30,F,can I book my cervical screening,self_care,practice_nurse\n"
        "d,50,M,I can't breathe and my lips are blue,emergency,gp\n"
    )
    result = evaluate(path)
    assert result.cases == 4
    assert (result.emergencies, result.emergencies_caught) == (2, 2)
    assert result.urgency_exact == 2  # a, d
    assert result.urgency_safe == 3  # a, c (over), d
    assert result.over_triaged == 1  # c
    assert result.route_exact == 3  # d was labelled gp
    assert result.confusion[(Urgency.urgent, Urgency.routine)] == 1
    assert result.confusion[(Urgency.self_care, Urgency.routine)] == 1
