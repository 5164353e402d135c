"""Reading patient text: normalisation, clause scope (negation, history, hypotheticals), numbers."""

from __future__ import annotations

import pytest

from pcn.triage.text import is_negated, normalise, read


def _scope_of(message: str, phrase: str) -> tuple[bool, bool, bool]:
    """(negated, historical, hypothetical) for the first mention of ``phrase``."""
    reading = read(message)
    for clause in reading.clauses:
        at = clause.text.find(phrase)
        if at >= 0:
            return (
                is_negated(clause, at, at + len(phrase)),
                clause.historical,
                clause.hypothetical,
            )
    raise AssertionError(f"{phrase!r} not found in {reading.text!r}")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I cant breath", "i unable to breathe"),
        ("im gettin chest pain n feel sick", "i am getting chest pain and feel sick"),
        ("can't stop the bleeding", "unable to stop the bleeding"),
        ("my tummy hurts 2day", "my stomach hurts today"),
        ("vomitting and diarhoea", "vomiting and diarrhoea"),
        ("soooo tired", "soo tired"),
    ],
)
def test_normalise_text_speak_and_spelling(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_normalise_fuzzy_corrects_only_near_known_words() -> None:
    vocabulary = frozenset({"breathing", "unconscious"})
    assert normalise("breathng is bad", vocabulary) == "breathing is bad"
    assert normalise("he is unconsious", vocabulary) == "he is unconscious"
    # Short words and unrelated words are left alone.
    assert normalise("bread is bad", vocabulary) == "bread is bad"


@pytest.mark.parametrize(
    ("message", "phrase", "expected"),
    [
        ("no chest pain at all", "chest pain", (True, False, False)),
        ("I deny chest pain", "chest pain", (True, False, False)),
        ("no fever, cough or chest pain", "chest pain", (True, False, False)),
        ("no fever but chest pain since lunch", "chest pain", (False, False, False)),
        ("I do not have a fever and my chest pain is bad", "chest pain", (False, False, False)),
        ("my dad had a stroke years ago", "stroke", (False, True, False)),
        ("history of stroke in 2019", "stroke", (False, True, False)),
        ("my dad is having a stroke right now", "stroke", (False, False, False)),
        ("what are the signs of a stroke", "stroke", (False, False, True)),
        ("what if I get chest pain on the plane", "chest pain", (False, False, True)),
        ("the rash does not fade under a glass", "rash", (False, False, False)),
    ],
)
def test_scope_of_mentions(message: str, phrase: str, expected: tuple[bool, bool, bool]) -> None:
    assert _scope_of(message, phrase) == expected


def test_inability_is_not_negation() -> None:
    negated, _, _ = _scope_of("I cannot breathe properly", "breathe")
    assert not negated


@pytest.mark.parametrize(
    ("message", "celsius"),
    [
        ("temp of 38.5 this morning", 38.5),
        ("his temperature is 39", 39.0),
        ("fever 102F", pytest.approx(38.89, abs=0.01)),
        ("the thermometer says 37,8 degrees", 37.8),
        ("I am 38 years old", None),
    ],
)
def test_temperature_extraction(message: str, celsius: float | None) -> None:
    assert read(message).max_temperature_c == celsius


@pytest.mark.parametrize(
    ("message", "years"),
    [
        ("my 6 month old has a cough", 0.5),
        ("my 3 week old is not feeding", pytest.approx(3 / 52)),
        ("my 4 year old fell", 4.0),
        ("my newborn is hot", pytest.approx(0.05)),
        ("I have a cough", None),
    ],
)
def test_subject_age_from_text(message: str, years: float | None) -> None:
    assert read(message).subject_age == years
