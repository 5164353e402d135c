"""Spec tests for the endocrine and metabolic red and urgent flags (systems/endocrine.yaml).

Expected outcomes come from the cited guidance (JBDS DKA and HHS guidelines, NICE NG17, NG18,
NG28, NICE CKS hypoglycaemia, Addison's disease, hyperthyroidism, hypercalcaemia), written before
running the engine. Each rule has at least one lay and one clinician-style message that must
fire it, and negated, past, hypothetical and look-alike messages that must not make an
emergency.
"""

from __future__ import annotations

import pytest

from pcn.triage import TriageRequest, triage
from pcn.triage.model import Decision


def decide(text: str, age: float = 50, sex: str = "F") -> Decision:
    return triage(TriageRequest(text=text, age=age, sex=sex))


RED = [
    # --- DKA
    ("Im type 1 and my ketones are high and I keep being sick", 24, "F", "endo_dka"),
    ("my sons breath smells like pear drops and he is breathing really deep, he is diabetic", 12,
     "F", "endo_dka"),
    ("T1DM, blood ketones raised, vomiting, abdo pain, Kussmaul breathing", 19, "M", "endo_dka"),
    ("?DKA - known type 1, unable to keep fluids down since last night", 31, "F", "endo_dka"),
    ("my daughter has been really thirsty and weeing all the time and now she is vomiting", 9,
     "F", "endo_dka"),
    # --- euglycaemic DKA on SGLT2 inhibitors
    ("on dapagliflozin, been vomiting with tummy pain since yesterday, sugars normal", 61, "M",
     "endo_euglycaemic_dka"),
    ("Type 2 on empagliflozin, nausea and vomiting, ketones positive, glucose 9", 58, "F",
     "endo_euglycaemic_dka"),
    # --- HHS
    ("my dads sugars have been really high for days and he is now very drowsy and confused", 79,
     "F", "endo_hhs"),
    ("T2DM, hyperglycaemia for 3 days, very dehydrated and drowsy, ?HHS", 83, "F", "endo_hhs"),
    # --- severe hypoglycaemia
    ("mum is having a hypo and she is too drowsy to swallow", 74, "F", "endo_severe_hypo"),
    ("Severe hypo, glucagon given by partner, still drowsy", 45, "M", "endo_severe_hypo"),
    ("his sugar is low and it is not coming up after three lots of glucose tablets", 67, "F",
     "endo_severe_hypo"),
    # --- adrenal crisis
    ("I have Addisons and I have been vomiting all morning and feel faint", 42, "F",
     "endo_adrenal_crisis"),
    ("On long-term prednisolone 10mg, vomiting and collapsed", 71, "M", "endo_adrenal_crisis"),
    ("Hypopituitarism on hydrocortisone, diarrhoea and vomiting, confused", 55, "F",
     "endo_adrenal_crisis"),
    # --- thyroid storm
    ("I have Graves disease and now have a fever, racing heart and Im confused", 38, "F",
     "endo_thyroid_storm"),
    ("Thyrotoxic on carbimazole, T 39, HR 150, agitated - ?thyroid storm", 46, "F",
     "endo_thyroid_storm"),
    # --- severe hypercalcaemia
    ("my husband has myeloma, his calcium is high and he is very drowsy", 70, "F",
     "endo_hypercalcaemia_severe"),
    ("Hypercalcaemia of malignancy, new confusion", 66, "M", "endo_hypercalcaemia_severe"),
]


@pytest.mark.parametrize(("text", "age", "sex", "rule"), RED)
def test_red_flags_fire(text: str, age: float, sex: str, rule: str) -> None:
    decision = decide(text, age, sex)
    assert decision.urgency.value == "emergency"
    assert rule in decision.red_flags


URGENT = [
    ("my daughter is constantly thirsty and weeing all the time and has lost weight", 8, "F",
     "endo_new_diabetes"),
    ("Polydipsia and polyuria for 3 weeks, weight loss of 4 kg", 27, "M", "endo_new_diabetes"),
    ("my sugars have been high all week, no ketones", 55, "M", "endo_hyperglycaemia"),
    ("Hyperglycaemia on libre for 5 days despite insulin increase, ketones negative", 36, "F",
     "endo_hyperglycaemia"),
    ("had a hypo last night, sorted with jelly babies, now fine", 45, "M", "endo_hypo"),
    ("Recurrent hypoglycaemia on gliclazide, 3 episodes this week", 77, "F", "endo_hypo"),
    ("I am diabetic and have had diarrhoea and vomiting since yesterday", 60, "M",
     "endo_sick_day"),
    ("On metformin and empagliflozin, off food with a chest infection, asking about sick day "
     "rules", 64, "F", "endo_sick_day"),
    ("I have Addisons and have a temperature with a cold, do I double my hydrocortisone", 37,
     "F", "endo_adrenal_sick_day"),
    ("Missed 2 days of hydrocortisone, adrenal insufficiency, feels well", 52, "M",
     "endo_adrenal_sick_day"),
    ("Im on carbimazole and have a really sore throat", 34, "F", "endo_carbimazole_infection"),
    ("On propylthiouracil, mouth ulcers and sore throat for 2 days", 29, "F",
     "endo_carbimazole_infection"),
    ("I have myeloma and Im so thirsty and constipated", 68, "M", "endo_hypercalcaemia"),
    ("Adjusted calcium raised at 2.9 on routine bloods", 73, "F", "endo_hypercalcaemia"),
]


@pytest.mark.parametrize(("text", "age", "sex", "rule"), URGENT)
def test_urgent_flags_fire(text: str, age: float, sex: str, rule: str) -> None:
    decision = decide(text, age, sex)
    assert decision.urgency.value != "emergency"
    assert rule in [r.id for r in decision.fired_rules]


NOT_EMERGENCY = [
    # negated
    "I am type 1, no ketones and not vomiting, sugars a bit up with a cold",
    "no hypos this month, need my insulin prescription",
    "not thirsty and not weeing more, just want my HbA1c result",
    # past
    "I had DKA in 2019, need a letter for work",
    "had an adrenal crisis 3 years ago, want to renew my steroid emergency card",
    # hypothetical / information
    "what are the signs of a hypo",
    "what should I do if my ketones are high",
    "how do I know if I have thyroid storm",
    # benign look-alikes
    "I am on a low sugar diet and want advice",
    "repeat prescription for my dapagliflozin please",
    "my libre sensor fell off, can I have a new one",
    "I feel thirsty after running in the heat",
    "I am on carbimazole and need my blood test booked",
]


@pytest.mark.parametrize("text", NOT_EMERGENCY)
def test_negated_past_hypothetical_and_lookalikes_are_not_emergencies(text: str) -> None:
    assert decide(text, 45, "F").urgency.value != "emergency"
