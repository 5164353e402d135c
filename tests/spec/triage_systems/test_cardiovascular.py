"""Spec tests for the cardiovascular red flags and same-day rules (systems/cardiovascular.yaml).

Expected outcomes come from the cited guidance (NICE CG95, NHS.UK heart attack, NICE CKS chest
pain, abdominal aortic aneurysm and peripheral arterial disease, NICE CG109, NG106/CG187, NG136),
not from running the engine. Each rule has a lay and a clinician-style message; negatives
(negated, past, hypothetical, benign look-alikes) must not make an emergency.
"""

from __future__ import annotations

import pytest

from tests.spec.triage_systems.checks import (
    check_not_an_emergency,
    check_red_flag,
    check_urgent_flag,
    rule_fires,
)

RED = [
    # acute coronary syndrome: wording the shared chest-pain concept misses (CG95)
    ("cv_acs_chest_pain_wording", "feels like an elephant is sitting on my chest", 58, "M"),
    ("cv_acs_chest_pain_wording", "band across my chest since an hour ago", 62, "F"),
    ("cv_acs_chest_pain_wording", "64M retrosternal tightness 40 min, GTN x2 no relief", 64, "M"),
    ("cv_acs_chest_pain_wording", "bad cheast pain", 50, "M"),
    ("cv_acs_named_any", "I think I'm having a heart attack", 55, "M"),
    ("cv_acs_named_any", "?ACS, ECG shows ST elevation in II, III, aVF", 71, "M"),
    ("cv_acs_named_any", "query NSTEMI, troponin raised at walk-in centre", 66, "F"),
    # atypical presentations: indigestion, jaw, arm, back (CG95; NHS.UK heart attack)
    ("cv_acs_atypical", "really bad indigestion and I'm sweating buckets", 61, "F"),
    ("cv_acs_atypical", "epigastric discomfort, grey and clammy, BP 100/60", 68, "M"),
    ("cv_acs_atypical", "my jaw is aching and I feel clammy", 57, "F"),
    ("cv_acs_atypical", "pain in both arms and he looks grey and sweaty", 70, "M"),
    ("cv_acs_atypical", "pain between my shoulder blades and short of breath", 59, "F"),
    (
        "cv_acs_atypical_diabetes",
        "I'm diabetic, bad indigestion since an hour ago and feel sick",
        58,
        "F",
    ),
    ("cv_acs_atypical_diabetes", "T2DM on insulin, sudden SOB, clammy, no chest pain", 63, "M"),
    (
        "cv_acs_atypical_older",
        "mum is 82, woke with indigestion this morning and feels nauseous",
        82,
        "F",
    ),
    ("cv_acs_atypical_older", "79M new L arm heaviness with nausea", 79, "M"),
    # aortic dissection (CKS chest pain; NHS.UK aortic dissection)
    ("cv_aortic_dissection", "sudden tearing pain going through to my back", 66, "M"),
    ("cv_aortic_dissection", "ripping pain between my shoulder blades, came on suddenly", 54, "M"),
    ("cv_aortic_dissection", "severe CP radiating to back, BP different in each arm", 72, "M"),
    ("cv_aortic_dissection", "?aortic dissection", 60, "F"),
    # abdominal aortic aneurysm (CKS AAA)
    ("cv_ruptured_aaa", "he has a known AAA and now has bad back pain and feels faint", 74, "M"),
    ("cv_ruptured_aaa", "husband has an aortic aneurysm being watched, now stomach pain", 76, "F"),
    ("cv_ruptured_aaa", "Known 5.2cm AAA. c/o L flank pain radiating to groin, pale", 78, "M"),
    ("cv_ruptured_aaa", "throbbing lump in my tummy and back pain", 69, "M"),
    ("cv_ruptured_aaa_unknown", "dad collapsed with back pain", 71, "M"),
    ("cv_ruptured_aaa_unknown", "sudden severe back pain, went grey and clammy", 67, "M"),
    ("cv_ruptured_aaa_unknown", "68M sudden L loin pain, dizzy, clammy, ?renal colic", 68, "M"),
    # acute limb ischaemia (CKS peripheral arterial disease)
    ("cv_acute_limb_ischaemia", "my leg has gone cold and white and it hurts", 72, "F"),
    ("cv_acute_limb_ischaemia", "R foot pale, cold, pulseless, 2h onset", 75, "M"),
    ("cv_acute_limb_ischaemia", "cannot feel a pulse in his foot", 80, "M"),
    ("cv_acute_limb_ischaemia", "his foot is ice cold and numb", 77, "M"),
    ("cv_acute_limb_ischaemia", "suspected acute limb ischaemia left leg", 69, "F"),
    # arrhythmia with syncope, chest pain or breathlessness (CKS palpitations; CG109)
    ("cv_arrhythmia_unstable", "heart going like the clappers and I feel faint", 45, "F"),
    ("cv_arrhythmia_unstable", "fast AF, presyncopal", 81, "M"),
    ("cv_arrhythmia_unstable", "pulse very slow and he keeps nearly passing out", 79, "M"),
    ("cv_arrhythmia_unstable", "my ICD went off twice this morning", 60, "M"),
    ("cv_arrhythmia_unstable", "SVT, tight chest and breathless", 33, "F"),
    ("cv_arrhythmia_unstable", "collapsed while running and had chest pain before", 19, "M"),
    # acute heart failure (CG187; NG106)
    ("cv_acute_heart_failure", "coughing up pink frothy spit", 77, "F"),
    ("cv_acute_heart_failure", "?acute LVF, pulmonary oedema on exam", 84, "M"),
    ("cv_acute_heart_failure", "can't lie flat, gasping for breath and clammy", 73, "M"),
    # hypertensive emergency (NG136)
    ("cv_hypertensive_emergency", "my blood pressure is really high and I'm confused", 52, "F"),
    (
        "cv_hypertensive_emergency",
        "my blood pressure is very high and my vision has gone blurry",
        48,
        "M",
    ),
    ("cv_hypertensive_emergency", "?malignant hypertension, papilloedema on fundoscopy", 44, "M"),
]

URGENT = [
    ("cv_arrhythmia_symptoms", "my heart keeps thumping and fluttering", 40, "F"),
    ("cv_arrhythmia_symptoms", "irregular pulse noted on BP machine", 70, "M"),
    ("cv_exertional_syncope", "my son passed out during football, fine now", 15, "M"),
    ("cv_exertional_syncope", "exertional syncope yesterday, now well", 28, "F"),
    ("cv_icd_single_shock", "my defibrillator shocked me once, I feel fine", 62, "M"),
    ("cv_icd_single_shock", "ICD discharged x1 this morning, asymptomatic", 58, "M"),
    ("cv_heart_failure_worsening", "I can't lie flat because I get breathless", 76, "F"),
    ("cv_heart_failure_worsening", "known HF, ankles more swollen and more breathless", 81, "M"),
    ("cv_heart_failure_worsening", "waking up gasping for breath at night", 70, "M"),
    ("cv_very_high_bp", "my bp is sky high", 55, "F"),
    ("cv_very_high_bp", "home BP readings dangerously high all week", 61, "M"),
]

NEGATIVE = [
    # negated
    ("no chest pain, no sweating, just need my statin reviewed", 60, "M"),
    ("no tearing pain, back ache after gardening", 55, "M"),
    # past
    ("had a heart attack in 2015, need my repeat prescription", 70, "M"),
    ("history of AAA repair, due my surveillance scan", 72, "M"),
    # hypothetical
    ("what are the signs of a heart attack in women?", 50, "F"),
    ("worried about getting blood clots in my legs on a long flight", 45, "F"),
    # benign look-alikes
    ("indigestion after curry, can I get gaviscon", 34, "M"),
    ("usual heartburn for months after big meals, on omeprazole", 52, "F"),
    ("my hands go white in the cold then red, raynauds", 30, "F"),
    ("jaw aches from grinding my teeth at night", 29, "F"),
    ("fainted at the sight of blood during my blood test", 22, "F"),
    ("need a blood pressure check, last reading was normal", 50, "M"),
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


def test_age_limits_of_atypical_rules() -> None:
    # indigestion with nausea at 40 without diabetes is not the older-person ACS rule
    assert not rule_fires(
        "cv_acs_atypical_older", "indigestion and feel sick since this morning", 40, "F"
    )
    assert rule_fires(
        "cv_acs_atypical_older", "indigestion and feel sick since this morning", 70, "F"
    )
