"""Physiology from text: observations written in a message, scored against cited charts.

Clinician-style messages carry numbers ("T 38.9, HR 128, RR 26, SpO2 91% RA, BP 88/50, responds
to voice"). :func:`read_observations` pulls them out of the raw text (before the lay-text
normaliser, which reads "hr" as "hour"); :class:`PhysiologyScorer` scores them with NEWS2 for
adults (Royal College of Physicians 2017), the NICE NG51/NG143 age-banded criteria for children,
and the thresholds in ``definitions/triage/physiology.yaml`` (glucose, ketones, peak flow, blood
pressure, capillary refill). Missing observations score nothing: a partial NEWS2 is a lower bound,
and the explanation says how many of the seven parameters were written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pcn.triage.definitions import Governance, Source, definitions_dir
from pcn.triage.model import Urgency

Parameter = Literal[
    "respiratory_rate",
    "spo2",
    "supplemental_oxygen",
    "systolic_bp",
    "diastolic_bp",
    "pulse",
    "consciousness",
    "temperature",
    "capillary_refill_s",
    "glucose_mmol",
    "ketones_mmol",
    "peak_flow_percent",
    "potassium_mmol",
    "sodium_mmol",
]

# --- definitions ---------------------------------------------------------------------------------


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: float = Field(alias="from")
    score: int = Field(ge=0, le=3)


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aggregate_at_least: int
    any_single_score: int | None = None


class News2(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    source: Source
    age_min: float
    emergency: Escalation
    urgent: Escalation
    parameters: dict[str, list[Band]]

    @model_validator(mode="after")
    def _ascending(self) -> News2:
        for name, bands in self.parameters.items():
            starts = [b.start for b in bands]
            if starts != sorted(starts) or len(set(starts)) != len(starts) or starts[0] != 0:
                raise ValueError(f"news2.{name}: bands must start at 0 and ascend")
        return self


class Criterion(BaseModel):
    """One age-banded child criterion: ``parameter`` at or above ``at_least`` (or below
    ``below``) in ages [``age_min``, ``age_max``)."""

    model_config = ConfigDict(extra="forbid")

    parameter: Parameter
    age_min: float
    age_max: float
    at_least: float | None = None
    below: float | None = None
    level: Literal["high", "moderate"]

    @model_validator(mode="after")
    def _one_threshold(self) -> Criterion:
        if (self.at_least is None) == (self.below is None):
            raise ValueError(f"{self.parameter}: give exactly one of at_least or below")
        return self

    def met(self, value: float) -> bool:
        if self.at_least is not None:
            return value >= self.at_least
        assert self.below is not None
        return value < self.below


class Paediatric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Source
    criteria: list[Criterion]


class Threshold(BaseModel):
    """A number that decides urgency on its own (optionally with a second parameter)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    parameter: Parameter
    at_least: float | None = None
    below: float | None = None
    #: also met when this other parameter reaches the value given
    or_parameter: dict[Parameter, float] = Field(default_factory=dict)
    #: only met when this other parameter is also at least the value given
    with_parameter: dict[Parameter, float] = Field(default_factory=dict)
    pregnant: bool | None = None
    urgency: Urgency
    source: Source

    @model_validator(mode="after")
    def _one_threshold(self) -> Threshold:
        if (self.at_least is None) == (self.below is None):
            raise ValueError(f"{self.id}: give exactly one of at_least or below")
        if self.urgency not in (Urgency.emergency, Urgency.urgent):
            raise ValueError(f"{self.id}: a physiology threshold is emergency or urgent")
        return self


class PhysiologyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    governance: Governance
    news2: News2
    paediatric: Paediatric
    thresholds: list[Threshold]


PHYSIOLOGY_FILE = "physiology.yaml"


@lru_cache(maxsize=1)
def default_physiology() -> PhysiologyFile:
    path = definitions_dir() / PHYSIOLOGY_FILE
    with path.open(encoding="utf-8") as fh:
        return PhysiologyFile.model_validate(yaml.safe_load(fh))


# --- reading observations ----------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    parameter: Parameter
    value: float
    text: str  # the words it was read from


@dataclass
class Observations:
    values: dict[str, Observation] = field(default_factory=dict)
    #: SpO2 scale 2 (a prescribed target of 88-92% for hypercapnic respiratory failure)
    spo2_scale_2: bool = False

    def get(self, parameter: str) -> float | None:
        found = self.values.get(parameter)
        return found.value if found else None

    def _keep(self, parameter: Parameter, value: float, text: str, worst: str = "max") -> None:
        """Keep the worst reading of a parameter when a message gives several."""
        old = self.values.get(parameter)
        if old is None or (value > old.value if worst == "max" else value < old.value):
            self.values[parameter] = Observation(parameter, value, text.strip())

    def __bool__(self) -> bool:
        return bool(self.values)


_NUM = r"(\d{1,3}(?:\.\d{1,2})?)"
_SEP = r"\s*(?:[:=]|of|is|was|at|now|only|reading|around|about|approx\.?|~)?\s*"
_TEMPERATURE = re.compile(
    r"(?<![a-z0-9])(?:t|temp|temperature|tympanic|temps?|pyrexial|febrile|pyrexia)"
    + _SEP
    + r"(?:of\s+)?(\d{2,3}(?:[.,]\d{1,2})?)\s*(°\s*[cf]?|degrees?\s*[cf]?|deg|c|f)?(?![0-9/])"
    r"|(?<![0-9.])(\d{2}(?:[.,]\d{1,2})?)\s*(?:°\s*c|degrees? c(?:elsius)?|c\b|celsius)"
    # Fahrenheit only with a degree sign or the word: "86F" is an 86-year-old woman.
    r"|(?<![0-9.])(\d{2,3}(?:\.\d)?)\s*(?:°\s*f|degrees? f(?:ahrenheit)?\b|fahrenheit)"
)
_PULSE = re.compile(
    r"(?<![a-z0-9])(?:hr|pulse|p|heart rate|hrt rate|pr|heart\s*rate|tachycardic|"
    r"bradycardic|tachy|brady|sinus tachycardia|st|af|fast af|af with rate|rate)"
    + _SEP
    + _NUM
    + r"(?!\s*(?:%|/|mmhg|breaths|kg|mg|mmol|years?|yrs?|y/?o|weeks?|months?|days?|hours?|"
    r"mins?|minutes?|seconds?|secs?|s\b|cm|mm|ml|l\b))"
    r"|(?<![0-9.])" + _NUM + r"\s*(?:bpm|beats? (?:per|a|/) ?min(?:ute)?)"
)
_RESPIRATORY = re.compile(
    r"(?<![a-z0-9])(?:rr|resp(?:iratory)? rate|resps?|respirations?|breathing rate|"
    r"tachypnoeic|tachypneic|tachypnoea)"
    + _SEP
    + _NUM
    + r"(?!\s*(?:%|/\d|mmhg|bpm))"
    r"|(?<![0-9.])" + _NUM + r"\s*(?:breaths?|resps?)\s*(?:per|a|/)\s*min"
)
_BP = re.compile(
    r"(?:(?<![a-z])(?:bp|blood pressure|nibp|pressure)" + _SEP + r")?"
    r"(?<![0-9/])(\d{2,3})\s*/\s*(\d{2,3})(?![0-9/])\s*(mm\s*hg|mmhg)?"
)
_SPO2 = re.compile(
    r"(?<![a-z0-9])(?:spo2|sp02|sao2|o2 sats?|o2 sat(?:uration)?s?|sats?|saturations?|"
    r"saturating|oxygen sat(?:uration)?s?|oxygen level|oxygen|o2|pulse ox(?:imeter)?(?: reading)?|"
    r"oximeter(?: reading)?|sating)"
    + _SEP
    + r"(\d{2,3})\s*(%|percent)?"
    r"|(?<![0-9.])(\d{2,3})\s*%\s*(?:on|in|ra\b|room air|air|on air|on room air|on \d+\s*l)"
)
_ON_OXYGEN = re.compile(
    r"(?<![a-z])(?:on|via|with|needs?|needing|requiring)\s+(?:\d+(?:\.\d+)?\s*(?:l|litres?|liters?)"
    r"(?:/min)?\s*(?:of\s*)?(?:o2|oxygen)?|oxygen|o2|home oxygen|nasal cannula|nasal specs|"
    r"(?:a\s+)?(?:venturi|non[- ]?rebreathe)(?: mask)?)|(?<![a-z])fio2"
)
_ON_AIR = re.compile(r"(?<![a-z])(?:ra|room air|on air|in air|air)(?![a-z])")
_SCALE_2 = re.compile(r"scale 2|target (?:sats|saturations?|spo2|range)?\s*(?:of\s*)?88")
_GCS = re.compile(
    r"(?<![a-z])gcs" + _SEP + r"(\d{1,2})(?:\s*/\s*15)?"
    r"|(?<![a-z])e\s*([1-4])\s*v\s*([1-5])\s*m\s*([1-6])(?![0-9])"
)
_AVPU = re.compile(
    r"(?<![a-z])avpu" + _SEP + r"([avpu])(?![a-z])|(?<![a-z])([vpu]) on avpu"
    r"|respond(?:s|ing)? (?:only )?to (voice|pain)|(?<![a-z])(unresponsive|unrousable|"
    r"unconscious)(?![a-z])"
)
_NEW_CONFUSION = re.compile(
    r"(?<![a-z])(?:(?:new|newly|acute(?:ly)?|recent|increasing(?:ly)?|more)\s+)"
    r"(?:onset\s+)?(?:confus(?:ed|ion)|disorientat(?:ed|ion)|drows(?:y|iness)|delirium|"
    r"delirious)|(?<![a-z])(?:drowsy|obtunded|delirious|delirium|not alert)(?![a-z])"
)
_NEGATED = re.compile(r"(?:\bno|\bnot|\bnil|\bdenies|\bwithout|\bnon)\W+(?:\w+\W+){0,2}$")
_ALERT = re.compile(r"(?<![a-z])(?:alert|gcs\s*15|a on avpu|avpu\s*[:=]?\s*a)(?![a-z])")
_CRT = re.compile(
    r"(?<![a-z])(?:crt|cap(?:illary)? refill(?: time)?|cap refill)" + _SEP
    + r"(?:<|>|less than|more than|over|under)?\s*(\d(?:\.\d)?)\s*(?:s|secs?|seconds?)?"
)
_GLUCOSE = re.compile(
    r"(?<![a-z])(?:bm|cbg|glucose|blood glucose|blood sugars?|sugars?|bg|capillary glucose)"
    + _SEP
    + r"(hi|high|\d{1,2}(?:\.\d)?)(?:\s*mmol)?"
)
_KETONES = re.compile(
    r"(?<![a-z])(?:blood ketones?|ketones?|capillary ketones?|bhb)" + _SEP
    + r"(\d(?:\.\d{1,2})?)(?!\s*\+)"
)
# Blood results read out by a lab or written in a note: "K+ 7.1", "potassium 6.8", "Na 118".
# A bare "k" or "na" needs a decimal or a plausible value (below), so "2k" or "n/a" never count.
_POTASSIUM = re.compile(
    r"(?<![a-z0-9])(potassium|serum potassium|k\+|k)" + _SEP
    + r"(\d(?:\.\d{1,2})?)(?![0-9])(?!\s*(?:%|kg|mg|k\b|years?|yrs?|weeks?|months?|days?))"
)
_SODIUM = re.compile(
    r"(?<![a-z0-9])(?:sodium|serum sodium|na\+|na)" + _SEP + r"(\d{3})(?![0-9])"
)
# A parent's reading with no temperature word: "it's 38.3 under his arm", "checked and it was
# 38.6". One decimal place and a measuring site or verb make it a temperature.
_LAY_TEMPERATURE = re.compile(
    r"(?<![0-9.])(3[5-9]|4[0-2])[.](\d)(?![0-9])(?=\s*(?:c\b|°)?\s*(?:under (?:his|her|the|my|"
    r"their|your) arm|in (?:his|her|the|my|their) (?:ear|armpit|mouth|bottom)|armpit|"
    r"on (?:his|her|the|my|their) (?:forehead|head)|orally|in the ear))"
    r"|(?:checked|measured|took|taken|tested)\b[^.?!]{0,40}?\b(?:it is|its|it was|was|is|"
    r"read|reads|reading|showed|shows|says|said|came up|came back)\s+(?:at\s+)?"
    r"(3[5-9]|4[0-2])[.](\d)(?![0-9])"
)
_PEAK_FLOW = re.compile(
    r"(?<![a-z])(?:pefr?|peak flow|pf)" + _SEP + r"(\d{2,3})\s*(%|percent)?"
    r"(?:\s*(?:of\s*)?(?:best|predicted|pred))?"
    r"(?:[^.;]{0,25}?(?:best|predicted|usual|normal|pred)\s*(?:is|of|=|:)?\s*(\d{2,3}))?"
)


def _negated_before(text: str, start: int) -> bool:
    return bool(_NEGATED.search(text[max(0, start - 30) : start]))


def read_observations(message: str) -> Observations:
    """Every observation written in ``message`` (the worst reading of each parameter)."""
    text = message.lower().replace("’", "'")
    text = re.sub(r"(\d),(\d)", r"\1.\2", text)  # 38,5 -> 38.5
    found = Observations(spo2_scale_2=bool(_SCALE_2.search(text)))

    for m in _TEMPERATURE.finditer(text):
        raw = (m.group(1) or m.group(3) or m.group(4) or "").replace(",", ".")
        unit = (m.group(2) or "") if m.group(1) else ("c" if m.group(3) else "f")
        value = float(raw)
        if "f" in unit or (not unit and 93 <= value <= 110):
            value = round((value - 32) * 5 / 9, 1)
        if 30 <= value <= 44:
            found._keep("temperature", value, m.group())
            if value < 36:
                found._keep("temperature", value, m.group(), worst="min")

    for m in _LAY_TEMPERATURE.finditer(text):
        whole, tenth = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        found._keep("temperature", float(f"{whole}.{tenth}"), m.group())

    for m in _RESPIRATORY.finditer(text):
        value = float(m.group(1) or m.group(2))
        if 4 <= value <= 100:
            found._keep("respiratory_rate", value, m.group())
            found._keep("respiratory_rate", value, m.group(), worst="min") if value < 12 else None

    for m in _PULSE.finditer(text):
        value = float(m.group(1) or m.group(2))
        label = m.group().split()[0] if m.group(1) else ""
        if label in ("p", "pr", "st", "rate", "af") and not 30 <= value <= 250:
            continue
        if label == "p" and "." in (m.group(1) or ""):
            continue  # "p 0.5" is not a pulse
        if 20 <= value <= 260:
            found._keep("pulse", value, m.group())
            if value < 51:
                found._keep("pulse", value, m.group(), worst="min")

    for m in _BP.finditer(text):
        systolic, diastolic = int(m.group(1)), int(m.group(2))
        labelled = m.group().strip()[:2] in ("bp", "bl", "ni", "pr") or bool(m.group(3))
        # "2/7", "3/52", "9/12" are durations and ages; only a plausible pair that is labelled
        # (BP …, … mmHg) or looks like a pressure (systolic above diastolic, both in range).
        if not (50 <= systolic <= 300 and 20 <= diastolic <= 200 and systolic > diastolic):
            continue
        if not labelled and systolic < 70:
            continue
        found._keep("systolic_bp", systolic, m.group(), worst="min")
        if systolic >= 180:
            found._keep("systolic_bp", systolic, m.group())
        found._keep("diastolic_bp", diastolic, m.group())

    for m in _SPO2.finditer(text):
        raw = m.group(1) or m.group(3)
        value = float(raw)
        if m.group(1) and m.group().split()[0] in ("oxygen", "o2") and not m.group(2):
            continue  # "oxygen 2" is a flow, not a saturation
        if 50 <= value <= 100:
            found._keep("spo2", value, m.group(), worst="min")

    for m in _ON_OXYGEN.finditer(text):
        if not _negated_before(text, m.start()) and "home oxygen" not in text[: m.end()][-20:]:
            found._keep("supplemental_oxygen", 1, m.group())

    for m in _GCS.finditer(text):
        score = int(m.group(1)) if m.group(1) else sum(int(g) for g in m.group(2, 3, 4))
        if 3 <= score <= 15:
            found._keep("consciousness", 0 if score == 15 else 1, m.group())
    for m in _AVPU.finditer(text):
        letter = m.group(1) or m.group(2) or (m.group(3) or m.group(4) or "")[:1]
        if letter and not _negated_before(text, m.start()):
            found._keep("consciousness", 0 if letter == "a" else 1, m.group())
    # "New confusion" or "drowsy" in words is a NEWS2 observation only beside measured ones (a
    # clinician's set of observations); alone it is read by the word rules (delirium, sepsis).
    measured = any(p != "consciousness" for p in found.values)
    for m in _NEW_CONFUSION.finditer(text):
        if measured and not _negated_before(text, m.start()):
            found._keep("consciousness", 1, m.group())
    if "consciousness" not in found.values:
        alert = _ALERT.search(text)
        if alert:
            found._keep("consciousness", 0, alert.group())

    for m in _CRT.finditer(text):
        value = float(m.group(1))
        if 0 < value <= 10:
            found._keep("capillary_refill_s", value, m.group())

    for m in _GLUCOSE.finditer(text):
        raw = m.group(1)
        value = 40.0 if raw in ("hi", "high") else float(raw)
        if 0.5 <= value <= 60:
            found._keep("glucose_mmol", value, m.group(), worst="min")
            if value >= 20:
                found._keep("glucose_mmol", value, m.group())

    for m in _KETONES.finditer(text):
        value = float(m.group(1))
        if value <= 10:
            found._keep("ketones_mmol", value, m.group())

    for m in _POTASSIUM.finditer(text):
        value = float(m.group(2))
        if m.group(1) == "k" and "." not in m.group(2):
            continue
        if 1.5 <= value <= 10:
            found._keep("potassium_mmol", value, m.group())

    for m in _SODIUM.finditer(text):
        value = float(m.group(1))
        if 90 <= value <= 190:
            found._keep("sodium_mmol", value, m.group(), worst="min")

    for m in _PEAK_FLOW.finditer(text):
        value, percent, best = float(m.group(1)), m.group(2), m.group(3)
        if percent:
            share = value
        elif best:
            share = 100 * value / float(best)
        else:
            continue
        if 0 < share <= 150:
            found._keep("peak_flow_percent", round(share), m.group(), worst="min")
    return found


# --- scoring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """What the observations mean for urgency, with the reason in words."""

    urgency: Urgency
    id: str
    title: str
    reason: str
    source: str


@dataclass
class Assessment:
    observations: Observations
    news2: int | None = None
    news2_parameters: int = 0
    news2_scores: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def urgency(self) -> Urgency | None:
        levels = [f.urgency for f in self.findings]
        if Urgency.emergency in levels:
            return Urgency.emergency
        return Urgency.urgent if levels else None

    def summary(self) -> str:
        if not self.observations:
            return ""
        parts = [f"{o.parameter.replace('_', ' ')} {o.value:g}"
                 for o in self.observations.values.values()]
        text = "observations read: " + ", ".join(parts)
        if self.news2 is not None:
            text += f"; NEWS2 {self.news2} from {self.news2_parameters} of 7 parameters"
        return text


def _band_score(bands: list[Band], value: float) -> int:
    score = bands[0].score
    for band in bands:
        if value >= band.start:
            score = band.score
    return score


NEWS2_PARAMETERS = ("respiratory_rate", "spo2", "supplemental_oxygen", "systolic_bp", "pulse",
                    "consciousness", "temperature")


class PhysiologyScorer:
    def __init__(self, definitions: PhysiologyFile | None = None) -> None:
        self.definitions = definitions or default_physiology()

    def assess(self, observations: Observations, age: float | None,
               pregnant: bool = False) -> Assessment:
        result = Assessment(observations)
        if not observations:
            return result
        if age is None or age >= self.definitions.news2.age_min:
            self._news2(result, observations)
        if age is None or age < self.definitions.news2.age_min:
            # Age unknown: both adult and child criteria apply, the stricter wins.
            self._paediatric(result, observations, age)
        self._thresholds(result, observations, pregnant)
        return result

    def _news2(self, result: Assessment, obs: Observations) -> None:
        news2 = self.definitions.news2
        scores: dict[str, int] = {}
        on_oxygen = obs.get("supplemental_oxygen") == 1
        for parameter in NEWS2_PARAMETERS:
            value = obs.get(parameter)
            if parameter == "supplemental_oxygen":
                # Oxygen counts only when it was written; air scores 0 either way.
                if value is None:
                    continue
            elif value is None:
                continue
            if parameter == "spo2":
                if obs.spo2_scale_2:
                    key = "spo2_scale_2_on_oxygen" if on_oxygen else "spo2_scale_2_on_air"
                else:
                    key = "spo2_scale_1"
                scores[parameter] = _band_score(news2.parameters[key], value)
            else:
                scores[parameter] = _band_score(news2.parameters[parameter], value)
        if not scores:
            return
        total = sum(scores.values())
        result.news2, result.news2_scores = total, scores
        result.news2_parameters = len(scores)
        threes = [p for p, s in scores.items() if s >= (news2.emergency.any_single_score or 99)]
        detail = ", ".join(f"{p.replace('_', ' ')} {obs.get(p):g} scores {s}"
                           for p, s in scores.items() if s)
        source = f"{news2.source.publisher} {news2.source.reference}; NICE NG51"
        if total >= news2.emergency.aggregate_at_least or threes:
            why = (f"NEWS2 {total}" if total >= news2.emergency.aggregate_at_least
                   else f"a single NEWS2 parameter scores 3 ({', '.join(threes)})")
            result.findings.append(Finding(Urgency.emergency, "news2_high", news2.title,
                                           f"{why}: {detail}", source))
        elif total >= news2.urgent.aggregate_at_least:
            result.findings.append(Finding(Urgency.urgent, "news2_medium", news2.title,
                                           f"NEWS2 {total}: {detail}", source))

    def _paediatric(self, result: Assessment, obs: Observations, age: float | None) -> None:
        paediatric = self.definitions.paediatric
        source = f"{paediatric.source.publisher} {paediatric.source.reference}"
        for level, urgency in (("high", Urgency.emergency), ("moderate", Urgency.urgent)):
            met = []
            for criterion in paediatric.criteria:
                if criterion.level != level:
                    continue
                if age is not None and not criterion.age_min <= age < criterion.age_max:
                    continue
                if age is None and criterion.age_min > 0:
                    continue  # age unknown: only criteria that hold at every child age
                value = obs.get(criterion.parameter)
                if value is not None and criterion.met(value):
                    met.append(f"{criterion.parameter.replace('_', ' ')} {value:g}")
            if met:
                result.findings.append(Finding(
                    urgency, f"child_sepsis_{level}_risk",
                    f"{'High' if level == 'high' else 'Moderate to high'} risk criteria for a "
                    "child (age-banded)", ", ".join(dict.fromkeys(met)), source))
                return  # the highest level met is enough

    def _thresholds(self, result: Assessment, obs: Observations, pregnant: bool) -> None:
        fired_parameters: set[str] = set()
        for threshold in self.definitions.thresholds:
            if threshold.pregnant is not None and threshold.pregnant != pregnant:
                continue
            if threshold.parameter in fired_parameters:
                continue  # the first (most severe) threshold of a parameter wins
            value = obs.get(threshold.parameter)
            met = value is not None and (
                value >= threshold.at_least if threshold.at_least is not None
                else value < (threshold.below or 0))
            words = [f"{threshold.parameter.replace('_', ' ')} {value:g}"] if met else []
            for other, limit in threshold.or_parameter.items():
                other_value = obs.get(other)
                if other_value is not None and other_value >= limit:
                    met = True
                    words.append(f"{other.replace('_', ' ')} {other_value:g}")
            for other, limit in threshold.with_parameter.items():
                other_value = obs.get(other)
                if other_value is None or other_value < limit:
                    met = False
            if met:
                fired_parameters.add(threshold.parameter)
                result.findings.append(Finding(
                    threshold.urgency, threshold.id, threshold.title, ", ".join(words),
                    threshold.source.short()))


@lru_cache(maxsize=1)
def default_scorer() -> PhysiologyScorer:
    return PhysiologyScorer()
