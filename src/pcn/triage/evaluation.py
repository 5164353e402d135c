"""Measure triage against a labelled set: emergency sensitivity, urgency accuracy (exact and
safe), over-triage, route accuracy and an urgency confusion matrix."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pcn.triage.batch import BatchError, read_cases
from pcn.triage.engine import TriageEngine, default_engine
from pcn.triage.model import Route, TriageRequest, Urgency

URGENCY_ORDER = [Urgency.emergency, Urgency.urgent, Urgency.routine, Urgency.self_care]


@dataclass
class Miss:
    id: str
    text: str
    expected: tuple[str, str]
    got: tuple[str, str]
    explanation: str


@dataclass
class Evaluation:
    cases: int
    emergencies: int
    emergencies_caught: int
    urgency_exact: int
    urgency_safe: int
    over_triaged: int
    route_exact: int
    #: (expected urgency, predicted urgency) -> count
    confusion: Counter[tuple[Urgency, Urgency]] = field(default_factory=Counter)
    route_confusion: Counter[tuple[Route, Route]] = field(default_factory=Counter)
    misses: list[Miss] = field(default_factory=list)

    @property
    def emergency_sensitivity(self) -> float:
        return self.emergencies_caught / self.emergencies if self.emergencies else 1.0

    @property
    def urgency_accuracy(self) -> float:
        return self.urgency_exact / self.cases

    @property
    def safe_urgency_accuracy(self) -> float:
        return self.urgency_safe / self.cases

    @property
    def over_triage_rate(self) -> float:
        return self.over_triaged / self.cases

    @property
    def route_accuracy(self) -> float:
        return self.route_exact / self.cases

    def summary(self) -> dict[str, float | int]:
        return {
            "cases": self.cases,
            "emergency_sensitivity": round(self.emergency_sensitivity, 4),
            "urgency_accuracy_exact": round(self.urgency_accuracy, 4),
            "urgency_accuracy_safe": round(self.safe_urgency_accuracy, 4),
            "over_triage_rate": round(self.over_triage_rate, 4),
            "route_accuracy": round(self.route_accuracy, 4),
        }


def evaluate(path: Path, engine: TriageEngine | None = None) -> Evaluation:
    """Triage every labelled case in ``path`` (columns id,age,sex,text,urgency,route[,…])."""
    engine = engine or default_engine()
    cases = read_cases(path, labelled=True)
    result = Evaluation(0, 0, 0, 0, 0, 0, 0)
    for case in cases:
        assert case.urgency is not None and case.route is not None
        decision = engine.triage(TriageRequest(text=case.text, age=case.age, sex=case.sex))
        expected, got = case.urgency, decision.urgency
        result.cases += 1
        result.confusion[(expected, got)] += 1
        result.route_confusion[(case.route, decision.route)] += 1
        if expected is Urgency.emergency:
            result.emergencies += 1
            result.emergencies_caught += got is Urgency.emergency
        result.urgency_exact += got is expected
        result.urgency_safe += got.rank >= expected.rank
        result.over_triaged += got.rank > expected.rank
        result.route_exact += decision.route is case.route
        if got is not expected or decision.route is not case.route:
            result.misses.append(
                Miss(
                    case.id,
                    case.text,
                    (expected.value, case.route.value),
                    (got.value, decision.route.value),
                    decision.explanation,
                )
            )
    if result.cases == 0:
        raise BatchError(f"{path}: no cases to evaluate")
    return result


@dataclass
class CrossValidation:
    folds: int
    cases: int
    route_accuracy: float
    urgency_accuracy: float


def classifier_cross_validation(path: Path, folds: int = 5) -> CrossValidation:
    """k-fold cross-validation of the text classifier alone on a training corpus.

    Folds are stratified by route with a fixed seed, so the figure is reproducible; each fold's
    model is trained only on the other folds.
    """
    from sklearn.model_selection import StratifiedKFold

    from pcn.triage.definitions import default_definitions
    from pcn.triage.learned import TextClassifier, load_cases
    from pcn.triage.matching import Matcher

    concepts = Matcher(default_definitions()).concept_tokens
    cases = load_cases(path)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    route_hits = urgency_hits = 0
    for train_idx, test_idx in splitter.split(cases, [c.route.value for c in cases]):
        model = TextClassifier([cases[i] for i in train_idx], concepts)
        for i in test_idx:
            p = model.predict(cases[i].text, cases[i].age, cases[i].sex)
            route_hits += p.route_ranking[0][0] is cases[i].route
            urgency_hits += p.urgency is cases[i].urgency
    return CrossValidation(folds, len(cases), route_hits / len(cases), urgency_hits / len(cases))
