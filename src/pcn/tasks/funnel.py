"""The follow-through funnel: of the patients a worklist identified, how many were contacted and
how many had the work done, how long it took — by practice and by Core20PLUS group (issue 17).

- *identified*: on the worklist now, or given a task from it (a patient whose work is done has
  usually left the list by the next run, and still counts);
- *contacted*: a contact attempt recorded, or the task moved on (in progress, done, declined,
  unable to contact after attempts);
- *done*: the task closed ``done``;
- *days to done*: median days from the task's creation to its closing, for done tasks.

Counts are of patients. Pure pandas on the tasks and the worklist; disclosure control is applied
by the caller (the one disclosure module) for viewers outside the clinical boundary.
"""

from __future__ import annotations

import pandas as pd

from pcn.risk.segments import inequalities

CONTACTED_STATUSES = frozenset({"in_progress", "done", "declined", "unable_to_contact"})
#: Core20PLUS split: the most deprived 20% and each PLUS group the profile names.
CORE20_YES, CORE20_NO = "Core20 (most deprived 20%)", "Not Core20"
COLUMNS = ["identified", "contacted", "done", "median_days_to_done"]


def task_frame(tasks: list[dict[str, object]]) -> pd.DataFrame:
    """Tasks (``TaskView.body()`` dicts or equivalent) as a frame with the columns used here."""
    cols = ["patient_id", "practice_code", "worklist_id", "status", "attempts", "created_at",
            "closed_at"]
    frame = pd.DataFrame(tasks, columns=cols)
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    frame["closed_at"] = pd.to_datetime(frame["closed_at"])
    return frame


def patient_outcomes(worklist: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """One row per identified patient of one worklist: practice, contacted, done, days."""
    listed = worklist[["patient_id", "practice_code"]].drop_duplicates("patient_id")
    tasked = tasks.dropna(subset=["patient_id"]).copy()
    tasked["patient_id"] = tasked["patient_id"].astype("int64")
    tasked["contacted"] = (tasked["attempts"].fillna(0) > 0) \
        | tasked["status"].isin(CONTACTED_STATUSES)
    tasked["done"] = tasked["status"] == "done"
    tasked["days"] = (tasked["closed_at"] - tasked["created_at"]).dt.total_seconds() / 86400
    tasked.loc[~tasked["done"], "days"] = float("nan")
    per = tasked.groupby("patient_id").agg(
        task_practice=("practice_code", "last"), contacted=("contacted", "any"),
        done=("done", "any"), days=("days", "min")).reset_index()
    out = listed.merge(per, on="patient_id", how="outer")
    out["practice_code"] = out["practice_code"].fillna(out["task_practice"])
    out["contacted"] = out["contacted"].fillna(False).astype(bool)
    out["done"] = out["done"].fillna(False).astype(bool)
    return out.drop(columns="task_practice")


def _summary(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    grouped = frame.groupby(by, dropna=False)
    out = pd.DataFrame({
        "identified": grouped["patient_id"].nunique(),
        "contacted": grouped["contacted"].sum().astype("int64"),
        "done": grouped["done"].sum().astype("int64"),
        "median_days_to_done": grouped["days"].median(),
    })
    out.index.name = by
    return out.reset_index()


def by_practice(outcomes: pd.DataFrame, pcn_code: str) -> pd.DataFrame:
    """Funnel per practice plus a PCN row (``org_code``)."""
    frame = outcomes.assign(org_code=outcomes["practice_code"].fillna("PCN"))
    per = _summary(frame, "org_code")
    total = _summary(frame.assign(org_code=pcn_code), "org_code")
    return pd.concat([per, total], ignore_index=True)[["org_code", *COLUMNS]]


def plus_group_label(group_id: str) -> str:
    """A PLUS group as people read it ("PLUS: People with severe mental illness"), from the
    reviewed Core20PLUS5 definition; an id it does not name is shown as written."""
    titles = {g.id: g.title for g in inequalities().plus_groups}
    return f"PLUS: {titles.get(group_id, group_id)}"


def core20plus_labels(core20: object, plus_groups: object) -> list[str]:
    """Every Core20PLUS group label one patient belongs to (Core20 or not, then PLUS groups)."""
    labels = [CORE20_YES if core20 is True or core20 == "Yes" else CORE20_NO]
    if isinstance(plus_groups, str):
        labels += [plus_group_label(g.strip()) for g in plus_groups.split(";") if g.strip()]
    return labels


def core20plus_groups(profile: pd.DataFrame) -> pd.DataFrame:
    """(patient_id, group) pairs: every patient is Core20 or not; PLUS groups add rows."""
    base = profile[["patient_id"]].copy()
    core = profile["core20"].fillna(False).astype(bool) if "core20" in profile.columns \
        else pd.Series(False, index=profile.index)
    base["group"] = core.map({True: CORE20_YES, False: CORE20_NO}).to_numpy()
    parts = [base]
    if "plus_groups" in profile.columns:
        plus = profile[["patient_id", "plus_groups"]].dropna()
        plus = plus.assign(group=plus["plus_groups"].astype(str).str.split(";")).explode("group")
        plus["group"] = plus["group"].str.strip()
        plus = plus[plus["group"] != ""]
        plus["group"] = plus["group"].map(plus_group_label)
        parts.append(plus[["patient_id", "group"]])
    return pd.concat(parts, ignore_index=True)


def by_core20plus(outcomes: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Funnel per Core20PLUS group (a patient in several PLUS groups counts in each)."""
    joined = outcomes.merge(groups, on="patient_id", how="left")
    joined["group"] = joined["group"].fillna("Not known")
    return _summary(joined, "group")[["group", *COLUMNS]]
