"""Spec tests for the ear, nose, throat and eye red flags and same-day rules (systems/ent_eye.yaml).

Expected outcomes come from the cited guidance (NICE CKS sore throat, epistaxis, Bell's palsy,
red eye, glaucoma, retinal detachment, giant cell arteritis, cellulitis and shingles, NICE NG98,
NHS.UK epiglottitis, quinsy and eye injuries, RCOphth), not from running the engine. Each rule
has a lay and a clinician-style message; negatives (negated, past, hypothetical, benign look-
alikes) must not make an emergency.
"""

from __future__ import annotations

import pytest

from tests.spec.triage_systems.checks import (
    check_not_an_emergency,
    check_red_flag,
    check_urgent_flag,
)

RED = [
    # epiglottitis / supraglottitis / deep neck infection (CKS sore throat; NHS.UK epiglottitis)
    (
        "ent_upper_airway_obstruction",
        "my son is drooling and can't swallow his spit, high temperature",
        6,
        "M",
    ),
    (
        "ent_upper_airway_obstruction",
        "sore throat, muffled voice like a hot potato, drooling",
        35,
        "M",
    ),
    ("ent_upper_airway_obstruction", "?epiglottitis, stridor, tripod position", 45, "M"),
    ("ent_upper_airway_obstruction", "noisy high pitched breathing when he breathes in", 4, "M"),
    ("ent_upper_airway_obstruction", "neck swollen under jaw and can't swallow anything", 50, "F"),
    # quinsy (NHS.UK quinsy; CKS sore throat)
    ("ent_quinsy", "really bad sore throat on one side and I can't open my mouth", 24, "M"),
    ("ent_quinsy", "uvula deviated to the left, trismus, ?quinsy", 31, "F"),
    (
        "ent_quinsy",
        "one side of my throat is massively swollen and my voice sounds muffled",
        27,
        "F",
    ),
    # epistaxis (CKS epistaxis; NHS.UK nosebleed)
    ("ent_epistaxis_severe", "nosebleed for 30 minutes despite pinching", 40, "M"),
    ("ent_epistaxis_severe", "nose bleeding and blood running down the back of my throat", 70, "F"),
    ("ent_epistaxis_severe", "epistaxis >20 min on warfarin, pinching not working, dizzy", 82, "M"),
    ("ent_epistaxis_severe", "nosebleed for an hour, feel faint", 65, "F"),
    # acute angle-closure glaucoma (CKS glaucoma, red eye)
    (
        "eye_acute_angle_closure",
        "very painful red eye, seeing halos around lights and vomiting",
        66,
        "F",
    ),
    ("eye_acute_angle_closure", "eye pain, blurred vision and throwing up", 70, "F"),
    ("eye_acute_angle_closure", "?acute angle closure glaucoma, fixed mid-dilated pupil", 72, "M"),
    # retinal detachment (CKS retinal detachment; RCOphth)
    ("eye_retinal_detachment", "dark shadow coming across my vision in my left eye", 58, "M"),
    ("eye_retinal_detachment", "flashing lights and lots of new floaters, vision blurry", 62, "F"),
    ("eye_retinal_detachment", "?RD, new floaters and a curtain over the superior field", 55, "M"),
    # sudden visual loss and sudden double vision (CKS red eye; NHS.UK double vision)
    ("eye_sudden_visual_loss", "the vision in my right eye went black for five minutes", 71, "M"),
    ("eye_sudden_visual_loss", "sudden double vision since this morning", 60, "F"),
    ("eye_sudden_visual_loss", "?CRAO, painless loss of vision R eye", 75, "M"),
    # giant cell arteritis with visual symptoms (CKS GCA)
    ("eye_gca_visual", "jaw aches when I chew and my vision is blurry", 74, "F"),
    ("eye_gca_visual", "?GCA, scalp tenderness, transient diplopia", 78, "F"),
    # orbital cellulitis (CKS periorbital/orbital cellulitis)
    ("eye_orbital_cellulitis", "swollen eyelid and it hurts to move my eye", 40, "F"),
    (
        "eye_periorbital_cellulitis_child",
        "my daughter's eyelid is swollen and she has a fever",
        5,
        "F",
    ),
    ("eye_periorbital_cellulitis_child", "periorbital cellulitis, febrile, 4 year old", 4, "M"),
    ("eye_orbital_cellulitis", "periorbital swelling with proptosis and diplopia", 30, "M"),
    # chemical and penetrating eye injury (NHS.UK eye injuries; RCOphth)
    ("eye_chemical_injury", "bleach splashed in my eye", 35, "F"),
    ("eye_chemical_injury", "cement in his eye at work", 45, "M"),
    ("eye_chemical_injury", "chemical eye injury - alkali splash to L eye", 29, "M"),
    ("eye_penetrating_injury", "a bit of metal flew into my eye when grinding", 38, "M"),
    (
        "eye_penetrating_injury",
        "poked in the eye with a stick and there's blood in the front of his eye",
        8,
        "M",
    ),
    ("eye_penetrating_injury", "penetrating eye injury from a fish hook", 50, "M"),
]

URGENT = [
    ("ent_one_sided_sore_throat", "one sided sore throat, much worse than ever", 23, "F"),
    ("ent_one_sided_sore_throat", "L peritonsillar swelling, no trismus, able to swallow", 30, "M"),
    ("ent_epistaxis_risk", "my nose keeps bleeding every day", 60, "F"),
    ("ent_epistaxis_risk", "nosebleeds again on apixaban", 78, "M"),
    ("ent_sudden_hearing_loss", "woke up deaf in my left ear", 45, "M"),
    ("ent_sudden_hearing_loss", "sudden sensorineural hearing loss R ear, 2 days", 52, "F"),
    (
        "ent_facial_palsy",
        "can't close my right eye properly and drinks dribble out of my mouth",
        38,
        "F",
    ),
    ("ent_facial_palsy", "Bell's palsy started today, forehead involved", 41, "M"),
    ("eye_flashes_floaters", "new floaters like cobwebs in my right eye", 57, "F"),
    ("eye_flashes_floaters", "lightning streaks in the corner of my vision", 63, "M"),
    (
        "eye_gca_suspected",
        "jaw aches when I chew and my scalp is tender when brushing my hair",
        72,
        "F",
    ),
    ("eye_gca_suspected", "?temporal arteritis, tender temporal artery", 68, "M"),
    ("eye_periorbital_cellulitis", "red swollen eyelid and a fever", 35, "M"),
    ("eye_periorbital_cellulitis", "preseptal cellulitis, swollen eyelid, temp 38.2", 40, "F"),
    ("eye_red_eye_same_day", "contact lens wearer, red painful eye, light hurts my eye", 27, "F"),
    (
        "eye_red_eye_same_day",
        "painful red eye with photophobia and reduced acuity, ?iritis",
        45,
        "M",
    ),
    ("eye_herpes_zoster_ophthalmicus", "shingles rash on my forehead near my eye", 70, "F"),
    ("eye_herpes_zoster_ophthalmicus", "HZO with Hutchinson's sign", 66, "M"),
]

NEGATIVE = [
    # negated
    ("sore throat, no drooling, no difficulty swallowing, no fever", 20, "F"),
    ("no flashes, no floaters, need an eye test", 50, "M"),
    # past
    ("had a retinal detachment in 2015, need my review", 60, "F"),
    ("history of quinsy as a teenager, tonsillitis again", 25, "M"),
    # hypothetical
    ("what are the symptoms of glaucoma?", 55, "F"),
    ("what should I do if I get chemicals in my eye at work?", 30, "M"),
    # benign look-alikes
    ("teething baby drooling a lot, cheeks red", 0.6, "F"),
    ("swollen puffy eyes from hay fever", 30, "F"),
    ("ears blocked with wax, hearing a bit muffled", 60, "M"),
    ("vision goes dark when I stand up quickly", 25, "F"),
    ("sticky eyes, conjunctivitis", 30, "M"),
    ("need new glasses, vision slowly getting blurry", 67, "F"),
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
