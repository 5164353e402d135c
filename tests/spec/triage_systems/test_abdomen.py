"""Spec tests for the abdominal and urological red and urgent flags (systems/abdomen.yaml).

Expected outcomes come from the cited guidance (NICE CKS upper GI bleeding, gallstones,
pancreatitis, scrotal pain, urinary retention, renal colic; NICE NG51, NG111, NG148, CG141;
NHS.UK), written before running the engine. Each rule has at least one lay and one
clinician-style message that must fire it, and negated, past, hypothetical and look-alike
messages that must not make an emergency.
"""

from __future__ import annotations

import pytest

from pcn.triage import TriageRequest, triage
from pcn.triage.model import Decision


def decide(text: str, age: float = 50, sex: str = "F") -> Decision:
    return triage(TriageRequest(text=text, age=age, sex=sex))


RED = [
    # --- upper GI bleed
    ("I have been throwing up blood this morning", 56, "M", "gi_upper_gi_bleed"),
    ("my sick looks like coffee grounds", 70, "F", "gi_upper_gi_bleed"),
    ("Haematemesis x2 today, on naproxen", 63, "M", "gi_upper_gi_bleed"),
    # --- melaena
    ("my poo is black and sticky like tar for 2 days", 67, "M", "gi_melaena"),
    ("Melaena since yesterday, known peptic ulcer", 72, "F", "gi_melaena"),
    # --- large PR bleed or bleeding with shock
    ("lots of blood from my bottom and the toilet is full of blood, feel dizzy", 48, "M",
     "gi_bleed_with_shock"),
    ("PR bleed with clots, pale and clammy", 79, "F", "gi_bleed_with_shock"),
    # --- bowel obstruction
    ("havent passed wind or had a poo for 2 days and keep vomiting, stomach is swollen", 74,
     "F", "gi_bowel_obstruction"),
    ("Abdo distension, vomiting, not opened bowels or passed flatus for 48h", 81, "M",
     "gi_bowel_obstruction"),
    ("my baby is being sick and it is bright green", 0.3, "F", "gi_bilious_vomit_child"),
    ("6/52 infant vomiting x3 today, vomit is green", 0.1, "F", "gi_bilious_vomit_child"),
    ("Infant with bilious vomiting and distended abdomen", 0.1, "F", "gi_bowel_obstruction"),
    # --- peritonitis / perforation
    ("my stomach pain is really bad and it hurts to move or cough", 45, "F", "gi_peritonitis"),
    ("Generalised abdominal pain, rigid abdomen with guarding", 60, "M", "gi_peritonitis"),
    ("lower right side pain since yesterday and now it is spreading all over my stomach", 19,
     "M", "gi_peritonitis"),
    # --- pancreatitis / aneurysm
    ("severe pain in the top of my stomach going straight through to my back and I keep being "
     "sick", 52, "M", "gi_pancreatitis_aaa"),
    ("Epigastric pain radiating to back, vomiting, known gallstones, drinks heavily", 47, "M",
     "gi_pancreatitis_aaa"),
    ("Known AAA under surveillance, now abdominal and back pain, feels faint", 76, "M",
     "gi_pancreatitis_aaa"),
    # --- biliary sepsis
    ("my eyes have gone yellow and I have a high temperature and pain under my right ribs", 66,
     "F", "gi_biliary_sepsis"),
    ("Jaundice, rigors, RUQ pain - ?cholangitis", 71, "M", "gi_biliary_sepsis"),
    ("I have gallstones and now a fever with the pain", 44, "F", "gi_biliary_sepsis"),
    # --- mesenteric ischaemia
    ("78F with AF, sudden severe abdominal pain, abdomen soft, pain out of proportion", 78, "F",
     "gi_mesenteric_ischaemia"),
    ("dad has atrial fibrillation and suddenly has terrible stomach pain", 82, "M",
     "gi_mesenteric_ischaemia"),
    # --- strangulated hernia
    ("my hernia has gone hard and I cant push it back", 58, "M", "gi_strangulated_hernia"),
    ("Inguinal hernia now irreducible and tender, vomiting", 67, "M", "gi_strangulated_hernia"),
    # --- severe dehydration
    ("I have had diarrhoea and vomiting for 3 days and I feel faint every time I stand up", 35,
     "F", "gi_severe_dehydration"),
    ("D&V for 4 days, dehydrated, postural dizziness", 80, "F", "gi_severe_dehydration"),
    # --- testicular torsion
    ("my son has sudden pain in his testicle and has been sick", 13, "F",
     "uro_testicular_torsion"),
    ("14M sudden-onset L testicular pain 2 hours, high-riding testis", 14, "M",
     "uro_testicular_torsion"),
    ("woke up in agony in my left ball", 32, "M", "uro_testicular_torsion"),
    ("my right ball has been aching since lunch", 17, "M", "uro_testicular_pain_young"),
    ("Scrotal pain in a 19 year old, started today", 19, "M", "uro_testicular_pain_young"),
    # --- acute urinary retention
    ("I cant pee at all and my bladder feels like its about to burst", 71, "M",
     "uro_acute_retention"),
    ("Acute urinary retention, palpable bladder, 900ml on bladder scan", 76, "M",
     "uro_acute_retention"),
    # --- no urine (AKI)
    ("dad hasnt had a wee since yesterday", 83, "M", "uro_no_urine_output"),
    ("Oliguric, not passed urine for 18 hours, on ramipril and furosemide", 77, "F",
     "uro_no_urine_output"),
    # --- urosepsis
    ("mum has a water infection and is now very confused and drowsy", 88, "F", "uro_urosepsis"),
    ("Catheterised, cloudy urine, new confusion and mottled skin", 84, "M", "uro_urosepsis"),
    # --- priapism
    ("my erection wont go down and its been 5 hours", 28, "M", "uro_priapism"),
    ("Priapism 4h after intracavernosal injection", 61, "M", "uro_priapism"),
    # --- paraphimosis
    ("my sons foreskin is stuck behind the head and swollen", 9, "F", "uro_paraphimosis"),
    ("Paraphimosis after catheterisation, glans swollen", 79, "M", "uro_paraphimosis"),
    # --- renal colic with red features
    ("severe pain from my side down to my groin, cant keep still, and I have a temperature of "
     "38.5", 41, "M", "uro_renal_colic_complicated"),
    ("Renal colic in a patient with a solitary kidney", 55, "F", "uro_renal_colic_complicated"),
    ("I have a kidney stone and I am 20 weeks pregnant", 29, "F", "uro_renal_colic_complicated"),
]


@pytest.mark.parametrize(("text", "age", "sex", "rule"), RED)
def test_red_flags_fire(text: str, age: float, sex: str, rule: str) -> None:
    decision = decide(text, age, sex)
    assert decision.urgency.value == "emergency"
    assert rule in decision.red_flags


URGENT = [
    ("the pain started around my belly button and now its in my lower right side", 22, "F",
     "gi_appendicitis"),
    ("RIF pain and tenderness since yesterday, anorexic, mild pyrexia", 24, "M",
     "gi_appendicitis"),
    ("my skin looks yellow", 45, "M", "gi_jaundice_new"),
    ("New painless jaundice noticed by wife, dark urine", 69, "M", "gi_jaundice_new"),
    ("I get pain under my right ribs after fatty meals", 43, "F", "gi_biliary_colic"),
    ("Biliary colic, RUQ pain after meals, afebrile", 38, "F", "gi_biliary_colic"),
    ("very dehydrated, dry mouth and dark urine after a stomach bug", 30, "F", "gi_dehydration"),
    ("Clinically dehydrated, dry mucous membranes, tolerating sips", 70, "M", "gi_dehydration"),
    ("my husbands catheter is blocked and not draining", 80, "F",
     "uro_difficulty_passing_urine"),
    ("struggling to pee, only a dribble comes out", 68, "M", "uro_difficulty_passing_urine"),
    ("UTI with loin pain and rigors, T 38.6", 34, "F", "uro_pyelonephritis"),
    ("I think I have a kidney infection, pain in my back on one side and feel shivery", 29, "F",
     "uro_pyelonephritis"),
    ("Blood results: AKI stage 1, creatinine risen from 90 to 160", 74, "M", "uro_aki_result"),
    ("the hospital rang to say my kidney function has dropped", 69, "F", "uro_aki_result"),
    ("Known renal stones, loin to groin pain, afebrile", 46, "M", "uro_renal_colic"),
    ("pain in my side going down to my groin in waves", 38, "M", "uro_renal_colic"),
]


@pytest.mark.parametrize(("text", "age", "sex", "rule"), URGENT)
def test_urgent_flags_fire(text: str, age: float, sex: str, rule: str) -> None:
    decision = decide(text, age, sex)
    assert decision.urgency.value != "emergency"
    assert rule in [r.id for r in decision.fired_rules]


NOT_EMERGENCY = [
    # negated
    "no blood in my vomit, just a tummy bug since yesterday",
    "not vomiting, no tummy pain, just want to discuss my reflux tablets",
    "testicle is fine, no pain, I want to book a vasectomy consultation",
    "I have no trouble passing urine, just need a PSA test",
    # past
    "I had a bleeding stomach ulcer in 2017, need my omeprazole prescription",
    "had my appendix out 3 years ago, need a form signed",
    "had a kidney stone last year, can I have a referral for diet advice",
    # hypothetical / information
    "what are the signs of appendicitis in children",
    "what are the symptoms of a kidney stone",
    # benign look-alikes
    "I have a hiatus hernia and reflux, need a review",
    "my bruise is going yellow, is that normal",
    "I am on a low sugar diet and want advice about my cholesterol",
    "mild bloating after meals for months, no other symptoms",
    "my right ball has had a small painless lump for months",
    "a bit constipated this week, otherwise fine",
    "my baby has a cold with green snot and was sick once after a feed",
    "I am getting dressed and my back aches a bit",
]


@pytest.mark.parametrize("text", NOT_EMERGENCY)
def test_negated_past_hypothetical_and_lookalikes_are_not_emergencies(text: str) -> None:
    assert decide(text, 40, "M").urgency.value != "emergency"


KNOWN_LIMITS = [
    pytest.param(
        "black stools since starting iron tablets",
        id="black-stools-on-iron",
    ),
]


@pytest.mark.parametrize("text", KNOWN_LIMITS)
def test_known_limits(text: str) -> None:
    assert decide(text, 60, "M").urgency.value != "emergency"
