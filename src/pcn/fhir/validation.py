"""Full structural validation of one resource with the ``fhir.resources`` R4B models."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import ValidationError

SUPPORTED = (
    "Patient", "Organization", "Practitioner", "PractitionerRole", "Condition", "Observation",
    "MedicationStatement", "MedicationRequest", "Encounter", "Appointment", "EpisodeOfCare",
    "Location", "CarePlan", "Task",
)


@cache
def model_class(resource_type: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def _path(resource_type: str, loc: tuple[Any, ...]) -> str:
    parts = [resource_type]
    for p in loc:
        if isinstance(p, int):
            parts[-1] += f"[{p}]"
        elif p != "__root__":
            parts.append(str(p))
    return ".".join(parts)


def validation_error(resource: dict[str, Any]) -> tuple[str, str] | None:
    """None if the resource validates, else (element path, why) for the first error."""
    rtype = resource.get("resourceType")
    try:
        cls = model_class(str(rtype))
    except (KeyError, ValueError, AttributeError):
        return ("resourceType", f"unknown resource type {rtype!r}")
    try:
        cls.model_validate(resource)
    except ValidationError as e:
        err = e.errors()[0]
        msg = str(err.get("msg", "invalid"))
        return (_path(str(rtype), tuple(err.get("loc", ()))), msg)
    except (ValueError, TypeError) as e:  # some model validators raise plain errors
        return (str(rtype), str(e) or type(e).__name__)
    return None
