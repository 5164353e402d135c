"""The work model as FHIR R4 (UK Core): tasks as ``Task``, care plans as ``CarePlan`` (issue 17).

A task's status maps to ``Task.status`` (open → ready, in progress → in-progress, done →
completed, declined and not appropriate → cancelled with the reason, unable to contact →
failed); its coded outcome is ``Task.output`` (SNOMED CT). A care plan's goals are contained
``Goal`` resources; its agreed actions are ``CarePlan.activity.reference`` to their Tasks.
Every resource validates against the ``fhir.resources`` R4B models (tests).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from pcn.care.plans import CarePlan
from pcn.fhir import systems as S
from pcn.tasks.service import TaskView
from pcn.tasks.vocabulary import OWNER_ROLE_TEXT, STATUS_TEXT

TASK_ID = S.PCN_BASE + "/Id/task-id"
CARE_PLAN_ID = S.PCN_BASE + "/Id/care-plan-id"
TASK_STATUS = {"open": "ready", "in_progress": "in-progress", "done": "completed",
               "declined": "cancelled", "not_appropriate": "cancelled",
               "unable_to_contact": "failed"}
TASK_PRIORITY = {"urgent": "asap", "high": "urgent", "routine": "routine", "low": "routine"}


def _instant(value: dt.datetime) -> str:
    """Naive UTC (the store's form) as a FHIR instant."""
    return value.replace(microsecond=0).isoformat() + "Z"


def task_resource(task: TaskView, title: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Task", "id": f"task-{task.id}",
        "meta": {"profile": [S.PROFILES["Task"]]},
        "identifier": [{"system": TASK_ID, "value": str(task.id)}],
        "status": TASK_STATUS[task.status],
        "intent": "plan",
        "priority": TASK_PRIORITY.get(task.priority, "routine"),
        "code": {"text": title or task.kind.replace("_", " ")},
        "description": task.reason,
        "authoredOn": _instant(task.created_at),
        "lastModified": _instant(task.updated_at),
    }
    if task.status in ("declined", "not_appropriate"):
        res["statusReason"] = {"text": STATUS_TEXT[task.status]}
    if task.patient_id is not None:
        res["for"] = {"reference": f"Patient/{task.patient_id}"}
    if task.owner_user or task.owner_role:
        res["owner"] = {"display": task.owner_user or OWNER_ROLE_TEXT.get(
            task.owner_role or "", task.owner_role or "")}
    if task.practice_code:
        res["requester"] = {"identifier": {"system": S.ODS_CODE, "value": task.practice_code}}
    if task.due_date is not None:
        res["restriction"] = {"period": {"end": task.due_date.isoformat()}}
    if task.source == "care_plan" and task.source_ref and task.source_ref.startswith(
            "care_plan:"):
        res["basedOn"] = [{"reference": f"CarePlan/careplan-{task.source_ref.split(':')[1]}"}]
    if task.closed_at is not None:
        res["executionPeriod"] = {"start": _instant(task.created_at),
                                  "end": _instant(task.closed_at)}
    if task.outcome_code:
        res["output"] = [{"type": {"text": "Outcome"}, "valueCodeableConcept": {
            "coding": [{"system": S.SNOMED, "code": task.outcome_code,
                        **({"display": task.outcome_term} if task.outcome_term else {})}]}}]
    elif task.outcome_text:
        res["output"] = [{"type": {"text": "Outcome"}, "valueString": task.outcome_text}]
    notes = [n for n in (task.notes,) if n]
    if notes:
        res["note"] = [{"text": n} for n in notes]
    return res


def care_plan_resource(plan: CarePlan) -> dict[str, Any]:
    patient = {"reference": f"Patient/{plan.patient_id}"}
    goals = [{"resourceType": "Goal", "id": f"goal{i}", "lifecycleStatus": "active",
              "description": {"text": g}, "subject": patient}
             for i, g in enumerate(plan.goals, 1)]
    res: dict[str, Any] = {
        "resourceType": "CarePlan", "id": f"careplan-{plan.id}",
        "meta": {"profile": [S.PROFILES["CarePlan"]]},
        "identifier": [{"system": CARE_PLAN_ID, "value": f"{plan.patient_id}-v{plan.version}"}],
        "status": "active" if plan.status == "active" else "revoked",
        "intent": "plan",
        "title": "Personalised care and support plan",
        "description": plan.what_matters,
        "subject": patient,
        "created": _instant(plan.created_at),
        "author": {"display": plan.created_by},
        "period": {"start": plan.created_at.date().isoformat(),
                   **({"end": plan.review_date.isoformat()} if plan.review_date else {})},
        "note": [{"text": f"What matters to me: {plan.what_matters}"}],
    }
    if plan.coordinator:
        res["contributor"] = [{"display": f"Care coordinator: {plan.coordinator}"}]
    if goals:
        res["contained"] = goals
        res["goal"] = [{"reference": f"#{g['id']}"} for g in goals]
    activities = [{"reference": {"reference": f"Task/task-{a.task_id}", "display": a.text}}
                  for a in plan.actions if a.task_id is not None]
    if activities:
        res["activity"] = activities
    return res


def iter_workflow(tasks: Iterable[TaskView], plans: Iterable[CarePlan],
                  exclude: frozenset[int] = frozenset()) -> Iterator[dict[str, Any]]:
    """CarePlan and Task resources, leaving out the ``exclude``d patients."""
    for plan in plans:
        if plan.patient_id not in exclude:
            yield care_plan_resource(plan)
    for task in tasks:
        if task.patient_id is not None and task.patient_id not in exclude:
            yield task_resource(task)
