"""Literal prefilters for the concept patterns: skip a regular expression that cannot match.

For each pattern we derive, from its parsed form, a set of literal strings such that every match
must contain at least one of them (the idea of RE2's prefilter). If none occurs in the message
the pattern cannot match and is not run. The analysis is conservative: wherever it cannot be sure
(character classes, optional parts, look-arounds) it requires nothing, so a pattern without a
useful literal is always run. This keeps a 4,800-character message inside the latency budget
with several hundred concepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import ahocorasick

#: A requirement: any one of these strings must occur; ``None``: nothing can be required.
Requirement = frozenset[str] | None
#: Shorter literals filter too little to be worth checking.
MIN_LITERAL = 3


def _quality(requirement: Requirement) -> int:
    return min((len(s) for s in requirement), default=0) if requirement else 0


def _sequence(items: Any) -> Requirement:
    best: Requirement = None
    run: list[str] = []

    def consider(candidate: Requirement) -> None:
        nonlocal best
        if candidate and _quality(candidate) > _quality(best):
            best = candidate

    for op, value in items:
        if op is sre_constants.LITERAL:
            run.append(chr(value))
            continue
        if run:
            consider(frozenset({"".join(run)}))
            run = []
        consider(_node(op, value))
    if run:
        consider(frozenset({"".join(run)}))
    return best


def _node(op: Any, value: Any) -> Requirement:
    if op is sre_constants.SUBPATTERN:
        return _sequence(value[-1])
    if op is sre_constants.BRANCH:
        alternatives: set[str] = set()
        for branch in value[1]:
            requirement = _sequence(branch)
            if not requirement:
                return None
            alternatives |= requirement
        return frozenset(alternatives)
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
        low, _, item = value
        return _sequence(item) if low >= 1 else None
    return None


def required_literals(pattern: str) -> Requirement:
    """Strings one of which every match of ``pattern`` contains, or None if none can be
    required (too short to be useful counts as none)."""
    requirement = _sequence(sre_parse.parse(pattern))
    return requirement if _quality(requirement) >= MIN_LITERAL else None


class LiteralIndex:
    """Every required literal of every pattern in one Aho-Corasick automaton, so a message is
    scanned once for all of them (overlapping occurrences included)."""

    def __init__(self, requirements: Iterable[frozenset[str]]) -> None:
        self._automaton = ahocorasick.Automaton()
        for requirement in requirements:
            for literal in requirement:
                self._automaton.add_word(literal, literal)
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def present(self, text: str) -> set[str]:
        """The literals that occur in ``text``."""
        if self._empty:
            return set()
        return {literal for _, literal in self._automaton.iter(text)}
