"""Spec tests for the musculoskeletal red and urgent flags (systems/musculoskeletal.yaml).

Expected outcomes come from the cited guidance (NICE CG124 hip fracture, NG37 and NG38
fractures, NICE CKS limp in children, low back pain, gout, peripheral arterial disease; NHS.UK
septic arthritis and compartment syndrome), written before running the engine. Each rule has at
least one lay and one clinician-style message that must fire it, and negated, past,
hypothetical and look-alike messages that must not make an emergency.
"""

from __future__ import annotations

import pytest

from pcn.triage import TriageRequest, triage
from pcn.triage.model import Decision


def decide(text: str, age: float = 50, sex: str = "F") -> Decision:
    return triage(TriageRequest(text=text, age=age, sex=sex))


RED = [
    # --- septic arthritis
    ("my knee is hot and swollen and I have a fever and cant walk on it", 45, "M",
     "msk_septic_arthritis"),
    ("Acutely swollen hot R knee, T 38.4, unable to weight bear", 67, "F",
     "msk_septic_arthritis"),
    ("my knee replacement is red and swollen and I feel feverish", 74, "F",
     "msk_septic_arthritis"),
    ("?Septic arthritis of the left ankle", 58, "M", "msk_septic_arthritis"),
    # --- child with limp and fever
    ("my son is limping and has a temperature of 38.5", 5, "F", "msk_child_limp_fever"),
    ("4 year old refusing to weight bear on the right leg, febrile", 4, "M",
     "msk_child_limp_fever"),
    # --- open or deformed fracture, dislocation
    ("I fell off my bike and the bone is sticking out of my leg", 27, "M",
     "msk_open_or_deformed_fracture"),
    ("Open # tib/fib after RTC", 33, "M", "msk_open_or_deformed_fracture"),
    ("his wrist is bent at a funny angle after he fell", 9, "F", "msk_open_or_deformed_fracture"),
    ("I think I dislocated my shoulder playing rugby", 22, "M", "msk_open_or_deformed_fracture"),
    # --- acute limb ischaemia / neurovascular compromise
    ("my leg has gone cold and white and is really painful", 71, "M", "msk_limb_ischaemia"),
    ("Fall onto outstretched hand, deformed wrist, hand cold and pale, cap refill delayed", 80,
     "F", "msk_limb_ischaemia"),
    # --- compartment syndrome
    ("ankle in plaster and the pain under the cast is unbearable and my toes are numb", 30, "M",
     "msk_compartment_syndrome"),
    ("POP applied yesterday, pain out of proportion, pain on passive stretch of toes", 24, "M",
     "msk_compartment_syndrome"),
    ("crushed my hand at work under a pallet and the pain is getting worse despite painkillers",
     41, "M", "msk_compartment_syndrome"),
    # --- hip fracture
    ("Found on floor, R leg shortened and externally rotated", 87, "F", "msk_hip_fracture"),
    ("mums leg looks shorter than the other and her foot is turned out since she fell", 84, "M",
     "msk_hip_fracture"),
    ("mum fell in the kitchen and now has pain in her hip and cant stand on it", 82, "F",
     "msk_hip_fracture_older"),
    ("Mechanical fall today, L groin pain, unable to weight bear", 79, "M",
     "msk_hip_fracture_older"),
    # --- spinal infection
    ("I inject heroin and have bad back pain and a fever", 36, "M", "msk_spinal_infection"),
    ("Back pain, febrile, on methotrexate and prednisolone", 62, "F", "msk_spinal_infection"),
    ("?Discitis - thoracic back pain after recent spinal injection", 57, "M",
     "msk_spinal_infection"),
]


@pytest.mark.parametrize(("text", "age", "sex", "rule"), RED)
def test_red_flags_fire(text: str, age: float, sex: str, rule: str) -> None:
    decision = decide(text, age, sex)
    assert decision.urgency.value == "emergency"
    assert rule in decision.red_flags


URGENT = [
    ("my knee is swollen and red but no temperature", 55, "F", "msk_hot_joint"),
    ("Hot swollen right ankle, no trauma, afebrile, ?gout", 66, "M", "msk_hot_joint"),
    ("my 4 year old is limping today, no injury we know of", 4, "F", "msk_child_limp"),
    ("2 year old not weight bearing on left leg since nursery, no fever", 2, "M",
     "msk_child_limp"),
    ("fell and hurt my wrist, think it might be broken", 35, "F", "msk_suspected_fracture"),
    ("FOOSH, snuffbox tenderness", 19, "M", "msk_suspected_fracture"),
    ("twisted my ankle playing football, swollen and cant put weight on it", 24, "M",
     "msk_suspected_fracture"),
    ("back pain and I have lost 2 stone without trying", 61, "M", "msk_back_pain_red_features"),
    ("Thoracic back pain, constant and worse at night, for 3 weeks", 58, "F",
     "msk_back_pain_red_features"),
]


@pytest.mark.parametrize(("text", "age", "sex", "rule"), URGENT)
def test_urgent_flags_fire(text: str, age: float, sex: str, rule: str) -> None:
    decision = decide(text, age, sex)
    assert decision.urgency.value != "emergency"
    assert rule in [r.id for r in decision.fired_rules]


NOT_EMERGENCY = [
    # negated
    "no fever, knee is not hot or swollen, just stiff in the mornings",
    "I have not broken anything, just a bruised shin from the coffee table",
    "back ache, no fever, no weight loss, no leg symptoms",
    # past
    "I broke my wrist in 2018 and it aches in the cold",
    "had a hip replacement 5 years ago, need a letter for travel insurance",
    "dislocated my shoulder as a teenager, now want physio for a sore shoulder",
    # hypothetical / information
    "what are the signs of a broken hip in elderly people",
    "how do I know if a joint is infected",
    # benign look-alikes
    "my usual gout flare in my big toe, can I have colchicine",
    "my finger is stiff in the mornings with arthritis",
    "my hands go white and numb in the cold weather",
    "my knee clicks when I climb stairs",
    "getting dressed hurts my frozen shoulder",
]


@pytest.mark.parametrize("text", NOT_EMERGENCY)
def test_negated_past_hypothetical_and_lookalikes_are_not_emergencies(text: str) -> None:
    assert decide(text, 55, "F").urgency.value != "emergency"


KNOWN_LIMITS = [
    pytest.param(
        "I have osteoporosis and suddenly got back pain after lifting shopping",
        "msk_back_pain_red_features",
        id="osteoporotic-collapse",
    ),
]


@pytest.mark.parametrize(("text", "rule"), KNOWN_LIMITS)
def test_known_limits(text: str, rule: str) -> None:
    decision = decide(text, 72, "F")
    assert decision.urgency.value != "emergency"
    assert rule in [r.id for r in decision.fired_rules]
