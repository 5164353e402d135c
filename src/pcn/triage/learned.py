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
from sklearn.pipeline import FeatureUnion

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


def _features() -> FeatureUnion:
    return FeatureUnion(
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


def _logistic() -> LogisticRegression:
    return LogisticRegression(C=8.0, max_iter=3000, class_weight="balanced")


@dataclass(frozen=True)
class Prediction:
    urgency: Urgency
    urgency_probability: float
    route_ranking: tuple[tuple[Route, float], ...]  # best first


class _FastTfidf:
    """The fitted vectoriser's transform for one document, without scikit-learn's per-call
    validation overhead (which costs ~10 ms a request). Checked against scikit-learn in tests."""

    def __init__(self, vectorizer: TfidfVectorizer, offset: int) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = vectorizer.idf_
        self.offset = offset

    def transform(self, document: str) -> tuple[np.ndarray, np.ndarray]:
        counts: dict[int, int] = {}
        for token in self.analyze(document):
            index = self.vocabulary.get(token)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        if not counts:
            return np.empty(0, dtype=np.intp), np.empty(0)
        indices = np.fromiter(counts, dtype=np.intp, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float))) * self.idf[indices]
        values /= np.linalg.norm(values)
        return indices + self.offset, values


class TextClassifier:
    """One shared TF-IDF feature space, two multinomial logistic regressions."""

    def __init__(self, cases: list[TrainingCase], concepts: ConceptTokens | None = None) -> None:
        if len(cases) < 20:
            raise ValueError(f"need at least 20 training cases, got {len(cases)}")
        self.concepts = concepts
        inputs = [features_text(c.text, c.age, c.sex, concepts) for c in cases]
        self.features = _features().fit(inputs)
        matrix = self.features.transform(inputs)
        self.route_model = _logistic().fit(matrix, [c.route.value for c in cases])
        self.urgency_model = _logistic().fit(matrix, [c.urgency.value for c in cases])
        self.size = len(cases)
        offset = 0
        self._fast: list[_FastTfidf] = []
        for _, vectorizer in self.features.transformer_list:
            self._fast.append(_FastTfidf(vectorizer, offset))
            offset += len(vectorizer.vocabulary_)
        self._route_weights = self.route_model.coef_.T.copy()
        self._urgency_weights = self.urgency_model.coef_.T.copy()

    def _probabilities(self, document: str) -> tuple[np.ndarray, np.ndarray]:
        parts = [f.transform(document) for f in self._fast]
        indices = np.concatenate([i for i, _ in parts])
        values = np.concatenate([v for _, v in parts])
        out = []
        for weights, model in (
            (self._route_weights, self.route_model),
            (self._urgency_weights, self.urgency_model),
        ):
            logits = values @ weights[indices] + model.intercept_
            logits -= logits.max()
            exp = np.exp(logits)
            out.append(exp / exp.sum())
        return out[0], out[1]

    def reference_probabilities(self, document: str) -> tuple[np.ndarray, np.ndarray]:
        """The same probabilities computed by scikit-learn itself (the oracle for tests)."""
        x = self.features.transform([document])
        return self.route_model.predict_proba(x)[0], self.urgency_model.predict_proba(x)[0]

    def document(
        self, text: str, age: float | None, sex: str | None, concepts: list[str] | None = None
    ) -> str:
        if concepts is not None:
            return features_text(text, age, sex, lambda *_: concepts)
        return features_text(text, age, sex, self.concepts)

    def predict(
        self, text: str, age: float | None, sex: str | None, concepts: list[str] | None = None
    ) -> Prediction:
        """Classify one message; ``concepts`` skips re-matching when the caller has them."""
        rp, up = self._probabilities(self.document(text, age, sex, concepts))
        best = int(np.argmax(up))
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
