"""Spec tests for the anaphylaxis and angio-oedema rules (systems/allergy.yaml).

Expected outcomes come from the cited guidance (Resuscitation Council UK 2021, NICE CG134, NICE
CKS angio-oedema and anaphylaxis, NHS.UK anaphylaxis and angioedema), not from running the
engine. Each rule has a lay and a clinician-style message; negatives
(negated, past, hypothetical, benign look-alikes) must not make an emergency.
"""

from __future__ import annotations

import pytest

from tests.spec.triage_systems.checks import (
    check_not_an_emergency,
    check_red_flag,
    check_urgent_flag,
)

RED = [
    # airway: tongue, uvula, throat, voice, swallowing (Resuscitation Council UK 2021; NICE CG134)
    ("allergy_anaphylaxis", "swollen tongue after peanuts", 25, "F"),
    ("allergy_anaphylaxis", "my tongue feels fat and my voice has gone hoarse", 31, "M"),
    ("allergy_anaphylaxis", "ate a cashew, lips swelling and struggling to swallow", 14, "M"),
    ("allergy_anaphylaxis", "hives all over and her voice has gone croaky", 8, "F"),
    ("allergy_anaphylaxis", "uvula swollen after prawns", 40, "M"),
    # circulation after a trigger
    ("allergy_anaphylaxis", "stung by a wasp and feel faint and clammy", 52, "M"),
    ("allergy_anaphylaxis", "had sesame, now pale and floppy", 2, "F"),
    ("allergy_anaphylaxis", "first dose of IV co-amoxiclav, hypotensive, widespread urticaria",
     64, "F"),
    # auto-injector used, named anaphylaxis, misspellings
    ("allergy_anaphylaxis", "used his epipen 10 mins ago, seems better now", 12, "M"),
    ("allergy_anaphylaxis", "gave her the jext", 9, "F"),
    ("allergy_anaphylaxis", "I think I'm having an anafalactic reaction", 28, "F"),
    ("allergy_anaphylaxis", "IM adrenaline 500 micrograms given by school nurse", 15, "M"),
    # angio-oedema with airway involvement (CKS angio-oedema and anaphylaxis; NHS.UK angioedema)
    ("allergy_angioedema_airway", "hereditary angioedema attack, throat feels tight", 34, "F"),
    ("allergy_angioedema_airway", "on ramipril, face swollen and voice has gone hoarse", 67, "M"),
    ("allergy_angioedema_airway", "HAE, difficulty swallowing since this morning", 22, "F"),
]

URGENT = [
    ("allergy_angioedema", "my lips keep swelling up for no reason", 45, "F"),
    ("allergy_angioedema", "recurrent angio-oedema of the lips, no airway involvement", 50, "M"),
    ("allergy_angioedema", "face swollen since starting lisinopril", 61, "M"),
]

NEGATIVE = [
    # negated
    ("no tongue swelling, no breathing problems, just an itchy rash", 30, "F"),
    pytest.param("bee sting on my arm, no swelling of my face or throat, not wheezy", 40, "M"),
    # past
    ("history of anaphylaxis to nuts, need new epipen prescription", 22, "F"),
    ("had an allergic reaction to penicillin in 2010, want it on my record", 55, "M"),
    # hypothetical
    ("what are the signs of anaphylaxis?", 35, "F"),
    ("how do I know when to use an epipen?", 30, "F"),
    # benign look-alikes
    ("hay fever, itchy eyes and sneezing", 25, "M"),
    ("cold sore on my lip", 30, "F"),
    ("nettle rash on my legs from the garden, itchy", 45, "F"),
    ("need my epipen prescription renewed before it expires", 19, "M"),
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

