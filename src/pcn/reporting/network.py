"""One network record seen as tables for people: overview, indicators, continuity, worklists.

Everything here is computed once per record and cached (the record is an immutable snapshot), so a
page only slices ready tables. Identifiable tables (worklists, a patient's summary) are returned
whole and must be filtered by the caller with the scope from :mod:`pcn.access.guard`; aggregate
tables take ``protected=True`` for audiences outside the clinical boundary, which routes every
count through :mod:`pcn.measures.sdc`.

Analytics outputs are read from ``<record>/outputs/current`` (or ``<record>/outputs``). When the
patient profile has not been computed yet (``pcn run``), a demographic profile is derived from the
record itself (registration, age, sex, ethnicity group, IMD): indicators that need registers or
observations then report that ``pcn run`` must be run first, the others still work.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pcn.measures import availability, sdc
from pcn.measures import continuity as continuity_measures
from pcn.measures.funnel import funnel
from pcn.measures.indicators import (
    Indicator,
    IndicatorResult,
    charts_independent_months,
    compute_indicator,
    load_indicators,
)
from pcn.measures.series import as_monthly, read_series
from pcn.measures.spc import xmr
from pcn.record import open_record

#: Months of monthly series shown on SPC charts (the MDC guide asks for at least 15 points).
SPC_MONTHS = 24
IMD_QUINTILE_LABELS = {1: "1 (most deprived)", 2: "2", 3: "3", 4: "4", 5: "5 (least deprived)"}
AGE_BANDS = [(0, 17, "0-17"), (18, 39, "18-39"), (40, 64, "40-64"), (65, 79, "65-79"),
             (80, 200, "80+")]


class OutputsMissing(LookupError):
    """An output the page needs has not been computed: run ``pcn run --record DIR`` first."""


class NotAvailable(OutputsMissing):
    """A measure this record cannot support (a feature it needs is not captured or has no
    codelist): shown as "not available", never as a number (:mod:`pcn.measures.availability`)."""


@dataclass(frozen=True)
class IndicatorView:
    """One indicator for display: its definition, per-practice table and why it may be missing."""

    indicator: Indicator
    result: IndicatorResult | None
    unavailable: str = ""
    #: true when the record cannot support the indicator (not a matter of running ``pcn run``)
    not_available: bool = False


def assessment(position: str, low_is_good: bool | None) -> str:
    """A funnel position read by the indicator's declared direction: ``better`` / ``worse``
    than expected, ``different`` when neither direction is better, "" within the limits."""
    if position.startswith(("above", "below")):
        if low_is_good is None:
            return "different"
        high = position.startswith("above")
        return "worse" if high == low_is_good else "better"
    return ""


def _feature_labels() -> dict[str, str]:
    """Profile column → what it is, for "not available" sentences."""
    from pcn.measures.indicators import PATIENT_PROFILE_COLUMNS

    return {c: text.split(": ", 1)[-1] for c, text in PATIENT_PROFILE_COLUMNS.items()}


def _quintile(decile: pd.Series) -> pd.Series:
    return ((decile.astype("Float64") + 1) // 2).astype("Int64")


def _age_band(age: pd.Series) -> pd.Series:
    bands = pd.Series(pd.NA, index=age.index, dtype="object")
    for low, high, label in AGE_BANDS:
        bands[(age >= low) & (age <= high)] = label
    return bands


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with missing values as None (never NaN/NaT)."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{str(k): v for k, v in row.items()} for row in rows]


class NetworkView:
    """Read-only tables of one network record, computed lazily and cached (thread-safe)."""

    def __init__(self, record_dir: str | Path,
                 exclude_patients: frozenset[int] = frozenset()) -> None:
        self.record_dir = Path(record_dir)
        self.record = open_record(self.record_dir)
        #: patients left out of every table (secondary use: :mod:`pcn.access.secondary_use`)
        self.exclude_patients = frozenset(exclude_patients)
        source = self.record.manifest.source or {}
        self.as_of = dt.date.fromisoformat(str(source.get("as_of"))) if source.get("as_of") \
            else self._latest_activity_date()
        self._lock = threading.RLock()
        self._indicator_cache: dict[str, IndicatorView] = {}

    def _memo(self, key: tuple[Any, ...], compute: Any) -> Any:
        """Cache one computed table per key: the snapshot never changes under a view."""
        with self._lock:
            cache = self.__dict__.setdefault("_memo_cache", {})
            if key not in cache:
                cache[key] = compute()
            return cache[key]

    # ---- raw tables -------------------------------------------------------------------------
    def _read(self, name: str) -> pd.DataFrame:
        return self._without_excluded(self.record.read(name).to_pandas())

    def _without_excluded(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not self.exclude_patients or "patient_id" not in frame.columns:
            return frame
        keep = ~frame["patient_id"].isin(sorted(self.exclude_patients))
        return frame[keep.to_numpy()]

    @cached_property
    def practices(self) -> pd.DataFrame:
        return self._read("practices").sort_values("practice_code", ignore_index=True)

    @cached_property
    def pcn_code(self) -> str:
        codes = self.practices["pcn_code"].dropna().unique()
        return str(codes[0]) if len(codes) else "PCN"

    @cached_property
    def pcn_name(self) -> str:
        names = self.practices["pcn_name"].dropna().unique()
        return str(names[0]) if len(names) else self.pcn_code

    @cached_property
    def practice_names(self) -> dict[str, str]:
        return dict(zip(self.practices["practice_code"], self.practices["name"], strict=True))

    @cached_property
    def patients(self) -> pd.DataFrame:
        return self._read("patients").set_index("patient_id", drop=False)

    @cached_property
    def registrations(self) -> pd.DataFrame:
        return self._read("registrations")

    @cached_property
    def appointments(self) -> pd.DataFrame:
        return self._read("appointments")

    @cached_property
    def hospital_activity(self) -> pd.DataFrame:
        return self._read("hospital_activity")

    @cached_property
    def lsoa(self) -> pd.DataFrame:
        return self._read("lsoa")

    def _latest_activity_date(self) -> dt.date:
        appts = self.record.read("appointments", columns=["start_at"]).to_pandas()
        return pd.Timestamp(appts["start_at"].max()).date() if len(appts) else dt.date.today()

    @cached_property
    def outputs_dir(self) -> Path:
        """One published run's outputs for the life of this view (``current`` resolved once, so
        a run publishing meanwhile never mixes two runs in one view)."""
        base = self.record_dir / "outputs"
        current = base / "current"
        return current.resolve() if current.exists() else base

    @cached_property
    def outputs_record_hash(self) -> str | None:
        """The content hash of the record the outputs were computed from (their manifest)."""
        try:
            manifest = json.loads((self.outputs_dir / "manifest.json").read_text())
        except (OSError, ValueError):
            return None
        value = manifest.get("record_content_hash") if isinstance(manifest, dict) else None
        return str(value) if value else None

    @property
    def outputs_stale(self) -> bool:
        """The outputs were computed from another (older) record than this one: identifiable
        rows are re-scoped by this record (:meth:`worklist`); figures may be out of date until
        ``pcn run``."""
        built_from = self.outputs_record_hash
        return built_from is not None and built_from != self.record.manifest.content_hash

    # ---- the patient profile ----------------------------------------------------------------
    @cached_property
    def profile(self) -> pd.DataFrame:
        path = self.outputs_dir / "patient_profile.parquet"
        frame = pd.read_parquet(path) if path.exists() else self._demographic_profile()
        frame = self._without_excluded(frame).copy()
        if "imd_decile" in frame.columns:
            frame["imd_quintile"] = _quintile(frame["imd_decile"])
        if "age" in frame.columns:
            frame["age_band"] = _age_band(frame["age"])
        return frame.set_index("patient_id", drop=False)

    @cached_property
    def profile_source(self) -> str:
        path = self.outputs_dir / "patient_profile.parquet"
        return "analytics" if path.exists() else "record"

    @cached_property
    def current_registrations(self) -> pd.DataFrame:
        regs = self.registrations
        as_of = pd.Timestamp(self.as_of)
        start = pd.to_datetime(regs["start_date"])
        end = pd.to_datetime(regs["end_date"])
        live = (start <= as_of) & (end.isna() | (end > as_of))
        return regs.loc[live, ["patient_id", "practice_code"]]

    def _demographic_profile(self) -> pd.DataFrame:
        """Registered, living patients with age, sex, ethnicity group and IMD, from the record."""
        from pcn.refdata.codelists import codelist_frame

        pats = self.patients.reset_index(drop=True)
        pats = pats[pats["date_of_death"].isna()
                    | (pd.to_datetime(pats["date_of_death"]) > pd.Timestamp(self.as_of))]
        frame = self.current_registrations.merge(pats, on="patient_id", how="inner")
        dob = pd.to_datetime(frame["date_of_birth"])
        as_of = pd.Timestamp(self.as_of)
        had_birthday = (dob.dt.month < as_of.month) | (
            (dob.dt.month == as_of.month) & (dob.dt.day <= as_of.day))
        frame["age"] = (as_of.year - dob.dt.year - (~had_birthday).astype(int)).astype("int64")
        ethnicity = codelist_frame("opensafely-ethnicity-snomed-0removed")
        labels = dict(zip(ethnicity["code"].astype(str), ethnicity["label_6"], strict=True))
        frame["ethnicity_6"] = frame["ethnicity_code"].astype(str).map(labels).fillna("Unknown")
        lsoa = self.lsoa[["lsoa_code", "imd_decile", "rural_urban"]]
        frame = frame.merge(lsoa, on="lsoa_code", how="left")
        return frame[["patient_id", "practice_code", "age", "sex", "ethnicity_6", "lsoa_code",
                      "imd_decile", "rural_urban"]]

    @cached_property
    def registers(self) -> list[str]:
        return sorted(c[len("reg_"):] for c in self.profile.columns if c.startswith("reg_"))

    def patient_practices(self, patient_id: int) -> frozenset[str]:
        """Practices the patient is registered at on the record date (empty: no such patient)."""
        regs = self.current_registrations
        return frozenset(regs.loc[regs["patient_id"] == patient_id, "practice_code"].astype(str))

    # ---- overview ---------------------------------------------------------------------------
    def overview(self, *, protected: bool) -> dict[str, Any]:
        result = self._memo(("overview", protected),
                            lambda: self._overview(protected=protected))
        return result

    def _overview(self, *, protected: bool) -> dict[str, Any]:
        """Population, practices, register prevalence and IMD mix (counts protected on request)."""
        prof = self.profile
        by_practice = prof.groupby("practice_code").size().rename("patients")
        practices = self.practices[["practice_code", "name"]].set_index("practice_code")
        practices = practices.join(by_practice).fillna({"patients": 0})
        practices["patients"] = practices["patients"].astype("int64")
        imd = prof.groupby(["practice_code", "imd_quintile"]).size().unstack(fill_value=0)
        imd = imd.reindex(columns=range(1, 6), fill_value=0)
        imd.columns = pd.Index([IMD_QUINTILE_LABELS[int(q)] for q in imd.columns])
        imd = imd.reindex(practices.index, fill_value=0)
        age = prof.groupby(["practice_code", "age_band"]).size().unstack(fill_value=0)
        age = age.reindex(columns=[b[2] for b in AGE_BANDS], fill_value=0)
        age = age.reindex(practices.index, fill_value=0)
        prevalence = self._prevalence(protected=protected)
        if protected:
            practices["patients"] = sdc.protect_counts(practices["patients"])
            imd_table = sdc.protect_table(imd).values
            age_table = sdc.protect_table(age).values
        else:
            imd_table = imd.copy()
            imd_table["Total"] = imd_table.sum(axis=1)
            imd_table.loc["Total"] = imd_table.sum(axis=0)
            age_table = age.copy()
            age_table["Total"] = age_table.sum(axis=1)
            age_table.loc["Total"] = age_table.sum(axis=0)
        population = practices["patients"].sum(min_count=1)
        return {
            "population": None if pd.isna(population) else int(population),
            "practices": practices.reset_index(),
            "imd": imd_table,
            "age": age_table,
            "prevalence": prevalence,
        }

    def _prevalence(self, *, protected: bool) -> pd.DataFrame:
        """Register prevalence per 100 patients, per practice and for the PCN."""
        if not self.registers:
            return pd.DataFrame()
        prof = self.profile
        rows = []
        for register in self.registers:
            flags = prof[f"reg_{register}"].fillna(False).astype(bool)
            counts = flags.groupby(prof["practice_code"]).agg(["sum", "size"])
            frame = pd.DataFrame({"org_code": counts.index, "register": register,
                                  "numerator": counts["sum"].astype("int64").to_numpy(),
                                  "denominator": counts["size"].astype("int64").to_numpy()})
            frame = pd.concat([frame, pd.DataFrame({
                "org_code": [self.pcn_code], "register": [register],
                "numerator": [int(frame["numerator"].sum())],
                "denominator": [int(frame["denominator"].sum())]})], ignore_index=True)
            if protected:
                frame = sdc.protect_rates_with_total(frame, org_column="org_code",
                                                     total_code=self.pcn_code)
            else:
                frame["value"] = frame["numerator"] / frame["denominator"].where(
                    frame["denominator"] > 0) * 100
            rows.append(frame)
        return pd.concat(rows, ignore_index=True)

    # ---- indicators -------------------------------------------------------------------------
    @cached_property
    def indicator_series(self) -> pd.DataFrame | None:
        """Monthly series of patient-based indicators (``pcn indicators series``), if built."""
        return read_series(self.outputs_dir)

    @cached_property
    def indicator_definitions(self) -> dict[str, Indicator]:
        return load_indicators()

    def indicator(self, indicator_id: str) -> IndicatorView:
        """One indicator computed on this record (``KeyError`` for an unknown id)."""
        definition = self.indicator_definitions[indicator_id]
        with self._lock:
            cached = self._indicator_cache.get(indicator_id)
            if cached is not None:
                return cached
            gaps = self.indicator_gaps(indicator_id)
            if definition.not_available or gaps:
                reason = definition.not_available or availability.describe(
                    gaps, _feature_labels())
                view = IndicatorView(definition, None, reason, not_available=True)
                self._indicator_cache[indicator_id] = view
                return view
            try:
                result = compute_indicator(
                    definition, self.profile.reset_index(drop=True), as_of=self.as_of,
                    appointments=self.appointments, hospital_activity=self.hospital_activity,
                    pcn_code=self.pcn_code)
                if result.monthly is None and self.indicator_series is not None:
                    # patient-based: the series `pcn indicators series` stored with the outputs
                    result = replace(result, monthly=as_monthly(self.indicator_series,
                                                                indicator_id))
                view = IndicatorView(definition, result)
            except (ValueError, KeyError, LookupError) as err:
                hint = "run `pcn run --record DIR` first" if self.profile_source == "record" \
                    else "the analytics outputs lack what it needs"
                missing = re.search(r"not in the data: (.+)$", str(err))
                need = f"needs {missing.group(1)}" if missing else str(err)
                view = IndicatorView(definition, None, f"{need} ({hint})")
            self._indicator_cache[indicator_id] = view
            return view

    def indicator_gaps(self, indicator_id: str) -> list[availability.Gap]:
        """Features the indicator needs that pcn cannot derive or this record does not hold
        (record gaps only once ``pcn run`` has computed the profile)."""
        definition = self.indicator_definitions[indicator_id]
        profile = None if self.profile_source == "record" else self.profile
        return availability.gaps_for(definition.columns(), profile)

    def indicator_table(self, indicator_id: str, *, protected: bool) -> pd.DataFrame:
        result = self._memo(("indicator_table", indicator_id, protected),
                            lambda: self._indicator_table(indicator_id, protected=protected))
        return result

    def _indicator_table(self, indicator_id: str, *, protected: bool) -> pd.DataFrame:
        """Per-practice and PCN rows: numerator, denominator, value, funnel limits and position."""
        view = self.indicator(indicator_id)
        if view.result is None:
            if view.not_available:
                raise NotAvailable(view.unavailable)
            raise OutputsMissing(view.unavailable)
        frame = view.result.by_practice.copy()
        if protected:
            frame = sdc.protect_rates_with_total(
                frame, org_column="org_code", total_code=self.pcn_code, per=view.indicator.per,
                proportion=view.indicator.kind == "proportion")
        units = frame[frame["level"] == "practice"].copy()
        usable = units["numerator"].notna() & units["denominator"].notna()
        units["numerator"] = units["numerator"].astype("Float64")
        units["denominator"] = units["denominator"].astype("Float64")
        position = pd.Series("no_data", index=units.index, dtype="object")
        limits = pd.DataFrame(index=units.index)
        if usable.any() and (units.loc[usable, "denominator"] > 0).any():
            part = units.loc[usable, ["org_code", "numerator", "denominator"]].astype(
                {"numerator": "float64", "denominator": "float64"})
            kind = view.indicator.kind
            points, _ = funnel(part, kind=kind, per=view.indicator.per, method="exact")
            position.loc[points.index] = points["position"]
            limits = points.drop(columns=["org_code", "numerator", "denominator", "value",
                                          "position"])
            if kind == "proportion":  # funnel limits are fractions; values are per `per`
                limits = limits * float(view.indicator.per)
        units["position"] = position
        units["assessment"] = [assessment(p, view.indicator.low_is_good) for p in position]
        units = units.join(limits)
        units["name"] = units["org_code"].map(self.practice_names)
        pcn_row = frame[frame["level"] == "pcn"].copy()
        pcn_row["name"] = self.pcn_name
        pcn_row["position"] = ""
        pcn_row["assessment"] = ""
        out = pd.concat([units, pcn_row], ignore_index=True)
        if view.indicator.kind == "rate":
            # age-standardised (ESP 2013) beside the crude rate: crude activity rates mostly
            # measure a list's age (pcn.measures.standardise)
            from pcn.measures.standardise import standardised_rates

            dsr = standardised_rates(
                view.indicator, self.profile.reset_index(drop=True), as_of=self.as_of,
                appointments=self.appointments, hospital_activity=self.hospital_activity,
                pcn_code=self.pcn_code)
            out = out.merge(dsr.drop(columns="level"), on="org_code", how="left")
        return out

    def funnel_data(self, indicator_id: str, *, protected: bool
                    ) -> tuple[pd.DataFrame, pd.DataFrame, float]:
        result = self._memo(("funnel_data", indicator_id, protected),
                            lambda: self._funnel_data(indicator_id, protected=protected))
        return result

    def _funnel_data(self, indicator_id: str, *, protected: bool
                    ) -> tuple[pd.DataFrame, pd.DataFrame, float]:
        """(points, curve, target) for the funnel plot, from (protected) practice counts."""
        view = self.indicator(indicator_id)
        table = self.indicator_table(indicator_id, protected=protected)
        units = table[(table["level"] == "practice") & table["numerator"].notna()
                      & table["denominator"].notna() & (table["denominator"] > 0)]
        if units.empty:
            return units, pd.DataFrame(), float("nan")
        part = units[["org_code", "name", "numerator", "denominator"]].astype(
            {"numerator": "float64", "denominator": "float64"})
        points, curve = funnel(part, kind=view.indicator.kind, per=view.indicator.per)
        scale = 1.0 if view.indicator.kind == "rate" else float(view.indicator.per)
        value_columns = [c for c in curve.columns if c != "denominator"]
        curve[value_columns] = curve[value_columns] * scale
        limit_columns = [c for c in points.columns
                         if c.startswith(("lower", "upper")) or c in ("value", "target")]
        points[limit_columns] = points[limit_columns] * scale
        return points, curve, float(points["target"].iloc[0])

    def spc_data(self, indicator_id: str, *, protected: bool) -> dict[str, Any] | None:
        result = self._memo(("spc_data", indicator_id, protected),
                            lambda: self._spc_data(indicator_id, protected=protected))
        return result

    def _spc_data(self, indicator_id: str, *, protected: bool) -> dict[str, Any] | None:
        """XmR chart of the PCN's monthly value over the last :data:`SPC_MONTHS` whole months,
        and the (protected) monthly counts it is drawn from (``series``)."""
        view = self.indicator(indicator_id)
        if view.result is None or view.result.monthly is None:
            return None
        if not charts_independent_months(view.indicator):
            return None  # month-end values of rolling windows overlap: no XmR (spc.py)
        monthly = view.result.monthly
        series = monthly[monthly["level"] == "pcn"].copy()
        last_whole = pd.Period(self.as_of, "M")
        if self.as_of != (pd.Timestamp(self.as_of) + pd.offsets.MonthEnd(0)).date():
            last_whole -= 1
        series = series[series["month"] <= last_whole].tail(SPC_MONTHS)
        if protected:
            series = sdc.protect_rates(series, per=view.indicator.per,
                                       proportion=view.indicator.kind == "proportion")
        series = series[series["value"].notna()]
        if len(series) < 2:
            return None
        chart = xmr(series["value"].astype("float64").to_numpy(),
                    [str(m) for m in series["month"]], low_is_good=view.indicator.low_is_good)
        points = series[["month", "numerator", "denominator", "value"]].copy()
        points["month"] = points["month"].astype(str)
        return {"chart": chart, "months": len(series), "series": points.reset_index(drop=True)}

    # ---- continuity and care closer to home -------------------------------------------------
    @cached_property
    def _continuity_patients(self) -> pd.DataFrame:
        start = pd.Timestamp(self.as_of) - pd.DateOffset(months=12)
        end = pd.Timestamp(self.as_of) + pd.Timedelta(days=1)
        return continuity_measures.patient_continuity(self.appointments, start=start, end=end)

    def continuity(self, *, protected: bool) -> dict[str, Any]:
        result = self._memo(("continuity", protected),
                            lambda: self._continuity(protected=protected))
        return result

    def _continuity(self, *, protected: bool) -> dict[str, Any]:
        by_practice = continuity_measures.practice_continuity(self._continuity_patients)
        by_practice["name"] = by_practice["practice_code"].map(self.practice_names).fillna(
            self.pcn_name)
        if protected:
            # Means are safe to show only over a protected number of patients.
            shown = sdc.protect_counts(by_practice["patients"].astype("int64"))
            by_practice["patients"] = shown
            for col in ("mean_upc", "mean_coc", "mean_usual_gp_share", "mean_known_provider"):
                by_practice[col] = by_practice[col].where(shown.notna())
            shared = sdc.protect_counts(by_practice["usual_gp_share_patients"].astype("int64"))
            by_practice["usual_gp_share_patients"] = shared
            by_practice["mean_usual_gp_share"] = by_practice["mean_usual_gp_share"].where(
                shared.notna())
        by_month, _ = self._closer_to_home
        network = by_month[by_month["practice_code"] == "ALL"].copy()
        if protected:
            for col in ("primary_contacts", "hospital_contacts", "registered"):
                network[col] = sdc.protect_counts(network[col].astype("int64")).to_numpy()
            network["share_primary"] = network["primary_contacts"].astype("Float64") / (
                network["primary_contacts"] + network["hospital_contacts"]).astype("Float64")
            network["hospital_per_1000"] = network["hospital_contacts"].astype("Float64") / \
                network["registered"].astype("Float64") * 1000
            network["primary_per_1000"] = network["primary_contacts"].astype("Float64") / \
                network["registered"].astype("Float64") * 1000
        return {"by_practice": by_practice, "closer_to_home": network}

    @cached_property
    def _closer_to_home(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        end = pd.Timestamp(self.as_of) + pd.Timedelta(days=1)
        start = end - pd.DateOffset(months=SPC_MONTHS)
        return continuity_measures.care_closer_to_home(
            self.appointments, self.hospital_activity, self.registrations, start=start, end=end)

    # ---- inequalities -----------------------------------------------------------------------
    @cached_property
    def _activity_last_year(self) -> pd.DataFrame:
        end = pd.Timestamp(self.as_of) + pd.Timedelta(days=1)
        start = end - pd.DateOffset(months=12)
        hosp = self.hospital_activity
        when = pd.to_datetime(hosp["start_date"])
        hosp = hosp[(when >= start) & (when < end)]
        counts = hosp.groupby(["patient_id", "kind"]).size().unstack(fill_value=0)
        appts = self.appointments
        at = pd.to_datetime(appts["start_at"])
        appts = appts[(at >= start) & (at < end)]
        counts["attended"] = appts[appts["status"] == "attended"].groupby("patient_id").size()
        counts["did_not_attend"] = appts[appts["status"] == "did_not_attend"].groupby(
            "patient_id").size()
        return counts.fillna(0).astype("int64")

    def inequalities(self, dimension: str, *, protected: bool) -> pd.DataFrame:
        result = self._memo(("inequalities", dimension, protected),
                            lambda: self._inequalities(dimension, protected=protected))
        return result

    def _inequalities(self, dimension: str, *, protected: bool) -> pd.DataFrame:
        """Outcomes over the last 12 months by ``imd_quintile`` or ``ethnicity_6``."""
        if dimension not in ("imd_quintile", "ethnicity_6"):
            raise ValueError(f"dimension {dimension!r} is not imd_quintile or ethnicity_6")
        prof = self.profile[["patient_id", dimension]].reset_index(drop=True)
        activity = self._activity_last_year.reindex(prof["patient_id"]).fillna(0)
        activity.index = prof.index
        frame = pd.concat([prof, activity], axis=1)
        frame["group"] = frame[dimension].astype("object").where(frame[dimension].notna(),
                                                                 "Unknown")
        if dimension == "imd_quintile":
            frame["group"] = frame["group"].map(lambda q: IMD_QUINTILE_LABELS.get(q, "Unknown"))
        measures = {
            "ae_attendance": "A&E attendances per 1,000",
            "emergency_admission": "Emergency admissions per 1,000",
            "attended": "Attended appointments per 1,000",
        }
        grouped = frame.groupby("group")
        out = pd.DataFrame({"patients": grouped.size()})
        for column in measures:
            out[column] = grouped[column].sum() if column in frame.columns else 0
        out["dna"] = grouped["did_not_attend"].sum() if "did_not_attend" in frame else 0
        out = out.astype("int64")
        rows = []
        for column, label in measures.items():
            part = pd.DataFrame({"group": out.index, "measure": label,
                                 "numerator": out[column].to_numpy(),
                                 "denominator": out["patients"].to_numpy()})
            if protected:
                part = sdc.protect_rates(part, per=1000, proportion=False)
            else:
                part["value"] = part["numerator"] / part["denominator"].where(
                    part["denominator"] > 0) * 1000
            rows.append(part)
        dna = pd.DataFrame({"group": out.index, "measure": "Did-not-attend rate %",
                            "numerator": out["dna"].to_numpy(),
                            "denominator": (out["dna"] + out["attended"]).to_numpy()})
        if protected:
            dna = sdc.protect_rates(dna, per=100, proportion=True)
        else:
            dna["value"] = dna["numerator"] / dna["denominator"].where(dna["denominator"] > 0) * 100
        rows.append(dna)
        return pd.concat(rows, ignore_index=True)

    # ---- worklists (identifiable: callers must scope) ---------------------------------------
    @cached_property
    def worklists_dir(self) -> Path:
        """Published ``outputs/current/worklists``, else ``outputs/worklists``."""
        published = self.outputs_dir / "worklists"
        return published if published.exists() else self.record_dir / "outputs" / "worklists"

    def worklist_ids(self) -> list[str]:
        if not self.worklists_dir.exists():
            return []
        return sorted(p.stem for p in self.worklists_dir.glob("*.parquet"))

    def worklists_not_available(self) -> dict[str, tuple[str, str]]:
        """Worklists ``pcn run`` did not build because the record cannot support them:
        id → (title, why) (pcn.measures.availability)."""
        out: dict[str, tuple[str, str]] = {}
        if not self.worklists_dir.exists():
            return out
        for meta in sorted(self.worklists_dir.glob("*.json")):
            if meta.with_suffix(".parquet").exists():
                continue
            data = json.loads(meta.read_text())
            if data.get("not_available"):
                out[meta.stem] = (str(data.get("title") or meta.stem), str(data["not_available"]))
        return out

    def worklist_title(self, worklist_id: str) -> str:
        meta = self.worklists_dir / f"{worklist_id}.json"
        if meta.exists():
            try:
                return str(json.loads(meta.read_text()).get("title") or worklist_id)
            except (OSError, ValueError):
                pass
        return worklist_id.replace("_", " ").capitalize()

    def worklist(self, worklist_id: str) -> pd.DataFrame:
        """All rows of one worklist (``KeyError`` when there is none by that id)."""
        if worklist_id not in self.worklist_ids():
            raise KeyError(worklist_id)
        return self._worklist_frame(worklist_id)

    def _worklist_frame(self, worklist_id: str) -> pd.DataFrame:
        with self._lock:
            cache = self.__dict__.setdefault("_worklist_cache", {})
            if worklist_id not in cache:
                frame = pd.read_parquet(self.worklists_dir / f"{worklist_id}.parquet")
                missing = {"patient_id", "practice_code"} - set(frame.columns)
                if missing:
                    raise OutputsMissing(f"worklist {worklist_id} lacks {sorted(missing)}")
                cache[worklist_id] = self._scoped_by_this_record(self._without_excluded(frame))
            return cache[worklist_id]

    def _scoped_by_this_record(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each row's ``practice_code`` is where the patient is registered in *this* record, not
        where they were when the worklist was computed: after a move is loaded the old practice
        stops seeing the patient at once, before ``pcn run``; a patient no longer registered
        anywhere drops out (issue 16). Row order is kept."""
        where = (self.current_registrations.sort_values(["patient_id", "practice_code"])
                 .drop_duplicates("patient_id"))
        where = where.astype({"patient_id": frame["patient_id"].dtype})
        scoped = frame.drop(columns=["practice_code"]).merge(where, on="patient_id",
                                                             how="inner")
        return scoped[list(frame.columns)].reset_index(drop=True)

    def worklist_counts(self, *, protected: bool) -> pd.DataFrame:
        result = self._memo(("worklist_counts", protected),
                            lambda: self._worklist_counts(protected=protected))
        return result

    def _worklist_counts(self, *, protected: bool) -> pd.DataFrame:
        """Rows per worklist and practice: an aggregate anybody with aggregates may see."""
        table = pd.DataFrame(
            {wid: self._worklist_frame(wid).groupby("practice_code").size()
             for wid in self.worklist_ids()}).T
        if table.empty:
            return table
        table = table.reindex(columns=self.practices["practice_code"], fill_value=0).fillna(0)
        table = table.astype("int64")
        if protected:
            return sdc.protect_table(table).values
        table["Total"] = table.sum(axis=1)
        return table

    # ---- one patient (identifiable: callers must authorise first) ---------------------------
    def _rows_of(self, table: str, patient_id: int) -> pd.DataFrame:
        """One patient's rows of a record table, by binary search on a patient-sorted copy."""
        def by_patient() -> tuple[pd.DataFrame, np.ndarray]:
            frame = getattr(self, table).sort_values("patient_id", kind="stable",
                                                     ignore_index=True)
            return frame, frame["patient_id"].to_numpy()

        frame, ids = self._memo(("by_patient", table), by_patient)
        start, stop = np.searchsorted(ids, [patient_id, patient_id + 1])
        return frame.iloc[int(start):int(stop)]

    def patient_summary(self, patient_id: int) -> dict[str, Any]:
        person = self.patients.loc[patient_id]
        profile = self.profile.loc[patient_id] if patient_id in self.profile.index else None
        regs = self._rows_of("registrations", patient_id)
        appts = self._rows_of("appointments", patient_id)
        appts = appts.sort_values("start_at", ascending=False).head(10)
        hosp = self._rows_of("hospital_activity", patient_id)
        hosp = hosp.sort_values("start_date", ascending=False).head(10)
        worklists = [wid for wid in self.worklist_ids()
                     if (self._worklist_frame(wid)["patient_id"] == patient_id).any()]
        details: dict[str, Any] = {}
        if profile is not None:
            for key, value in profile.items():
                if key == "patient_id" or (np.ndim(value) == 0 and pd.isna(value)):
                    continue
                details[str(key)] = value.item() if hasattr(value, "item") else value
        return {
            "patient_id": int(patient_id),
            "nhs_number": str(person["nhs_number"]),
            "date_of_birth": person["date_of_birth"],
            "sex": person["sex"],
            "date_of_death": person["date_of_death"],
            "practices": sorted(self.patient_practices(patient_id)),
            "registrations": _records(regs),
            "profile": details,
            "registers": [r for r in self.registers if details.get(f"reg_{r}") is True],
            "appointments": _records(appts),
            "hospital_activity": _records(hosp),
            "worklists": worklists,
        }

    def warm(self) -> None:
        """Compute every cached table now (server start-up) so the first page is fast."""
        _ = self.profile, self._continuity_patients, self._closer_to_home
        _ = self._activity_last_year
        for protected in (False, True):
            self.overview(protected=protected)
            self.continuity(protected=protected)
            for dimension in ("imd_quintile", "ethnicity_6"):
                self.inequalities(dimension, protected=protected)
            for indicator_id in self.indicator_definitions:
                if self.indicator(indicator_id).result is None:
                    continue
                self.indicator_table(indicator_id, protected=protected)
                self.funnel_data(indicator_id, protected=protected)
                self.spc_data(indicator_id, protected=protected)
        self._rows_of("appointments", -1)
        self._rows_of("hospital_activity", -1)
        self._rows_of("registrations", -1)


_views: dict[Path, NetworkView] = {}
_views_lock = threading.Lock()


def open_network(record_dir: str | Path) -> NetworkView:
    """The (cached) view of the record's current snapshot."""
    key = open_record(record_dir).path
    with _views_lock:
        if key not in _views:
            _views[key] = NetworkView(record_dir)
        return _views[key]
