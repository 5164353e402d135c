"""Spec tests for the paediatric red and amber features (systems/paediatrics.yaml).

Expected outcomes come from the cited guidance: NICE NG143 traffic-light table (red: 999/A&E;
amber: same-day face to face), NICE NG9 bronchiolitis, NICE CKS croup, gastroenteritis,
intussusception and acute childhood limp, NICE NG18, NICE CG89 and NICE CKS Kawasaki disease.
Each rule has lay (parent) and clinician-style wording; negatives must not make an emergency.
"""

from __future__ import annotations

import pytest

from pcn.triage import TriageRequest, triage

PARENT_AGE = 34  # the form's age when a parent writes about "my son" with no age in the text


def decide(text: str, age: float, sex: str = "F"):  # type: ignore[no-untyped-def]
    return triage(TriageRequest(text=text, age=age, sex=sex))


RED = [
    # NG143 red: colour
    ("My 2 year old has gone really pale and his legs look mottled", PARENT_AGE, "paed_colour_red"),
    ("my daughter has blue lips and she is burning up", PARENT_AGE, "paed_colour_red"),
    ("18/12 M, febrile, mottled peripheries, ashen", 1.5, "paed_colour_red"),
    ("baby is white as a sheet and cold to touch", 0.3, "paed_colour_red"),
    ("my son looks motled and grey", PARENT_AGE, "paed_colour_red"),
    # NG143 red: activity
    ("my baby is not responding to me and just staring blankly", PARENT_AGE, "paed_unresponsive"),
    (
        "My son won't wake up properly, he keeps falling back to sleep and has a temperature",
        PARENT_AGE,
        "paed_unresponsive",
    ),
    ("4yo, febrile, unrousable, glazed look", 4, "paed_unresponsive"),
    ("she doesnt react to us at all, like a rag doll", 2, "paed_unresponsive"),
    # NG232 / CG89: an injured or fallen baby who then vomits or is drowsy
    ("baby slipped off the settee onto the floor, she's been sick since", 0.4,
     "paed_infant_injury_unwell"),
    ("5/12 M dropped by sibling, now more sleepy than usual", 0.42, "paed_infant_injury_unwell"),
    # NG143 red: weak, high-pitched or continuous cry
    ("my 4 month old has a weird high-pitched cry and won't feed", PARENT_AGE, "paed_abnormal_cry"),
    ("baby crying non stop for 3 hours and we cannot console him", PARENT_AGE, "paed_abnormal_cry"),
    ("6/12 infant, inconsolable, weak cry", 0.5, "paed_abnormal_cry"),
    # NG143 / NG9 respiratory red
    ("my son is breathing fast and his ribs are sucking in", 2, "paed_respiratory_distress"),
    ("my baby is head bobbing when she breathes", PARENT_AGE, "paed_respiratory_distress"),
    (
        "9/12 bronchiolitis, subcostal and intercostal recession, grunting",
        0.75,
        "paed_respiratory_distress",
    ),
    ("the skin is pulling in under her ribs with every breath", 1, "paed_respiratory_distress"),
    # NG9 apnoea
    ("my 6 week old keeps stopping breathing for a few seconds", PARENT_AGE, "paed_apnoea"),
    ("baby has pauses in her breathing and had a blue spell", PARENT_AGE, "paed_apnoea"),
    ("3/12 bronchiolitis, apnoeic episodes observed by mum", 0.25, "paed_apnoea"),
    # CKS croup: stridor at rest
    (
        "my son has croup and is making a noisy sound when he breathes in even when he's resting",
        PARENT_AGE,
        "paed_stridor_at_rest",
    ),
    ("2yo croup, stridor at rest, sternal recession", 2, "paed_stridor_at_rest"),
    ("barking cough and now drooling and can't swallow his spit", 3, "paed_stridor_at_rest"),
    # CG84 / NG143 dehydration and shock
    (
        "my baby has had diarrhoea, her skin stays pinched up when I pinch it "
        "and she is very sleepy",
        PARENT_AGE,
        "paed_dehydration_shock",
    ),
    ("she has sunken eyes and is really drowsy", 1, "paed_dehydration_shock"),
    ("14/12, D&V 3/7, reduced skin turgor, lethargic", 1.2, "paed_dehydration_shock"),
    # NG143 red: bulging fontanelle, neck stiffness, focal seizures
    ("her soft spot is bulging and she has a fever", 0.5, "paed_bulging_fontanelle"),
    ("7/12 febrile, tense fontanelle", 0.6, "paed_bulging_fontanelle"),
    (
        "my 7 year old has a high temperature and can't put his chin on his chest",
        PARENT_AGE,
        "paed_neck_stiffness",
    ),
    ("5yo, pyrexial, neck stiffness, photophobia", 5, "paed_neck_stiffness"),
    ("she keeps arching her neck back and is really drowsy", 1, "paed_neck_stiffness"),
    ("my sons left arm keeps jerking and he is staring", 6, "paed_focal_seizure"),
    ("3yo, febrile convulsion lasting 10 minutes", 3, "paed_focal_seizure"),
    ("twitching down the right side of her face", 2, "paed_focal_seizure"),
    # Intussusception
    (
        "my 9 month old keeps screaming and drawing his legs up, "
        "it comes and goes every 15 minutes",
        PARENT_AGE,
        "paed_intussusception",
    ),
    ("there is red jelly like stuff in her nappy", 1, "paed_intussusception"),
    (
        "10/12 M, colicky abdominal pain, drawing knees up, vomiting, redcurrant jelly stool",
        0.8,
        "paed_intussusception",
    ),
    # Bilious vomiting
    ("my 2 week old baby is being sick and it's bright green", PARENT_AGE, "paed_bilious_vomiting"),
    ("3/52 neonate, bilious vomiting x3", 0.06, "paed_bilious_vomiting"),
    ("toddler vomiting green bile", 2, "paed_bilious_vomiting"),
    # Button batteries and magnets
    ("my son swallowed a button battery from the remote", 3, "paed_button_battery"),
    ("I think she has swallowed two magnets from her brothers toy", 4, "paed_button_battery"),
    ("2yo, witnessed ingestion of lithium coin cell battery", 2, "paed_button_battery"),
    ("he has pushed a battery up his nose", 3, "paed_button_battery"),
    # DKA (NG18)
    (
        "my 10 year old has been really thirsty and weeing loads, now she's vomiting",
        PARENT_AGE,
        "paed_dka",
    ),
    ("8yo T1DM, vomiting since this morning", 8, "paed_dka"),
    ("she's lost weight, is always thirsty and her breath smells of pear drops", 12, "paed_dka"),
    # Limp or swollen joint with fever
    ("my son has a temperature and won't walk on his leg", 4, "paed_limp_with_fever"),
    ("3yo limping, temp 38.9, refusing to weight bear", 3, "paed_limp_with_fever"),
    ("swollen knee and a fever", 8, "paed_limp_with_fever"),
]

URGENT = [
    ("my daughter has a barking cough like a seal, worse at night", 3, "paed_croup"),
    ("3yo croup, mild, barky cough, no stridor or recession at rest", 3, "paed_croup"),
    ("my babys nostrils are flaring when she breathes", 0.5, "paed_respiratory_amber"),
    ("nasal flaring, otherwise well, feeding ok", 1, "paed_respiratory_amber"),
    (
        "my 8 month old is only taking half of her usual bottles and has fewer wet nappies",
        PARENT_AGE,
        "paed_dehydration",
    ),
    ("6/12 poor feeding, reduced wet nappies, dry mucous membranes", 0.5, "paed_dehydration"),
    ("her soft spot looks sunken", 0.4, "paed_dehydration"),
    (
        "my 5 week old is projectile vomiting after every feed",
        PARENT_AGE,
        "paed_projectile_vomiting",
    ),
    (
        "4/52 M, forceful vomiting after every feed, ?pyloric stenosis",
        0.08,
        "paed_projectile_vomiting",
    ),
    (
        "my 6 year old is drinking loads and has started wetting the bed again",
        PARENT_AGE,
        "paed_suspected_type1_diabetes",
    ),
    ("9yo, 3/52 polyuria, polydipsia, weight loss", 9, "paed_suspected_type1_diabetes"),
    ("my 3 month old baby has a bruise on her leg", PARENT_AGE, "paed_bruise_young_baby"),
    ("8/52 infant, 1cm bruise on the left cheek", 0.15, "paed_bruise_young_baby"),
    ("4/12 infant, 2cm bruise left ear, not independently mobile", 0.33, "paed_bruise_non_mobile"),
    (
        "my baby is not crawling yet and has a bruise on her arm",
        PARENT_AGE,
        "paed_bruise_non_mobile",
    ),
    (
        "my 3 year old has had a fever for 6 days, red eyes and cracked red lips",
        PARENT_AGE,
        "paed_kawasaki",
    ),
    (
        "2yo, fever 5/7, conjunctival injection, strawberry tongue, peeling fingers",
        2,
        "paed_kawasaki",
    ),
    ("my daughter has had a temperature for a week now", 4, "paed_prolonged_fever"),
    ("18/12, pyrexia 6/7, no focus found", 1.5, "paed_prolonged_fever"),
    ("my son is having rigors with his fever", 5, "paed_amber_features"),
    ("she has a temperature, looks pale and is not smiling", 1, "paed_amber_features"),
    ("my 2 year old has started limping on his right leg", 2, "paed_amber_features"),
]

# Wordings the guidance says must be caught that fail because of the shared text reader
# (src/pcn/triage/text.py), not this rule file; kept so the gap stays visible.
ENGINE_LIMITS = [
    pytest.param(
        "my daughter's lips have turned blue and she is burning up",
        PARENT_AGE,
        "paed_colour_red",
    ),
    pytest.param(
        "there is a bruise on my 3 month old's cheek",
        PARENT_AGE,
        "paed_bruise_young_baby",
    ),
    pytest.param(
        "she has sunken eyes, no tears when crying, and is really drowsy",
        1,
        "red",
    ),
    pytest.param(
        "4/12 infant, not yet rolling, 2cm bruise left ear",
        0.33,
        "paed_bruise_non_mobile",
        marks=pytest.mark.xfail(strict=True, reason=(
            "'4/12' is read as 4 months only in the text, and 'not yet rolling' does not reach "
            "the non-mobile concept: still urgent through the gate, but not by this rule")),
    ),
]

NOT_EMERGENCY = [
    ("no rash, no neck stiffness, she has a cold and a runny nose", 4),
    ("what are the signs of meningitis in a baby?", PARENT_AGE),
    ("my son had croup last year, can he have his booster jab", PARENT_AGE),
    ("my baby is wearing a blue babygrow in the photo for the form", PARENT_AGE),
    ("my daughter has eczema that is flaring up again, can I get more cream", 6),
    ("my son cries in the evening and pulls his legs up, is this colic", 0.2),
    ("my 8 year old is eating well, no vomiting, no fever, needs a school letter", 8),
    ("he had a fever for 5 days in 2019, now fine, need vaccination advice", 6),
    ("my 18 month old snores and has pauses in his breathing at night", 1.5),
    ("my 6 month old has a small bruise from her jabs yesterday", 0.5),
    ("my son (12) has an eyelid twitch when he is tired", 12),
    ("my teenage son is drinking lots of water after football training", 15),
]


@pytest.mark.parametrize(("text", "age", "rule"), RED)
def test_red_features_are_emergencies(text: str, age: float, rule: str) -> None:
    decision = decide(text, age)
    assert decision.urgency.value == "emergency"
    assert rule in decision.red_flags


@pytest.mark.parametrize(("text", "age", "rule"), URGENT)
def test_amber_features_are_seen_the_same_day(text: str, age: float, rule: str) -> None:
    decision = decide(text, age)
    assert decision.urgency.value != "emergency"
    assert rule in [r.id for r in decision.fired_rules]


@pytest.mark.parametrize(("text", "age"), NOT_EMERGENCY)
def test_negated_past_hypothetical_and_benign_are_not_emergencies(text: str, age: float) -> None:
    assert decide(text, age).urgency.value != "emergency"


@pytest.mark.parametrize(("text", "age", "expected"), ENGINE_LIMITS)
def test_known_reader_limitations(text: str, age: float, expected: str) -> None:
    decision = decide(text, age)
    if expected == "red":
        assert decision.urgency.value == "emergency"
    else:
        assert expected in [r.id for r in decision.fired_rules]


def test_every_paediatric_rule_has_two_positive_examples() -> None:
    from pcn.triage.definitions import default_definitions

    counts: dict[str, int] = {}
    for _, _, rule in RED + URGENT:
        counts[rule] = counts.get(rule, 0) + 1
    rules = [r.id for r in default_definitions().rules if r.id.startswith("paed_")]
    assert rules
    assert {r: counts.get(r, 0) for r in rules if counts.get(r, 0) < 2} == {}
