"""Benign care navigation across everyday primary care (ADR 0021: fail safe by construction).

A request may leave the clinical stream, or wait for a routine booking, only when a known
low-risk pattern explains every clinically meaningful word in it. These tests say, area by area,
where ordinary requests belong according to the guidance each area cites, lay and clinician
style, and that the same request with a danger sentence added never gets a low-acuity route.

Expected routes come from NHS England care navigation and Network Contract DES role guidance
(clinical pharmacist, first contact physiotherapist, social prescribing link worker, care
coordinator, mental health practitioner), the general practice nursing role, NHS Pharmacy First
and the NHS.UK "a pharmacist can help" pages, NICE CKS topics for self-limiting conditions and
NICE NG12 (suspected cancer: routine to the GP, seen within days). They were written from that
guidance, not from running the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pcn.triage import Route, TriageRequest, Urgency, triage
from pcn.triage.confidence import default_lexicon
from pcn.triage.definitions import load_definitions

R, U = Route, Urgency
LOW_ACUITY = {Urgency.routine, Urgency.self_care}
LEAVES_CLINICAL_STREAM = {Route.admin, Route.self_care, Route.community_pharmacy,
                          Route.pharmacy_first}


@dataclass(frozen=True)
class Case:
    text: str
    #: where the guidance sends it (more than one when the guidance allows either)
    routes: tuple[Route, ...]
    urgency: Urgency
    age: float = 40
    sex: str = "F"

    def __str__(self) -> str:  # readable test ids
        return self.text[:60]


def case(text: str, route: Route | tuple[Route, ...], urgency: Urgency, age: float = 40,
         sex: str = "F") -> Case:
    return Case(text, route if isinstance(route, tuple) else (route,), urgency, age, sex)


def decide(text: str, age: float = 40, sex: str = "F"):  # type: ignore[no-untyped-def]
    return triage(TriageRequest(text=text, age=age, sex=sex))


# --- 1. Admin: the practice team (NHS England, Delivery plan for recovering access 2023; care
# navigation). Repeat prescriptions, including requests that only name the medicines, fit
# notes, letters and forms, results, chasing referrals, records, registration, bookings and a
# medication review that has fallen due.
ADMIN = [
    case("please can I have my repeat prescription of amlodipine and ramipril", R.admin, U.routine,
         66, "M"),
    case("can I get my sertraline and omeprazole put through", R.admin, U.routine),
    case("could you send my levothyroxine and atorvastatin to Boots please", R.admin, U.routine,
         58),
    case("need more of my salbutamol inhaler and my brown inhaler please", R.admin, U.routine, 30),
    case("metformin and gliclazide please, running low", R.admin, U.routine, 61, "M"),
    case("Hi, I'm due my HRT patches and utrogestan, can they go to my usual pharmacy",
         R.admin, U.routine, 52),
    case("I need a fit note extending, still off work with my back", R.admin, U.routine, 45, "M"),
    case("could I have a sick note for the last two weeks, I was off with stress", R.admin,
         U.routine, 35),
    case("I need a letter for my housing application", R.admin, U.routine),
    case("please can the doctor fill in my DVLA form for my diabetes", R.admin, U.routine, 55,
         "M"),
    case("my travel insurance needs a form signed by a GP to say I'm fit to travel", R.admin,
         U.routine, 70),
    case("school need a letter to say my son has asthma and can carry his inhaler", R.admin,
         U.routine, 38),
    case("have my blood test results come back yet?", R.admin, U.routine),
    case("I had an x-ray on my knee last week, are the results in?", R.admin, U.routine, 60),
    case("I was referred to dermatology in March and have heard nothing, can you chase it",
         R.admin, U.routine),
    case("how do I get access to my records on the NHS app", R.admin, U.routine),
    case("I'd like a copy of my medical records please", R.admin, U.routine),
    case("I have just moved to the area and would like to register with the practice", R.admin,
         U.routine, 29),
    case("I need to cancel my appointment on Tuesday", R.admin, U.routine),
    case("can I rearrange my blood test appointment to next week", R.admin, U.routine),
    case("I got a text saying my medication review is due, how do I book it", R.admin, U.routine,
         72),
    # clinician style
    case("Repeat Rx request: amlodipine 5mg once daily, atorvastatin 20mg at night.", R.admin,
         U.routine, 67, "M"),
    case("Med3 extension requested, 2/52, recovering from hernia repair.", R.admin, U.routine, 50,
         "M"),
    case("Pt requesting copy of discharge summary from recent admission.", R.admin, U.routine, 70),
    case("Insurance medical report requested by Aviva, please complete.", R.admin, U.routine),
    case("SAR received for full records.", R.admin, U.routine),
    case("DVLA medical questionnaire received, T2DM on gliclazide.", R.admin, U.routine, 63, "M"),
    case("Could you please issue my bisoprolol and ramipril", R.admin, U.routine, 72, "M"),
    case("what time is my appointment on Thursday", R.admin, U.routine, 52),
    case("I'd like to register my newborn baby", R.admin, U.routine, 30),
]

# --- 2. Questions about medicines: the PCN clinical pharmacist (Network Contract DES; NICE NG5
# medicines optimisation; CKS statins, contraception, HRT, inhalers).
MEDICINES = [
    case("Can I take ibuprofen with my ramipril?", R.clinical_pharmacist, U.routine, 62),
    case("I forgot to take my levothyroxine yesterday, should I take two today?",
         R.clinical_pharmacist, U.routine),
    case("I'd like to stop taking my statin, can someone talk me through it",
         R.clinical_pharmacist, U.routine, 64, "M"),
    case("I think my atorvastatin is giving me aching muscles", R.clinical_pharmacist,
         U.routine, 60),
    case("I feel better now and want to come off sertraline, how do I reduce it",
         R.clinical_pharmacist, U.routine, 33),
    case("can I switch from the combined pill to the mini pill?", R.clinical_pharmacist,
         U.routine, 28),
    case("is it ok to drink alcohol while taking amitriptyline?", R.clinical_pharmacist,
         U.routine),
    case("I want to change my HRT from tablets to patches", R.clinical_pharmacist, U.routine, 52),
    case("could someone check my inhaler technique, not sure I'm using my spacer right",
         R.clinical_pharmacist, U.routine, 30),
    case("what time of day should I take my amlodipine?", R.clinical_pharmacist, U.routine, 58),
    case("the pharmacy gave me a different brand of my tablets this month, is that ok?",
         R.clinical_pharmacist, U.routine, 70),
    case("I've been on lansoprazole for years, do I still need to take it?",
         R.clinical_pharmacist, U.routine, 66),
    case("I'm breastfeeding, is it safe to take sertraline?", R.clinical_pharmacist, U.routine,
         31),
    case("my ramipril is giving me a dry cough", R.clinical_pharmacist, U.routine, 64, "M"),
    case("I missed two of my blood pressure tablets while on holiday, what should I do",
         R.clinical_pharmacist, U.routine, 67, "M"),
    case("does my medication interact with St John's Wort", R.clinical_pharmacist, U.routine),
    # clinician style
    case("Query interaction: clarithromycin with simvastatin 40mg.", R.clinical_pharmacist,
         U.routine, 70, "M"),
    case("Pt asks re missed dose of levothyroxine, otherwise well.", R.clinical_pharmacist,
         U.routine),
    case("SMR requested. 78F on 11 regular meds, ?deprescribing.", R.clinical_pharmacist,
         U.routine, 78),
    case("Statin intolerance: mild myalgia on atorvastatin 40mg, wishes to switch.",
         R.clinical_pharmacist, U.routine, 60, "M"),
]

# --- 3. Practice nurse (NHS England general practice nursing; Green Book; NHS cervical and
# health check programmes; NICE NG80 asthma and NG115 COPD reviews; NICE NG98 ear wax).
NURSE = [
    case("I would like to book my smear test", R.practice_nurse, U.routine, 32),
    case("can I have my flu jab please", R.practice_nurse, U.routine, 70),
    case("I need a blood test for my thyroid, the doctor asked for it", R.practice_nurse,
         U.routine),
    case("I need my dressing changed on the wound on my leg", R.practice_nurse, U.routine, 75),
    case("I need my stitches out, they were put in at A&E 10 days ago", R.practice_nurse,
         U.routine, 25, "M"),
    case("can I come in for a blood pressure check", R.practice_nurse, U.routine, 55),
    case("my asthma review is due", R.practice_nurse, U.routine, 30),
    case("I'm due my diabetic foot check and review", R.practice_nurse, U.routine, 62, "M"),
    case("my ears are blocked with wax, can I have them syringed", R.practice_nurse, U.routine,
         68),
    case("the doctor wants me to have an ECG", R.practice_nurse, U.routine, 55, "M"),
    case("my B12 injection is due", R.practice_nurse, U.routine, 60),
    case("I've had a letter inviting me for an NHS health check", R.practice_nurse, U.routine, 45,
         "M"),
    case("my depo injection is due next week", R.practice_nurse, U.routine, 25),
    case("my contraceptive implant is due to be changed, it's been 3 years",
         (R.practice_nurse, R.gp), U.routine, 28),
    case("I need travel vaccines for Thailand, we go in 6 weeks", R.practice_nurse, U.routine),
    case("my COPD review is due, can I book it", R.practice_nurse, U.routine, 68, "M"),
    case("my stitches need taking out on Monday", R.practice_nurse, U.routine, 45, "M"),
    case("I need my coil checked", (R.practice_nurse, R.gp), U.routine, 31),
    # clinician style
    case("Bloods due: FBC, U&E, HbA1c, lipids for annual diabetic review.", R.practice_nurse,
         U.routine, 64, "M"),
    case("Wound check day 5 post excision R forearm, no concerns.", R.practice_nurse, U.routine,
         50),
    case("Suture removal due day 10, forearm laceration closed in ED, healing well.",
         R.practice_nurse, U.routine, 30, "M"),
    case("Dressing change: L leg ulcer, compression bandaging twice weekly.", R.practice_nurse,
         U.routine, 80),
    case("B12 IM due, pernicious anaemia.", R.practice_nurse, U.routine, 66),
]

# --- 4. Musculoskeletal: first contact physiotherapist (Network Contract DES; NICE NG59 low back
# pain, NG226 osteoarthritis; CKS neck pain, shoulder pain, sprains and strains, tendinopathy).
MSK = [
    case("my knee has been aching for 3 months, worse on stairs, it clicks", R.fcp_physio,
         U.routine, 55),
    case("lower back pain for 2 weeks after gardening, I'm moving about ok", R.fcp_physio,
         U.routine, 45, "M"),
    case("stiff neck after sleeping awkwardly, it hurts to turn my head", R.fcp_physio,
         U.routine, 35),
    case("tennis elbow for 6 weeks, it hurts when I grip things", R.fcp_physio, U.routine, 45),
    case("heel pain first thing in the morning, worse after sitting, for 2 months", R.fcp_physio,
         U.routine, 50),
    case("my achilles has been sore since I started running, I can walk fine", R.fcp_physio,
         U.routine, 38, "M"),
    case("sprained my ankle playing football last week, I can walk on it but it's still a bit "
         "swollen", R.fcp_physio, U.routine, 25, "M"),
    case("my shoulder hurts when I lift my arm above my head, for about 2 months", R.fcp_physio,
         U.routine, 50),
    case("I finished physio for my knee and would like some more exercises", R.fcp_physio,
         U.routine, 60),
    case("can I get some exercises for my back", R.fcp_physio, U.routine),
    case("my hip has been aching for months, I think it's arthritis", R.fcp_physio, U.routine,
         68),
    case("pain at the base of my thumb when I open jars", R.fcp_physio, U.routine, 62),
    case("my wrist aches from typing at work", R.fcp_physio, U.routine, 30),
    case("I pulled a muscle in my back lifting a box, I'm walking ok", R.fcp_physio, U.routine,
         29, "M"),
    case("I'd like to self refer to physio for my back", R.fcp_physio, U.routine, 50, "M"),
    case("sciatica down my left leg for 3 weeks, no numbness, bladder and bowels fine",
         R.fcp_physio, U.routine, 42, "M"),
    # clinician style
    case("48F. 4/12 R shoulder pain, painful arc. Full ROM.", R.fcp_physio, U.routine, 48),
    case("52M. 3/52 mechanical LBP, no saddle anaesthesia, bladder and bowels normal.",
         R.fcp_physio, U.routine, 52, "M"),
    case("35M. Inversion injury L ankle 2/52 ago, weight bearing, Ottawa negative. Rehab advice.",
         R.fcp_physio, U.routine, 35, "M"),
    case("61F. Bilateral knee OA, requests physio referral.", R.fcp_physio, U.routine, 61),
    case("40M. Lateral epicondylitis R elbow, 8/52.", R.fcp_physio, U.routine, 40, "M"),
]

# --- 5. Mental health practitioner (NICE NG222, CG113; NHS Talking Therapies), social
# prescribing link worker (NHS England social prescribing) and care coordinator (Network
# Contract DES).
MENTAL_HEALTH = [
    case("I've been feeling low for a few months and would like some support, no thoughts of "
         "harming myself", R.mental_health_practitioner, U.routine, 32),
    case("my anxiety has been getting worse and I'm having panic attacks at work",
         R.mental_health_practitioner, U.routine, 28),
    case("I'd like counselling, I've been struggling since my mum died",
         R.mental_health_practitioner, U.routine, 45),
    case("can I self refer to talking therapies for my anxiety", R.mental_health_practitioner,
         U.routine, 24),
    case("I've been really stressed with work and not sleeping well",
         R.mental_health_practitioner, U.routine),
    case("my GP said I should speak to the mental health practitioner about my OCD",
         R.mental_health_practitioner, U.routine, 27),
    # clinician style
    case("29F. Low mood 3/12, PHQ-9 14, GAD-7 12. No suicidal thoughts, no self harm. Wants "
         "talking therapy.", R.mental_health_practitioner, U.routine, 29),
    case("45M. Work stress, poor sleep, no risk identified. Requests MH practitioner.",
         R.mental_health_practitioner, U.routine, 45, "M"),
]
SOCIAL = [
    case("since my husband died I am very lonely and hardly speak to anyone", R.social_prescriber,
         U.routine, 78),
    case("I'm behind on my rent and worried about debt, is there anyone who can help",
         R.social_prescriber, U.routine),
    case("I need help filling in a PIP form", (R.social_prescriber, R.admin), U.routine, 50),
    case("I care for my husband who has dementia, is there any support for carers",
         R.social_prescriber, U.routine, 72),
    case("I'd like to lose some weight, is there a group I could join",
         (R.social_prescriber, R.gp), U.routine, 45),
    case("I want to get more active, are there any walking groups near me", R.social_prescriber,
         U.routine, 66),
    case("my flat has damp and mould and my landlord won't fix it", R.social_prescriber,
         U.routine, 35),
    case("I've lost my job and I'm struggling to afford food, do you know any food banks",
         R.social_prescriber, U.routine, 38, "M"),
    # clinician style
    case("82F lives alone, socially isolated, would benefit from befriending. No acute issues.",
         R.social_prescriber, U.routine, 82),
    case("Carer strain: 70M caring for wife with Parkinson's, requests carer support.",
         R.social_prescriber, U.routine, 70, "M"),
]
CARE_COORDINATION = [
    case("Mum has been discharged from hospital and needs a care package sorted",
         R.care_coordinator, U.routine, 50),
    case("can someone arrange a commode and grab rails for my dad", R.care_coordinator,
         U.routine, 55),
    case("my husband has lots of different hospital appointments and I need help coordinating "
         "them", R.care_coordinator, U.routine, 74),
    case("can we update dad's care plan, he has moved into a care home", R.care_coordinator,
         U.routine, 52),
    case("we'd like to talk about mum's end of life care plan", R.care_coordinator, U.routine, 58),
    # clinician style
    case("Post-discharge: 84M home after hip replacement, needs OT and equipment review.",
         R.care_coordinator, U.routine, 84, "M"),
    case("Care coordination: 79F, outpatient appointments across 4 specialties, needs a single "
         "care plan.", R.care_coordinator, U.routine, 79),
]

# --- 6. Self-care and community pharmacy (NHS England 2018/2024 conditions for which
# over-the-counter items should not routinely be prescribed; NHS.UK "a pharmacist can help";
# NICE CKS common cold, cough, threadworm, head lice, constipation, haemorrhoids, aphthous ulcer,
# herpes simplex, warts and verrucae, fungal skin infection, dandruff, acne, dyspepsia, teething,
# nappy rash).
#: NHS.UK presents these both as self-care and "a pharmacist can help": either route is right.
PHARMACY = (R.community_pharmacy, R.self_care)
SELF_CARE = [
    # NHS.UK common cold and cough: self-care, and "a pharmacist can help"
    case("I've had a cold for 4 days, blocked nose and a tickly cough", PHARMACY, U.self_care, 30),
    case("cough for 10 days after a cold, getting better slowly", PHARMACY, U.self_care, 35),
    case("my hay fever is bad, itchy eyes and sneezing, what can I take", PHARMACY, U.self_care,
         25),
    case("I think I have thrush, itchy down below with a thick white discharge", PHARMACY,
         U.self_care, 30),
    case("my son is 6, white threads in his poo and an itchy bottom at night", PHARMACY,
         U.self_care, 35),
    case("itchy bottom at night, I think it might be threadworms", PHARMACY, U.self_care, 30),
    case("my daughter has head lice, what's the best treatment", PHARMACY, U.self_care, 38),
    case("I've been constipated for a few days, what can I take", PHARMACY, U.self_care, 35),
    case("I think I have piles, my bottom is itchy and sore", PHARMACY, U.self_care, 35),
    case("I've had a mouth ulcer for 5 days, it stings when I eat", PHARMACY, U.self_care, 30),
    case("I've got a cold sore coming on my lip", PHARMACY, U.self_care, 27),
    case("verruca on the sole of my foot, what can I use", PHARMACY, U.self_care, 16),
    case("itchy cracked skin between my toes, athlete's foot I think", PHARMACY, U.self_care, 30,
         "M"),
    case("mild eczema flare on my arms, which moisturiser can I buy", PHARMACY, U.self_care, 26),
    case("I have bad dandruff, what shampoo should I use", PHARMACY, U.self_care, 22, "M"),
    case("my lips are dry and chapped", PHARMACY, U.self_care, 30),
    case("my toddler has had a snotty nose and cough for a few days but is eating and playing",
         PHARMACY, U.self_care, 31),
    case("my teenage son has spots on his face, what can he use", PHARMACY, U.self_care, 45),
    case("I get indigestion after big meals, what can I take", PHARMACY, U.self_care, 35, "M"),
    case("my baby is teething, red cheeks and dribbling, what can I give her", PHARMACY,
         U.self_care, 30),
    case("my 8 month old has nappy rash, what cream is best", PHARMACY, U.self_care, 30),
    # information requests with no current symptoms
    case("how long does a cold usually last?", PHARMACY, U.self_care),
    case("what should I look out for after my son's MMR jab?", R.self_care, U.self_care, 32),
    case("what are the signs of dehydration in a toddler I should look out for?", R.self_care,
         U.self_care, 29),
    case("what are the symptoms of measles? there's been a case at my son's school", R.self_care,
         U.self_care, 36),
    # clinician style
    case("Coryzal 3/7, afebrile, eating and drinking, no SOB.", PHARMACY, U.self_care, 30),
    case("Threadworm in 6yo, household treatment advice requested.", PHARMACY, U.self_care, 36),
    case("Pt asks re OTC treatment for hay fever, sneezing and itchy eyes.", PHARMACY,
         U.self_care, 24),
]

# --- 7. Routine GP: long-standing problems and life stages, stable skin lesions, contraception
# choices, referrals, and symptoms for a suspected-cancer referral (NICE NG12: routine to the
# GP, seen within days; NICE NG23 menopause, CG97 male LUTS, CG156 fertility; CKS tiredness).
GP = [
    case("I would like to talk to someone about HRT for my menopause symptoms", R.gp, U.routine,
         51),
    case("I've been tired all the time for months and would like to find out why",
         R.gp, U.routine, 38),
    case("my hair has been thinning over the last year", R.gp, U.routine, 44),
    case("I'm having trouble getting an erection", R.gp, U.routine, 55, "M"),
    case("I get up three times a night to wee and my stream is weak", R.gp, U.routine, 68, "M"),
    case("we've been trying for a baby for 18 months with no luck", R.gp, U.routine, 34),
    case("my wife says my snoring is terrible, can I get it looked at", R.gp, U.routine, 50, "M"),
    case("I'd like help with my weight, my BMI is 36", (R.gp, R.social_prescriber), U.routine, 47),
    case("I've had a skin tag on my neck for years, can it be removed", R.gp, U.routine, 50),
    case("I'd like my vasectomy referral", R.gp, U.routine, 40, "M"),
    case("I have a mole that hasn't changed but I'd like it checked", R.gp, U.routine, 36),
    case("I'd like to discuss contraception options, maybe the coil", (R.gp, R.practice_nurse),
         U.routine, 27),
    case("I would like a referral to a dermatologist for my psoriasis", R.gp, U.routine, 41),
    # suspected cancer (NG12): routine to the GP
    case("I'm 65 and my bowels have been looser and more often for the last 6 weeks", R.gp,
         U.routine, 65, "M"),
    case("I've lost a stone without trying over the last few months", R.gp, U.routine, 58, "M"),
    case("my blood test showed I'm low in iron and the doctor wants to see me", R.gp, U.routine,
         60, "M"),
    case("I've had some bleeding after the menopause", R.gp, U.routine, 58),
    case("I've found a lump in my breast", R.gp, U.routine, 45),
    # clinician style
    case("68M. 6/12 nocturia x3, poor stream. No haematuria. PSA requested.", R.gp, U.routine, 68,
         "M"),
    case("72F. 3/12 change in bowel habit, looser stools, no PR bleeding, faecal immunochemical "
         "test sent.", R.gp, U.routine, 72),
    case("57F. PMB x1 last week, not on HRT.", R.gp, U.routine, 57),
    case("63M. IDA on routine bloods, Hb 108, ferritin 8. No overt bleeding.", R.gp, U.routine,
         63, "M"),
    case("50F. Menopausal symptoms, hot flushes, requests HRT discussion.", R.gp, U.routine, 50),
    case("46M. Erectile dysfunction 6/12, no other symptoms.", R.gp, U.routine, 46, "M"),
    # NG12 in other words: bleeding years after the last period, painless visible haematuria at
    # 45 and over, rectal bleeding with looser stools
    case("my periods stopped about five years ago but this week I noticed some spotting, no pain",
         R.gp, U.routine, 56),
    case("61F, LMP 9 yrs ago, light PV bleeding x2 in past fortnight. Well.", R.gp, U.routine,
         61),
    case("noticed my wee was pink twice last week, no pain, nothing since, I'm 67", R.gp,
         U.routine, 67, "M"),
    case("58M. 5/52 PR bleeding mixed with stool and looser stools. Abdo soft, obs stable.",
         R.gp, U.routine, 58, "M"),
    # a non-acute result in someone who is well: routine GP review (NG145, NG28, NG238, NG136)
    case("Lab: TSH 6.8 (0.3-4.2), free T4 14 (normal). Asymptomatic.", R.gp, U.routine, 49),
    case("cholesterol came back at 7.1, QRISK 12%, I feel fine, what now?", R.gp, U.routine, 52,
         "M"),
    case("56F. ABPM daytime average 151/94. Well, no target organ damage.", R.gp, U.routine, 56),
    case("my home BP monitor has been showing about 145/90 all week, I feel fine", (R.gp,
         R.practice_nurse), U.routine, 58, "M"),
    # a hospital's letter about care already given (NHS Standard Contract: actions for the GP)
    case("Discharge summary: 70M admitted with pneumonia, antibiotics completed, home and "
         "mobile. GP to repeat chest X-ray in 6 weeks.", (R.gp, R.admin), U.routine, 70, "M"),
    # insomnia (NICE CKS), starting contraception (FSRH), a review that has fallen due (QOF)
    case("I've not been sleeping well for months, I lie awake for hours most nights", R.gp,
         U.routine, 44),
    case("I'd like to start on the pill please, I'm 22 and healthy", (R.gp, R.practice_nurse),
         U.routine, 22),
    case("my asthma review is overdue, can I book it with the nurse", R.practice_nurse,
         U.routine, 33),
]

# --- 8. Optometrist and dentist (NICE CKS red eye / blurred vision; NHS.UK eye tests, dry eyes;
# NHS.UK toothache and dental problems: a dentist unless facial swelling, fever or difficulty
# swallowing or breathing).
EYES_TEETH = [
    case("I'm struggling to read small print, I think I need reading glasses", R.optometrist,
         U.routine, 48),
    case("my eyes are dry and gritty when I'm on the computer", R.optometrist, U.routine, 34),
    case("my distance vision has been slowly getting blurry over the past year", R.optometrist,
         U.routine, 60),
    case("my glasses don't seem strong enough any more", R.optometrist, U.routine, 55),
    case("my eyes are tired and strained after work", R.optometrist, U.routine, 30),
    case("55M. Gradual deterioration in near vision over 6/12, no red eye, no pain.",
         R.optometrist, U.routine, 55, "M"),
    case("I've had toothache for 2 days", R.dentist, U.routine, 30),
    case("a filling has fallen out of my back tooth", R.dentist, U.routine, 45),
    case("my wisdom tooth is sore", R.dentist, U.routine, 22),
    case("my gums bleed when I brush my teeth", R.dentist, U.routine, 40),
    case("my gums are sore and bleeding when I brush", R.dentist, U.routine, 45),
    case("I chipped my tooth on a crisp", R.dentist, U.routine, 35, "M"),
    case("30M. Dental pain lower left molar 3/7, no facial swelling, no fever, swallowing normal.",
         R.dentist, U.routine, 30, "M"),
]

AREAS: dict[str, list[Case]] = {
    "admin": ADMIN,
    "medicines": MEDICINES,
    "nurse": NURSE,
    "msk": MSK,
    "mental_health": MENTAL_HEALTH,
    "social": SOCIAL,
    "care_coordination": CARE_COORDINATION,
    "self_care": SELF_CARE,
    "routine_gp": GP,
    "eyes_teeth": EYES_TEETH,
}
BENIGN = [pytest.param(c, id=f"{area}: {c}") for area, cases in AREAS.items() for c in cases]


@pytest.mark.parametrize("benign", BENIGN)
def test_benign_request_is_explained_and_routed_as_the_guidance_says(benign: Case) -> None:
    decision = decide(benign.text, benign.age, benign.sex)
    assert decision.confident, decision.explanation
    assert decision.urgency is benign.urgency, decision.explanation
    assert decision.route in benign.routes, decision.explanation


# --- an admin request with a clinical problem in it goes to the clinician ------------------------
#: Care navigation sends a symptom to a clinician even when the message also asks for paperwork
#: or a prescription; the clinician passes the admin part on (never the other way round).
COMBINED = [
    ("repeat prescription please, and my knee has been aching for months", 60, "F",
     R.fcp_physio),
    ("can I get my amlodipine put through please, I've also been getting dizzy when I stand up",
     70, "F", R.gp),
    ("I need my sertraline please. I've been feeling low again and would like some counselling",
     35, "F", R.mental_health_practitioner),
    ("I need a letter for work, also my back has been aching for a few weeks", 40, "M",
     R.fcp_physio),
]


@pytest.mark.parametrize(("text", "age", "sex", "route"), COMBINED)
def test_an_admin_request_with_a_clinical_problem_goes_to_the_clinician(
    text: str, age: float, sex: str, route: Route
) -> None:
    decision = decide(text, age, sex)
    assert decision.route is route, decision.explanation
    assert decision.urgency in LOW_ACUITY | {Urgency.urgent}


# --- known gaps outside the navigation files ----------------------------------------------------
#: Benign requests the guidance routes as above that the engine still refuses or escalates
#: because of a definition this brief does not own (named in each reason). They are recorded
#: here so a fix elsewhere shows up (strict=False: an unexpected pass is not an error).
KNOWN_GAPS = [
    pytest.param(case("Repeat Rx request: amlodipine 5mg od, atorvastatin 20mg on.", R.admin,
                      U.routine, 67, "M")),
    pytest.param(case("72F. 3/12 change in bowel habit, looser stools, no PR bleeding. FIT "
                      "requested.", R.gp, U.routine, 72)),
    pytest.param(case("Suture removal due day 10, scalp wound closed in ED, healing well.",
                      R.practice_nurse, U.routine, 30, "M"),
                 marks=pytest.mark.xfail(strict=True, reason=(
                     "a healed scalp wound still fires the minor head injury flag "
                     "(neurology.yaml): urgent, a safe over-triage"))),
    pytest.param(case("heel pain first thing in the morning, I think it's plantar fasciitis",
                      R.fcp_physio, U.routine, 50)),
    pytest.param(case("I think I have piles, itchy and sore when I go to the toilet", PHARMACY,
                      U.self_care, 35),
                 marks=pytest.mark.xfail(strict=True, reason=(
                     "'sore when I go to the toilet' also reads as UTI symptoms, which the piles "
                     "pattern does not explain: urgent, a safe over-triage"))),
    pytest.param(case("am I eligible for the shingles vaccine?", R.practice_nurse, U.routine, 71)),
    pytest.param(case("my new blood pressure tablets are giving me swollen ankles",
                      R.clinical_pharmacist, U.routine, 70)),
    pytest.param(case("I'm on too many tablets and want them reviewed", R.clinical_pharmacist,
                      U.routine, 81, "M")),
    pytest.param(case("I'm having frequency and getting up at night to pee, poor stream", R.gp,
                      U.routine, 68, "M"),
                 marks=pytest.mark.xfail(strict=True, reason=(
                     "'frequency' reads as UTI symptoms in a man: urgent, a safe over-triage"))),
]


@pytest.mark.parametrize("benign", KNOWN_GAPS)
def test_known_gap(benign: Case) -> None:
    test_benign_request_is_explained_and_routed_as_the_guidance_says(benign)


# --- danger variants: the same benign request plus a danger sentence is never low acuity ------
DANGER_VARIANTS = [
    # admin
    ("can I get my sertraline and omeprazole put through", "I also have crushing chest pain",
     40, "F"),
    ("need more of my salbutamol inhaler please",
     "my ankles have swollen up and I'm short of breath", 30, "F"),
    ("I need a fit note extending, still off work with my back",
     "since yesterday I can't feel my bottom when I wipe", 45, "M"),
    ("have my blood test results come back yet?", "I have been vomiting blood this morning",
     40, "F"),
    ("Repeat Rx request: amlodipine 5mg od, atorvastatin 20mg on.", "Now c/o sudden slurred "
     "speech and L arm weakness.", 67, "M"),
    ("metformin and gliclazide please, running low", "my sugars have been over 25 and I keep "
     "being sick", 61, "M"),
    # medicines
    ("I think my atorvastatin is giving me aching muscles",
     "my wee has gone dark brown and my legs are too weak to stand", 60, "F"),
    ("can I switch from the combined pill to the mini pill?",
     "my left calf is swollen, red and painful", 28, "F"),
    ("Can I take ibuprofen with my ramipril?", "my lips and tongue have started swelling",
     62, "F"),
    ("Statin intolerance: mild myalgia on atorvastatin 40mg, wishes to switch.",
     "Now dark urine and proximal weakness.", 60, "M"),
    # nurse
    ("can I come in for a blood pressure check",
     "I've had a terrible headache and blurred vision since this morning", 55, "F"),
    ("I need my dressing changed on the wound on my leg",
     "the skin around it is hot, red and spreading and I feel shivery", 75, "F"),
    ("my asthma review is due", "my inhaler isn't helping and I can't finish a sentence",
     30, "F"),
    ("Wound check day 5 post excision R forearm, no concerns.",
     "Now spreading erythema and temp 38.6.", 50, "F"),
    ("Mum has been discharged from hospital and needs a care package sorted",
     "She's not eating or drinking.", 50, "F"),
    # musculoskeletal (the danger inside the phrase a pain concept matched)
    ("my knee is numb and painful", "", 50, "F"),
    ("my knee has been aching for 3 months, worse on stairs, it clicks",
     "and my leg has gone cold and white", 55, "F"),
    ("my knee has been aching for 3 months, worse on stairs, it clicks",
     "now it is hot, red and swollen and I have a temperature", 55, "F"),
    ("lower back pain for 2 weeks after gardening, I'm moving about ok",
     "and now I have numbness around my bottom and can't pee", 45, "M"),
    ("stiff neck after sleeping awkwardly, it hurts to turn my head",
     "I've got a high fever and the light hurts my eyes", 35, "F"),
    ("sprained my ankle playing football last week, I can walk on it but it's still a bit "
     "swollen", "my foot is numb and has gone blue", 25, "M"),
    ("48F. 4/12 R shoulder pain, painful arc. Full ROM.", "Now hot swollen joint, T 38.9.",
     48, "F"),
    ("52M. 3/52 mechanical LBP, no saddle anaesthesia, bladder and bowels normal.",
     "New bilateral leg weakness and urinary retention today.", 52, "M"),
    # mental health, social, care coordination
    ("I've been feeling low for a few months and would like some support",
     "I have been thinking about ending my life and have saved up tablets", 32, "F"),
    ("since my husband died I am very lonely and hardly speak to anyone",
     "I have stopped eating and drinking and keep fainting", 78, "F"),
    ("Mum has been discharged from hospital and needs a care package sorted",
     "since this morning she is very confused and drowsy", 50, "F"),
    ("I'm behind on my rent and worried about debt", "my partner hit me last night and I'm "
     "scared to go home", 35, "F"),
    # self-care and pharmacy
    ("I've had a cold for 4 days, blocked nose and a tickly cough",
     "now I'm coughing up blood and struggling to breathe", 30, "F"),
    ("my son has white threads in his poo and an itchy bottom at night",
     "he has a rash that doesn't fade when I press a glass on it", 35, "F"),
    ("I think I have piles, itchy and sore when I go to the toilet",
     "there's been a lot of blood in the toilet and I feel faint", 35, "F"),
    ("I've been constipated for a few days, what can I take",
     "my stomach is swollen, I can't pass wind and I keep vomiting", 35, "F"),
    ("I think I have thrush, itchy down below with a thick white discharge",
     "I'm pregnant and have bad pain low down on one side", 30, "F"),
    ("my baby is teething, red cheeks and dribbling, what can I give her",
     "she is floppy and hard to wake", 30, "F"),
    ("I get indigestion after big meals, what can I take",
     "my poo has gone black and tarry", 35, "M"),
    ("what should I look out for after my son's MMR jab?",
     "he now has a temperature of 39.5 and is very sleepy", 32, "F"),
    ("Coryzal 3/7, afebrile, eating and drinking, no SOB.", "Now RR 32, sats 91% on air.",
     30, "F"),
    # routine GP and suspected cancer
    ("I would like to talk to someone about HRT for my menopause symptoms",
     "I've had chest pain spreading to my jaw this morning", 51, "F"),
    ("I get up three times a night to wee and my stream is weak",
     "since last night I can't pass urine at all and my bladder is very painful", 68, "M"),
    ("I've lost a stone without trying over the last few months",
     "and I've been vomiting blood today", 58, "M"),
    ("68M. 6/12 nocturia x3, poor stream. No haematuria. PSA requested.",
     "Now unable to void 12h, palpable painful bladder.", 68, "M"),
    # optometrist and dentist
    ("my distance vision has been slowly getting blurry over the past year",
     "this morning I suddenly lost the sight in my right eye", 60, "F"),
    ("my eyes are dry and gritty when I'm on the computer",
     "one eye is now red and very painful and the light hurts it", 34, "F"),
    ("my eyes are dry and gritty when I'm on the computer",
     "One pupil looks bigger than the other.", 34, "F"),
    ("I'm struggling to read small print, I think I need reading glasses",
     "I keep seeing zigzag lights.", 48, "F"),
    ("my glasses don't seem strong enough any more", "I have new floaters in that eye.", 55, "F"),
    ("my gums bleed when I brush my teeth", "I also bruise really easily and get nosebleeds.",
     40, "F"),
    ("a filling has fallen out of my back tooth", "My tongue feels numb.", 45, "F"),
    # blood is read as a body word, so a benign pattern never accounts for it on its own
    ("I've had toothache for 2 days", "I have had diarrhoea with blood in it.", 30, "F"),
    ("I think I have thrush, itchy down below with a thick white discharge",
     "I also have a rash on my palms.", 30, "F"),
    ("I've had toothache for 2 days", "my face is swollen and I can't swallow properly", 30, "F"),
    ("my wisdom tooth is sore", "my jaw is swollen and I have a high temperature", 22, "F"),
    # suspected-cancer and result patterns never account for what makes them same-day
    ("I've had some spotting after the menopause", "it's soaking pads and I feel faint", 62, "F"),
    ("noticed blood in my wee, I'm 70", "and now I can't pass any urine at all", 70, "M"),
    ("noticed blood in my wee, I'm 70", "with bad pain in my side and a temperature", 70, "M"),
    ("blood mixed in my poo and looser stools for a month", "I feel dizzy and have passed out",
     66, "M"),
    ("Lab: TSH 6.8, free T4 normal. Asymptomatic.", "INR 8.9 on warfarin.", 74, "F"),
    ("Lab: HbA1c 61, well.", "eGFR 22 (prev 55).", 70, "M"),
    ("Lab result: PSA 7.2. Asymptomatic.", "Hb 71, please action urgently.", 68, "M"),
    # a letter, a review, sleep or caring never account for what is happening now
    ("Discharge summary: admitted with a PE, started on apixaban.",
     "Now short of breath again and coughing blood.", 58, "M"),
    ("Clinic letter: please review bloods.", "Potassium 6.8, please see today.", 71, "F"),
    ("my diabetes review is due", "but my sugars have been over 30 and I keep being sick", 49,
     "M"),
    ("my home blood pressure machine has been reading around 150/95",
     "and I have a thumping headache and blurred vision", 61, "F"),
    ("I can't sleep at all", "I keep thinking everyone would be better off without me", 35,
     "F"),
    ("I look after my husband who has dementia and I'm worn out",
     "he hit me last night and I'm scared to go home", 72, "F"),
    # care named (a procedure, a specialty, a vaccine) explains nothing that is wrong
    ("day 10 after my cholecystectomy, can I book to have the stitches out",
     "the wound is oozing and I feel hot and shivery", 48, "F"),
    ("cardiology letter says to increase my bisoprolol", "I have been getting chest pains again",
     68, "M"),
    ("can I book my pneumococcal vaccine", "I have a rash that doesn't fade under a glass",
     70, "F"),
]


def test_care_given_is_named_not_explained_away() -> None:
    # A specialty, procedure or vaccine is context (like a body part); an unknown word with a
    # condition's ending stays clinical.
    lexicon = default_lexicon()
    for word in ("cardiology", "cholecystectomy", "colonoscopy", "angioplasty", "pneumococcal"):
        assert lexicon.category(word) == "care", word
    for word in ("pyelonephritis", "cholecystitis", "haemoptysis"):
        assert lexicon.category(word) != "care", word
        assert lexicon.kind(word) == "clinical", word


@pytest.mark.parametrize(("benign", "danger", "age", "sex"), DANGER_VARIANTS)
def test_danger_added_to_a_benign_request_is_never_low_acuity(
    benign: str, danger: str, age: float, sex: str
) -> None:
    decision = decide(f"{benign} {danger}".strip(), age, sex)
    assert decision.urgency in {Urgency.urgent, Urgency.emergency}, decision.explanation
    assert decision.route not in LEAVES_CLINICAL_STREAM, decision.explanation


# --- what a benign pattern may never explain away ---------------------------------------------
#: Words that signal danger in any benign pattern (ischaemia, neurological deficit, shock,
#: sepsis, bleeding): no navigation rule may list them in ``explains_words``.
NEVER_EXPLAINED = frozenset({
    "numb", "numbness", "tingling", "blue", "grey", "pale", "mottled", "faint", "fainted",
    "fainting", "collapse", "collapsed", "unconscious", "breathless", "blood", "bleeding",
    "bleed", "fever", "feverish", "shivering", "rigors", "confused", "drowsy", "paralysed",
    "vomiting", "vomit", "suicidal", "overdose",
})
#: Words that signal danger for a sore joint or back (an ischaemic, infected or neurologically
#: compromised limb): never explained by a musculoskeletal pattern.
MSK_DANGER = frozenset({"cold", "white", "hot", "red", "weak", "weakness", "warm", "temperature",
                        "dead", "heavy", "giving", "incontinent", "night"})


def _navigation_rules():  # type: ignore[no-untyped-def]
    return [r for r in load_definitions().rules if r.kind == "navigation"]


def test_no_benign_pattern_explains_a_danger_word() -> None:
    for rule in _navigation_rules():
        assert not NEVER_EXPLAINED & set(rule.explains_words), rule.id


def test_no_musculoskeletal_pattern_explains_signs_of_a_threatened_limb() -> None:
    msk = [r for r in _navigation_rules() if r.route is Route.fcp_physio]
    assert msk
    for rule in msk:
        assert not MSK_DANGER & set(rule.explains_words), rule.id


def test_admin_patterns_explain_no_symptom_at_all() -> None:
    # A repeat prescription, form or booking accounts for medicines, conditions by name and
    # paperwork; any symptom in the same message goes to a clinician.
    lexicon = default_lexicon()
    admin = [r for r in _navigation_rules() if r.route is Route.admin]
    assert admin
    for rule in admin:
        assert not {"symptom", "danger", "injury", "function"} & set(rule.explains_categories)
        symptoms = {w for w in rule.explains_words
                    if lexicon.category(w) in {"symptom", "danger", "function"}}
        assert not symptoms, (rule.id, sorted(symptoms))


def test_benign_patterns_never_explain_a_whole_category_of_danger_words() -> None:
    for rule in _navigation_rules():
        assert not {"danger", "symptom", "function"} & set(rule.explains_categories), rule.id


def test_navigation_files_are_governed_and_cite_their_sources() -> None:
    for rule in _navigation_rules():
        assert rule.source.publisher in {"NICE", "NICE CKS", "NHS.UK", "NHS England"}, rule.id
        assert rule.source.reference and rule.source.title, rule.id
        assert rule.urgency in LOW_ACUITY or rule.id == "home_visit", rule.id
