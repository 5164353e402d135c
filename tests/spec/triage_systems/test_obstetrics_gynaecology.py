"""Spec tests for obstetric and gynaecological emergencies (systems/obstetrics_gynaecology.yaml).

Expected outcomes come from the cited guidance: NICE NG126 (ectopic pregnancy and miscarriage),
NICE NG133 (pre-eclampsia symptoms), RCOG Green-top 57 (reduced fetal movements), NICE NG25
(preterm labour), RCOG Green-top 50 and 63 (cord prolapse, antepartum haemorrhage), NICE CKS
postpartum haemorrhage and puerperal sepsis, NICE CG192 (postpartum psychosis), NICE CKS nausea
and vomiting in pregnancy and NHS.UK heavy periods. Lay and clinician wordings per rule.
"""

from __future__ import annotations

import pytest

from pcn.triage import TriageRequest, triage


def decide(text: str, age: float = 29, sex: str = "F"):  # type: ignore[no-untyped-def]
    return triage(TriageRequest(text=text, age=age, sex=sex))


RED = [
    # NG126 ectopic pregnancy
    ("I'm 6 weeks pregnant and have sharp pain on my left side", "F", "obs_ectopic"),
    (
        "missed my period and now have pain in the tip of my shoulder and feel dizzy",
        "F",
        "obs_ectopic",
    ),
    ("28F LMP 7/52, UPT +ve, RIF pain, PV spotting", "F", "obs_ectopic"),
    ("positive test last week, now one-sided pain and I fainted", "F", "obs_ectopic"),
    ("I think it could be ectopic, bad stomach pain and bleeding", "F", "obs_ectopic"),
    # NG126 heavy bleeding in pregnancy or miscarriage
    (
        "I'm having a miscarriage and soaking through a pad every hour",
        "F",
        "obs_heavy_bleeding_pregnancy",
    ),
    (
        "8 weeks pregnant, bleeding heavily with big clots and I feel faint",
        "F",
        "obs_heavy_bleeding_pregnancy",
    ),
    ("G2P1 10/40 PV bleeding soaking pads hourly", "F", "obs_heavy_bleeding_pregnancy"),
    # RCOG GTG 63 antepartum haemorrhage
    ("I'm 32 weeks pregnant and bleeding from my vagina", "F", "obs_antepartum_haemorrhage"),
    ("34+2/40 PV bleed, painless", "F", "obs_antepartum_haemorrhage"),
    # Placental abruption
    (
        "36 weeks pregnant, my bump is rock hard and really painful and won't relax",
        "F",
        "obs_placental_abruption",
    ),
    (
        "32/40, constant abdominal pain, tender woody uterus, small PV bleed",
        "F",
        "obs_placental_abruption",
    ),
    # NG133 pre-eclampsia
    (
        "I'm 34 weeks pregnant with a really bad headache that won't go away",
        "F",
        "obs_pre_eclampsia",
    ),
    ("I had my baby 10 days ago and have a severe headache", "F", "obs_pre_eclampsia"),
    ("30/40 epigastric pain, ?PET", "F", "obs_pre_eclampsia"),
    ("pregnant 28 weeks and suddenly my face and hands are swollen", "F", "obs_pre_eclampsia"),
    ("36 weeks pregnant and seeing flashing lights", "F", "obs_pre_eclampsia"),
    # RCOG GTG 57 reduced fetal movements
    ("I'm 30 weeks and the baby has been really quiet today", "F", "obs_reduced_fetal_movements"),
    ("38/40 RFM since yesterday", "F", "obs_reduced_fetal_movements"),
    ("im 26 weeks and babys not moved all day", "F", "obs_reduced_fetal_movements"),
    ("my stomach is rock hard and I'm 34 weeks pregnant", "F", "obs_placental_abruption"),
    (
        "haven't felt the baby kick since this morning, I'm 35 weeks",
        "F",
        "obs_reduced_fetal_movements",
    ),
    # NG25 waters and preterm labour
    (
        "I'm 33 weeks pregnant and think my waters have gone, a trickle of clear fluid",
        "F",
        "obs_waters_broken",
    ),
    ("G1 30+1/40 ?PPROM", "F", "obs_waters_broken"),
    ("29 weeks pregnant and having regular contractions every 10 minutes", "F", "obs_labour"),
    ("G2P1 35/40 tightenings every 5 minutes and a show", "F", "obs_labour"),
    # RCOG GTG 50 cord prolapse
    (
        "my waters just broke and I can feel something coming out down there",
        "F",
        "obs_cord_prolapse",
    ),
    ("cord visible at introitus after SROM", "F", "obs_cord_prolapse"),
    # NICE CKS postpartum haemorrhage
    (
        "I gave birth 5 days ago and I'm soaking a pad every hour with huge clots",
        "F",
        "obs_postpartum_haemorrhage",
    ),
    ("day 8 postnatal, heavy PV bleeding, dizzy", "F", "obs_postpartum_haemorrhage"),
    # Puerperal sepsis
    ("had my baby last week, now I have a fever and smelly discharge", "F", "obs_postnatal_sepsis"),
    (
        "after my miscarriage I've got a high temperature and feel really unwell",
        "F",
        "obs_postnatal_sepsis",
    ),
    ("10/7 post LSCS, temp 38.6, offensive lochia", "F", "obs_postnatal_sepsis"),
    # CG192 postpartum psychosis
    (
        "my wife had a baby 2 weeks ago and now she is hearing voices and thinks the baby is evil",
        "M",
        "obs_postpartum_psychosis",
    ),
    (
        "day 6 postnatal, acute confusion and agitation, ?puerperal psychosis",
        "F",
        "obs_postpartum_psychosis",
    ),
    ("I keep having thoughts of harming my baby", "F", "obs_postpartum_psychosis"),
    # Ovarian torsion
    (
        "sudden severe pain on my right side low down and I keep being sick",
        "F",
        "gyn_ovarian_torsion",
    ),
    (
        "19F known ovarian cyst, sudden onset severe LIF pain, vomiting, ?torsion",
        "F",
        "gyn_ovarian_torsion",
    ),
    # Heavy menstrual bleeding with faintness
    (
        "my period is so heavy I'm changing a pad every hour and I nearly passed out",
        "F",
        "gyn_heavy_bleeding_faint",
    ),
    (
        "42F, passing large clots, soaking through pads hourly, presyncopal",
        "F",
        "gyn_heavy_bleeding_faint",
    ),
]

URGENT = [
    (
        "positive pregnancy test and some light brown spotting, no pain",
        "obs_early_pregnancy_problem",
    ),
    ("LMP 6/52, PV spotting, no pain", "obs_early_pregnancy_problem"),
    ("I had a c-section 2 weeks ago and my wound is red and oozing", "obs_postnatal_infection"),
    ("gave birth 10 days ago, temperature 38.2", "obs_postnatal_infection"),
    ("I'm 9 weeks pregnant and can't keep anything down, not even water", "obs_hyperemesis"),
    ("11/40, hyperemesis, ketones 3+", "obs_hyperemesis"),
    (
        "my period is really heavy, I'm soaking through a super tampon every hour",
        "gyn_acute_heavy_bleeding",
    ),
    ("heavy menstrual bleeding with large clots", "gyn_acute_heavy_bleeding"),
]

NOT_EMERGENCY = [
    "I'm 20 weeks pregnant and would like to book my whooping cough vaccine",
    "had an ectopic pregnancy in 2019, now trying to conceive",
    "not pregnant, negative test, period is a few days late, no pain",
    "I'm 30 weeks pregnant, baby moving lots, want to discuss my birth plan",
    "what are the signs of pre-eclampsia?",
    "34 weeks pregnant, no bleeding, no headache, just mild heartburn after meals",
    pytest.param(
        "8 weeks pregnant with mild nausea in the mornings",
    ),
    "my periods were heavy last year, need a review of my pill",
    "I am pregnant, no pain and no bleeding, need a midwife booking appointment",
    "my baby is 6 weeks old and I need my postnatal check booked",
]


@pytest.mark.parametrize(("text", "sex", "rule"), RED)
def test_red_flags_are_emergencies(text: str, sex: str, rule: str) -> None:
    decision = decide(text, sex=sex, age=35 if sex == "M" else 29)
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


def test_gynaecology_rules_are_for_women() -> None:
    text = "sudden severe pain on my right side low down and I keep being sick"
    assert "gyn_ovarian_torsion" not in decide(text, sex="M").red_flags


def test_every_rule_has_two_positive_examples() -> None:
    from pcn.triage.definitions import default_definitions

    counts: dict[str, int] = {}
    for rule in [r for *_, r in RED] + [r for _, r in URGENT]:
        counts[rule] = counts.get(rule, 0) + 1
    rules = [r.id for r in default_definitions().rules if r.id.startswith(("obs_", "gyn_"))]
    assert rules
    assert {r: counts.get(r, 0) for r in rules if counts.get(r, 0) < 2} == {}
