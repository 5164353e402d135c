"""The triage engine: red flags first, then urgent flags, Pharmacy First, navigation rules, and
the classifier only for what the rules leave undecided; then continuity and capacity.

Safety ordering is structural: a fired red flag returns before anything else runs, and every
later step may raise urgency but never lower it below a fired flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pcn.triage.confidence import Gate
from pcn.triage.definitions import Definitions, Rule, default_definitions
from pcn.triage.learned import Prediction, TextClassifier, default_classifier
from pcn.triage.matching import (
    Findings,
    Matcher,
    Mention,
    PathwayMatch,
    fire_rule,
    held_back,
    match_pathway,
)
from pcn.triage.model import (
    Decision,
    Evidence,
    FiredRule,
    LearnedOpinion,
    Route,
    TriageRequest,
    Urgency,
    most_urgent,
)
from pcn.triage.physiology import (
    Assessment,
    Finding,
    Observations,
    PhysiologyScorer,
    default_scorer,
    read_observations,
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
#: Roles that can take a same-day clinical problem the engine could not classify with
#: confidence (a request bound for admin, a pharmacy or self-care goes to the duty clinician).
CLINICIANS = frozenset(
    {
        Route.gp,
        Route.anp,
        Route.practice_nurse,
        Route.clinical_pharmacist,
        Route.fcp_physio,
        Route.mental_health_practitioner,
        Route.paramedic,
    }
)
#: Who a request nobody could classify goes to: the classifier's best guess among these, else GP.
DUTY_CLINICIANS = (Route.gp, Route.anp)
NOT_CONFIDENT_ADVICE = (
    "A clinician will look at your request today and contact you. If you get worse before we "
    "contact you, call NHS 111, or 999 in an emergency."
)
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


@dataclass(frozen=True)
class Candidate:
    """A low-risk pattern that matched, and what it accounts for in the message."""

    urgency: Urgency
    route: Route
    decided_by: str
    fired: list[FiredRule]
    explained: set[str]
    categories: frozenset[str]
    words: frozenset[str]


def _physiology_rule(finding: Finding) -> FiredRule:
    return FiredRule(
        id=finding.id,
        kind="physiology",
        title=finding.title,
        urgency=finding.urgency,
        route=Route.emergency_services if finding.urgency is Urgency.emergency else Route.gp,
        evidence=[Evidence(concept=finding.id, text=finding.reason)],
        source=finding.source,
    )


def _abnormal(assessment: Assessment) -> list[str]:
    """Observations abnormal enough that no benign pattern may explain them away."""
    worrying = [p for p, score in assessment.news2_scores.items() if score >= 2]
    if assessment.news2 is not None and assessment.news2 >= 3 and not worrying:
        worrying = ["NEWS2 3 or more"]
    return [f"abnormal {p.replace('_', ' ')}" for p in worrying]


def _duty_clinician(prediction: Prediction) -> Route:
    return next(
        (r for r, _ in prediction.route_ranking if r in DUTY_CLINICIANS), DUTY_CLINICIANS[0]
    )


class TriageEngine:
    def __init__(
        self,
        definitions: Definitions | None = None,
        classifier: TextClassifier | None = None,
        scorer: PhysiologyScorer | None = None,
    ) -> None:
        self.definitions = definitions or default_definitions()
        self.gate = Gate(self.definitions)
        lexicon = self.gate.lexicon
        self.matcher = Matcher(self.definitions, lexicon.common | frozenset(lexicon.clinical))
        self.scorer = scorer or default_scorer()
        self._rules_by_id = {r.id: r for r in self.definitions.rules}
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

    def _findings(self, request: TriageRequest,
                  observations: Observations | None = None) -> Findings:
        context = request.context
        findings = self.matcher.find(
            request.text, request.age, request.sex, bool(context and context.pregnant),
            temperature=observations.get("temperature") if observations else None,
            systolic=observations.get("systolic_bp") if observations else None,
            diastolic=observations.get("diastolic_bp") if observations else None,
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
        observations = read_observations(request.text)
        findings = self._findings(request, observations)
        notes: list[str] = []
        if findings.age is not None and request.age is not None and findings.age != request.age:
            notes.append(f"age {findings.age:g} taken from the message (written for someone else)")
        context = request.context
        pregnant = bool(context and context.pregnant) or findings.asserted("pregnant") is not None
        assessment = self.scorer.assess(observations, findings.safety_age, pregnant)
        if assessment.observations:
            notes.append(assessment.summary())

        # 1. Emergencies: red flags (crisis and safeguarding included) and physiology.
        red = self._fire("red_flag", findings)
        physiology = [_physiology_rule(f) for f in assessment.findings]
        red_physiology = [r for r in physiology if r.urgency is Urgency.emergency]
        if red or red_physiology:
            emergency = red + red_physiology
            rules = self._rules(red)
            advice = next((r.advice for r in rules if r.advice), "")
            return Decision(
                urgency=Urgency.emergency,
                route=Route.emergency_services,
                decided_by="red_flag" if red else "physiology",
                red_flags=[r.id for r in emergency],
                fired_rules=emergency,
                learned=None,
                notes=notes,
                advice=advice or DEFAULT_ADVICE[Route.emergency_services],
                signpost=next((r.signpost for r in rules if r.signpost), None),
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
        # 2. Same-day problems: urgent flags and physiology.
        urgent = self._fire("urgent_flag", findings)
        urgent_physiology = [r for r in physiology if r.urgency is Urgency.urgent]
        fired: list[FiredRule] = urgent + urgent_physiology
        confident = True
        signpost = next((r.signpost for r in self._rules(urgent) if r.signpost), None)
        pathway = self._pharmacy_first(findings)
        candidate = None if fired else self._benign_candidate(findings, pathway, [])
        # Several ingredients of red flags that nothing else accounts for: up, not down. A red
        # flag held back by its benign explanation ("unless") accounts for its own signs.
        accounted = {c for rule in self._rules(urgent) for group in rule.when for c in group}
        accounted |= {c for rule in self._by_kind["red_flag"] if held_back(rule, findings)
                      for group in rule.when for c in group}
        if candidate is not None:
            accounted |= candidate.explained
        partial = self.gate.partial_red_flags(findings, accounted)
        if partial:
            words = ", ".join(f"'{w}'" for w in partial)
            notes.append(
                f"several signs of danger together ({words}) and no benign explanation: "
                "treated as an emergency"
            )
            return Decision(
                urgency=Urgency.emergency,
                route=Route.emergency_services,
                decided_by="red_flag_partial",
                red_flags=["danger_signs_together"],
                fired_rules=fired,
                learned=opinion,
                notes=notes,
                advice=DEFAULT_ADVICE[Route.emergency_services],
                confident=False,
            )
        if fired:
            top = fired[0]
            urgency, route = Urgency.urgent, top.route or Route.gp
            decided_by = "urgent_flag" if urgent else "physiology"
            if pathway and pathway.eligible:
                notes.append(
                    f"Pharmacy First {pathway.pathway.id} not used: {top.kind} {top.id} fired"
                )
        else:
            # 3. A known low-risk pattern, accepted only if it explains the whole message.
            candidate = self._benign_candidate(findings, pathway, notes)
            if candidate is None:
                urgency, route = Urgency.urgent, _duty_clinician(prediction)
                decided_by, confident = "not_confident", False
                notes.append(
                    "not confidently classified: no known pattern explains this request, so a "
                    "clinician reviews it today"
                )
            else:
                urgency, route, decided_by, fired = (
                    candidate.urgency, candidate.route, candidate.decided_by, candidate.fired)
                check = self.gate.check(findings, candidate.explained, _abnormal(assessment),
                                        candidate.categories, candidate.words)
                if not check.confident:
                    notes.append(
                        f"not confidently classified ({check.reason()}): a clinician reviews "
                        f"it today instead of {urgency.value} {route.value}"
                    )
                    route = route if route in CLINICIANS else _duty_clinician(prediction)
                    urgency = most_urgent(urgency, Urgency.urgent)
                    decided_by, confident = "not_confident", False

        if (
            urgency is Urgency.urgent
            and route in (Route.gp, Route.anp)
            and (findings.present("home_visit") or findings.present("known_housebound"))
        ):
            notes.append(f"home visit: patient cannot attend, paramedic visits instead of {route}")
            route = Route.paramedic
        route, usual = self._continuity_and_capacity(request, urgency, route, notes)
        advice = next((r.advice for r in self._rules(fired) if r.advice), "")
        if not confident:
            advice = NOT_CONFIDENT_ADVICE
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
            confident=confident,
            signpost=signpost,
        )

    def _benign_candidate(
        self, findings: Findings, pathway: PathwayMatch | None, notes: list[str]
    ) -> Candidate | None:
        """The low-risk pattern that matched (Pharmacy First, then navigation), with the
        concepts it accounts for; None when none did."""
        navigation = sorted(
            self._fire("navigation", findings),
            key=lambda r: -self._rule(r.id).priority,
        )
        outside_gateway = (pathway is not None and not pathway.eligible
                           and pathway.exclusion is None)
        if pathway is not None and not (outside_gateway and navigation):
            urgency, route, decided_by = self._pathway_outcome(pathway, notes)
            accounted = {c for group in pathway.pathway.when for c in group}
            accounted |= set(pathway.pathway.explains)
            if pathway.exclusion is not None:
                accounted |= {c for group in pathway.exclusion.when for c in group}
            return Candidate(urgency, route, decided_by, [], accounted,
                             frozenset(pathway.pathway.explains_categories),
                             frozenset(pathway.pathway.explains_words))
        if not navigation:
            return None
        top = navigation[0]
        explained: set[str] = set()
        categories: set[str] = set()
        words: set[str] = set()
        for matched in navigation:
            # Every benign pattern that matched accounts for its own words; the route is the
            # top one's.
            rule = self._rule(matched.id)
            explained |= {c for group in rule.when for c in group} | set(rule.explains)
            categories |= set(rule.explains_categories)
            words |= set(rule.explains_words)
        return Candidate(top.urgency, top.route or Route.gp, "navigation", [top], explained,
                         frozenset(categories), frozenset(words))

    # --- steps -----------------------------------------------------------------------------------
    def _rule(self, rule_id: str) -> Rule:
        return self._rules_by_id[rule_id]

    def _rules(self, fired: list[FiredRule]) -> list[Rule]:
        """The definitions behind fired rules (physiology findings have none)."""
        return [self._rules_by_id[f.id] for f in fired if f.id in self._rules_by_id]

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
