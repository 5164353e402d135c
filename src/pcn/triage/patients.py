"""What the record knows about a patient who sends a request: who they are, their long-term
conditions and frailty, and their usual clinician (for continuity routing).

A :class:`PatientDirectory` is built once per process from a network record (or, in spec tests,
from tiny hand-made frames) and answers :meth:`PatientDirectory.match` and
:meth:`PatientDirectory.context` in memory. Long-term conditions, frailty, housebound and pregnancy
come from the run outputs (``outputs/current/patient_profile.parquet``); the usual clinician is the
clinician the patient saw most in the last 12 months (:func:`pcn.measures.continuity
.patient_continuity`, at least ``min_contacts`` attended contacts), with the role they were seen in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from pcn.measures.continuity import patient_continuity
from pcn.record.nhs_number import is_valid
from pcn.triage.model import PatientContext, Route

#: eFI categories counted as frail for continuity (Clegg et al. 2016; moderate and severe frailty
#: are the groups NHS England's frailty guidance asks practices to manage proactively).
FRAIL_CATEGORIES = frozenset({"moderate", "severe"})
#: Appointment roles that map one-to-one onto a triage route.
ROLE_ROUTES = {r.value: r for r in Route}


def _true(value: object) -> bool:
    """A profile flag that is set (numpy or nullable booleans; missing counts as not set)."""
    return value is not None and value is not pd.NA and not (
        isinstance(value, float) and value != value) and bool(value)


@dataclass(frozen=True)
class KnownPatient:
    patient_id: int
    #: practices the patient is registered at on the record date (empty: not registered now)
    practices: frozenset[str]


class PatientDirectory:
    """Look-ups over one record's patients, profile and appointments (read-only, in memory)."""

    def __init__(self, patients: pd.DataFrame, registrations: pd.DataFrame,
                 profile: pd.DataFrame | None, appointments: pd.DataFrame | None,
                 as_of: dt.date, long_term_registers: frozenset[str] | None = None,
                 min_contacts: int = 3) -> None:
        self.as_of = as_of
        self._patients = patients
        self._registrations = registrations
        self._profile = profile
        self._appointments = appointments
        self._min_contacts = min_contacts
        if long_term_registers is None:
            from pcn.analytics.registers import default_registers

            long_term_registers = frozenset(r.id for r in default_registers()
                                            if r.long_term_condition)
        self._ltc_registers = long_term_registers

    @classmethod
    def from_view(cls, view: object) -> PatientDirectory:
        """From a :class:`pcn.reporting.network.NetworkView` (tables read lazily there)."""
        from pcn.reporting.network import NetworkView

        assert isinstance(view, NetworkView)
        profile = view.profile if view.profile_source == "analytics" else None
        return cls(view.patients.reset_index(drop=True), view.registrations, profile,
                   view.appointments, view.as_of)

    # ---- indexes (built on first use) -------------------------------------------------------
    @cached_property
    def _by_nhs_number(self) -> dict[str, int]:
        frame = self._patients[["nhs_number", "patient_id"]].dropna()
        return dict(zip(frame["nhs_number"].astype(str), frame["patient_id"].astype("int64"),
                        strict=True))

    @cached_property
    def _practices(self) -> dict[int, frozenset[str]]:
        regs = self._registrations
        as_of = pd.Timestamp(self.as_of)
        start = pd.to_datetime(regs["start_date"])
        end = pd.to_datetime(regs["end_date"])
        live = regs[(start <= as_of) & (end.isna() | (end > as_of))]
        out: dict[int, set[str]] = {}
        for pid, code in zip(live["patient_id"], live["practice_code"], strict=True):
            out.setdefault(int(pid), set()).add(str(code))
        return {pid: frozenset(codes) for pid, codes in out.items()}

    @cached_property
    def _known_ids(self) -> frozenset[int]:
        return frozenset(int(p) for p in self._patients["patient_id"])

    @cached_property
    def _profile_rows(self) -> pd.DataFrame:
        """The profile columns triage reads, indexed by patient id."""
        if self._profile is None or self._profile.empty:
            return pd.DataFrame(index=pd.Index([], dtype="int64"))
        wanted = [c for c in self._profile.columns
                  if (c.startswith("reg_") and c[len("reg_"):] in self._ltc_registers)
                  or c in ("efi_category", "housebound", "pregnant")]
        frame = self._profile.reset_index(drop=True)
        return frame.set_index(frame["patient_id"].astype("int64"))[wanted]

    @cached_property
    def _usual(self) -> dict[int, tuple[str, str]]:
        """patient_id → (usual clinician id, the role they were seen in)."""
        appts = self._appointments
        if appts is None or appts.empty:
            return {}
        end = pd.Timestamp(self.as_of) + pd.Timedelta(days=1)
        start = pd.Timestamp(self.as_of) - pd.DateOffset(months=12)
        usual = patient_continuity(appts, start=start, end=end, min_contacts=self._min_contacts)
        if usual.empty:
            return {}
        roles = (appts.groupby(["clinician_id", "role"]).size().reset_index(name="n")
                 .sort_values(["clinician_id", "n", "role"], ascending=[True, False, True])
                 .drop_duplicates("clinician_id").set_index("clinician_id")["role"])
        return {int(pid): (str(cid), str(roles.get(cid, "")))
                for pid, cid in zip(usual["patient_id"], usual["usual_clinician_id"],
                                    strict=True)}

    def warm(self) -> None:
        """Build every index now (server start-up), so the first request is not the slow one."""
        _ = self._by_nhs_number, self._practices, self._known_ids
        _ = self._profile_rows, self._usual

    # ---- look-ups ---------------------------------------------------------------------------
    def match(self, *, nhs_number: str | None = None,
              patient_id: int | None = None) -> KnownPatient | None:
        """The patient with this NHS number (valid check digit) or id; None when not known."""
        pid: int | None = None
        if nhs_number is not None:
            number = nhs_number.replace(" ", "")
            if is_valid(number):
                pid = self._by_nhs_number.get(number)
        if pid is None and patient_id is not None and patient_id in self._known_ids:
            pid = patient_id
        if pid is None:
            return None
        return KnownPatient(pid, self._practices.get(pid, frozenset()))

    def context(self, patient_id: int) -> PatientContext:
        """Long-term conditions, frailty, housebound, pregnancy and usual clinician, as known."""
        rows = self._profile_rows
        row: dict[str, object] = {}
        if patient_id in rows.index:
            found = rows.loc[patient_id]
            if isinstance(found, pd.DataFrame):  # one row per patient expected; be safe
                found = found.iloc[0]
            row = {str(k): v for k, v in found.items()}
        ltcs = sorted(name[len("reg_"):] for name, value in row.items()
                      if name.startswith("reg_") and _true(value)
                      and name[len("reg_"):] in self._ltc_registers)
        usual = self._usual.get(patient_id)
        return PatientContext(
            long_term_conditions=ltcs,
            frail=str(row.get("efi_category") or "") in FRAIL_CATEGORIES,
            housebound=_true(row.get("housebound")),
            pregnant=_true(row.get("pregnant")),
            usual_clinician_id=usual[0] if usual and usual[1] in ROLE_ROUTES else None,
            usual_clinician_role=ROLE_ROUTES.get(usual[1]) if usual else None,
        )
