"""Real codes the twin writes: SNOMED CT observations, dm+d products and ICD-10 diagnoses.

Every SNOMED/dm+d code is looked up in a shipped codelist at start-up, so the twin can only
write codes that the registers, measures and worklists will recognise; a code missing from its
list is an error here, not a silent mismatch later.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pcn.refdata import codelist

P = "nhsd-primary-care-domain-refsets-"


def _in(codelist_id: str, code: str) -> str:
    if code not in codelist(codelist_id):
        raise LookupError(f"code {code} is not in codelist {codelist_id}")
    return code


def drug(codelist_id: str, term_prefix: str) -> str:
    """The dm+d code whose term starts with ``term_prefix`` (shortest id: usually the VMP)."""
    cl = codelist(codelist_id)
    want = term_prefix.lower()
    hits = sorted(
        (c for c, t in cl.terms.items() if t.lower().startswith(want)), key=lambda c: (len(c), c)
    )
    if not hits:
        raise LookupError(f"no product starting {term_prefix!r} in codelist {codelist_id}")
    return hits[0]


@dataclass(frozen=True)
class Observations:
    sbp: tuple[str, ...]
    dbp: tuple[str, ...]
    bmi: str
    hba1c: str
    cholesterol: str
    hdl: str
    egfr: str
    smoker: tuple[str, ...]
    ex_smoker: str
    never_smoked: str
    flu: tuple[str, ...]
    med_review: tuple[str, ...]
    smr: str
    mild_frail: str
    moderate_frail: str
    severe_frail: str
    care_home: tuple[str, ...]
    housebound: str
    pregnant: str
    delivery: str
    cervical_screen: str
    asthma_review: tuple[str, ...]
    dementia_review: tuple[str, ...]
    foot_check: str
    alcohol: tuple[str, ...]


@cache
def observations() -> Observations:
    return Observations(
        sbp=(
            _in("opensafely-systolic-blood-pressure-qof", "72313002"),
            _in("opensafely-systolic-blood-pressure-qof", "251070002"),
        ),
        dbp=(
            _in("user-milanwiedemann-diastolic-blood-pressure-qof", "1091811000000102"),
            _in("user-milanwiedemann-diastolic-blood-pressure-qof", "174255007"),
        ),
        bmi=_in("primis-covid19-vacc-uptake-bmi", "60621009"),
        hba1c=_in("opensafely-glycated-haemoglobin-hba1c-tests-numerical-value", "999791000000106"),
        cholesterol=_in("opensafely-cholesterol-tests-numerical-value", "1005671000000105"),
        hdl=_in("bristol-hdl-cholesterol", "1005681000000107"),
        egfr=_in("ukrr-egfr-tests-level", "1011481000000105"),
        smoker=(
            _in(P + "lsmok_cod", "77176002"),
            _in(P + "lsmok_cod", "65568007"),
            _in(P + "lsmok_cod", "160604004"),
        ),
        ex_smoker=_in(P + "exsmok_cod", "8517006"),
        # "Never smoked tobacco": NSMOK_COD is not among the shipped refsets; the concept is the
        # one the QOF SMOK indicators use for never smokers.
        never_smoked="266919005",
        flu=(_in(P + "flu_cod", "985151000000100"), _in(P + "flu_cod", "955691000000108")),
        med_review=(
            _in(P + "medrvw_cod", "719329004"),
            _in(P + "medrvw_cod", "314530002"),
            _in(P + "medrvw_cod", "88551000000109"),
        ),
        smr=_in("opensafely-structured-medication-review-nhs-england", "1239511000000100"),
        mild_frail=_in(P + "mildfrail_cod", "925791000000100"),
        moderate_frail=_in(P + "modfrail_cod", "925831000000107"),
        severe_frail=_in(P + "sevfrail_cod", "925861000000102"),
        care_home=(
            _in(P + "carehome_cod", "160734000"),
            _in("opensafely-nhs-england-care-homes-residential-status", "394923006"),
        ),
        housebound=_in("opensafely-housebound", "160689007"),
        pregnant=_in(P + "preg_cod", "77386006"),
        delivery=_in("user-VickiPalin-pregnancy_delivery_snomed_reviewed_2", "48782003"),
        cervical_screen=_in("pcn-cervical-screening-smear_cod-subset", "171149006"),
        asthma_review=(
            _in("pcn-asthma-review-rev_cod-subset", "394700004"),
            _in("pcn-asthma-review-rev_cod-subset", "270442000"),
        ),
        dementia_review=(_in("pcn-dementia-review-demcprvw_cod-subset", "249181000000100"),),
        foot_check=_in("pcn-diabetic-foot-examination", "401191002"),
        alcohol=(
            _in("pcn-alcohol-consumption-recorded", "160573003"),
            _in("pcn-alcohol-consumption-recorded", "105542008"),
        ),
    )


@cache
def drugs() -> dict[str, str]:
    """Common products by short name → dm+d code, from the shipped drug codelists."""
    m = "opensafely-"
    return {
        "amlodipine": drug(m + "calcium-channel-blockers", "Amlodipine 5mg tablets"),
        "ramipril": drug(m + "ace-inhibitor-medications", "Ramipril 5mg capsules"),
        "lisinopril": drug(m + "ace-inhibitor-medications", "Lisinopril 10mg tablets"),
        "losartan": drug(m + "angiotensin-ii-receptor-blockers-arbs", "Losartan 50mg tablets"),
        "indapamide": drug(m + "thiazide-type-diuretic-medication", "Indapamide 2.5mg tablets"),
        "bisoprolol": drug(m + "beta-blocker-medications", "Bisoprolol 5mg tablets"),
        "atorvastatin20": drug(m + "statin-medication", "Atorvastatin 20mg tablets"),
        "atorvastatin80": drug(m + "statin-medication", "Atorvastatin 80mg tablets"),
        "simvastatin": drug(m + "statin-medication", "Simvastatin 40mg tablets"),
        "aspirin": drug(m + "aspirin", "Aspirin 75mg dispersible tablets"),
        "clopidogrel": drug(m + "antiplatelets", "Clopidogrel 75mg tablets"),
        "metformin": drug("user-alex-walker-metformin-dmd", "Metformin 500mg tablets"),
        "gliclazide": drug("user-alex-walker-sulfonylureas-dmd", "Gliclazide 80mg tablets"),
        "dapagliflozin": drug(
            "user-alex-walker-sglt-2-inhibitors-dmd", "Dapagliflozin 10mg tablets"
        ),
        "sitagliptin": drug("user-alex-walker-dpp-4-inhibitors-dmd", "Sitagliptin 100mg tablets"),
        "insulin_glargine": drug(
            m + "insulin-medication",
            "Insulin glargine 100units/ml solution for injection 3ml pre-filled",
        ),
        "apixaban": drug(m + "direct-acting-oral-anticoagulants-doac", "Apixaban 5mg tablets"),
        "edoxaban": drug(m + "direct-acting-oral-anticoagulants-doac", "Edoxaban 60mg tablets"),
        "warfarin": drug(m + "warfarin", "Warfarin 1mg tablets"),
        "furosemide": drug("user-markdrussell-diuretics-dmd", "Furosemide 40mg tablets"),
        "salbutamol": drug(
            m + "asthma-inhaler-salbutamol-medication",
            "Salbutamol 100micrograms/dose inhaler CFC free",
        ),
        "beclometasone": drug(
            m + "asthma-inhaler-steroid-medication",
            "Beclometasone 100micrograms/dose inhaler CFC free",
        ),
        "prednisolone": drug(m + "asthma-oral-prednisolone-medication", "Prednisolone 5mg tablets"),
        "sertraline": drug(
            m + "selective-serotonin-reuptake-inhibitors-dmd", "Sertraline 50mg tablets"
        ),
        "citalopram": drug(
            m + "selective-serotonin-reuptake-inhibitors-dmd", "Citalopram 20mg tablets"
        ),
        "mirtazapine": drug("user-anschaf-antidepressants-dmd", "Mirtazapine 15mg"),
        "olanzapine": drug(
            m + "second-generation-antipsychotics-excluding-long-acting-injections",
            "Olanzapine 10mg tablets",
        ),
        "quetiapine": drug(
            m + "second-generation-antipsychotics-excluding-long-acting-injections",
            "Quetiapine 100mg tablets",
        ),
        "lithium": drug("pincer-lith", "Lithium carbonate 400mg modified-release tablets"),
        "alendronic_acid": drug(m + "alendronic-acid", "Alendronic acid 70mg tablets"),
        "methotrexate": drug("pincer-met", "Methotrexate 2.5mg tablets"),
        "omeprazole": drug(
            m + "proton-pump-inhibitors-ppi-oral", "Omeprazole 20mg gastro-resistant capsules"
        ),
        "lansoprazole": drug(
            m + "proton-pump-inhibitors-ppi-oral", "Lansoprazole 30mg gastro-resistant capsules"
        ),
        "co_codamol": drug(
            "user-anschaf-opioids-for-analgesia-dmd", "Co-codamol 30mg/500mg tablets"
        ),
        "tramadol": drug("user-anschaf-opioids-for-analgesia-dmd", "Tramadol 50mg capsules"),
        "pregabalin": drug("user-anschaf-gabapentinoids-dmd", "Pregabalin 75mg capsules"),
        "naproxen": drug(m + "nsaids-oral", "Naproxen 500mg tablets"),
        "amitriptyline": drug(
            m + "tricyclic-and-related-antidepressants-dmd", "Amitriptyline 10mg tablets"
        ),
        "doxazosin": drug(m + "alpha-adrenoceptor-blocking-drugs", "Doxazosin 4mg tablets"),
    }


#: ICD-10 primary diagnoses for emergency hospital activity (WHO ICD-10 5th edition codes,
#: written without the dot as in HES): (code, term, what drives it).
ICD10_EMERGENCY: dict[str, tuple[str, str]] = {
    "heart_failure": ("I500", "Congestive heart failure"),
    "copd": ("J441", "COPD with acute exacerbation"),
    "asthma": ("J459", "Asthma, unspecified"),
    "atrial_fibrillation": ("I489", "Atrial fibrillation and atrial flutter, unspecified"),
    "chd": ("I209", "Angina pectoris, unspecified"),
    "stroke_tia": ("I639", "Cerebral infarction, unspecified"),
    "diabetes": ("E119", "Type 2 diabetes mellitus without complications"),
    "dementia": ("F03X", "Unspecified dementia"),
    "ckd": ("N179", "Acute renal failure, unspecified"),
    "frailty_fall": ("S7200", "Fracture of neck of femur, closed"),
    "pneumonia": ("J189", "Pneumonia, unspecified"),
    "uti": ("N390", "Urinary tract infection, site not specified"),
    "chest_pain": ("R074", "Chest pain, unspecified"),
    "syncope": ("R55X", "Syncope and collapse"),
    "cellulitis": ("L039", "Cellulitis, unspecified"),
    "abdominal_pain": ("R104", "Other and unspecified abdominal pain"),
    "sepsis": ("A419", "Sepsis, unspecified"),
    "injury": ("T149", "Injury, unspecified"),
    "head_injury": ("S099", "Unspecified injury of head"),
    "gastroenteritis": ("A099", "Gastroenteritis and colitis of unspecified origin"),
}
ICD10_ELECTIVE = (
    ("H269", "Cataract, unspecified"),
    ("M170", "Primary gonarthrosis, bilateral"),
    ("K802", "Calculus of gallbladder without cholecystitis"),
    ("Z511", "Chemotherapy session for neoplasm"),
)
