"""Fail safe by construction (ADR 0021): a request leaves the clinical stream or waits for a
routine booking only when a known low-risk pattern explains all of it; everything else goes to a
clinician today, and danger goes up, never down. Also the crisis and safeguarding pathway."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcn.triage import Route, TriageRequest, Urgency, triage
from pcn.triage.confidence import default_lexicon

#: Requests a benign pattern explains completely, with where they belong.
BENIGN = [
    ("please can I have my repeat prescription of amlodipine, thanks", Route.admin),
    ("need a fit note extending for my back, still off work", Route.admin),
    ("I would like to book my smear test please", Route.practice_nurse),
    ("my knee has been aching for 3 months, worse on stairs, could I see the physio", None),
    ("runny nose and a tickly cough for 3 days, what can I take", None),
]
#: Words or phrases no benign pattern may explain away.
DANGER = [
    "and my leg has gone cold and white",
    "and I collapsed this morning",
    "and my lips have gone blue",
    "and I have been vomiting blood",
    "and I keep blacking out",
    "and there is blood in my sick",
    "and my face feels numb on one side",
    "and my little one is floppy and hard to wake",
]
LOW_ACUITY = {Urgency.routine, Urgency.self_care}
LEAVES_CLINICAL_STREAM = {Route.admin, Route.self_care, Route.community_pharmacy,
                          Route.pharmacy_first}


def decide(text: str, age: float = 40, sex: str = "F"):  # type: ignore[no-untyped-def]
    return triage(TriageRequest(text=text, age=age, sex=sex))


@pytest.mark.parametrize(("text", "route"), BENIGN)
def test_a_fully_explained_request_keeps_its_low_acuity_route(
    text: str, route: Route | None
) -> None:
    decision = decide(text)
    assert decision.confident, decision.explanation
    assert decision.urgency in LOW_ACUITY
    if route is not None:
        assert decision.route is route


@settings(max_examples=80, deadline=None)
@given(benign=st.sampled_from([t for t, _ in BENIGN]), danger=st.sampled_from(DANGER))
def test_danger_added_to_a_benign_request_is_never_low_acuity(benign: str, danger: str) -> None:
    decision = decide(f"{benign} {danger}")
    assert decision.urgency not in LOW_ACUITY, decision.explanation
    assert decision.route not in LEAVES_CLINICAL_STREAM


def test_a_request_nobody_wrote_a_rule_for_goes_to_a_clinician_today() -> None:
    decision = decide("there is something odd going on with my zorbulator since tuesday")
    assert decision.urgency is Urgency.urgent
    assert decision.decided_by == "not_confident"
    assert not decision.confident
    assert decision.route in {Route.gp, Route.anp}
    assert "not confidently classified" in decision.explanation
    assert "today" in decision.advice


def test_an_unexplained_symptom_word_names_itself_in_the_explanation() -> None:
    decision = decide("please can I have my repeat prescription, my legs have gone blotchy")
    assert decision.urgency is Urgency.urgent
    assert decision.route in {Route.gp, Route.anp}
    assert "'blotchy'" in decision.explanation


@pytest.mark.parametrize(
    "text",
    [
        "runny nose and sore throat, no fever, no rash, no trouble breathing",
        "my dad had a stroke years ago, I'd like a blood pressure check",
        "what are the signs of meningitis I should look out for?",
    ],
)
def test_negated_past_and_hypothetical_words_need_no_explaining(text: str) -> None:
    decision = decide(text)
    assert decision.urgency is not Urgency.emergency
    assert "unexplained" not in decision.explanation


def test_lexicon_knows_ordinary_clinical_misspelt_and_medical_words() -> None:
    lexicon = default_lexicon()
    assert lexicon.kind("appointment") == "common"
    assert lexicon.kind("theyre") == "common"  # apostrophes are dropped before reading
    assert lexicon.kind("bleeding") == "clinical"
    assert lexicon.kind("bleading") == "clinical"  # a misspelling of a clinical word
    assert lexicon.kind("haemoptysis") == "clinical"  # medical morphology
    assert lexicon.category("amlodipine") == "medicine"
    assert lexicon.kind("afebrile") == "common"  # reassuring


# --- crisis and safeguarding (issue 15, item 2) -----------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "thinking about ending my life, I have a plan",
        "I've saved up my tablets and I'm going to take them all tonight",
        "I've written letters for the kids and sorted my will, thanks for everything",
        "there's no point any more",
        "took about 16 of my paracetamol last night after a row, feel fine now",
        "I took a few too many of my sleeping tablets",
        "I cut my arm again tonight and it's gaping and won't stop bleeding",
        "I can't keep myself safe tonight",
        "he's outside the door shouting he's going to kill me, the kids are here",
        "my partner strangled me last night",
    ],
)
def test_crisis_and_danger_now_are_emergencies_with_signposting(text: str) -> None:
    decision = decide(text, age=30)
    assert decision.urgency is Urgency.emergency
    assert decision.route is Route.emergency_services
    assert decision.signpost in {"crisis", "safeguarding"}
    assert "999" in decision.advice


@pytest.mark.parametrize(
    "text",
    [
        "sometimes I wish I wouldn't wake up but I would never do anything",
        "I've been having thoughts of suicide on and off, no plans",
        "I self harm sometimes, did it last week, it has healed",
    ],
)
def test_passive_thoughts_without_a_plan_go_to_a_clinician_today(text: str) -> None:
    decision = decide(text, age=30)
    assert decision.urgency is Urgency.urgent
    assert decision.route not in LEAVES_CLINICAL_STREAM
    assert decision.signpost == "crisis"


def test_abuse_without_danger_now_is_same_day_with_safeguarding_help() -> None:
    decision = decide("my partner hit me last week, I'm staying with my sister now", age=34)
    assert decision.urgency is Urgency.urgent
    assert decision.signpost == "safeguarding"
    assert "0808 2000 247" in decision.advice


@pytest.mark.parametrize("text", ["not suicidal, just feeling low", "no thoughts of self harm"])
def test_negated_crisis_words_do_not_fire(text: str) -> None:
    assert decide(text).urgency is not Urgency.emergency


# --- several signs of danger together ---------------------------------------------------------
def _tiny_gate():  # type: ignore[no-untyped-def]
    from pcn.triage.confidence import Gate
    from pcn.triage.definitions import Concept, Definitions, Rule, Source
    from pcn.triage.matching import Matcher

    source = Source(publisher="NICE", title="t", reference="r")
    definitions = Definitions(
        concepts={
            "shoulder_tip": Concept(terms=["tip of (?:my|her) shoulder"]),
            "pelvic_pain": Concept(terms=["pain low down"]),
            "faint": Concept(terms=["dizzy|faint"]),
            "positive_test": Concept(terms=["test (?:was )?positive"]),
            "severe": Concept(terms=["severe|really bad"], intensity=True),
            "cough": Concept(terms=["cough"]),
        },
        rules=[
            Rule(id="ectopic", title="t", kind="red_flag", urgency="emergency",
                 route="emergency_services", source=source, why="w",
                 when=[["positive_test", "shoulder_tip", "pelvic_pain", "faint"],
                       ["severe", "pelvic_pain", "faint"]]),
            Rule(id="cough_urgent", title="t", kind="urgent_flag", urgency="urgent",
                 route="gp", source=source, why="w", when=[["cough", "faint"]]),
        ],
        pathways=[],
    )
    return Matcher(definitions), Gate(definitions)


def test_two_separate_signs_of_a_red_flag_are_enough_to_go_up() -> None:
    matcher, gate = _tiny_gate()
    findings = matcher.find("an ache at the tip of my shoulder and pain low down", 30, "F")
    assert gate.partial_red_flags(findings, set()) == ["tip of my shoulder", "pain low down"]
    # ... unless a benign pattern accounts for one of them
    assert gate.partial_red_flags(findings, {"pelvic_pain"}) == []


def test_one_sign_twice_intensity_or_urgent_flag_signs_do_not_count_as_several() -> None:
    matcher, gate = _tiny_gate()
    twice = matcher.find("pain low down, and more pain low down", 30, "F")
    assert gate.partial_red_flags(twice, set()) == []
    intensity = matcher.find("really bad pain low down", 30, "F")
    assert gate.partial_red_flags(intensity, set()) == []
    # "faint" is used by an urgent flag too: a sign of an everyday same-day problem
    shared = matcher.find("pain low down and dizzy", 30, "F")
    assert gate.partial_red_flags(shared, set()) == []
