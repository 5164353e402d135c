"""Spec tests for the triage engine: each red flag, context handling, Pharmacy First gateways and
exclusions, safety ordering, continuity and capacity. Expected outcomes come from the cited
guidance, not from running the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pcn.triage import PatientContext, Route, TriageRequest, Urgency, triage
from pcn.triage.definitions import (
    PUBLISHERS,
    DefinitionError,
    definitions_dir,
    load_definitions,
)

#: A request a benign pattern explains completely: routine, to a GP.
ROUTINE_GP_REQUEST = "I would like to talk to someone about HRT for my menopause symptoms"


def decide(text: str, age: float = 40, sex: str = "F", **kw: object):  # type: ignore[no-untyped-def]
    return triage(TriageRequest(text=text, age=age, sex=sex, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "age", "flag"),
    [
        ("crushing chest pain spreading to my left arm", 60, "chest_pain_cardiac"),
        ("my face has dropped on one side", 70, "stroke_fast"),
        ("lips and tongue swelling after peanuts", 20, "anaphylaxis"),
        ("I can't breathe and my lips are blue", 50, "severe_breathlessness"),
        ("infection and now mottled skin and not passed urine all day", 70, "sepsis"),
        ("I have a plan to kill myself tonight", 30, "suicide_risk_immediate"),
        ("the cut is bleeding heavily and won't stop", 30, "heavy_bleeding"),
        ("a rash that doesn't fade when I press a glass on it", 19, "meningitis"),
        ("back pain and numbness around my bottom", 45, "cauda_equina"),
        ("my baby is 6 weeks old with a temperature of 38.1", 0.1, "infant_fever"),
        ("my son is floppy and will not wake up", 2, "child_red_features"),
        ("worst headache of my life, came on suddenly", 45, "thunderclap_headache"),
        ("I am pregnant and have shoulder tip pain", 28, "ectopic_pregnancy"),
        ("swallowed my mums tablets", 3, "poisoning"),
        ("my toddler drank some of my methadone", 2, "poisoning"),
        ("I've been stabbed in the arm", 25, "major_trauma"),
        ("grandad fell and can't get up off the floor", 88, "long_lie_after_fall"),
        ("my waters have broken and I'm 31 weeks", 29, "waters_broken_or_labour"),
        ("my left arm and jaw ache and I feel clammy", 58, "chest_pain_cardiac"),
    ],
)
def test_red_flags_route_to_emergency_services(text: str, age: float, flag: str) -> None:
    decision = decide(text, age=age)
    assert decision.urgency is Urgency.emergency
    assert decision.route is Route.emergency_services
    assert flag in decision.red_flags
    assert decision.decided_by == "red_flag"


@pytest.mark.parametrize(
    "text",
    [
        "no chest pain, just a runny nose",
        "I don't have chest pain or shortness of breath, need my smear booked",
        "my dad had a stroke years ago, I'd like a blood pressure check",
        "what are the signs of a stroke?",
        "history of anaphylaxis as a child, need my repeat prescription",
        "not suicidal, just feeling low",
    ],
)
def test_negated_historical_and_hypothetical_mentions_do_not_fire(text: str) -> None:
    decision = decide(text)
    assert decision.red_flags == []
    assert decision.urgency is not Urgency.emergency


def test_proxy_message_about_a_relative_still_fires() -> None:
    decision = decide("my husband is slurring his words and his arm is weak", age=70, sex="M")
    assert decision.urgency is Urgency.emergency


def test_typos_and_text_speak_still_fire() -> None:
    decision = decide("cnt breeth n chest hurtin bad", age=55)
    assert decision.urgency is Urgency.emergency


def test_every_decision_explains_itself_with_the_source() -> None:
    decision = decide("sudden crushing chest pain and sweating", age=60)
    assert "chest_pain_cardiac" in decision.explanation
    assert "NHS.UK" in decision.explanation  # the cited source
    assert "'sweating'" in decision.explanation  # the evidence words


def test_same_input_same_decision() -> None:
    first = decide("sore ear and a bit of a cold", age=7)
    second = decide("sore ear and a bit of a cold", age=7)
    assert first.model_dump() == second.model_dump()


# --- Pharmacy First: gateway ages are inclusive lower bounds and inclusive upper bounds --------
@pytest.mark.parametrize(
    ("text", "age", "sex", "eligible"),
    [
        ("sore throat for 3 days", 5, "M", True),
        ("sore throat for 3 days", 4.9, "M", False),
        ("sinus pain and blocked nose for a week", 12, "F", True),
        ("sinus pain and blocked nose for a week", 11, "F", False),
        ("earache since yesterday", 1, "F", True),
        ("earache since yesterday", 17, "F", True),
        ("earache since yesterday", 18, "F", False),
        ("insect bite that is red and swollen", 1, "M", True),
        ("golden crusty sores, impetigo", 1, "M", True),
        ("shingles rash on my side", 18, "F", True),
        ("shingles rash on my side", 17, "F", False),
        ("burning when I wee", 16, "F", True),
        ("burning when I wee", 64, "F", True),
        ("burning when I wee", 65, "F", False),
        ("burning when I wee", 15, "F", False),
        ("burning when I wee", 30, "M", False),
    ],
)
def test_pharmacy_first_gateways(text: str, age: float, sex: str, eligible: bool) -> None:
    decision = decide(text, age=age, sex=sex)
    assert (decision.route is Route.pharmacy_first) is eligible, decision.explanation


@pytest.mark.parametrize(
    ("text", "age", "sex", "kw"),
    [
        ("burning when I wee", 30, "F", {"context": PatientContext(pregnant=True)}),
        ("I'm pregnant and it burns when I wee", 30, "F", {}),
        ("burning when I wee, I have a catheter", 50, "F", {}),
        ("another UTI, my third this year", 40, "F", {}),
        ("shingles rash near my eye", 50, "M", {}),
        ("impetigo with big blisters, bullous", 6, "F", {}),
        ("dog bite on my hand, red and swollen", 30, "M", {}),
        ("sinus pain and blocked nose for more than 12 weeks", 40, "F", {}),
        ("sore throat, I am on chemotherapy", 40, "F", {}),
    ],
)
def test_pharmacy_first_exclusions(text: str, age: float, sex: str, kw: dict[str, object]) -> None:
    decision = decide(text, age=age, sex=sex, **kw)
    assert decision.route is not Route.pharmacy_first, decision.explanation
    assert decision.route in (Route.gp, Route.anp)


def test_pharmacy_first_not_used_when_an_urgent_flag_fires() -> None:
    decision = decide("burning when I wee with a high temperature and pain in my side", age=30)
    assert decision.route is Route.gp
    assert decision.urgency is Urgency.urgent


# --- safety ordering -----------------------------------------------------------------------------
def test_red_flag_wins_over_navigation_and_pharmacy_first() -> None:
    decision = decide("need my repeat prescription, also sore throat and my tongue is swelling")
    assert decision.urgency is Urgency.emergency


def test_context_never_lowers_a_red_flag() -> None:
    context = PatientContext(
        long_term_conditions=["copd"], usual_clinician_id="C1", usual_clinician_role=Route.gp
    )
    decision = decide(
        "I can't breathe", age=70, context=context, capacity={Route.emergency_services: 0}
    )
    assert decision.urgency is Urgency.emergency
    assert decision.route is Route.emergency_services


# --- continuity and capacity -------------------------------------------------------------------
def test_continuity_sends_ltc_patient_to_usual_clinician_when_routine() -> None:
    context = PatientContext(
        long_term_conditions=["diabetes"], usual_clinician_id="GP07", usual_clinician_role=Route.anp
    )
    decision = decide(ROUTINE_GP_REQUEST, age=66, context=context)
    assert decision.urgency is Urgency.routine
    assert decision.route is Route.anp
    assert decision.usual_clinician_id == "GP07"
    assert any("continuity" in n for n in decision.notes)


def test_no_continuity_without_ltc_or_frailty() -> None:
    context = PatientContext(usual_clinician_id="GP07", usual_clinician_role=Route.anp)
    decision = decide(ROUTINE_GP_REQUEST, age=40, context=context)
    assert decision.route is Route.gp
    assert decision.usual_clinician_id is None


def test_capacity_moves_same_day_work_to_a_clinician_with_free_slots() -> None:
    decision = decide(
        "heart keeps fluttering today",
        capacity={Route.gp: 0, Route.anp: 3, Route.paramedic: 1},
    )
    assert decision.urgency is Urgency.urgent
    assert decision.route is Route.anp


def test_capacity_does_not_reroute_routine_work() -> None:
    decision = decide("my knee aches when I run", capacity={Route.fcp_physio: 0})
    assert decision.route is Route.fcp_physio


def test_housebound_patient_with_urgent_problem_gets_a_paramedic_visit() -> None:
    decision = decide(
        "new confusion since yesterday", age=88, context=PatientContext(housebound=True)
    )
    assert decision.urgency is Urgency.urgent
    assert decision.route is Route.paramedic


# --- definitions are data ------------------------------------------------------------------------
def test_every_rule_and_pathway_cites_a_source() -> None:
    definitions = load_definitions()
    assert len(definitions.rules) >= 50
    assert len(definitions.pathways) == 7
    for item in [*definitions.rules, *definitions.pathways]:
        assert item.source.publisher in PUBLISHERS
        assert item.source.reference and item.source.title


def test_definition_with_unknown_field_is_rejected(tmp_path: Path) -> None:
    for source in definitions_dir().glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text())
    red = yaml.safe_load((tmp_path / "red_flags.yaml").read_text())
    red["rules"][0]["severity"] = "high"
    (tmp_path / "red_flags.yaml").write_text(yaml.safe_dump(red))
    with pytest.raises(DefinitionError, match=r"(?s)red_flags\.yaml.*severity"):
        load_definitions(tmp_path)


def test_definition_referring_to_unknown_concept_is_rejected(tmp_path: Path) -> None:
    for source in definitions_dir().glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text())
    red = yaml.safe_load((tmp_path / "red_flags.yaml").read_text())
    red["rules"][0]["when"] = [["chest_pian"]]
    (tmp_path / "red_flags.yaml").write_text(yaml.safe_dump(red))
    with pytest.raises(DefinitionError, match="unknown concept 'chest_pian'"):
        load_definitions(tmp_path)


def test_emergency_rule_must_route_to_emergency_services(tmp_path: Path) -> None:
    for source in definitions_dir().glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text())
    red = yaml.safe_load((tmp_path / "red_flags.yaml").read_text())
    red["rules"][0]["route"] = "gp"
    (tmp_path / "red_flags.yaml").write_text(yaml.safe_dump(red))
    with pytest.raises(DefinitionError, match="emergency_services"):
        load_definitions(tmp_path)


def test_child_red_flag_fires_when_a_parent_gives_their_own_age() -> None:
    # No age in the text and an adult age on the form: the child's age is unknown, so the
    # child-only red flags must still fire.
    decision = decide("my daughter has had no wet nappies since this morning", age=29)
    assert decision.urgency is Urgency.emergency
    assert "child_red_features" in decision.red_flags


def test_infant_only_rule_needs_a_baby_when_age_is_unknown() -> None:
    # A school-age "son" with a fever is not a baby under 3 months.
    decision = decide("my son has a temperature of 38.5 and a cough", age=35, sex="M")
    assert "infant_fever" not in decision.red_flags


def test_capacity_moves_routine_work_to_the_next_suitable_role() -> None:
    # routine GP work (headaches for weeks), no GP slots today, an ANP has two
    decision = decide(ROUTINE_GP_REQUEST,
                      capacity={Route.gp: 0, Route.anp: 2})
    assert decision.urgency is Urgency.routine
    assert decision.route is Route.anp
    assert "capacity: no gp slots today, next suitable role anp has 2" in decision.explanation


def test_capacity_keeps_routine_work_when_no_suitable_role_has_room() -> None:
    decision = decide(ROUTINE_GP_REQUEST,
                      capacity={Route.gp: 0, Route.anp: 0})
    assert decision.route is Route.gp
    assert "book the next available" in decision.explanation


def test_continuity_outweighs_capacity_for_routine_ltc_patient() -> None:
    context = PatientContext(long_term_conditions=["copd"], usual_clinician_id="C1",
                             usual_clinician_role=Route.gp)
    decision = decide(ROUTINE_GP_REQUEST, age=70, context=context,
                      capacity={Route.gp: 0, Route.anp: 4})
    assert decision.route is Route.gp
    assert decision.usual_clinician_id == "C1"


def test_capacity_never_touches_an_emergency() -> None:
    decision = decide("crushing chest pain spreading to my left arm", age=60,
                      capacity={Route.emergency_services: 0, Route.gp: 5})
    assert decision.urgency is Urgency.emergency
    assert decision.route is Route.emergency_services
