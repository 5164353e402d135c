"""The checks every body-system spec file makes on its red, urgent and negative examples."""

from __future__ import annotations

from pcn.triage import TriageRequest, triage
from pcn.triage.definitions import default_definitions
from pcn.triage.engine import default_engine
from pcn.triage.matching import fire_rule


def decide(text: str, age: float, sex: str):  # type: ignore[no-untyped-def]
    return triage(TriageRequest(text=text, age=age, sex=sex))


def rule_fires(rule_id: str, text: str, age: float, sex: str) -> bool:
    """Whether the rule's concepts are asserted in the message (independent of which step of
    the engine then decides, since the classifier may already escalate)."""
    rule = next(r for r in default_definitions().rules if r.id == rule_id)
    return bool(fire_rule(rule, default_engine().matcher.find(text, age, sex)))


def check_red_flag(rule: str, text: str, age: float, sex: str) -> None:
    d = decide(text, age, sex)
    assert d.urgency.value == "emergency"
    assert rule in d.red_flags, (text, d.red_flags)


def check_urgent_flag(rule: str, text: str, age: float, sex: str) -> None:
    d = decide(text, age, sex)
    assert d.urgency.value in ("urgent", "emergency")
    assert rule_fires(rule, text, age, sex)
    if d.decided_by == "urgent_flag":
        assert rule in [r.id for r in d.fired_rules]


def check_not_an_emergency(text: str, age: float, sex: str) -> None:
    d = decide(text, age, sex)
    assert d.urgency.value != "emergency", (text, d.red_flags, d.notes)
