"""The fail-safe gate: may a message leave the clinical stream or wait for a routine booking?

Only when a known low-risk pattern explains it **and** nothing in it is unexplained or
concerning (ADR 0021). This module answers that question for one message and one candidate
pattern:

* **concerning**: a concept that any red or urgent flag uses (or one marked ``warning``) is
  asserted, and the benign pattern does not account for it; or the observations in the text are
  abnormal (a NEWS2 parameter scoring 2 or more);
* **unexplained**: a clinical word (the lexicon: body, symptom, function, mental state, injury,
  condition, substance, danger) or a word the lexicon does not know at all, which no explained
  concept, negation or past/hypothetical clause accounts for.

Ordinary English (the most frequent words of a large frequency list, less every clinical word)
never counts, so "please can I have my repeat prescription, thanks" is explained while "please
can I have my repeat prescription, my legs have gone blotchy" is not.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pcn.triage.definitions import Definitions, Governance, LexiconCategory, definitions_dir
from pcn.triage.matching import Findings

LEXICON_FILE = "lexicon.yaml"
LEXICON_DIR = "lexicon"
CATEGORIES: tuple[str, ...] = get_args(LexiconCategory)


class LexiconFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    governance: Governance
    #: how many of the most frequent English words count as ordinary (less clinical words)
    common_words: int = Field(ge=1000, le=100_000)
    #: ordinary words that the frequency list lacks (British spellings, admin vocabulary)
    extra_common: list[str] = Field(default_factory=list)
    #: words that are clinical although the screening missed them
    extra_clinical: dict[str, list[str]] = Field(default_factory=dict)
    #: phrases that say nothing clinical ("talk to a doctor", "book an appointment")
    neutral_phrases: list[str] = Field(default_factory=list)
    #: words that reassure rather than worry ("afebrile", "alert", "settled"): never unexplained
    reassuring: list[str] = Field(default_factory=list)
    #: words of the clinical screening whose everyday sense dominates ("see", "feel", "back")
    ordinary: list[str] = Field(default_factory=list)
    #: word parts that mark an unknown word as medical ("haem", "itis", "algia")
    medical_prefixes: list[str] = Field(default_factory=list)
    medical_suffixes: list[str] = Field(default_factory=list)
    #: word endings of specialties, procedures and tests ("cardiology", "cholecystectomy"):
    #: an unknown word ending so names care given, not a problem (category ``care``)
    care_suffixes: list[str] = Field(default_factory=list)
    #: an unknown word at least this similar to a clinical word is read as its misspelling
    misspelling_similarity: float = Field(0.84, ge=0.5, le=1.0)
    #: words shorter than this, unknown to the lexicon, are ignored (initials, typos of "a")
    min_unknown_length: int = 4

    @field_validator("extra_clinical")
    @classmethod
    def _categories(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = set(value) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories {sorted(unknown)}; use {', '.join(CATEGORIES)}")
        return value

    @field_validator("neutral_phrases")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for phrase in value:
            re.compile(phrase)
        return value


def _english_frequencies() -> dict[str, int]:
    """Word frequencies of the English dictionary shipped with ``pyspellchecker`` (MIT)."""
    path = Path(str(resources.files("spellchecker") / "resources" / "en.json.gz"))
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        data: dict[str, int] = json.load(fh)
    return data


_SUFFIXES = ("s", "es", "ed", "d", "ing", "ly", "er", "ers", "ness")


class Lexicon:
    """Which words are ordinary English, which are clinical, and which are unknown.

    :meth:`kind` answers ``clinical`` (a clinical word, its inflection, a medicine, a word with a
    medical prefix or suffix, or a likely misspelling of a clinical word), ``common`` (ordinary
    English, or reassuring) or ``unknown`` (a name, a brand, a rare word).
    """

    def __init__(self, spec: LexiconFile, clinical: dict[str, str]) -> None:
        self.spec = spec
        self.clinical = dict(clinical)
        # The reviewed lists in lexicon.yaml win over the screened CSVs.
        for category, words in spec.extra_clinical.items():
            for word in words:
                self.clinical[word] = category
        for word in spec.ordinary:
            self.clinical.pop(word, None)
        frequencies = _english_frequencies()
        ranked = sorted((w for w in frequencies if w.replace("'", "").isalpha()),
                        key=lambda w: (-frequencies[w], w))[: spec.common_words]
        # Messages are read with apostrophes dropped ("theyre"), so the list is too.
        common = {w.replace("'", "") for w in ranked} | set(spec.extra_common)
        self.reassuring = frozenset(spec.reassuring)
        self.common = (frozenset(common - self.clinical.keys()) | self.reassuring
                       | frozenset(spec.ordinary))
        self.neutral = (re.compile("|".join(f"(?:{p})" for p in spec.neutral_phrases))
                        if spec.neutral_phrases else None)
        self._care = re.compile(
            "(?:" + "|".join(spec.care_suffixes or ["(?!)"]) + ")$")
        self._medical = re.compile(
            "^(?:" + "|".join(spec.medical_prefixes or ["(?!)"]) + ")"
            "|(?:" + "|".join(spec.medical_suffixes or ["(?!)"]) + ")$"
        )
        # Misspelling candidates by first letter, so a look-up compares a few hundred words.
        self._by_initial: dict[str, list[str]] = {}
        for word in self.clinical:
            if len(word) >= 5 and self.clinical[word] != "medicine":
                self._by_initial.setdefault(word[0], []).append(word)
        self._kinds: dict[str, str] = {}

    def category(self, word: str) -> str | None:
        """The clinical category of a word or of its uninflected form."""
        if word in self.clinical:
            return self.clinical[word]
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                stem = word[: -len(suffix)]
                for candidate in (stem, stem + "e"):
                    if candidate in self.clinical:
                        return self.clinical[candidate]
        if len(word) >= 7 and self._care.search(word):
            return "care"
        return None

    @staticmethod
    def stem_in(word: str, words: frozenset[str]) -> bool:
        """Whether an inflection of ``word`` ("clicking", "swollen") is in ``words``."""
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                stem = word[: -len(suffix)]
                if stem in words or stem + "e" in words:
                    return True
        return False

    def kind(self, word: str) -> str:
        known = self._kinds.get(word)
        if known is None:
            known = self._kind(word)
            if len(self._kinds) < 100_000:
                self._kinds[word] = known
        return known

    def _kind(self, word: str) -> str:
        if word in self.reassuring:
            return "common"
        if self.category(word) is not None:
            return "clinical"
        if word in self.common:
            return "common"
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and word[: -len(suffix)] in self.common:
                return "common"
        if len(word) < self.spec.min_unknown_length:
            return "unknown"
        if self._medical.search(word):
            return "clinical"
        candidates = [w for w in self._by_initial.get(word[0], ())
                      if abs(len(w) - len(word)) <= 2]
        if candidates and difflib.get_close_matches(
            word, candidates, n=1, cutoff=self.spec.misspelling_similarity
        ):
            return "clinical"
        return "unknown"


def load_clinical_words(directory: Path) -> dict[str, str]:
    """``word,category`` rows of every CSV in the lexicon folder. The first category a word is
    given wins; ``medicines.csv`` (dm+d names) is read first so a medicine stays a medicine."""
    words: dict[str, str] = {}
    paths = sorted(directory.glob("*.csv"), key=lambda p: (p.name != "medicines.csv", p.name))
    for path in paths:
        with path.open(newline="", encoding="utf-8") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                word, category = (row.get("word") or "").strip(), (row.get("category") or "")
                if not word or category not in CATEGORIES:
                    raise ValueError(f"{path.name}: row {line}: need a word and one of "
                                     f"{', '.join(CATEGORIES)}, got {row!r}")
                words.setdefault(word.lower(), category)
    return words


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    root = definitions_dir()
    with (root / LEXICON_FILE).open(encoding="utf-8") as fh:
        spec = LexiconFile.model_validate(yaml.safe_load(fh))
    return Lexicon(spec, load_clinical_words(root / LEXICON_DIR))


@dataclass
class Check:
    """The gate's answer for one message and one candidate pattern."""

    unexplained: list[str] = field(default_factory=list)
    concerning: list[str] = field(default_factory=list)

    @property
    def confident(self) -> bool:
        return not self.unexplained and not self.concerning

    def reason(self) -> str:
        parts = []
        if self.concerning:
            parts.append("concerning: " + ", ".join(self.concerning))
        if self.unexplained:
            parts.append("unexplained: " + ", ".join(f"'{w}'" for w in self.unexplained))
        return "; ".join(parts)


_WORD = re.compile(r"[a-z]+")
#: A negation never covers words after "and" ("no cough and lips gone blue").
_NEGATION_STOP = re.compile(r"\band\b|\bthen\b")
#: Lexicon categories that describe where or what, not what is wrong: a body part, a medicine or
#: care given (a specialty, procedure, test or vaccine) named in a message needs no explaining on
#: its own ("my knee", "my amlodipine", "cardiology letter", "after my cholecystectomy").
CONTEXT_CATEGORIES = frozenset({"body", "medicine", "care"})
#: A function word ("walk", "breathe", "see") is a warning only when its loss is described.
_INABILITY = re.compile(
    r"\b(?:unable to|cannot|cant|can not|could not|not able to|no longer|stopped|hardly|barely|"
    r"difficulty|trouble|struggling to|problems?|not)\s+(?:\w+\s+){0,2}$"
)


class Gate:
    def __init__(self, definitions: Definitions, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or default_lexicon()
        concepts = definitions.concepts
        #: concept -> the (age_min, age_max, sex) of every red or urgent flag that uses it: a
        #: concept is a warning for a patient some such flag could apply to
        self.warning_rules: dict[str, list[tuple[float | None, float | None, str | None]]] = {}
        for rule in definitions.rules:
            if rule.kind not in ("red_flag", "urgent_flag"):
                continue
            for group in rule.when:
                for name in group:
                    if name in concepts and concepts[name].warning is not False:
                        self.warning_rules.setdefault(name, []).append(
                            (rule.age_min, rule.age_max, rule.sex))
        self.always_warning = frozenset(n for n, c in concepts.items() if c.warning)
        self.intensity = frozenset(n for n, c in concepts.items() if c.intensity)
        #: concept -> applicability of the red flags that use it, for concepts that only red
        #: flags use (a sign of an emergency, not of an everyday same-day problem)
        self.red_rules: dict[str, list[tuple[float | None, float | None, str | None]]] = {}
        urgent_only = {name for rule in definitions.rules if rule.kind == "urgent_flag"
                       for group in rule.when for name in group}
        for rule in definitions.rules:
            if rule.kind == "red_flag":
                for group in rule.when:
                    for name in group:
                        if (name in concepts and concepts[name].warning is not False
                                and name not in urgent_only):
                            self.red_rules.setdefault(name, []).append(
                                (rule.age_min, rule.age_max, rule.sex))

    @staticmethod
    def _applies(rules: list[tuple[float | None, float | None, str | None]], age: float | None,
                 sex: str | None) -> bool:
        for age_min, age_max, rule_sex in rules:
            if rule_sex and sex and rule_sex != sex:
                continue
            if age is not None and (
                (age_min is not None and age < age_min) or (age_max is not None and age >= age_max)
            ):
                continue
            return True
        return False

    def partial_red_flags(self, findings: Findings, explained: set[str],
                          at_least: int = 2) -> list[str]:
        """Ingredients of red flags, asserted in ``at_least`` separate places and accounted for
        by nothing, though no whole red flag fired ("epigastric pain ... clammy", "pregnancy
        test positive ... shoulder-tip ache"). Several signs of danger together go up (ADR
        0021); the words are returned for the explanation, or [] when there are too few."""
        age = findings.safety_age
        covered = [(m.start, m.end) for name in explained
                   for m in findings.mentions.get(name, ())]
        spans: list[tuple[int, int, str, str]] = []
        for name, mentions in findings.mentions.items():
            if name in explained or name in self.intensity or not self._applies(
                    self.red_rules.get(name, []), age, findings.sex):
                continue
            for m in mentions:
                if m.asserted and m.start >= 0 and not any(
                        s <= m.start and m.end <= e for s, e in covered):
                    spans.append((m.start, m.end, m.text, name))
        spans.sort()
        # Separate places in the text, each named by the concepts found there.
        places: list[tuple[int, int, str, set[str]]] = []
        for start, end, text, name in spans:
            if places and start < places[-1][1]:
                last = places[-1]
                places[-1] = (last[0], max(end, last[1]), last[2], last[3] | {name})
                continue
            places.append((start, end, text, {name}))
        # Two places that are the same sign twice ("vomiting ... 6 vomits") count once.
        distinct: list[tuple[str, set[str]]] = []
        for _, _, text, names in places:
            if not any(names == seen for _, seen in distinct):
                distinct.append((text, names))
        return [text for text, _ in distinct] if len(distinct) >= at_least else []

    def _is_warning(self, name: str, age: float | None, sex: str | None) -> bool:
        if name in self.always_warning:
            return True
        for age_min, age_max, rule_sex in self.warning_rules.get(name, ()):
            if rule_sex and sex and rule_sex != sex:
                continue
            if age is not None and (
                (age_min is not None and age < age_min) or (age_max is not None and age >= age_max)
            ):
                continue
            return True
        return False

    def check(self, findings: Findings, explained: set[str],
              abnormal_observations: list[str] | None = None,
              explained_categories: frozenset[str] = frozenset(),
              explained_words: frozenset[str] = frozenset()) -> Check:
        """Whether ``findings`` are fully accounted for by the ``explained`` concepts (and, for
        the words no concept matched, the lexicon ``explained_categories`` and
        ``explained_words``)."""
        result = Check()
        explained_spans = [(m.start, m.end) for name in explained
                           for m in findings.mentions.get(name, ())]
        age = findings.safety_age
        for name, mentions in findings.mentions.items():
            if name in explained or not self._is_warning(name, age, findings.sex):
                continue
            # A mention inside words an explained concept already accounts for ("hay fever",
            # "vomiting" in a stomach bug) is explained with them.
            if any(m.asserted and not any(s <= m.start and m.end <= e for s, e in explained_spans)
                   for m in mentions):
                result.concerning.append(name)
        result.concerning.extend(abnormal_observations or [])

        text = findings.reading.text
        covered = bytearray(len(text))

        def cover(start: int, end: int) -> None:
            if 0 <= start < end:
                covered[start:end] = b"\x01" * (end - start)

        for name, mentions in findings.mentions.items():
            for m in mentions:
                if name in explained or not m.asserted:
                    cover(m.start, m.end)
        for mentions in findings.negated.values():
            for m in mentions:
                cover(m.start, m.end)
        for clause in findings.reading.clauses:
            if clause.historical or clause.hypothetical:
                cover(clause.start, clause.start + len(clause.text))
            for neg_start, _ in clause.negation_spans:
                # A negation covers the few words right after it ("no fever or rash").
                tail = clause.text[neg_start:]
                stop = _NEGATION_STOP.search(tail)
                if stop:
                    tail = tail[:stop.start()]
                words = list(_WORD.finditer(tail))[:6]
                if words:
                    cover(clause.start + neg_start, clause.start + neg_start + words[-1].end())
        if self.lexicon.neutral is not None:
            for phrase in self.lexicon.neutral.finditer(text):
                cover(phrase.start(), phrase.end())

        seen: set[str] = set()
        for token in _WORD.finditer(text):
            word = token.group()
            if word in seen or any(covered[token.start():token.end()]):
                continue
            if word in explained_words or self.lexicon.stem_in(word, explained_words):
                continue
            if self.lexicon.kind(word) == "clinical":
                category = self.lexicon.category(word)
                if category is not None and (
                    category in explained_categories or category in CONTEXT_CATEGORIES
                ):
                    continue
                if category == "function" and not _INABILITY.search(
                    text[max(0, token.start() - 40):token.start()]
                ):
                    continue
                result.unexplained.append(word)
                seen.add(word)
        return result
