"""Online consultation triage and care navigation.

``triage(TriageRequest(text=..., age=..., sex=...)) -> Decision`` is the one entry point; the web
form, the API and ``pcn triage`` all call it. See docs/reference/triage.md.
"""

from pcn.triage.engine import TriageEngine, default_engine, triage
from pcn.triage.model import Decision, PatientContext, Route, TriageRequest, Urgency

__all__ = [
    "Decision",
    "PatientContext",
    "Route",
    "TriageEngine",
    "TriageRequest",
    "Urgency",
    "default_engine",
    "triage",
]
