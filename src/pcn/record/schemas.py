"""Table schemas of the network record, defined once here (pyarrow) and documented from here.

Every writer (synthetic twin, CSV/Parquet/FHIR ingest) produces exactly these schemas and every
reader (analytics engine, web app) relies on them. Change a schema only together with
``SCHEMA_VERSION`` and a note in ``docs/reference/record.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

SCHEMA_VERSION = "1.1"


@dataclass(frozen=True)
class TableSpec:
    """One table of the record: its schema, key, and what each column means."""

    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    description: str
    columns: dict[str, str] = field(default_factory=dict)
    #: Columns holding dates/timestamps that must lie in a plausible range.
    date_columns: tuple[str, ...] = ()
    #: (column, codelist kind) pairs whose values must be well-formed codes.
    code_columns: tuple[tuple[str, str], ...] = ()
    #: Columns that reference ``patients.patient_id``.
    patient_ref: bool = False


def _spec(
    name: str,
    description: str,
    cols: list[tuple[str, pa.DataType, bool, str]],
    key: tuple[str, ...],
    **kw: object,
) -> TableSpec:
    schema = pa.schema([pa.field(c, t, nullable=n) for c, t, n, _ in cols])
    return TableSpec(
        name=name,
        schema=schema,
        key=key,
        description=description,
        columns={c: d for c, _, _, d in cols},
        **kw,  # type: ignore[arg-type]
    )


STR, I64, F64, DATE, BOOL = pa.string(), pa.int64(), pa.float64(), pa.date32(), pa.bool_()
TS = pa.timestamp("us")

PRACTICES = _spec(
    "practices",
    "GP practices in the network and their place in the NHS hierarchy (ODS codes).",
    [
        ("practice_code", STR, False, "ODS code of the practice, e.g. A81016"),
        ("name", STR, False, "Practice name"),
        ("pcn_code", STR, False, "ODS code of the Primary Care Network"),
        ("pcn_name", STR, False, "PCN name"),
        ("sub_icb_code", STR, True, "ODS code of the sub-ICB location"),
        ("icb_code", STR, True, "ODS code of the integrated care board"),
        ("region_code", STR, True, "ODS code of the NHS England region"),
        ("postcode", STR, True, "Practice postcode"),
        ("lsoa_code", STR, True, "LSOA (2011) the practice sits in, when known"),
    ],
    key=("practice_code",),
)

PATIENTS = _spec(
    "patients",
    "One row per person ever registered at a network practice in the record's window.",
    [
        ("patient_id", I64, False, "Pseudonymous id, stable within the record"),
        ("nhs_number", STR, False, "10-digit NHS number (modulus 11 valid)"),
        ("date_of_birth", DATE, False, "Date of birth"),
        ("sex", STR, False, "F or M (sex recorded by the practice)"),
        ("ethnicity_code", STR, True, "SNOMED CT ethnicity concept; null when not recorded"),
        ("lsoa_code", STR, True, "LSOA (2011) of residence"),
        ("date_of_death", DATE, True, "Date of death; null while alive"),
    ],
    key=("patient_id",),
    date_columns=("date_of_birth", "date_of_death"),
    code_columns=(("ethnicity_code", "snomed"),),
)

REGISTRATIONS = _spec(
    "registrations",
    "Periods of registration of a patient at a practice; end_date null while registered.",
    [
        ("patient_id", I64, False, "Patient"),
        ("practice_code", STR, False, "Practice"),
        ("start_date", DATE, False, "First day registered"),
        ("end_date", DATE, True, "Last day registered; null while registered"),
    ],
    key=("patient_id", "practice_code", "start_date"),
    date_columns=("start_date", "end_date"),
    patient_ref=True,
)

CLINICAL_EVENTS = _spec(
    "clinical_events",
    "Coded entries in the GP record (SNOMED CT), with a numeric value for observations.",
    [
        ("patient_id", I64, False, "Patient"),
        ("date", DATE, False, "Date the entry applies to"),
        ("snomed_code", STR, False, "SNOMED CT concept id"),
        ("numeric_value", F64, True, "Value of an observation, in the code's standard unit"),
    ],
    key=(),
    date_columns=("date",),
    code_columns=(("snomed_code", "snomed"),),
    patient_ref=True,
)

MEDICATIONS = _spec(
    "medications",
    "Medicines issued, coded with dm+d (VMP/AMP concept ids).",
    [
        ("patient_id", I64, False, "Patient"),
        ("date", DATE, False, "Date issued"),
        ("dmd_code", STR, False, "dm+d concept id (SNOMED CT identifier)"),
        ("quantity", F64, True, "Quantity issued, in the product's unit"),
    ],
    key=(),
    date_columns=("date",),
    code_columns=(("dmd_code", "snomed"),),
    patient_ref=True,
)

APPOINTMENTS = _spec(
    "appointments",
    "Booked appointments with any member of the practice or PCN team.",
    [
        ("appointment_id", I64, False, "Unique appointment id"),
        ("patient_id", I64, False, "Patient"),
        ("practice_code", STR, False, "Practice the appointment belongs to"),
        ("clinician_id", STR, False, "Staff member seen (see staff)"),
        ("role", STR, False, "Role of the clinician: gp, anp, practice_nurse, ..."),
        ("mode", STR, False, "face_to_face, telephone, video, online, home_visit"),
        ("start_at", TS, False, "Booked start time (local time, no zone)"),
        ("status", STR, False, "attended, did_not_attend, cancelled"),
    ],
    key=("appointment_id",),
    date_columns=("start_at",),
    patient_ref=True,
)

STAFF = _spec(
    "staff",
    "The workforce: practice staff and PCN-employed (ARRS) staff.",
    [
        ("clinician_id", STR, False, "Unique staff id"),
        ("practice_code", STR, True, "Practice employing them; null for PCN-employed staff"),
        ("pcn_code", STR, False, "PCN"),
        ("role", STR, False, "Role code (see pcn.record.vocab.ROLES)"),
        ("arrs", BOOL, False, "Funded by the Additional Roles Reimbursement Scheme"),
        ("wte", F64, False, "Whole-time equivalent (1.0 = 37.5 hours a week)"),
        ("start_date", DATE, False, "Start of employment"),
        ("end_date", DATE, True, "End of employment; null while employed"),
    ],
    key=("clinician_id",),
    date_columns=("start_date", "end_date"),
)

HOSPITAL_ACTIVITY = _spec(
    "hospital_activity",
    "Secondary care activity: A&E attendances, emergency and elective admissions, outpatients.",
    [
        ("patient_id", I64, False, "Patient"),
        ("kind", STR, False, "ae_attendance, emergency_admission, elective, outpatient"),
        ("start_date", DATE, False, "Arrival or admission date"),
        ("end_date", DATE, True, "Discharge date (admissions)"),
        ("icd10_code", STR, True, "Primary diagnosis, ICD-10 without the dot (e.g. I500)"),
    ],
    key=(),
    date_columns=("start_date", "end_date"),
    code_columns=(("icd10_code", "icd10"),),
    patient_ref=True,
)

LSOA = _spec(
    "lsoa",
    "Reference: the LSOAs (2011) where the record's patients live, with deprivation and rurality.",
    [
        ("lsoa_code", STR, False, "LSOA 2011 code"),
        ("imd_decile", pa.int8(), True, "IMD 2019 national decile (1 = most deprived)"),
        ("imd_rank", pa.int32(), True, "IMD 2019 rank (1 = most deprived of 32,844)"),
        ("rural_urban", STR, True, "Rural-urban classification 2011 code (A1..E2)"),
        ("lon", F64, True, "Centroid longitude (WGS84)"),
        ("lat", F64, True, "Centroid latitude (WGS84)"),
    ],
    key=("lsoa_code",),
)

OPT_OUTS = _spec(
    "opt_outs",
    "National data opt-outs received as a list of NHS numbers (type 1 opt-outs are GP-recorded "
    "SNOMED codes in clinical_events). Secondary-use outputs exclude these people.",
    [
        ("nhs_number", STR, False, "NHS number on the opt-out list"),
        ("kind", STR, False, "national_data_opt_out"),
        ("received_date", DATE, False, "Date the list containing this number was received"),
    ],
    key=("nhs_number", "kind"),
    date_columns=("received_date",),
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        PRACTICES,
        PATIENTS,
        REGISTRATIONS,
        CLINICAL_EVENTS,
        MEDICATIONS,
        APPOINTMENTS,
        STAFF,
        HOSPITAL_ACTIVITY,
        LSOA,
        OPT_OUTS,
    )
}


def empty_table(name: str) -> pa.Table:
    return TABLES[name].schema.empty_table()
