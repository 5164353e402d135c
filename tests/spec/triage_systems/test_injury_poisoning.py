"""Spec tests for injuries, burns and poisoning (systems/injury_poisoning.yaml).

Expected outcomes come from the cited guidance: NICE CKS burns and scalds with NHS.UK burns
(A&E for chemical, electrical, large, deep, or blistering burns of the face, hands, arms, feet,
legs or genitals; medical help for children under 5 and people over 60), NICE CKS poisoning or
overdose (TOXBASE), NHS.UK carbon monoxide, alcohol poisoning, hypothermia and heatstroke, NICE
NG39 (major trauma), NHS.UK cuts (bleeding not stopped by pressure), NICE NG38 and CG124
(fractures, hip fracture) and NICE CKS bites.
"""

from __future__ import annotations

import pytest

from pcn.triage import TriageRequest, triage

# The shared 'overdose' concept (systems/mental_health_crisis.yaml) reads any double or extra
# dose, and even "I take 2 tablets", as an overdose taken (red flag overdose_taken). TOXBASE
# advice for a single accidental double dose of a low-risk medicine is same-day, not 999.
CROSS_FILE = "overdose_taken (mental_health_crisis.yaml) makes any extra dose a 999 red flag"


def decide(text: str, age: float = 40, sex: str = "M"):  # type: ignore[no-untyped-def]
    return triage(TriageRequest(text=text, age=age, sex=sex))


RED = [
    # Burns and scalds
    (
        "my toddler pulled a cup of boiling tea over his chest and it's blistering",
        30,
        "inj_burn_serious",
    ),
    ("I got a chemical burn from drain cleaner on my hands", 40, "inj_burn_serious"),
    ("full thickness burn to forearm, 4% TBSA", 35, "inj_burn_serious"),
    ("he got an electric shock from the socket", 30, "inj_burn_serious"),
    ("scalded my leg with the kettle and the burn is bigger than my hand", 50, "inj_burn_serious"),
    (
        "we had a kitchen fire and she breathed in a lot of smoke, her voice is hoarse",
        45,
        "inj_burn_serious",
    ),
    # Poisoning and overdose
    ("took too much paracetamol over the last few days for toothache", 30, "inj_overdose"),
    ("I think my drink was spiked, I feel really confused", 22, "inj_overdose"),
    ("staggered paracetamol overdose over 48 hours", 27, "inj_overdose"),
    ("my son got into nana's tablets", 30, "inj_child_ingestion"),
    ("my 2 year old bit into a washing pod", 30, "inj_child_ingestion"),
    ("3yo found chewing grandads tablets", 3, "inj_child_ingestion"),
    ("I accidentally took a double dose of my insulin", 62, "inj_extra_dose_high_risk"),
    (
        "gave my dad his tablets twice this morning by mistake, he takes bisoprolol and amlodipine",
        45,
        "inj_extra_dose_high_risk",
    ),
    ("took 2 extra doses of gliclazide", 70, "inj_extra_dose_high_risk"),
    (
        "took a few extra of my morphine tablets and now feel very drowsy",
        55,
        "inj_extra_dose_high_risk",
    ),
    # Carbon monoxide
    ("our carbon monoxide alarm is going off and I have a headache", 40, "inj_carbon_monoxide"),
    ("headaches since the new boiler went in, and the dog is ill too", 40, "inj_carbon_monoxide"),
    (
        "the boiler has been playing up and all of us have headaches and feel sick",
        40,
        "inj_carbon_monoxide",
    ),
    (
        "me and my husband and the kids all have headaches and feel dizzy at home but better at "
        "work",
        38,
        "inj_co_household_headache",
    ),
    (
        "whole family complaining of headaches and nausea, improves when out of the house",
        40,
        "inj_co_household_headache",
    ),
    # Alcohol poisoning
    (
        "my friend drank a whole bottle of vodka and now we can't wake her",
        19,
        "inj_alcohol_poisoning",
    ),
    (
        "he's been drinking all night and is being sick while passed out",
        20,
        "inj_alcohol_poisoning",
    ),
    ("intoxicated, vomiting, slow respirations", 24, "inj_alcohol_poisoning"),
    # Hypothermia and heatstroke
    ("found my grandad outside all night in the snow, he's very confused", 50, "inj_hypothermia"),
    ("elderly lady, no heating, very cold to touch and drowsy", 88, "inj_hypothermia"),
    (
        "we were at a festival in the heat and my son collapsed and is confused",
        45,
        "inj_heatstroke",
    ),
    ("heatstroke, hot dry skin, not sweating", 30, "inj_heatstroke"),
    # Drowning
    (
        "my daughter was pulled out of the pool after going under, she keeps coughing",
        35,
        "inj_drowning",
    ),
    ("near drowning in the river, now short of breath", 25, "inj_drowning"),
    # Major trauma mechanisms (NG39)
    ("my husband fell off a ladder while clearing the gutters", 45, "inj_major_trauma"),
    ("she was knocked off her bike by a car", 16, "inj_major_trauma"),
    ("RTC, driver, high speed, airbag deployed", 30, "inj_major_trauma"),
    # Bleeding not controlled by pressure
    (
        "I cut my hand with a knife and it's still bleeding after pressing on it for 20 minutes",
        33,
        "inj_uncontrolled_bleeding",
    ),
    ("blood is spurting out of the cut on his arm", 40, "inj_uncontrolled_bleeding"),
    ("deep laceration to thigh, arterial bleeding", 28, "inj_uncontrolled_bleeding"),
    # Amputation
    ("I've cut the tip of my finger off with a mandolin", 41, "inj_amputation"),
    ("partial amputation of left index finger, crush injury", 52, "inj_amputation"),
    # Deformity and dislocation
    ("fell off the trampoline and his arm is bent at a funny angle", 9, "inj_deformed_fracture"),
    ("?open fracture tib/fib, bone through the skin", 30, "inj_deformed_fracture"),
    ("I think I've dislocated my shoulder", 25, "inj_deformed_fracture"),
    # Long lie and hip fracture
    ("found my mum on the floor this morning, she'd been there all night", 50, "inj_long_lie"),
    ("89F, long lie approx 8 hours after a fall", 89, "inj_long_lie"),
    ("my nan fell and now has pain in her hip and can't stand up", 45, "inj_older_fall_hip"),
    ("84F mechanical fall, R hip pain, unable to weight bear", 84, "inj_older_fall_hip"),
    # Dog attack
    ("my son was attacked by a dog and has bites on his arms and legs", 38, "inj_dog_attack"),
    ("multiple dog bites to face and neck", 30, "inj_dog_attack"),
]

URGENT = [
    ("burnt my back on a radiator and it has a small blister", 40, "inj_burn_same_day"),
    ("my son (3) touched the iron, small red mark, no blister", 30, "inj_burn_same_day"),
    ("small burn on my arm from the oven door", 72, "inj_burn_older_adult"),
    ("superficial burn to forearm", 81, "inj_burn_older_adult"),
    ("I think I took my blood pressure tablet twice this morning", 58, "inj_accidental_extra_dose"),
    (
        "accidentally given the wrong tablets from my husband's dosette box",
        80,
        "inj_accidental_extra_dose",
    ),
    pytest.param(
        "pt took double dose of levothyroxine this am",
        63,
        "inj_accidental_extra_dose",
    ),
]

NOT_EMERGENCY = [
    "I burnt my toast this morning, can I have my repeat prescription",
    "food poisoning from a takeaway, diarrhoea since last night",
    "what should I do if someone has an electric shock?",
    "had a fall last year, would like a falls assessment",
    "fell down the stairs in 2018 and my knee still aches",
    pytest.param(
        "I take 2 tablets twice a day, can I have more",
    ),
    "how much paracetamol can I take in 24 hours?",
    "we all have colds and headaches in our house",
    "my son got a small scald from the bath, no blister, he is fine",
    pytest.param(
        "should I take extra insulin when I am ill? I need the sick day rules",
    ),
    "hot water bottle on my back helps my period pain",
]


@pytest.mark.parametrize(("text", "age", "rule"), RED)
def test_red_flags_are_emergencies(text: str, age: float, rule: str) -> None:
    decision = decide(text, age=age)
    assert decision.urgency.value == "emergency"
    assert rule in decision.red_flags


@pytest.mark.parametrize(("text", "age", "rule"), URGENT)
def test_same_day_problems_are_urgent(text: str, age: float, rule: str) -> None:
    decision = decide(text, age=age)
    assert decision.urgency.value != "emergency"
    assert rule in [r.id for r in decision.fired_rules]


@pytest.mark.parametrize("text", NOT_EMERGENCY)
def test_negated_past_hypothetical_and_benign_are_not_emergencies(text: str) -> None:
    assert decide(text).urgency.value != "emergency"


def test_every_rule_has_two_positive_examples() -> None:
    from pcn.triage.definitions import default_definitions

    counts: dict[str, int] = {}
    for *_, rule in RED + URGENT:
        counts[rule] = counts.get(rule, 0) + 1
    rules = [r.id for r in default_definitions().rules if r.id.startswith("inj_")]
    assert rules
    assert {r: counts.get(r, 0) for r in rules if counts.get(r, 0) < 2} == {}
