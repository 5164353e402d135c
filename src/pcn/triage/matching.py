"""Find the concepts a message asserts and the rules and pathways they fire."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from pcn.triage.definitions import Definitions, Exclusion, Pathway, Rule
from pcn.triage.model import Evidence
from pcn.triage.prefilter import LiteralIndex, required_literals
from pcn.triage.text import Reading, is_negated, read


@dataclass
class Mention:
    text: str
    asserted: bool  # not negated, not historical, not hypothetical: happening to the patient now
    #: where in the normalised message (``Findings.reading.text``); -1 when not from the words
    start: int = -1
    end: int = -1
    #: in a clause about the past (history), not negated or hypothetical
    past: bool = False


@dataclass
class Findings:
    """Every non-negated mention of every concept in one message."""

    reading: Reading
    age: float | None
    sex: str | None
    pregnant: bool
    mentions: dict[str, list[Mention]] = field(default_factory=dict)
    #: concept mentions that were negated ("no chest pain"), by concept
    negated: dict[str, list[Mention]] = field(default_factory=dict)
    #: concepts that count from the past history too (``Concept.background``)
    background: frozenset[str] = frozenset()

    @property
    def safety_age(self) -> float | None:
        """The age safety rules use. A message about a child with no age in the text, sent
        with an adult's age (a parent giving their own), counts as age unknown, so child
        red flags still fire."""
        if (
            self.reading.about_child
            and self.reading.subject_age is None
            and self.age is not None
            and self.age >= 16
        ):
            return None
        return self.age

    def asserted(self, concept: str) -> Mention | None:
        return next((m for m in self.mentions.get(concept, []) if m.asserted), None)

    def present(self, concept: str) -> Mention | None:
        found = self.mentions.get(concept, [])
        return found[0] if found else None


class Matcher:
    """Compiled concepts; one per set of definitions, reused for every message."""

    def __init__(self, definitions: Definitions, known_words: frozenset[str] = frozenset()) -> None:
        self.definitions = definitions
        #: real words the typo correction leaves alone
        self.known_words = known_words
        self._patterns = {
            name: re.compile(r"(?<![a-z0-9])(?:" + "|".join(c.terms) + r")(?![a-z0-9])")
            for name, c in definitions.concepts.items()
        }
        #: literals one of which every match of a concept contains (None: always run it)
        self._required = {
            name: required_literals("|".join(c.terms))
            for name, c in definitions.concepts.items()
        }
        self._literals = LiteralIndex(r for r in self._required.values() if r is not None)
        self._background = frozenset(
            name for name, c in definitions.concepts.items() if c.background)
        self._whole_message = frozenset(
            name for name, c in definitions.concepts.items() if c.whole_message)
        self._conditional = frozenset(
            name for name, c in definitions.concepts.items() if c.conditional)

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        words: set[str] = set()
        for concept in self.definitions.concepts.values():
            for term in concept.terms:
                words.update(re.findall(r"(?<![\\?])\b[a-z]{6,}\b(?![?*(])", term))
        return frozenset(words)

    def concept_tokens(self, message: str, age: float | None, sex: str | None) -> list[str]:
        """Names of the concepts a message asserts, for the classifier's features."""
        findings = self.find(message, age, sex)
        return sorted(
            name for name, found in findings.mentions.items() if any(m.asserted for m in found)
        )

    def find(
        self, message: str, age: float | None, sex: str | None, pregnant: bool = False,
        temperature: float | None = None, systolic: float | None = None,
        diastolic: float | None = None,
    ) -> Findings:
        """Every concept mention in ``message``. ``temperature``: one read from observations
        (``physiology.read_observations``: "T 38.9", "pyrexial 38.6") besides the words'."""
        reading = read(message, self.vocabulary, self.known_words)
        subject_age = reading.subject_age if reading.subject_age is not None else age
        findings = Findings(reading=reading, age=subject_age, sex=sex, pregnant=pregnant,
                            background=self._background)
        present = self._literals.present(reading.text)
        for name, pattern in self._patterns.items():
            required = self._required[name]
            if required is not None and present.isdisjoint(required):
                continue
            if name in self._whole_message:
                for m in pattern.finditer(reading.text):
                    findings.mentions.setdefault(name, []).append(
                        Mention(m.group().strip(), True, m.start(), m.end()))
                continue
            for clause in reading.clauses:
                for m in pattern.finditer(clause.text):
                    mention = Mention(m.group().strip(), True, clause.start + m.start(),
                                      clause.start + m.end())
                    if is_negated(clause, m.start(), m.end()):
                        mention.asserted = False
                        findings.negated.setdefault(name, []).append(mention)
                        continue
                    hypothetical = clause.hypothetical and name not in self._conditional
                    mention.asserted = not (clause.historical or hypothetical)
                    mention.past = clause.historical and not clause.hypothetical
                    findings.mentions.setdefault(name, []).append(mention)
        temps = [t for t in (reading.max_temperature_c, temperature) if t is not None]
        temp = max(temps) if temps else None
        for threshold in (38, 39, 40):
            if temp is not None and temp >= threshold:
                findings.mentions[f"temperature_{threshold}"] = [Mention(f"{temp:g}°C", True)]
        if (systolic or 0) >= 180 or (diastolic or 0) >= 120:
            findings.mentions["bp_180_120"] = [
                Mention(f"blood pressure {systolic or '?'}/{diastolic or '?'}", True)]
        if reading.about_child:
            findings.mentions["about_child"] = [Mention("a child", True)]
        if pregnant:
            findings.mentions["known_pregnant"] = [Mention("pregnant (record)", True)]
        return findings


def _age_ok(age: float | None, low: float | None, high: float | None) -> bool:
    if age is None:
        return True  # unknown age never stops a safety rule firing
    return (low is None or age >= low) and (high is None or age < high)


def _group_evidence(findings: Findings, groups: list[list[str]], strict: bool) -> list[Evidence]:
    """Evidence from every group whose concepts are all found (so the explanation shows all
    that fired), or [] if none is."""
    evidence: list[Evidence] = []
    for group in groups:
        found = []
        for concept in group:
            mentions = [m for m in findings.mentions.get(concept, [])
                        if m.asserted or not strict
                        or (m.past and concept in findings.background)]
            if not mentions:
                break
            found += [Evidence(concept=concept, text=m.text) for m in mentions]
        else:
            evidence += [e for e in found if e not in evidence]
    return evidence


def held_back(rule: Rule, findings: Findings) -> bool:
    """Whether ``rule`` would fire but for its ``unless`` (a benign explanation present)."""
    return bool(rule.unless) and bool(fire_rule(rule.model_copy(update={"unless": []}),
                                                findings))


def fire_rule(rule: Rule, findings: Findings) -> list[Evidence]:
    strict = rule.kind != "navigation"
    if rule.sex and findings.sex and findings.sex != rule.sex:
        return []
    age = findings.safety_age if strict else findings.age
    if not strict and (rule.age_min is not None or rule.age_max is not None):
        # A benign pattern with an age limit needs the subject's age: a message about a child
        # with a parent's age on the form is not explained by an adults-only pattern. A child
        # named without an age ("my son") counts as at least one year old unless the words say
        # baby; a pattern must then hold at every age from 1 to 15 to fire.
        age = findings.safety_age
        if age is None:
            if findings.reading.about_infant or not findings.reading.about_child:
                return []
            if (rule.age_min or 0) > 1 or (rule.age_max is not None and rule.age_max < 16):
                return []
            age = 1.0
    if age is None and rule.age_max is not None and rule.age_max <= 1:
        # Infant-only rules need some sign the patient is a baby when the age is unknown.
        if not findings.reading.about_infant:
            return []
    elif not _age_ok(age, rule.age_min, rule.age_max):
        return []
    evidence = _group_evidence(findings, rule.when, strict)
    if not evidence:
        return []
    if any(findings.present(c) for c in rule.unless):
        return []
    return evidence


@dataclass
class PathwayMatch:
    pathway: Pathway
    evidence: list[Evidence]
    eligible: bool
    reason: str
    exclusion: Exclusion | None


def match_pathway(pathway: Pathway, findings: Findings) -> PathwayMatch | None:
    evidence = _group_evidence(findings, pathway.when, strict=False)
    if not evidence:
        return None
    age, sex = findings.age, findings.sex
    gateway = []
    if age is None:
        gateway.append("age not known")
    elif age < pathway.age_min or (pathway.age_max is not None and age >= pathway.age_max):
        upper = f" to {pathway.age_max - 1:g}" if pathway.age_max is not None else " and over"
        gateway.append(f"age {age:g} outside {pathway.age_min:g}{upper}")
    if pathway.sex and sex != pathway.sex:
        gateway.append(f"pathway is for sex {pathway.sex} only")
    if gateway:
        return PathwayMatch(pathway, evidence, False, "; ".join(gateway), None)
    for exclusion in pathway.exclusions:
        if exclusion.sex and sex != exclusion.sex:
            continue
        if (exclusion.age_min is not None or exclusion.age_max is not None) and not (
            age is not None and _age_ok(age, exclusion.age_min, exclusion.age_max)
        ):
            continue
        if exclusion.context == "pregnant":
            if not (findings.pregnant or findings.present("pregnant")):
                continue
        elif exclusion.context == "immunosuppressed" and not findings.present("immunosuppressed"):
            continue
        if exclusion.when and not _group_evidence(findings, exclusion.when, strict=False):
            continue
        return PathwayMatch(pathway, evidence, False, exclusion.reason, exclusion)
    return PathwayMatch(pathway, evidence, True, "gateway criteria met", None)
