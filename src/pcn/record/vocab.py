"""Controlled vocabularies used in the record (roles, appointment modes, statuses, kinds)."""

from __future__ import annotations

#: Staff roles. ``arrs`` marks roles reimbursable under the Additional Roles Reimbursement Scheme
#: (Network Contract DES 2024/25, section 7 and Annex B).
ROLES: dict[str, dict[str, object]] = {
    "gp": {"title": "GP", "arrs": False, "clinical": True},
    "anp": {"title": "Advanced nurse practitioner", "arrs": True, "clinical": True},
    "practice_nurse": {"title": "Practice nurse", "arrs": False, "clinical": True},
    "hca": {"title": "Healthcare assistant", "arrs": False, "clinical": True},
    "clinical_pharmacist": {"title": "Clinical pharmacist", "arrs": True, "clinical": True},
    "pharmacy_technician": {"title": "Pharmacy technician", "arrs": True, "clinical": True},
    "fcp_physio": {"title": "First contact physiotherapist", "arrs": True, "clinical": True},
    "social_prescriber": {
        "title": "Social prescribing link worker",
        "arrs": True,
        "clinical": False,
    },
    "care_coordinator": {"title": "Care coordinator", "arrs": True, "clinical": False},
    "health_coach": {"title": "Health and wellbeing coach", "arrs": True, "clinical": False},
    "mental_health_practitioner": {
        "title": "Mental health practitioner",
        "arrs": True,
        "clinical": True,
    },
    "paramedic": {"title": "Paramedic", "arrs": True, "clinical": True},
    "admin": {"title": "Reception and administration", "arrs": False, "clinical": False},
}

APPOINTMENT_MODES = ("face_to_face", "telephone", "video", "online", "home_visit")
APPOINTMENT_STATUSES = ("attended", "did_not_attend", "cancelled")
HOSPITAL_KINDS = ("ae_attendance", "emergency_admission", "elective", "outpatient")
SEXES = ("F", "M")
