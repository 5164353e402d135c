"""The triage engine: red flags first, then urgent flags, Pharmacy First, navigation rules, and
the classifier only for what the rules leave undecided; then continuity and capacity.

Safety ordering is structural: a fired red flag returns before anything else runs, and every
later step may raise urgency but never lower it below a fired flag.
"""

from __future__ import annotations

from functools import lru_cache

from pcn.triage.definitions import Definitions, Rule, default_definitions
from pcn.triage.learned import Prediction, TextClassifier, default_classifier
from pcn.triage.matching import Findings, Matcher, Mention, PathwayMatch, fire_rule, match_pathway
from pcn.triage.model import (
    Decision,
    Evidence,
    FiredRule,
    LearnedOpinion,
    Route,
    TriageRequest,
    Urgency,
)

#: Clinicians who can stand in for each other for a same-day appointment when one has no slots.
SAME_DAY_SUBSTITUTES: dict[Route, tuple[Route, ...]] = {
    Route.gp: (Route.anp, Route.paramedic),
    Route.anp: (Route.gp, Route.paramedic),
    Route.paramedic: (Route.gp, Route.anp),
}
#: For a routine request: who else can see the patient when the routed role has no slots today
#: (the first with free slots is used). Only roles that overlap in scope: specialist first contact
#: (physio, pharmacist, mental health) is kept, since routine work can wait a day for the right
#: person. Continuity for patients with a usual clinician wins.
ROUTINE_SUBSTITUTES: dict[Route, tuple[Route, ...]] = {
    Route.gp: (Route.anp,),
    Route.anp: (Route.gp,),
    Route.practice_nurse: (Route.anp,),
    Route.paramedic: (Route.anp, Route.gp),
}
#: The classifier alone escalates to 999 only when this sure; rules own every red flag.
EMERGENCY_CONFIDENCE = 0.5
#: Concepts that come from the request or record rather than the words.
RECORD_CONCEPTS = frozenset({"about_older", "known_housebound", "known_pregnant"})
#: Routes a usual clinician can take over for continuity.
CONTINUITY_ROUTES = frozenset(
    {Route.gp, Route.anp, Route.practice_nurse, Route.clinical_pharmacist}
)
#: Routes that cannot handle a same-day clinical problem.
NON_CLINICAL = frozenset(
    {Route.admin, Route.social_prescriber, Route.care_coordinator, Route.self_care}
)

DEFAULT_ADVICE: dict[Route, str] = {
    Route.emergency_services: "Call 999 or go to A&E now.",
    Route.pharmacy_first: "A community pharmacist can assess and treat this under NHS Pharmacy "
    "First, without a GP appointment. You can walk in to most pharmacies today.",
    Route.community_pharmacy: "A pharmacist can advise and suggest treatment; no appointment is "
    "needed.",
    Route.self_care: "This should get better on its own with self-care. Contact us or NHS 111 if "
    "it gets worse or you are worried.",
    Route.dentist: "Please contact your dentist, or NHS 111 if you do not have one.",
    Route.optometrist: "Please see an optometrist (high-street opticians offer NHS eye "
    "assessments).",
    Route.admin: "Our practice team will deal with your request.",
}


def _fired(rule: Rule, evidence: list[Evidence]) -> FiredRule:
    return FiredRule(
        id=rule.id,
        kind=rule.kind,
        title=rule.title,
        urgency=rule.urgency,
        route=rule.route,
        evidence=evidence,
        source=rule.source.short(),
    )


class TriageEngine:
    def __init__(
        self, definitions: Definitions | None = None, classifier: TextClassifier | None = None
    ) -> None:
        self.definitions = definitions or default_definitions()
        self.matcher = Matcher(self.definitions)
        self._classifier = classifier
        self._by_kind = {
            kind: [r for r in self.definitions.rules if r.kind == kind]
            for kind in ("red_flag", "urgent_flag", "navigation")
        }

    @property
    def classifier(self) -> TextClassifier:
        if self._classifier is None:
            self._classifier = default_classifier()
        return self._classifier

    def _findings(self, request: TriageRequest) -> Findings:
        context = request.context
        findings = self.matcher.find(
            request.text, request.age, request.sex, bool(context and context.pregnant)
        )
        if findings.age is not None and findings.age >= 75:
            findings.mentions["about_older"] = [Mention(f"age {findings.age:g}", True)]
        if context and (context.housebound or context.frail):
            findings.mentions["known_housebound"] = [Mention("housebound or frail (record)", True)]
        return findings

    def _fire(self, kind: str, findings: Findings) -> list[FiredRule]:
        fired = []
        for rule in self._by_kind[kind]:
            evidence = fire_rule(rule, findings)
            if evidence:
                fired.append(_fired(rule, evidence))
        return fired

    def triage(self, request: TriageRequest) -> Decision:
        findings = self._findings(request)
        notes: list[str] = []
        if findings.age is not None and request.age is not None and findings.age != request.age:
            notes.append(f"age {findings.age:g} taken from the message (written for someone else)")

        red = self._fire("red_flag", findings)
        if red:
            advice = next((r.advice for r in self._rules(red) if r.advice), "")
            return Decision(
                urgency=Urgency.emergency,
                route=Route.emergency_services,
                decided_by="red_flag",
                red_flags=[r.id for r in red],
                fired_rules=red,
                learned=None,
                notes=notes,
                advice=advice or DEFAULT_ADVICE[Route.emergency_services],
            )

        # The same concept tokens the classifier was trained with (text-derived only).
        asserted = sorted(
            name
            for name, found in findings.mentions.items()
            if name not in RECORD_CONCEPTS and any(m.asserted for m in found)
        )
        prediction = self.classifier.predict(request.text, findings.age, request.sex, asserted)
        opinion = LearnedOpinion(
            urgency=prediction.urgency,
            urgency_probability=round(prediction.urgency_probability, 3),
            route=prediction.route_ranking[0][0],
            route_probability=round(prediction.route_ranking[0][1], 3),
        )
        urgent = self._fire("urgent_flag", findings)
        fired: list[FiredRule] = list(urgent)
        pathway = self._pharmacy_first(findings)
        if urgent:
            top = urgent[0]
            urgency, route, decided_by = Urgency.urgent, top.route or Route.gp, "urgent_flag"
            if pathway and pathway.eligible:
                notes.append(
                    f"Pharmacy First {pathway.pathway.id} not used: urgent flag {top.id} fired"
                )
        elif pathway is not None:
            urgency, route, decided_by = self._pathway_outcome(pathway, notes)
        else:
            navigation = sorted(
                self._fire("navigation", findings),
                key=lambda r: -self._rule(r.id).priority,
            )
            if navigation:
                top = navigation[0]
                fired = navigation[:1]
                urgency, route, decided_by = top.urgency, top.route or Route.gp, "navigation"
            else:
                urgency, route = self._learned_outcome(prediction, notes)
                decided_by = "learned"

        if (
            urgency is Urgency.urgent
            and route in (Route.gp, Route.anp)
            and (findings.present("home_visit") or findings.present("known_housebound"))
        ):
            notes.append(f"home visit: patient cannot attend, paramedic visits instead of {route}")
            route = Route.paramedic
        route, usual = self._continuity_and_capacity(request, urgency, route, notes)
        advice = next((r.advice for r in self._rules(fired) if r.advice), "")
        return Decision(
            urgency=urgency,
            route=route,
            decided_by=decided_by,
            red_flags=[],
            fired_rules=fired,
            learned=opinion,
            notes=notes,
            advice=advice or DEFAULT_ADVICE.get(route, "We will contact you to arrange care."),
            usual_clinician_id=usual,
        )

    # --- steps -----------------------------------------------------------------------------------
    def _rule(self, rule_id: str) -> Rule:
        return next(r for r in self.definitions.rules if r.id == rule_id)

    def _rules(self, fired: list[FiredRule]) -> list[Rule]:
        return [self._rule(f.id) for f in fired]

    def _pharmacy_first(self, findings: Findings) -> PathwayMatch | None:
        matches = [m for p in self.definitions.pathways if (m := match_pathway(p, findings))]
        if not matches:
            return None
        # An eligible pathway wins; otherwise the first that matched explains the fallback.
        return next((m for m in matches if m.eligible), matches[0])

    @staticmethod
    def _pathway_outcome(match: PathwayMatch, notes: list[str]) -> tuple[Urgency, Route, str]:
        words = ", ".join(f"'{e.text}'" for e in match.evidence)
        source = match.pathway.source.short()
        if match.eligible:
            notes.append(f"Pharmacy First {match.pathway.id} eligible [{source}]: {words}")
            return match.pathway.urgency, Route.pharmacy_first, "pharmacy_first"
        if match.exclusion is not None:
            notes.append(
                f"Pharmacy First {match.pathway.id} excluded ({match.reason}) [{source}]: {words}"
            )
            return match.exclusion.urgency, match.exclusion.route, "pharmacy_first"
        notes.append(
            f"Pharmacy First {match.pathway.id} not eligible ({match.reason}) [{source}]: {words}"
        )
        return (
            match.pathway.outside_gateway_urgency,
            match.pathway.outside_gateway_route,
            "pharmacy_first",
        )

    @staticmethod
    def _learned_outcome(prediction: Prediction, notes: list[str]) -> tuple[Urgency, Route]:
        urgency = prediction.urgency
        ranking = [r for r, _ in prediction.route_ranking if r is not Route.pharmacy_first]
        top_route, top_p = prediction.route_ranking[0]
        says_emergency = (
            urgency is Urgency.emergency and prediction.urgency_probability >= EMERGENCY_CONFIDENCE
        ) or (top_route is Route.emergency_services and top_p >= EMERGENCY_CONFIDENCE)
        ranking = [r for r in ranking if r is not Route.emergency_services]
        route = ranking[0]
        if says_emergency:
            # No red-flag rule fired, but the classifier thinks this is an emergency: err safe.
            notes.append("classifier suggests an emergency although no red-flag rule fired")
            return Urgency.emergency, Route.emergency_services
        if urgency is Urgency.emergency:
            urgency = Urgency.urgent  # unsure emergency: still same day, clinician decides
        if route is Route.self_care:
            urgency = Urgency.self_care
        elif route is Route.admin or (
            urgency is Urgency.self_care and route is not Route.community_pharmacy
        ):
            urgency = Urgency.routine
        if urgency is Urgency.urgent and route in NON_CLINICAL:
            route = next((r for r in ranking if r not in NON_CLINICAL), Route.anp)
        return urgency, route

    @staticmethod
    def _continuity_and_capacity(
        request: TriageRequest, urgency: Urgency, route: Route, notes: list[str]
    ) -> tuple[Route, str | None]:
        context, capacity = request.context, request.capacity
        usual: str | None = None
        if (
            context is not None
            and (context.long_term_conditions or context.frail)
            and context.usual_clinician_role is not None
            and route in CONTINUITY_ROUTES
        ):
            usual_role = context.usual_clinician_role
            has_room = capacity is None or capacity.get(usual_role, 0) > 0
            if urgency is Urgency.routine or (urgency is Urgency.urgent and has_room):
                if usual_role is not route:
                    notes.append(
                        f"continuity: routed to usual clinician ({usual_role.value}) instead of "
                        f"{route.value} because of long-term conditions or frailty"
                    )
                else:
                    notes.append("continuity: booked with usual clinician")
                route, usual = usual_role, context.usual_clinician_id
        if capacity is not None and urgency is Urgency.urgent and capacity.get(route, 0) <= 0:
            options = [r for r in SAME_DAY_SUBSTITUTES.get(route, ()) if capacity.get(r, 0) > 0]
            if options:
                best = max(options, key=lambda r: capacity.get(r, 0))
                notes.append(
                    f"capacity: no {route.value} slots today, {best.value} has {capacity[best]}"
                )
                route, usual = best, None
            else:
                notes.append(
                    f"capacity: no same-day {route.value} slots; escalate to duty clinician"
                )
        elif (
            capacity is not None
            and urgency is Urgency.routine
            and usual is None
            and route in ROUTINE_SUBSTITUTES
            and capacity.get(route, 0) <= 0
        ):
            # Not urgent, so the next suitable role with room today, in order of suitability.
            spare = next((r for r in ROUTINE_SUBSTITUTES[route] if capacity.get(r, 0) > 0), None)
            if spare is not None:
                notes.append(
                    f"capacity: no {route.value} slots today, next suitable role "
                    f"{spare.value} has {capacity[spare]}"
                )
                route = spare
            else:
                notes.append(f"capacity: no {route.value} slots today; book the next available")
        return route, usual


@lru_cache(maxsize=1)
def default_engine() -> TriageEngine:
    return TriageEngine()


def triage(request: TriageRequest) -> Decision:
    """Triage one request with the shipped definitions and classifier."""
    return default_engine().triage(request)
