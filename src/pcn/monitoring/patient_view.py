"""What a person's own home readings mean, in plain English (the patient page, ADR 0154).

Written for the person, not the clinician: their average, what it means and what happens next.
The wording follows NHS.UK's advice on home blood pressure; a very high reading always comes
first and always says to get help today.
"""

from __future__ import annotations

from dataclasses import dataclass

from pcn.monitoring.rules import home_bp_rules
from pcn.monitoring.series import SeriesSummary, display_mean


@dataclass(frozen=True)
class Explanation:
    average: str | None
    meaning: str
    next_steps: str
    urgent: bool = False


def _average(s: SeriesSummary) -> str | None:
    if s.mean_systolic is None or s.mean_diastolic is None:
        return None
    return (
        f"{display_mean(s.mean_systolic).removesuffix('.0')}/"
        f"{display_mean(s.mean_diastolic).removesuffix('.0')}"
    )


def explain(s: SeriesSummary | None) -> Explanation:
    rules = home_bp_rules()
    stage1 = rules.diagnosis.stage1
    normal_limit = f"{stage1.systolic_at_least}/{stage1.diastolic_at_least}"
    days_needed = rules.averaging.min_days_after_discard + 1
    keep_going = (
        f"Take 2 readings in the morning and 2 in the evening, sitting down, for at "
        f"least {days_needed} days (7 if you can). We leave out the first day, "
        "because readings are often higher while you get used to the monitor."
    )
    if s is None:
        return Explanation(None, "You have not sent any readings yet.", keep_going)
    average = _average(s)
    if s.category == "severe":
        return Explanation(
            average,
            "One or more of your readings was very high (180/120 or higher). This can be serious.",
            "Call your GP practice now, or NHS 111 if it is closed. Call 999 if "
            "you also have chest pain, shortness of breath, a severe headache, "
            "weakness on one side, or problems seeing or speaking. Your practice "
            "has been told today.",
            urgent=True,
        )
    if s.category == "insufficient":
        return Explanation(
            average, "We need more readings before we can work out your average.", keep_going
        )
    if s.category == "normal":
        return Explanation(
            average,
            f"Your average is below {normal_limit}. This is in the "
            "normal range for readings taken at home.",
            "You do not need to do anything else. Your practice will see your readings.",
        )
    if s.category in ("stage1", "stage2"):
        return Explanation(
            average,
            f"Your average is {normal_limit} or higher. This is higher "
            "than normal for readings taken at home.",
            "Your practice will contact you to talk about your blood pressure "
            "and what to do next."
            + (" They will aim to do this within a week." if s.category == "stage2" else ""),
        )
    target = rules.target_for(s.age)
    target_text = f"below {target.systolic_below}/{target.diastolic_below}"
    if s.category == "target_met":
        return Explanation(
            average,
            f"Your average is {target_text}, the target for you. Your treatment is working.",
            "Carry on as you are. Your practice will see your readings.",
        )
    return Explanation(
        average,
        f"Your average is above your target ({target_text}).",
        "Your practice will contact you to review your treatment. Keep taking "
        "any medicines as prescribed.",
    )
