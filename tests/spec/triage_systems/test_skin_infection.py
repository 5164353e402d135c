"""Spec tests for sepsis without the word and the skin emergencies (systems/skin_infection.yaml).

Expected outcomes come from the cited guidance: NICE NG51 high-risk criteria, NICE CG151
(neutropenic sepsis: any fever or feeling unwell on chemotherapy), asplenia (NG51 risk factors,
Green Book), NICE NG141 (cellulitis, orbital cellulitis, necrotising fasciitis), NICE NG240
(non-blanching rash), NHS.UK Stevens-Johnson syndrome, NICE CKS eczema herpeticum, NICE NG184
(bites) and the UKHSA Green Book tetanus chapter.
"""

from __future__ import annotations

import pytest

from pcn.triage import TriageRequest, triage


def decide(text: str, age: float = 45, sex: str = "F"):  # type: ignore[no-untyped-def]
    return triage(TriageRequest(text=text, age=age, sex=sex))


RED = [
    # NG51 high-risk features in lay words
    ("I have a chest infection and now my knees look mottled", 67, "inf_sepsis_high_risk"),
    (
        "Mum has a water infection, her hands and feet are ice cold "
        "and she says she has never felt this ill",
        82,
        "inf_sepsis_high_risk",
    ),
    ("78M, UTI on trimethoprim, anuric 18h, ashen", 78, "inf_sepsis_high_risk"),
    ("flu for 3 days and I have not had a wee since yesterday", 40, "inf_sepsis_high_risk"),
    # CG151 neutropenic sepsis
    (
        "I'm on chemo for breast cancer and feel shivery and unwell, my temperature is 37.6",
        54,
        "inf_neutropenic_sepsis",
    ),
    ("54F day 10 of cycle 3 FEC, feels unwell, afebrile", 54, "inf_neutropenic_sepsis"),
    (
        "my husband is having chemotherapy and has a temperature of 38.1",
        60,
        "inf_neutropenic_sepsis",
    ),
    # Asplenia
    ("I had my spleen removed and now have a fever", 50, "inf_asplenia_fever"),
    ("post-splenectomy, rigors and shivers", 50, "inf_asplenia_fever"),
    ("I have sickle cell disease and a temperature of 38.5", 22, "inf_asplenia_fever"),
    # Necrotising fasciitis
    (
        "small cut on my leg but the pain is out of proportion and the skin is going dusky",
        58,
        "skin_necrotising_fasciitis",
    ),
    (
        "the redness is spreading really fast, I drew round it an hour ago and it has spread past "
        "the line",
        45,
        "skin_necrotising_fasciitis",
    ),
    ("?nec fasc, crepitus over thigh, severe pain", 61, "skin_necrotising_fasciitis"),
    # Orbital / periorbital cellulitis
    (
        "my son's eye is swollen shut and red, he has a temperature and it hurts when he moves his "
        "eye",
        7,
        "skin_orbital_cellulitis",
    ),
    (
        "periorbital swelling with proptosis and painful eye movements",
        30,
        "skin_orbital_cellulitis",
    ),
    # Cellulitis with systemic features
    ("I've got cellulitis on my leg and now I'm confused", 71, "skin_cellulitis_systemic"),
    ("cellulitis R leg, febrile with rigors", 66, "skin_cellulitis_systemic"),
    # NG240 non-blanching rash
    (
        "she has tiny purple spots on her legs that don't fade when I press a glass on them",
        30,
        "skin_meningococcal_rash",
    ),
    ("febrile with a petechial rash", 19, "skin_meningococcal_rash"),
    ("non-blanching rash on his stomach", 30, "skin_meningococcal_rash"),
    # Stevens-Johnson syndrome / TEN
    (
        "I started lamotrigine 3 weeks ago and now have a blistering rash and sores in my mouth",
        33,
        "skin_sjs_ten",
    ),
    (
        "widespread skin peeling with mucosal ulceration after starting allopurinol, ?SJS",
        70,
        "skin_sjs_ten",
    ),
    # Eczema herpeticum, unwell
    (
        "my baby's eczema has got worse with clusters of painful blisters and she has a fever",
        0.8,
        "skin_eczema_herpeticum_unwell",
    ),
    ("eczema herpeticum, febrile", 4, "skin_eczema_herpeticum_unwell"),
    # Erythroderma
    (
        "my skin is red and peeling all over my body and I'm shivering uncontrollably",
        64,
        "skin_erythroderma",
    ),
    ("erythroderma on background of psoriasis", 58, "skin_erythroderma"),
    # NG184 high-risk bites
    ("our dog bit my son on the face and it's a deep puncture", 34, "skin_bite_high_risk"),
    ("fight bite to right hand knuckle, deep laceration", 24, "skin_bite_high_risk"),
    # Tetanus
    ("I stood on a rusty nail last week and now my jaw feels locked", 52, "skin_tetanus"),
    ("trismus 7 days after a puncture wound", 60, "skin_tetanus"),
]

URGENT = [
    ("my cat bit my leg and it broke the skin", "skin_bite_same_day"),
    ("human bite to forearm, skin broken", "skin_bite_same_day"),
    ("the skin on my cheek is red, hot and swollen", "skin_facial_cellulitis"),
    ("facial cellulitis, afebrile, well", "skin_facial_cellulitis"),
    ("my cut is infected and I've got a temperature", "skin_infection_fever"),
    ("cellulitis left shin, temp 38.3", "skin_infection_fever"),
    (
        "my daughter has eczema and now has clusters of little blisters near her mouth",
        "skin_eczema_herpeticum",
    ),
    ("atopic eczema with punched-out erosions", "skin_eczema_herpeticum"),
    ("my skin has gone red all over my body", "skin_widespread_redness"),
    ("redness covering 90% of his body", "skin_widespread_redness"),
    ("I stepped on a rusty nail in the garden", "skin_tetanus_prone_wound"),
    ("puncture wound contaminated with soil, tetanus status unknown", "skin_tetanus_prone_wound"),
]

# Wordings that fail because of the shared text reader (src/pcn/triage/text.py), not this file.
ENGINE_LIMITS = [
    pytest.param(
        "she says she has never felt this ill and has a water infection",
    ),
]

NOT_EMERGENCY = [
    "no rash, no fever, just a sore throat",
    "my eczema is dry and itchy, can I have more cream",
    "I had sepsis in 2020 and want to know my blood results",
    pytest.param(
        "the rash fades when I press a glass on it and she is playing happily",
    ),
    "what are the signs of sepsis?",
    "I finished chemotherapy 5 years ago and feel well, need my repeat prescription",
    "cold sore on my lip again",
    "the dog licked my hand, it did not break the skin",
    "my hands and feet are always cold in winter, no other symptoms",
    "my son has hand foot and mouth, blisters on his hands and ulcers in his mouth",
    "I have sickle cell trait and want to know if it matters for travel",
]


@pytest.mark.parametrize(("text", "age", "rule"), RED)
def test_red_flags_are_emergencies(text: str, age: float, rule: str) -> None:
    decision = decide(text, age=age)
    assert decision.urgency.value == "emergency"
    assert rule in decision.red_flags


@pytest.mark.parametrize(("text", "rule"), URGENT)
def test_same_day_problems_are_urgent(text: str, rule: str) -> None:
    decision = decide(text)
    assert decision.urgency.value != "emergency"
    assert rule in [r.id for r in decision.fired_rules]


@pytest.mark.parametrize("text", NOT_EMERGENCY)
def test_negated_past_hypothetical_and_benign_are_not_emergencies(text: str) -> None:
    assert decide(text).urgency.value != "emergency"


@pytest.mark.parametrize("text", ENGINE_LIMITS)
def test_known_reader_limitations(text: str) -> None:
    assert "inf_sepsis_high_risk" in decide(text, age=80).red_flags


def test_neutropenic_sepsis_needs_no_temperature() -> None:
    # CG151: feeling unwell on chemotherapy is an emergency whatever the thermometer says.
    decision = decide("on chemotherapy, temperature normal but I feel awful and shivery", 48)
    assert "inf_neutropenic_sepsis" in decision.red_flags


def test_every_rule_has_two_positive_examples() -> None:
    from pcn.triage.definitions import default_definitions

    counts: dict[str, int] = {}
    for rule in [r for *_, r in RED] + [r for _, r in URGENT]:
        counts[rule] = counts.get(rule, 0) + 1
    rules = [r.id for r in default_definitions().rules if r.id.startswith(("skin_", "inf_"))]
    assert rules
    assert {r: counts.get(r, 0) for r in rules if counts.get(r, 0) < 2} == {}
