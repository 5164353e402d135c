"""Spec tests for the neurology red and urgent flags (systems/neurology.yaml).

Expected outcomes come from the cited guidance (NICE NG128, NG232, NG234, NICE CKS stroke and
TIA, headache, meningitis, epilepsy, sciatica, giant cell arteritis, delirium; NHS.UK), written
before running the engine. Each rule has at least one lay and one clinician-style message that
must fire it, and negated, past, hypothetical and look-alike messages that must not make an
emergency.
"""

from __future__ import annotations

import pytest

from pcn.triage import TriageRequest, triage
from pcn.triage.model import Decision


def decide(text: str, age: float = 50, sex: str = "F") -> Decision:
    return triage(TriageRequest(text=text, age=age, sex=sex))


RED = [
    # --- FAST: face
    ("mums smile has gone all wonky and shes dribbling out of one side of her mouth", 78, "F",
     "neuro_stroke_face"),
    ("72M. Sudden onset L facial droop 40 mins ago, last known well 0930", 72, "M",
     "neuro_stroke_face"),
    ("my husbands face looks lopsided and he cant smile properly on the left", 66, "F",
     "neuro_stroke_face"),
    # --- FAST: arm and grip
    ("my husband suddenly dropped his cup of tea and cant grip with his right hand", 74, "F",
     "neuro_stroke_limb"),
    ("R sided weakness, onset 1 hour ago, power 3/5 right arm", 69, "M", "neuro_stroke_limb"),
    ("Left-sided weakness since 10am, pronator drift on exam", 81, "F", "neuro_stroke_limb"),
    ("dad is dragging his left leg and lost the use of his left hand", 80, "M",
     "neuro_stroke_limb"),
    # --- FAST: speech
    ("she is getting her words in the wrong order and it started an hour ago", 70, "F",
     "neuro_stroke_speech"),
    ("Expressive dysphasia and dysarthria noted by daughter this morning", 77, "F",
     "neuro_stroke_speech"),
    ("my nan is talking like shes drunk but she hasnt had anything to drink", 84, "F",
     "neuro_stroke_speech"),
    ("he cant find the right words and is saying the wrong words for things", 63, "M",
     "neuro_stroke_speech"),
    # --- BE-FAST: eyes and balance
    ("grandad keeps bumping into things on his left side and says half his vision has gone",
     79, "M", "neuro_stroke_eyes_balance"),
    ("L homonymous hemianopia, acute", 71, "M", "neuro_stroke_eyes_balance"),
    ("suddenly seeing double and cant walk straight", 58, "F", "neuro_stroke_eyes_balance"),
    ("Acute onset vertigo with truncal ataxia and diplopia", 62, "M",
     "neuro_stroke_eyes_balance"),
    # --- TIA on an anticoagulant (NG128: admit for imaging)
    ("had a mini stroke yesterday, my arm went numb for 10 minutes, I take warfarin", 75, "F",
     "neuro_tia_anticoagulated"),
    ("Amaurosis fugax yesterday, on apixaban for AF", 76, "M", "neuro_tia_anticoagulated"),
    # --- subarachnoid haemorrhage
    ("felt like someone hit me on the back of the head, then the worst headache ever", 44, "F",
     "neuro_subarachnoid"),
    ("Sudden onset occipital headache, maximal at onset, vomited x2", 51, "M",
     "neuro_subarachnoid"),
    ("my headache came on in seconds while lifting weights and its severe", 38, "M",
     "neuro_subarachnoid"),
    ("thunderclap headache during sex an hour ago", 41, "M", "neuro_subarachnoid"),
    # --- meningitis / encephalitis
    ("headache and a stiff neck, cant bear the light and feels hot and shivery", 19, "F",
     "neuro_meningitis_encephalitis"),
    ("Pyrexial 38.9, headache, photophobia, neck stiffness, Kernigs positive", 22, "M",
     "neuro_meningitis_encephalitis"),
    ("my wife has a high temperature and is acting really strangely, not recognising me", 45,
     "M", "neuro_meningitis_encephalitis"),
    ("?encephalitis - febrile, new behaviour change and a seizure today", 35, "F",
     "neuro_meningitis_encephalitis"),
    # --- seizures
    ("she was fitting for over 5 minutes and still hasnt come round", 30, "F",
     "neuro_seizure_emergency"),
    ("Known epilepsy, 3 seizures in a row without recovery, buccal midazolam given", 28, "M",
     "neuro_seizure_emergency"),
    ("my husband had a fit, he has never had one before", 52, "F", "neuro_seizure_new"),
    ("First seizure, witnessed tonic clonic, now post ictal", 24, "M", "neuro_seizure_new"),
    # --- head injury (NG232)
    ("fell down the stairs and hit her head, she is on apixaban", 82, "F",
     "neuro_head_injury_red"),
    ("Head injury 2 hours ago, LOC approx 1 min, vomited twice", 35, "M",
     "neuro_head_injury_red"),
    ("he banged his head on the kerb and was knocked out and cant remember what happened", 19,
     "M", "neuro_head_injury_red"),
    ("Blow to the head, clear fluid from the nose since, panda eyes", 40, "M",
     "neuro_head_injury_red"),
    # --- cauda equina
    ("my back is killing me and I cant feel the toilet paper when I wipe", 42, "F",
     "neuro_cauda_equina"),
    ("LBP with bilateral sciatica and new urinary hesitancy", 47, "M", "neuro_cauda_equina"),
    ("bad back for a week and I have wet myself twice without knowing", 39, "F",
     "neuro_cauda_equina"),
    ("Low back pain, saddle anaesthesia, reduced anal tone", 51, "M", "neuro_cauda_equina"),
    # --- metastatic spinal cord compression (NG234)
    ("I have breast cancer and now have new back pain and my legs feel weak and wobbly", 58,
     "F", "neuro_mscc"),
    ("Known metastatic prostate ca, new thoracic back pain, difficulty walking", 74, "M",
     "neuro_mscc"),
    # --- giant cell arteritis with visual symptoms
    ("my jaw aches when I chew and now my vision is blurry in one eye", 72, "F",
     "neuro_gca_visual"),
    ("?GCA: scalp tenderness, new temporal headache, transient diplopia", 68, "M",
     "neuro_gca_visual"),
    # --- Guillain-Barre
    ("tingling started in my feet a few days ago and is spreading up to my knees", 33, "M",
     "neuro_guillain_barre"),
    ("Progressive ascending weakness over 3 days, areflexic, recent diarrhoeal illness", 46,
     "F", "neuro_guillain_barre"),
    # --- headache with impaired consciousness / personality change
    ("bad headache and now he is very drowsy and hard to wake", 61, "M",
     "neuro_headache_emergency"),
    ("Headache for 2 days with personality change noted by wife", 55, "M",
     "neuro_headache_emergency"),
    # --- carbon monoxide
    ("our carbon monoxide alarm went off and we all have headaches", 36, "F",
     "neuro_carbon_monoxide"),
    ("Headache and dizziness in the whole household, faulty boiler, CO alarm sounding", 40,
     "M", "neuro_carbon_monoxide"),
    # --- delirium with reduced consciousness
    ("dad is confused and really drowsy, we can hardly wake him", 84, "M", "neuro_delirium_red"),
    ("Acute confusion with reduced level of consciousness, responds to voice only", 90, "F",
     "neuro_delirium_red"),
]


@pytest.mark.parametrize(("text", "age", "sex", "rule"), RED)
def test_red_flags_fire(text: str, age: float, sex: str, rule: str) -> None:
    decision = decide(text, age, sex)
    assert decision.urgency.value == "emergency"
    assert rule in decision.red_flags


URGENT = [
    ("Suspected transient ischaemic attack 2 days ago, symptoms fully resolved, not on "
     "anticoagulants", 68, "M", "neuro_tia_recent"),
    ("my GP letter says I had a transient ischaemic attack on Monday, I am fine now, when is my "
     "clinic", 70, "F", "neuro_tia_recent"),
    ("Post-ictal after GTCS, known epilepsy on levetiracetam, now recovered", 27, "M",
     "neuro_seizure_known_epilepsy"),
    ("I have epilepsy and had a fit last night, it was my usual type and I am fine now, can "
     "someone review my tablets", 31, "F", "neuro_seizure_known_epilepsy"),
    ("my toddler bumped his head on the table, he cried straight away and is playing now", 2,
     "F", "neuro_head_injury_minor"),
    ("Minor head injury, no LOC, no vomiting, GCS 15, not anticoagulated", 30, "M",
     "neuro_head_injury_minor"),
    ("Known lung cancer with mets, new mid back pain for 2 weeks, waking at night", 66, "M",
     "neuro_spinal_metastases"),
    ("I am having chemo for bowel cancer and my back has started hurting", 59, "F",
     "neuro_spinal_metastases"),
    ("my scalp is really sore when I brush my hair and I have a new headache in my temples",
     71, "F", "neuro_gca"),
    ("71F new temporal headache, jaw claudication, scalp tenderness, no visual symptoms", 71,
     "F", "neuro_gca"),
    ("headache for 3 weeks that is worse when I cough and wakes me up at night", 40, "F",
     "neuro_headache_red_features"),
    ("Headache worse on lying flat and straining, progressive over 2 weeks", 35, "M",
     "neuro_headache_red_features"),
    ("I have a new headache every day, never had headaches before", 63, "M",
     "neuro_headache_new_over_50"),
    ("New onset headaches in a 58 year old, no focal symptoms", 58, "F",
     "neuro_headache_new_over_50"),
    ("Delirium, fluctuating, 4AT 7, no focal signs", 86, "M", "neuro_delirium"),
    ("my mum is much more muddled than usual and picking at the sheets", 88, "F",
     "neuro_delirium"),
    ("I have had double vision for a week when I look to the right", 45, "F",
     "neuro_double_vision"),
    ("Diplopia on lateral gaze for 5 days, no headache", 52, "M", "neuro_double_vision"),
    ("I keep falling to one side when I walk, it has been getting worse over weeks", 60, "M",
     "neuro_unsteady_new"),
    ("Gait ataxia progressive over 3 weeks, no headache, no diplopia", 67, "F",
     "neuro_unsteady_new"),
    ("I have Bells palsy I think, my face feels weird", 34, "F", "neuro_bells_palsy"),
    ("?Bell's palsy, LMN facial weakness 2 days", 41, "M", "neuro_bells_palsy"),
    ("sciatica down my right leg and now I have a foot drop", 44, "M",
     "neuro_sciatica_foot_drop"),
    ("my back is bad and my foot keeps slapping when I walk", 50, "F",
     "neuro_sciatica_foot_drop"),
]


@pytest.mark.parametrize(("text", "age", "sex", "rule"), URGENT)
def test_urgent_flags_fire(text: str, age: float, sex: str, rule: str) -> None:
    decision = decide(text, age, sex)
    assert decision.urgency.value != "emergency"
    assert rule in [r.id for r in decision.fired_rules]


NOT_EMERGENCY = [
    # negated
    "no neck stiffness, no photophobia, just a mild headache with a cold",
    "I am not slurring my words and my face is fine, just a cough",
    "no numbness around my bottom and my bladder is fine, sore back after gardening",
    "no weakness in my arms or legs, just pins and needles in my fingers at night",
    # past
    "my mum had a stroke in 2015, I need her repeat prescription",
    "I had a seizure 5 years ago and need a letter for the DVLA",
    "my son had a head injury last year playing rugby, need a form filled in",
    "history of Bells palsy in 2018, need my blood pressure checked",
    # hypothetical / information
    "what are the signs of a stroke?",
    "what are the symptoms of meningitis in adults",
    "worried about getting sciatica, can I see the physio",
    # benign look-alikes
    "we fitted a new carpet yesterday and my knee hurts",
    "my speech therapy appointment needs moving",
    "I dropped my phone and the screen cracked, need a new number on my record",
    "tension headache after a long day at work, paracetamol helps",
    "my usual migraine with aura, took my triptan and it is easing",
    "I get dizzy when I stand up quickly, no other symptoms",
    "my back aches after gardening, no leg symptoms",
]


@pytest.mark.parametrize("text", NOT_EMERGENCY)
def test_negated_past_hypothetical_and_lookalikes_are_not_emergencies(text: str) -> None:
    assert decide(text).urgency.value != "emergency"


# Written from the guidance; they fail because of rules or text handling outside this file.
KNOWN_LIMITS = [
    pytest.param(
        "I think I had a mini stroke two days ago, my arm went numb for 10 minutes but it is "
        "fine now",
        "neuro_tia_recent",
        id="resolved-tia-lay",
    ),
    pytest.param(
        "fitting a new carpet and my knee hurts",
        None,
        id="fitting-a-carpet",
    ),
    pytest.param(
        "Carer reports newly confused over 2 days, fluctuating attention, 4AT 5, eating and "
        "drinking",
        "neuro_delirium",
        id="delirium-classifier",
    ),
    pytest.param(
        "had one of my usual fits yesterday, I am on keppra, feeling ok now",
        "neuro_seizure_known_epilepsy",
        id="usual-fit-on-keppra",
    ),
]


@pytest.mark.parametrize(("text", "rule"), KNOWN_LIMITS)
def test_known_limits(text: str, rule: str | None) -> None:
    decision = decide(text, 86 if rule == "neuro_delirium" else 60, "M")
    assert decision.urgency.value != "emergency"
    if rule:
        assert rule in [r.id for r in decision.fired_rules]
