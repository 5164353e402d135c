"""Spec tests for patterns added after the L2 batch's blind run (written in new words, not the
batch's): blood results that decide urgency on their own (UK Kidney Association 2020, European
Society of Endocrinology 2014), a parent's thermometer reading (NICE NG143), an injured baby who
vomits or is drowsy (NICE NG232, CG89), ectopic pregnancy (NG126), reduced fetal movements
(RCOG GTG 57), angle-closure glaucoma (NICE CKS red eye), torsion (NICE CKS scrotal pain),
passive and prepared suicidal thinking (NICE NG225), and the benign patterns that may leave the
clinical stream (hay fever, a known side effect, a back strain that is getting better)."""

from __future__ import annotations

import pytest

from pcn.triage import TriageRequest, triage
from pcn.triage.physiology import read_observations


def decide(text: str, age: float, sex: str = "F"):  # type: ignore[no-untyped-def]
    return triage(TriageRequest(text=text, age=age, sex=sex))


@pytest.mark.parametrize(
    ("text", "parameter", "value"),
    [
        ("Lab phoned: K+ 6.9, urea up", "potassium_mmol", 6.9),
        ("repeat potassium 6.1 on the new sample", "potassium_mmol", 6.1),
        ("Na 121 on routine bloods", "sodium_mmol", 121.0),
        ("serum sodium of 118", "sodium_mmol", 118.0),
        ("checked her with the ear thermometer and it said 38.4", "temperature", 38.4),
        ("he's 38.9 under his arm", "temperature", 38.9),
    ],
)
def test_results_and_lay_readings_are_read(text: str, parameter: str, value: float) -> None:
    assert read_observations(text).values[parameter].value == value  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    ["walked 5k this morning", "my son weighs 38.5 kg", "K 4", "HbA1c 38.2", "n/a 120"],
)
def test_other_numbers_are_not_results_or_temperatures(text: str) -> None:
    values = read_observations(text).values
    assert not {"potassium_mmol", "sodium_mmol", "temperature"} & set(values)


@pytest.mark.parametrize(
    ("text", "age", "urgency"),
    [
        ("Bloods back: K+ 6.8, on spironolactone, feels weak", 80, "emergency"),
        ("potassium 6.2 on today's sample, asymptomatic", 64, "urgent"),
        ("Na 122, a bit muddled according to daughter", 85, "urgent"),
        ("my 7 week old feels hot, I checked and it was 38.2, not feeding much", 0.13, "emergency"),
    ],
)
def test_results_and_readings_set_urgency(text: str, age: float, urgency: str) -> None:
    assert decide(text, age).urgency.value == urgency


def test_normal_results_do_not_raise_urgency() -> None:
    assert read_observations("U&E: Na 139, K 4.3, creat 80").values["potassium_mmol"].value == 4.3
    decision = decide("U&E: Na 139, K 4.3, creat 80. Annual review, well", 60)
    assert all("hyperkal" not in r and "hyponat" not in r for r in decision.red_flags)


EMERGENCIES = [
    ("my 5 month old fell off the changing table and has thrown up twice since", 30,
     "paed_infant_injury_unwell"),
    ("3/12 F, rolled off the bed this morning, now drowsier than usual per dad", 0.25,
     "paed_infant_injury_unwell"),
    ("Did a pregnancy test last week, positive. Period was around 3 weeks late. Some brown "
     "spotting and I felt faint at work", 29, "obs_ectopic"),
    ("6 weeks pregnant, the top of my left shoulder hurts and there is a pain low down on the "
     "left", 31, "obs_ectopic"),
    ("36 weeks, she hasn't really kicked since lunchtime yesterday", 30,
     "obs_reduced_fetal_movements"),
    ("left eye went really painful this evening and I can see halos round the street lights",
     66, "eye_acute_angle_closure"),
    ("sudden pain in my right nut since football, feel sick", 15, "uro_testicular_torsion"),
    ("she's got little purply marks on her arms, we did the glass thing and they didn't fade",
     6, "meningitis"),
    ("71M not passed urine since last night, lower abdo pain, bladder palpable", 71,
     "uro_acute_retention"),
    ("my 3 year old got into his grandads pill organiser, some days are empty", 3,
     "inj_child_ingestion"),
    ("decided tonights the night, been saving my dads pills for a month", 52,
     "suicide_risk_immediate"),
    ("wrote a letter to each of the kids. thank you doctor for all you have tried", 47,
     "suicide_risk_immediate"),
    ("sorry to bother you, just need my sick note. I've left my passwords with my brother so he "
     "knows where everything is and after Friday none of this will matter", 41,
     "suicide_risk_immediate"),
    # after L5's blind run (RCOG GTG 57; NICE CKS acute limb ischaemia), in other words
    ("34 weeks and I've hardly felt anything all day, normally she's really active", 28,
     "obs_reduced_fetal_movements"),
    ("left hand went white and cold an hour ago, hurts and I can't wiggle my fingers, I'm on "
     "nothing for my AF", 77, "cv_acute_limb_ischaemia_threatened"),
    # after L6's blind run (NICE NG128 FAST; NICE NG225 / PH50 safeguarding), in other words
    ("grandad keeps mixing up his words since lunch, calling the remote 'the phone' when he "
     "means the remote control", 81, "neuro_stroke_speech"),
    ("he's at the front door shouting he'll hurt me, the baby is asleep upstairs", 27,
     "safeguarding_danger_now"),
]


@pytest.mark.parametrize(("text", "age", "rule"), EMERGENCIES)
def test_emergencies_in_new_words(text: str, age: float, rule: str) -> None:
    decision = decide(text, age, "M" if "nut" in text else "F")
    assert decision.urgency.value == "emergency", decision.explanation
    assert rule in decision.red_flags, decision.red_flags


def test_passive_thoughts_of_not_waking_are_same_day() -> None:
    decision = decide("Has had thoughts of not wanting to wake up in the mornings, no plan", 27)
    assert decision.urgency.value in ("urgent", "emergency"), decision.explanation


@pytest.mark.parametrize(
    "text",
    [
        "low for months, sometimes think it'd be simpler if I just didn't wake up, no plans",
        "46M, PHQ-9 17, says it would be a relief to go to sleep and not wake up. No intent.",
        # said as a condition: the grammar of the thought, not a hypothetical question
        "honestly my family would be better off if I was gone, I wouldn't do anything though",
    ],
)
def test_a_passive_wish_said_indirectly_is_same_day(text: str) -> None:
    # NICE NG225: passive thoughts of death need a clinician today, never a routine booking
    decision = decide(text, 46)
    assert decision.urgency.value in ("urgent", "emergency"), decision.explanation


def test_not_feeling_anything_is_reduced_movements_only_in_pregnancy() -> None:
    decision = decide("I have barely felt anything in my fingers since the injection", 40, "M")
    assert "obs_reduced_fetal_movements" not in decision.red_flags, decision.explanation


@pytest.mark.parametrize(
    ("text", "age", "urgency", "route"),
    [
        ("Hay fever again, sneezing and itchy watery eyes, the usual antihistamine isn't "
         "touching it", 24, "self_care", "community_pharmacy"),
        ("since starting amlodipine my ankles are swollen by the evening, is it the tablets?", 62,
         "routine", "clinical_pharmacist"),
        ("my grandad had bowel cancer and so did my uncle. I feel completely well, just "
         "wondering if I should be screened earlier than usual?", 44, "routine", "gp"),
        ("on lisinopril since spring and I've got an irritating dry cough most days, could it "
         "be the tablets?", 58, "routine", "clinical_pharmacist"),
        ("nosebleed yesterday evening, it stopped when I pinched it and leaned forward, none "
         "since", 35, "self_care", "self_care"),
        ("my 4 year old has chickenpox from nursery, spots everywhere but eating and drinking "
         "fine", 32, "self_care", "self_care"),
        ("Strained my lower back lifting boxes at work on Monday, improving, no numbness, "
         "bladder fine", 34, "routine", "fcp_physio"),
    ],
)
def test_benign_patterns_leave_the_clinical_stream(text: str, age: float, urgency: str,
                                                   route: str) -> None:
    decision = decide(text, age, "M")
    assert (decision.urgency.value, decision.route.value) == (urgency, route), decision.explanation


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("hay fever, sneezing and now wheezy and short of breath", 24),
        ("on amlodipine, my left calf is swollen and hot", 62),
        ("pulled my back lifting, getting better but now numb around my bottom", 34),
        ("I have a nut allergy and need a new epipen", 30),
        ("my dad had a heart attack at 48, should I be checked? I get chest tightness walking", 45),
        ("my 4 year old has chickenpox, eating fine but one spot is now red, hot and spreading", 4),
        ("nosebleed stopped after pinching but I'm on warfarin and it's the third today", 70),
    ],
)
def test_guards_keep_danger_in_the_clinical_stream(text: str, age: float) -> None:
    decision = decide(text, age)
    if "nut allergy" in text:
        assert "uro_testicular_torsion" not in decision.red_flags
    else:
        assert decision.urgency.value in ("urgent", "emergency"), decision.explanation


@pytest.mark.xfail(strict=True, reason="a duration ('for 10 minutes') reads as a prolonged "
                   "seizure or cardiac symptom to the gate: a safe over-triage to a clinician "
                   "today")
def test_known_gap_a_duration_in_a_benign_message() -> None:
    decision = decide("nosebleed yesterday, it stopped after I pinched it for 10 minutes, none "
                      "since", 35)
    assert decision.urgency.value == "self_care"


@pytest.mark.parametrize(
    ("text", "age", "expected"),
    [
        # what a hospital has already treated is history; what is happening now is not
        ("Care home: 87F, discharged 1 week after a hip fracture, needs her care plan updated",
         87, {"routine"}),
        ("mum was discharged from hospital after a fall, now she has fallen again and cannot put "
         "weight on her leg, the leg looks shorter", 87, {"emergency"}),
        ("Discharge summary: admitted with chest pain, troponin negative. Still getting chest "
         "pain tonight.", 60, {"emergency"}),
        ("ICD discharged once this afternoon, feels fine", 58, {"urgent", "emergency"}),
        # a relative's or friend's illness and a question about signs are not this patient's
        ("my friends baby was in hospital with meningitis, what should I look out for in mine, "
         "he is well", 30, {"self_care", "routine"}),
    ],
)
def test_past_and_other_peoples_events(text: str, age: float, expected: set[str]) -> None:
    decision = decide(text, age)
    assert decision.urgency.value in expected, decision.explanation


def test_not_drinking_more_than_usual_is_not_reduced_intake() -> None:
    decision = decide("my 9 year old still wets the bed, he is not drinking more than usual", 35)
    assert "paed_dehydration" not in [r.id for r in decision.fired_rules], decision.explanation


def test_free_of_a_symptom_is_its_absence() -> None:
    # "seizure-free for 4 years" read as a seizure made a preconception request an emergency
    # (L6's blind run); a seizure now still is one
    calm = decide("28F epilepsy, seizure-free for 3 years, would like advice before trying for "
                  "a baby", 28)
    assert calm.urgency.value != "emergency", calm.explanation
    fit = decide("had a seizure an hour ago, I'm 24 weeks pregnant", 28)
    assert fit.urgency.value == "emergency", fit.explanation
