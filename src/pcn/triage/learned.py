"""The learned part of triage: a text classifier for what the rules leave undecided.

TF-IDF over word 1–2-grams and character 2–5-grams (the character n-grams make it tolerant of
typos and text-speak) feeding multinomial logistic regression, one model for the route and one for
the urgency. It is trained from ``data/training_corpus.csv`` the first time it is needed (about a
second); the solver is deterministic, so the same corpus always gives the same model. The
evaluation set (``data/labelled_cases.csv``) is never used for training.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from pcn.triage.model import Route, Urgency
from pcn.triage.text import normalise

TRAINING_CORPUS = "training_corpus.csv"


@dataclass(frozen=True)
class TrainingCase:
    text: str
    age: float | None
    sex: str | None
    urgency: Urgency
    route: Route


def corpus_path(name: str = TRAINING_CORPUS) -> Path:
    return Path(str(resources.files("pcn.triage") / "data" / name))


def load_cases(path: Path) -> list[TrainingCase]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [
            TrainingCase(
                text=row["text"],
                age=float(row["age"]) if row.get("age") not in (None, "") else None,
                sex=row.get("sex") or None,
                urgency=Urgency(row["urgency"]),
                route=Route(row["route"]),
            )
            for row in csv.DictReader(fh)
        ]


#: Turns a message into the names of the concepts it mentions (see ``Matcher.concept_tokens``).
ConceptTokens = Callable[[str, float | None, str | None], list[str]]


def features_text(
    text: str, age: float | None, sex: str | None, concepts: ConceptTokens | None = None
) -> str:
    """The classifier's input: the normalised message, age-band and sex tokens, and the rule
    concepts found in the text (so the classifier shares the rules' vocabulary of typos and
    synonyms)."""
    if age is None:
        band = "ageunknown"
    elif age < 1:
        band = "ageinfant"
    elif age < 16:
        band = "agechild"
    elif age < 65:
        band = "ageadult"
    else:
        band = "ageolder"
    tokens = (
        " ".join(f"concept{c.replace('_', '')}" for c in concepts(text, age, sex))
        if (concepts)
        else ""
    )
    return f"{normalise(text)} {band} sex{(sex or 'u').lower()} {tokens}".strip()


def _pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                ),
            ),
        ]
    )
    classifier = LogisticRegression(C=8.0, max_iter=3000, class_weight="balanced")
    return Pipeline([("features", features), ("classifier", classifier)])


@dataclass(frozen=True)
class Prediction:
    urgency: Urgency
    urgency_probability: float
    route_ranking: tuple[tuple[Route, float], ...]  # best first


class TextClassifier:
    def __init__(self, cases: list[TrainingCase], concepts: ConceptTokens | None = None) -> None:
        if len(cases) < 20:
            raise ValueError(f"need at least 20 training cases, got {len(cases)}")
        self.concepts = concepts
        inputs = [features_text(c.text, c.age, c.sex, concepts) for c in cases]
        self.route_model = _pipeline().fit(inputs, [c.route.value for c in cases])
        self.urgency_model = _pipeline().fit(inputs, [c.urgency.value for c in cases])
        self.size = len(cases)

    def predict(self, text: str, age: float | None, sex: str | None) -> Prediction:
        x = [features_text(text, age, sex, self.concepts)]
        up = self.urgency_model.predict_proba(x)[0]
        best = int(np.argmax(up))
        rp = self.route_model.predict_proba(x)[0]
        order = np.argsort(-rp, kind="stable")
        classes = self.route_model.classes_
        return Prediction(
            urgency=Urgency(self.urgency_model.classes_[best]),
            urgency_probability=float(up[best]),
            route_ranking=tuple((Route(classes[i]), float(rp[i])) for i in order),
        )


@lru_cache(maxsize=1)
def default_classifier() -> TextClassifier:
    from pcn.triage.definitions import default_definitions
    from pcn.triage.matching import Matcher

    return TextClassifier(load_cases(corpus_path()), Matcher(default_definitions()).concept_tokens)
