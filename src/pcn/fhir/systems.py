"""Identifier systems, code systems, profiles and extensions used in our FHIR R4 (UK Core) mapping.

Sources: UK Core STU (HL7 UK, https://simplifier.net/hl7fhirukcorer4) for profile and extension
URLs and the NHS number / ODS identifier systems; the dm+d and SNOMED CT system URIs from
FHIR R4 "Using SNOMED CT with FHIR" and NHS England's "dm+d in FHIR" guidance; blood pressure
component codes from the FHIR R4 vital-signs profile (LOINC 85354-9/8480-6/8462-4) and their
SNOMED CT equivalents used in English primary care (QOF BP_COD).

Elements the record needs but neither R4 nor UK Core defines (practice hierarchy, appointment
mode, staff WTE/ARRS, our pseudonymous ids) are carried in extensions under ``PCN_BASE``. The
``.invalid`` top-level domain (RFC 2606) is reserved and never resolves: a deployment that
publishes its own StructureDefinitions should replace it. See docs/reference/fhir.md.
"""

from __future__ import annotations

from functools import cache

# Identifier systems
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"

# Code systems
SNOMED = "http://snomed.info/sct"
DMD = "https://dmd.nhs.uk"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10_UK = "http://hl7.org/fhir/sid/icd-10-uk"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_ACT_PRIORITY = "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

# UK Core
UKCORE_SD = "https://fhir.hl7.org.uk/StructureDefinition/"
ETHNIC_CATEGORY_EXT = UKCORE_SD + "Extension-UKCore-EthnicCategory"
PROFILES = {
    "Patient": UKCORE_SD + "UKCore-Patient",
    "Organization": UKCORE_SD + "UKCore-Organization",
    "Practitioner": UKCORE_SD + "UKCore-Practitioner",
    "PractitionerRole": UKCORE_SD + "UKCore-PractitionerRole",
    "Condition": UKCORE_SD + "UKCore-Condition",
    "Observation": UKCORE_SD + "UKCore-Observation",
    "MedicationRequest": UKCORE_SD + "UKCore-MedicationRequest",
    "MedicationStatement": UKCORE_SD + "UKCore-MedicationStatement",
    "Encounter": UKCORE_SD + "UKCore-Encounter",
    "Appointment": UKCORE_SD + "UKCore-Appointment",
    "EpisodeOfCare": UKCORE_SD + "UKCore-EpisodeOfCare",
    "Location": UKCORE_SD + "UKCore-Location",
    "CarePlan": UKCORE_SD + "UKCore-CarePlan",
    "Task": UKCORE_SD + "UKCore-Task",
}
#: ONS statistical geography codes (LSOA 2011), as identifiers of Location (kind: area).
ONS_GEOGRAPHY = "http://statistics.data.gov.uk/id/statistical-geography"
LOCATION_PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"

# Our own identifiers and extensions (see module docstring)
PCN_BASE = "https://fhir.pcn.invalid"
PATIENT_ID = PCN_BASE + "/Id/patient-id"
APPOINTMENT_ID = PCN_BASE + "/Id/appointment-id"
CLINICIAN_ID = PCN_BASE + "/Id/clinician-id"
EXT = PCN_BASE + "/StructureDefinition/"
EXT_ORG_HIERARCHY = EXT + "organisation-hierarchy"  # complex: pcn, pcnName, subIcb, icb, region
EXT_LSOA = EXT + "lsoa-code"  # on Address
EXT_APPOINTMENT_MODE = EXT + "appointment-mode"
EXT_PRACTICE = EXT + "practice"  # valueIdentifier (ODS) on Appointment
EXT_ARRS = EXT + "arrs-funded"
EXT_WTE = EXT + "whole-time-equivalent"
EXT_PCN = EXT + "pcn"  # valueIdentifier (ODS) on PractitionerRole
EXT_IMD_DECILE = EXT + "imd-2019-decile"  # on Location (LSOA)
EXT_IMD_RANK = EXT + "imd-2019-rank"
EXT_RURAL_URBAN = EXT + "rural-urban-2011"
#: Secondary use (ADR 0093): keyed pseudonyms, one identifier system per purpose
PSEUDONYM = PCN_BASE + "/Id/pseudonym/"
EXT_APPOINTMENT_MONTH = EXT + "appointment-month"  # valueDate YYYY-MM (replaces the instant)
CS_ROLE = PCN_BASE + "/CodeSystem/staff-role"
CS_HOSPITAL_KIND = PCN_BASE + "/CodeSystem/hospital-activity-kind"
CS_REGISTRATION = PCN_BASE + "/CodeSystem/episode-type"
REGISTRATION_TYPE = "gp-registration"

# Blood pressure: panel codes and (component code -> SNOMED concept stored in the record).
BP_PANEL = {(LOINC, "85354-9"), (SNOMED, "75367002"), (SNOMED, "163020007")}
SYSTOLIC = "72313002"  # Systolic arterial pressure
DIASTOLIC = "1091811000000102"  # Diastolic arterial pressure
BP_COMPONENTS = {
    (LOINC, "8480-6"): SYSTOLIC,
    (LOINC, "8462-4"): DIASTOLIC,
    (SNOMED, SYSTOLIC): SYSTOLIC,
    (SNOMED, DIASTOLIC): DIASTOLIC,
    (SNOMED, "271649006"): SYSTOLIC,  # Systolic blood pressure (observable entity)
    (SNOMED, "271650006"): DIASTOLIC,  # Diastolic blood pressure
}

# Record vocabularies <-> FHIR codes
SEX_TO_GENDER = {"F": "female", "M": "male"}
GENDER_TO_SEX = {v: k for k, v in SEX_TO_GENDER.items()}
APPOINTMENT_STATUS_OUT = {"attended": "fulfilled", "did_not_attend": "noshow",
                          "cancelled": "cancelled"}
APPOINTMENT_STATUS_IN = {v: k for k, v in APPOINTMENT_STATUS_OUT.items()}
HOSPITAL_CLASS_OUT = {"ae_attendance": "EMER", "emergency_admission": "IMP",
                      "elective": "IMP", "outpatient": "AMB"}

#: Standard UCUM unit of numeric values for codes in these codelists (the record stores values
#: in these units; an import with another unit is rejected rather than silently mis-scaled).
UNIT_CODELISTS = {
    "nhsd-primary-care-domain-refsets-bp_cod": "mm[Hg]",
    "nhsd-primary-care-domain-refsets-bmival_cod": "kg/m2",
    "nhsd-primary-care-domain-refsets-ifcchbam_cod": "mmol/mol",
    "opensafely-cholesterol-tests-numerical-value": "mmol/L",
    "ukrr-egfr-tests-level": "mL/min/{1.73_m2}",
    "ukrr-creatinine-tests-level": "umol/L",
    "ukrr-albumincreatinine-ratio-acr-tests-level": "mg/mmol",
}
#: Spellings of the same unit seen in GP system exports.
UNIT_ALIASES = {
    "mmhg": "mm[Hg]", "mm hg": "mm[Hg]", "mm[hg]": "mm[Hg]",
    "kg/m2": "kg/m2", "kg/m^2": "kg/m2", "kg/m²": "kg/m2",
    "mmol/mol": "mmol/mol", "mmol/l": "mmol/L", "umol/l": "umol/L", "µmol/l": "umol/L",
    "micromol/l": "umol/L", "mg/mmol": "mg/mmol",
    "ml/min/{1.73_m2}": "mL/min/{1.73_m2}", "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73m^2": "mL/min/{1.73_m2}", "ml/min": "mL/min/{1.73_m2}",
}

#: Codelists whose codes are diagnoses (exported as Condition; everything else as Observation).
DIAGNOSIS_CODELISTS = (
    *(f"nhsd-primary-care-domain-refsets-{c}_cod"
      for c in ("afib", "ast", "chd", "ckd", "copd", "dem", "depr", "dm", "epil", "hf", "hyp",
                "ld", "mh", "osteo", "pad", "rarth", "strk", "tia", "ndh")),
    "nhsd-primary-care-domain-refsets-solid-cancer-diagnosis-codes",
)


@cache
def standard_units() -> dict[str, str]:
    from pcn.refdata.codelists import codelist

    out: dict[str, str] = {}
    for cl, unit in UNIT_CODELISTS.items():
        for code in codelist(cl).codes:
            out.setdefault(code, unit)
    return out


@cache
def diagnosis_codes() -> frozenset[str]:
    from pcn.refdata.codelists import codelist

    codes: set[str] = set()
    for cl in DIAGNOSIS_CODELISTS:
        codes |= codelist(cl).codes
    return frozenset(codes)


def normalise_unit(unit: str | None) -> str | None:
    if unit is None:
        return None
    u = unit.strip()
    return UNIT_ALIASES.get(u.lower(), u)
