"""The learned component: its fast inference path agrees with scikit-learn, and training is
deterministic."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from pcn.triage.learned import TextClassifier, corpus_path, default_classifier, load_cases


def _messages() -> list[dict[str, str]]:
    with corpus_path("labelled_cases.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))[::9]


def test_fast_inference_matches_scikit_learn() -> None:
    model = default_classifier()
    for row in _messages():
        document = model.document(row["text"], float(row["age"]), row["sex"])
        fast_route, fast_urgency = model._probabilities(document)
        ref_route, ref_urgency = model.reference_probabilities(document)
        np.testing.assert_allclose(fast_route, ref_route, atol=1e-9)
        np.testing.assert_allclose(fast_urgency, ref_urgency, atol=1e-9)


def test_training_is_deterministic() -> None:
    cases = load_cases(corpus_path())[::2]
    first, second = TextClassifier(cases), TextClassifier(cases)
    for row in _messages():
        a = first.predict(row["text"], float(row["age"]), row["sex"])
        b = second.predict(row["text"], float(row["age"]), row["sex"])
        assert a == b


def test_too_small_a_corpus_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 20"):
        TextClassifier(load_cases(corpus_path())[:5])
