"""OperationOutcome: how FHIR reports errors (R4 OperationOutcome, issue severity/code)."""

from __future__ import annotations

from typing import Any, Literal

Severity = Literal["fatal", "error", "warning", "information"]


def operation_outcome(severity: Severity, code: str, diagnostics: str,
                      expression: list[str] | None = None) -> dict[str, Any]:
    """One-issue OperationOutcome; ``code`` from the R4 IssueType value set (invalid,
    not-found, not-supported, forbidden, processing, ...)."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def rejections_outcome(rejections: list[Any]) -> dict[str, Any]:
    """An OperationOutcome listing every rejected resource of an import (``Rejection`` items)."""
    issues = [{"severity": "error", "code": "invalid",
               "diagnostics": f"{r.source} {r.location} {r.item}: {r.why}",
               "expression": [r.element]} for r in rejections]
    if not issues:
        issues = [{"severity": "information", "code": "informational",
                   "diagnostics": "all resources loaded"}]
    return {"resourceType": "OperationOutcome", "issue": issues}


class FhirError(Exception):
    """An error an API returns as ``status`` with ``outcome`` as the body."""

    def __init__(self, status: int, outcome: dict[str, Any]) -> None:
        super().__init__(outcome["issue"][0]["diagnostics"])
        self.status = status
        self.outcome = outcome


def not_found(what: str) -> FhirError:
    return FhirError(404, operation_outcome("error", "not-found", f"{what} is not known"))
