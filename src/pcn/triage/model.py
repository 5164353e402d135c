"""What goes into triage and what comes out: the request, the patient context and the decision.

The web form, the API and the batch CLI all build a :class:`TriageRequest` and call
:func:`pcn.triage.triage`, so every edge gets the same decision for the same input.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Urgency(StrEnum):
    """How soon the patient must be seen, most urgent first."""

    emergency = "emergency"  # 999 / A&E now
    urgent = "urgent"  # same day
    routine = "routine"  # booked appointment
    self_care = "self_care"  # no appointment needed

    @property
    def rank(self) -> int:
        """Higher is more urgent; used so safety rules can only ever raise urgency."""
        return _URGENCY_RANK[self]


_URGENCY_RANK = {
    Urgency.self_care: 0,
    Urgency.routine: 1,
    Urgency.urgent: 2,
    Urgency.emergency: 3,
}


def most_urgent(*levels: Urgency) -> Urgency:
    return max(levels, key=lambda u: u.rank)


class Route(StrEnum):
    """The one professional or service a request is sent to."""

    emergency_services = "emergency_services"
    gp = "gp"
    anp = "anp"
    practice_nurse = "practice_nurse"
    clinical_pharmacist = "clinical_pharmacist"
    fcp_physio = "fcp_physio"
    mental_health_practitioner = "mental_health_practitioner"
    social_prescriber = "social_prescriber"
    care_coordinator = "care_coordinator"
    paramedic = "paramedic"
    pharmacy_first = "pharmacy_first"
    community_pharmacy = "community_pharmacy"
    dentist = "dentist"
    optometrist = "optometrist"
    self_care = "self_care"
    admin = "admin"


class PatientContext(BaseModel):
    """What the practice already knows about the patient (all optional)."""

    model_config = ConfigDict(extra="forbid")

    long_term_conditions: list[str] = Field(default_factory=list)
    frail: bool = False
    housebound: bool = False
    pregnant: bool = False
    usual_clinician_id: str | None = None
    usual_clinician_role: Route | None = None


class TriageRequest(BaseModel):
    """One online consultation request as the patient (or someone for them) typed it."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=10_000)
    age: float | None = Field(None, ge=0, le=130)
    sex: str | None = Field(None, pattern="^[FM]$")
    context: PatientContext | None = None
    #: free appointment slots today by role; ``None`` means capacity is not considered
    capacity: dict[Route, int] | None = None


class Evidence(BaseModel):
    """A concept found in the text, with the words that showed it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concept: str
    text: str


class FiredRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    title: str
    urgency: Urgency
    route: Route | None
    evidence: list[Evidence]
    source: str


class LearnedOpinion(BaseModel):
    """What the text classifier thought, kept even when rules decided."""

    model_config = ConfigDict(extra="forbid")

    urgency: Urgency
    urgency_probability: float
    route: Route
    route_probability: float


class Decision(BaseModel):
    """The triage outcome and everything needed to explain it."""

    model_config = ConfigDict(extra="forbid")

    urgency: Urgency
    route: Route
    #: "red_flag", "red_flag_partial" (several signs of danger together), "physiology",
    #: "urgent_flag", "pharmacy_first", "navigation" or "not_confident" (nothing explained the
    #: message safely, so a clinician sees it today)
    decided_by: str
    red_flags: list[str]
    fired_rules: list[FiredRule]
    learned: LearnedOpinion | None
    notes: list[str]
    advice: str
    usual_clinician_id: str | None = None
    #: False when the fail-safe gate sent the request to a clinician because nothing known
    #: explained it, or something in it was concerning or unexplained
    confident: bool = True
    #: a safety pathway whose help the patient is shown at once ("crisis", "safeguarding")
    signpost: str | None = None

    @property
    def explanation(self) -> str:
        """One line a clinician can read: why this urgency and route."""
        parts = [f"{self.urgency.value} → {self.route.value} (decided by {self.decided_by})"]
        for rule in self.fired_rules:
            words = ", ".join(f"'{e.text}'" for e in rule.evidence)
            parts.append(f"{rule.kind} {rule.id} [{rule.source}]: {words}")
        if self.learned is not None and self.decided_by == "learned":
            parts.append(
                f"classifier: route {self.learned.route.value}"
                f" p={self.learned.route_probability:.2f}, urgency"
                f" {self.learned.urgency.value} p={self.learned.urgency_probability:.2f}"
            )
        parts.extend(self.notes)
        return "; ".join(parts)
