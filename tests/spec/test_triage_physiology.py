"""Physiology from text: observations read from messages, NEWS2 against an independent oracle
written from the RCP chart, child criteria from NICE NG51/NG143, and what they do to triage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcn.triage import TriageRequest, Urgency, triage
from pcn.triage.physiology import Observation, Observations, default_scorer, read_observations


def news2_oracle(rr: int, spo2: int, oxygen: bool, sbp: int, pulse: int, alert: bool,
                 temp: float) -> int:
    """NEWS2 (scale 1) written out from RCP 2017 chart 1, independently of the band tables."""
    score = 0
    score += 3 if rr <= 8 else 1 if rr <= 11 else 0 if rr <= 20 else 2 if rr <= 24 else 3
    score += 3 if spo2 <= 91 else 2 if spo2 <= 93 else 1 if spo2 <= 95 else 0
    score += 2 if oxygen else 0
    score += (3 if sbp <= 90 else 2 if sbp <= 100 else 1 if sbp <= 110 else 0 if sbp <= 219
              else 3)
    score += (3 if pulse <= 40 else 1 if pulse <= 50 else 0 if pulse <= 90 else 1 if pulse <= 110
              else 2 if pulse <= 130 else 3)
    score += 0 if alert else 3
    score += (3 if temp <= 35.0 else 1 if temp <= 36.0 else 0 if temp <= 38.0 else 1
              if temp <= 39.0 else 2)
    return score


@settings(max_examples=400, deadline=None)
@given(
    rr=st.integers(4, 45), spo2=st.integers(80, 100), oxygen=st.booleans(),
    sbp=st.integers(60, 250), pulse=st.integers(30, 180), alert=st.booleans(),
    temp=st.integers(340, 415).map(lambda t: t / 10),
)
def test_news2_matches_an_oracle_written_from_the_chart(
    rr: int, spo2: int, oxygen: bool, sbp: int, pulse: int, alert: bool, temp: float
) -> None:
    observations = Observations()
    for parameter, value in (("respiratory_rate", rr), ("spo2", spo2),
                             ("supplemental_oxygen", int(oxygen)), ("systolic_bp", sbp),
                             ("pulse", pulse), ("consciousness", 0 if alert else 1),
                             ("temperature", temp)):
        observations.values[parameter] = Observation(parameter, float(value), "")  # type: ignore[arg-type]
    assessment = default_scorer().assess(observations, age=50)
    expected = news2_oracle(rr, spo2, oxygen, sbp, pulse, alert, temp)
    assert assessment.news2 == expected
    single_three = max(assessment.news2_scores.values()) >= 3
    if expected >= 7 or single_three:
        assert assessment.urgency is Urgency.emergency
    elif expected >= 5:
        assert assessment.urgency is Urgency.urgent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45F. 3/7 productive cough. T 38.9, HR 112, RR 24, SpO2 92% RA, BP 98/60, alert",
         {"temperature": 38.9, "pulse": 112, "respiratory_rate": 24, "spo2": 92,
          "systolic_bp": 98, "diastolic_bp": 60, "consciousness": 0}),
        ("temp 101.3 F, pulse 120 bpm", {"temperature": 38.5, "pulse": 120}),
        ("sats 89% on 2L O2, resps 28, GCS 13/15",
         {"spo2": 89, "supplemental_oxygen": 1, "respiratory_rate": 28, "consciousness": 1}),
        ("BM 2.1, responds to voice only", {"glucose_mmol": 2.1, "consciousness": 1}),
        ("blood ketones 3.4, glucose HI", {"ketones_mmol": 3.4, "glucose_mmol": 40}),
        ("peak flow 150, best is 450", {"peak_flow_percent": 33}),
        ("CRT 4 seconds, HR 175", {"capillary_refill_s": 4, "pulse": 175}),
        ("E3V4M6", {"consciousness": 1}),
    ],
)
def test_observations_are_read_from_clinician_notes(text: str, expected: dict[str, float]) -> None:
    found = read_observations(text)
    assert {p: found.get(p) for p in expected} == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize(
    "text",
    [
        "86F with Alzheimer's, daughter struggling to cope",  # an age and sex, not 86 °F
        "2/7 cough, 3/52 ago chest infection, 9/12 old",  # durations and ages, not a BP
        "T2DM and HTN, on 2 tablets a day",  # "T2" is not a temperature
        "oxygen 2 litres at home",  # a flow, not a saturation
    ],
)
def test_numbers_that_are_not_observations_are_not_read(text: str) -> None:
    found = read_observations(text)
    assert not {"temperature", "systolic_bp", "spo2"} & set(found.values)


def test_words_alone_are_not_a_news2_consciousness_score() -> None:
    # "new confusion" in a lay message is for the word rules; beside measured observations it
    # is the C of ACVPU.
    assert "consciousness" not in read_observations("mum has new confusion since yesterday").values
    assert read_observations("RR 22, HR 104, new confusion").get("consciousness") == 1


@pytest.mark.parametrize(
    ("text", "age", "urgency"),
    [
        # adults: NEWS2 >= 7, or any single parameter 3 -> emergency; 5-6 -> urgent
        ("79M. HV obs: RR 21, SpO2 96% RA, HR 104, BP 88/52, T 36.4, alert.", 79, "emergency"),
        ("52F. RR 22, SpO2 95% RA, HR 105, BP 125/80, T 38.4, alert.", 52, "urgent"),
        # children: NICE NG51 table 1 high-risk RR >= 60 under 1 year
        ("6 month old. RR 64, HR 150, T 38.2.", 0.5, "emergency"),
        # NG143: temperature 38 or more under 3 months is high risk
        ("8 week old baby, temp 38.1, feeding ok", 0.15, "emergency"),
        # NG51 table 2: aged 8-11, HR 105-114 is moderate to high risk -> same day
        ("9 year old. HR 110, RR 20, T 38.0, alert", 9, "urgent"),
        # pregnancy: BP 160/110 or more -> emergency (NICE NG133)
        ("29F 34/40 pregnant, headache, BP 162/108", 29, "emergency"),
        # glucose below 3.0 -> emergency
        ("type 1 diabetic, BM 2.4 and sweaty", 24, "emergency"),
    ],
)
def test_physiology_sets_urgency(text: str, age: float, urgency: str) -> None:
    decision = triage(TriageRequest(text=text, age=age, sex="F"))
    assert decision.urgency.value == urgency
    if urgency == "emergency":
        assert decision.red_flags, "an emergency names what decided it"


def test_normal_observations_do_not_raise_urgency_on_their_own() -> None:
    decision = triage(TriageRequest(
        text="19M. 2/7 coryza, sore throat. T 37.4, HR 78, RR 14, SpO2 99% RA, BP 122/74.",
        age=19, sex="M"))
    assert decision.urgency is not Urgency.emergency
    assert "NEWS2 0" in decision.explanation
