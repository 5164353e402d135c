"""Spec tests for the respiratory red flags and same-day rules (systems/respiratory.yaml).

Expected outcomes come from the cited guidance (BTS/SIGN 158 and NICE NG245 asthma, NICE NG115
COPD, NICE NG138 and NHS.UK chest infection, NICE NG158 VTE, NICE CKS haemoptysis, NHS.UK
pneumothorax and choking), not from running the engine. Each rule has a lay and a clinician-
style message; negatives (negated, past, hypothetical, benign look-alikes) must not make an
emergency.
"""

from __future__ import annotations

import pytest

from tests.spec.triage_systems.checks import (
    check_not_an_emergency,
    check_red_flag,
    check_urgent_flag,
)

RED = [
    # life-threatening / acute severe asthma (BTS/SIGN 158; NICE NG245; NHS.UK asthma attack)
    ("resp_asthma_life_threatening", "asthma attack, I can't finish my sentences", 24, "F"),
    ("resp_asthma_life_threatening", "I can only say a few words at a time", 35, "M"),
    ("resp_asthma_life_threatening", "44M asthmatic, silent chest, tracheal tug", 44, "M"),
    ("resp_asthma_life_threatening", "my asthma is bad, I'm exhausted and breathless", 30, "F"),
    ("resp_asthma_life_threatening", "taken 10 puffs of my blue inhaler and still wheezy", 19, "M"),
    ("resp_asthma_life_threatening", "my peak flow is in the red zone", 27, "F"),
    ("resp_asthma_life_threatening", "too breathless to talk, asthma", 52, "F"),
    # COPD exacerbation with danger signs (NICE NG115)
    ("resp_copd_danger", "COPD flare, now drowsy and muddled", 74, "M"),
    ("resp_copd_danger", "COPD on home oxygen, had to turn it up and still struggling", 70, "F"),
    ("resp_copd_danger", "emphysema and her lips are going blue", 79, "F"),
    ("resp_copd_danger", "AECOPD, rapidly deteriorating, breathless at rest", 68, "M"),
    # pneumonia with danger features (NICE NG138 CRB65; NHS.UK chest infection)
    ("resp_pneumonia_severe", "chest infection and now confused", 80, "F"),
    ("resp_pneumonia_severe", "CAP on amoxicillin, now drowsy, lips blue", 72, "M"),
    ("resp_pneumonia_severe", "pneumonia and he's really hard to wake", 85, "M"),
    # pulmonary embolism (NICE NG158)
    (
        "resp_pulmonary_embolism",
        "sharp pain when I breathe in and short of breath after a long haul flight",
        38,
        "F",
    ),
    ("resp_pulmonary_embolism", "on the pill, stabbing pain when breathing in", 26, "F"),
    ("resp_pulmonary_embolism", "3 weeks postpartum, sudden breathlessness", 31, "F"),
    ("resp_pulmonary_embolism", "day 5 post op hip replacement, pleuritic CP, ?PE", 71, "M"),
    (
        "resp_pulmonary_embolism",
        "left calf swollen and now coughing up blood streaked phlegm",
        55,
        "M",
    ),
    # pneumothorax (NHS.UK)
    ("resp_pneumothorax", "I think my lung has collapsed again", 22, "M"),
    ("resp_pneumothorax", "?pneumothorax, tall thin 19M, sudden R sided chest pain", 19, "M"),
    (
        "resp_pneumothorax",
        "sudden sharp pain on the right side of my chest and breathless",
        24,
        "M",
    ),
    # haemoptysis: massive or with danger features (NICE CKS haemoptysis)
    ("resp_haemoptysis_major", "coughing up cupfuls of blood", 62, "M"),
    ("resp_haemoptysis_major", "haemoptysis approx 100 ml of fresh blood", 70, "M"),
    ("resp_haemoptysis_major", "blood in my phlegm and I'm short of breath", 45, "F"),
    ("resp_haemoptysis_major", "on apixaban and coughing up blood", 77, "F"),
    # choking and inhaled foreign body (NHS.UK choking; Resuscitation Council UK)
    ("resp_choking", "my toddler inhaled a peanut", 2, "M"),
    ("resp_choking", "he choked on a grape and can't cough", 3, "M"),
    ("resp_choking", "food stuck in his windpipe, doing back blows", 70, "M"),
    (
        "resp_inhaled_object_persisting",
        "my son choked on a sweet earlier and is still coughing and wheezy",
        4,
        "M",
    ),
    (
        "resp_inhaled_object_persisting",
        "suspected foreign body aspiration, persistent cough and wheeze since",
        2,
        "F",
    ),
]

URGENT = [
    ("resp_asthma_worsening", "need my blue inhaler every 3 hours, asthma", 33, "F"),
    ("resp_asthma_worsening", "asthma, peak flow dropping to 60% of best, amber zone", 41, "M"),
    ("resp_asthma_worsening", "waking at night coughing with my asthma", 16, "F"),
    ("resp_copd_exacerbation", "my COPD is playing up, more green phlegm", 69, "M"),
    (
        "resp_copd_exacerbation",
        "COPD exacerbation, increased sputum purulence, started rescue pack",
        73,
        "F",
    ),
    ("resp_chest_infection_risk", "chest infection and I'm pregnant", 29, "F"),
    ("resp_chest_infection_risk", "LRTI, background of heart failure", 58, "M"),
    ("resp_chest_infection_older", "chest infection, coughing green phlegm", 70, "F"),
    ("resp_chest_infection_older", "?pneumonia, crackles at right base", 81, "M"),
    ("resp_pleuritic_pain", "sharp pain in my side when I take a deep breath", 40, "F"),
    ("resp_pleuritic_pain", "pleuritic pain left lower chest", 36, "M"),
    ("resp_haemoptysis", "coughed up a bit of blood in my phlegm this morning", 50, "M"),
    ("resp_haemoptysis", "blood streaked sputum x3 days", 66, "F"),
    ("resp_choking_episode", "he choked on a sweet but coughed it up and is fine now", 5, "M"),
    ("resp_choking_episode", "choking episode at lunch, dislodged with back blows", 80, "F"),
    ("resp_suspected_dvt", "my left leg is much bigger than the other", 50, "F"),
    ("resp_suspected_dvt", "R calf tenderness and unilateral leg swelling, ?DVT", 64, "M"),
    ("resp_suspected_dvt", "swollen calf since my flight home", 45, "M"),
]

NEGATIVE = [
    # negated
    ("asthma review please, no wheeze, not breathless, peak flow fine", 30, "F"),
    ("no blood in my phlegm, just a tickly cough", 40, "M"),
    # past
    ("had a pulmonary embolism in 2019, finished my anticoagulants, need advice", 45, "F"),
    ("history of pneumothorax years ago, is it safe to fly?", 30, "M"),
    # hypothetical
    ("what are the signs of a blood clot after surgery?", 60, "F"),
    ("what should I do if my child is choking?", 32, "F"),
    # benign look-alikes
    ("hay fever, itchy eyes and sneezing", 25, "F"),
    ("need a repeat of my salbutamol inhaler", 35, "M"),
    ("nose bleed that stopped after 5 minutes, just want advice", 30, "F"),
    ("calf cramp after running, settles with stretching", 28, "M"),
    ("spat a little blood after brushing my teeth, gums bleed", 35, "F"),
]


@pytest.mark.parametrize(("rule", "text", "age", "sex"), RED)
def test_red_flag_fires(rule: str, text: str, age: float, sex: str) -> None:
    check_red_flag(rule, text, age, sex)


@pytest.mark.parametrize(("rule", "text", "age", "sex"), URGENT)
def test_urgent_flag_fires(rule: str, text: str, age: float, sex: str) -> None:
    check_urgent_flag(rule, text, age, sex)


@pytest.mark.parametrize(("text", "age", "sex"), NEGATIVE)
def test_not_an_emergency(text: str, age: float, sex: str) -> None:
    check_not_an_emergency(text, age, sex)
