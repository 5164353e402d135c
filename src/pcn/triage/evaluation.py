"""Measure triage against labelled cases: emergency sensitivity (with a 95% Wilson interval),
under- and over-triage, urgency (exact and safe) and route (exact and acceptable), overall and
separately for patient-style and clinician-style text.

A labelled file has ``id,age,sex,text,urgency,route`` and optionally ``acceptable_routes``
(``;``-separated, every route a reasonable care navigator would accept; defaults to ``route``),
``style`` (``patient`` or ``clinician``; defaults to ``patient``), ``source`` and ``rationale``.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pcn.triage.batch import BatchError, Case, read_cases
from pcn.triage.engine import TriageEngine, default_engine
from pcn.triage.model import Route, TriageRequest, Urgency

URGENCY_ORDER = [Urgency.emergency, Urgency.urgent, Urgency.routine, Urgency.self_care]
STYLES = ("patient", "clinician")
#: Destinations outside the clinical stream: an emergency sent to one of these is the worst miss.
NON_CLINICAL = frozenset(
    {Route.admin, Route.self_care, Route.community_pharmacy, Route.pharmacy_first}
)


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (Wilson, JASA 1927); (nan, nan) for n=0."""
    if trials == 0:
        return (math.nan, math.nan)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return (max(0.0, (centre - half) / denominator), min(1.0, (centre + half) / denominator))


@dataclass(frozen=True)
class LabelledCase:
    case: Case
    urgency: Urgency
    route: Route
    acceptable: frozenset[Route]
    style: str


@dataclass
class Outcome:
    """One case triaged: what was expected and what the engine said."""

    id: str
    text: str
    style: str
    expected_urgency: Urgency
    expected_route: Route
    acceptable: frozenset[Route]
    urgency: Urgency
    route: Route
    decided_by: str
    explanation: str

    @property
    def under_triaged(self) -> bool:
        return self.urgency.rank < self.expected_urgency.rank

    @property
    def over_triaged(self) -> bool:
        return self.urgency.rank > self.expected_urgency.rank

    @property
    def route_acceptable(self) -> bool:
        return self.route in self.acceptable


@dataclass
class Miss:
    id: str
    text: str
    expected: tuple[str, str]
    got: tuple[str, str]
    explanation: str


@dataclass
class Evaluation:
    outcomes: list[Outcome] = field(default_factory=list)

    # --- counts ------------------------------------------------------------------------------
    @property
    def cases(self) -> int:
        return len(self.outcomes)

    @property
    def emergencies(self) -> int:
        return sum(o.expected_urgency is Urgency.emergency for o in self.outcomes)

    @property
    def emergencies_caught(self) -> int:
        return sum(
            o.expected_urgency is Urgency.emergency and o.urgency is Urgency.emergency
            for o in self.outcomes
        )

    @property
    def urgency_exact(self) -> int:
        return sum(o.urgency is o.expected_urgency for o in self.outcomes)

    @property
    def urgency_safe(self) -> int:
        return sum(not o.under_triaged for o in self.outcomes)

    @property
    def under_triaged(self) -> int:
        return sum(o.under_triaged for o in self.outcomes)

    @property
    def over_triaged(self) -> int:
        return sum(o.over_triaged for o in self.outcomes)

    @property
    def low_acuity(self) -> int:
        """Cases labelled routine or self-care."""
        return sum(o.expected_urgency.rank <= Urgency.routine.rank for o in self.outcomes)

    @property
    def low_acuity_over_triaged(self) -> int:
        return sum(
            o.expected_urgency.rank <= Urgency.routine.rank and o.over_triaged
            for o in self.outcomes
        )

    @property
    def route_exact(self) -> int:
        return sum(o.route is o.expected_route for o in self.outcomes)

    @property
    def route_acceptable(self) -> int:
        return sum(o.route_acceptable for o in self.outcomes)

    @property
    def emergencies_to_non_clinical(self) -> list[str]:
        return [
            o.id
            for o in self.outcomes
            if o.expected_urgency is Urgency.emergency and o.route in NON_CLINICAL
        ]

    @property
    def confusion(self) -> Counter[tuple[Urgency, Urgency]]:
        return Counter((o.expected_urgency, o.urgency) for o in self.outcomes)

    @property
    def misses(self) -> list[Miss]:
        return [
            Miss(o.id, o.text, (o.expected_urgency.value, o.expected_route.value),
                 (o.urgency.value, o.route.value), o.explanation)
            for o in self.outcomes
            if o.urgency is not o.expected_urgency or not o.route_acceptable
        ]

    # --- rates ------------------------------------------------------------------------------
    @property
    def emergency_sensitivity(self) -> float:
        return self.emergencies_caught / self.emergencies if self.emergencies else 1.0

    @property
    def emergency_interval(self) -> tuple[float, float]:
        return wilson_interval(self.emergencies_caught, self.emergencies)

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
    def low_acuity_over_triage_rate(self) -> float:
        return self.low_acuity_over_triaged / self.low_acuity if self.low_acuity else 0.0

    @property
    def under_triage_rate(self) -> float:
        return self.under_triaged / self.cases

    @property
    def route_accuracy(self) -> float:
        return self.route_exact / self.cases

    @property
    def route_acceptable_rate(self) -> float:
        return self.route_acceptable / self.cases

    def by_style(self, style: str) -> Evaluation:
        return Evaluation([o for o in self.outcomes if o.style == style])

    def summary(self) -> dict[str, float | int | str]:
        low, high = self.emergency_interval
        return {
            "cases": self.cases,
            "emergencies": self.emergencies,
            "emergencies_caught": self.emergencies_caught,
            "emergency_sensitivity": round(self.emergency_sensitivity, 4),
            "emergency_sensitivity_95ci": f"{low:.3f}-{high:.3f}",
            "emergencies_to_non_clinical": len(self.emergencies_to_non_clinical),
            "under_triage_rate": round(self.under_triage_rate, 4),
            "urgency_accuracy_exact": round(self.urgency_accuracy, 4),
            "urgency_accuracy_safe": round(self.safe_urgency_accuracy, 4),
            "over_triage_rate": round(self.over_triage_rate, 4),
            "low_acuity_over_triage_rate": round(self.low_acuity_over_triage_rate, 4),
            "route_accuracy_exact": round(self.route_accuracy, 4),
            "route_acceptable_rate": round(self.route_acceptable_rate, 4),
        }


def _problem(path: Path, line: int, column: str, why: str) -> BatchError:
    return BatchError(f"{path.name}: row {line}, column '{column}': {why}")


def read_labelled(path: Path) -> list[LabelledCase]:
    """Read a labelled file; every row is checked and a bad one is named by row and column."""
    cases = read_cases(path, labelled=True)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    labelled = []
    for line, (case, row) in enumerate(zip(cases, rows, strict=True), start=2):
        assert case.urgency is not None and case.route is not None
        style = (row.get("style") or "patient").strip()
        if style not in STYLES:
            raise _problem(path, line, "style", f"{style!r} is not one of {', '.join(STYLES)}")
        acceptable = {case.route}
        for raw in (row.get("acceptable_routes") or "").split(";"):
            if raw.strip():
                try:
                    acceptable.add(Route(raw.strip()))
                except ValueError:
                    raise _problem(path, line, "acceptable_routes",
                                   f"{raw.strip()!r} is not a known route") from None
        labelled.append(LabelledCase(case, case.urgency, case.route, frozenset(acceptable),
                                     style))
    return labelled


def evaluate(path: Path, engine: TriageEngine | None = None) -> Evaluation:
    """Triage every labelled case in ``path``."""
    engine = engine or default_engine()
    result = Evaluation()
    for labelled in read_labelled(path):
        case = labelled.case
        decision = engine.triage(TriageRequest(text=case.text, age=case.age, sex=case.sex))
        result.outcomes.append(Outcome(
            case.id, case.text, labelled.style, labelled.urgency, labelled.route,
            labelled.acceptable, decision.urgency, decision.route, decision.decided_by,
            decision.explanation))
    if result.cases == 0:
        raise BatchError(f"{path}: no cases to evaluate")
    return result


def score_outputs(labels: Path, outputs: Path) -> Evaluation:
    """Score a ``pcn triage`` output file (``id,urgency,route,...``) against its labels, so a
    run kept from an earlier engine can be re-scored without re-running that engine."""
    labelled = {c.case.id: c for c in read_labelled(labels)}
    result = Evaluation()
    with outputs.open(newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            case = labelled.get(row.get("id", ""))
            if case is None:
                raise _problem(outputs, line, "id", f"{row.get('id')!r} is not in {labels.name}")
            try:
                urgency, route = Urgency(row["urgency"]), Route(row["route"])
            except (KeyError, ValueError) as e:
                raise _problem(outputs, line, "urgency/route", str(e)) from None
            result.outcomes.append(Outcome(
                case.case.id, case.case.text, case.style, case.urgency, case.route,
                case.acceptable, urgency, route, "", row.get("explanation", "")))
    missing = set(labelled) - {o.id for o in result.outcomes}
    if missing:
        raise BatchError(f"{outputs.name}: no output for {len(missing)} case(s), "
                         f"e.g. {sorted(missing)[0]}")
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
