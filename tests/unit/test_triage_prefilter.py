"""The literal prefilter never skips a concept that would have matched."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pcn.triage.engine import default_engine
from pcn.triage.learned import corpus_path
from pcn.triage.prefilter import LiteralIndex, required_literals
from pcn.triage.text import read


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("chest (?:pain|ache)|angina", {"chest ", "angina"}),
        ("heart attack|cardiac arrest", {"heart attack", "cardiac arrest"}),
        ("suicid\\w*|kill(?:ing)? (?:myself|himself)", {"suicid", "myself", "himself"}),
        ("(?<!x)\\bfoo", {"foo"}),
        ("x?yz", None),  # "yz" is too short to be worth checking
        ("(?:a|b)c", None),
        ("(?:very )?bad", {"bad"}),
        ("(?:very )*worse", {"worse"}),
        ("[a-z]+ing", {"ing"}),
    ],
)
def test_required_literals(pattern: str, expected: set[str] | None) -> None:
    found = required_literals(pattern)
    assert (None if found is None else set(found)) == expected


def test_index_reports_overlapping_literals() -> None:
    index = LiteralIndex([frozenset({"chest pain"}), frozenset({"pain", "ache"})])
    assert index.present("my chest pain") == {"chest pain", "pain"}


def _messages() -> list[str]:
    folder = corpus_path("labelled_cases.csv").parent
    texts = []
    for path in [folder / "labelled_cases.csv", folder / "holdout_cases.csv",
                 folder / "training_corpus.csv", *sorted((folder / "evaluation").glob("b*.csv"))]:
        with Path(path).open(newline="", encoding="utf-8") as fh:
            texts += [row["text"] for row in csv.DictReader(fh)]
    return texts


def test_prefilter_is_sound_for_every_concept_on_every_known_message() -> None:
    matcher = default_engine().matcher
    skipped_but_matching = []
    for message in _messages():
        reading = read(message, matcher.vocabulary, matcher.known_words)
        present = matcher._literals.present(reading.text)
        for name, pattern in matcher._patterns.items():
            required = matcher._required[name]
            if required is None or not present.isdisjoint(required):
                continue
            if any(pattern.search(clause.text) for clause in reading.clauses):
                skipped_but_matching.append((name, message[:60]))
    assert skipped_but_matching == []
