"""``pcn ingest csv|parquet``: tabular practice extracts -> the network record.

Each input file is matched to an entry of the mapping (``mapping``) by its name; patient files
are read first so event and medication rows can be linked by NHS number. Every row is checked
(NHS number modulus 11, dates, SNOMED CT / dm+d identifiers, units against the code's standard
unit, practice ODS codes) and a rejected row is reported with file, row, column and why.

Duplicate registrations across practices: when the same NHS number is registered at two
practices, the registration with the latest start wins; each earlier open registration is ended
the day before the later one starts (``merge.resolve_registrations``), and the demographics of the
latest registration are kept.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from pcn.fhir.systems import normalise_unit, standard_units
from pcn.ingest.mapping import ExtractMapping, FileMapping
from pcn.ingest.merge import existing_record, merge_into_record, merge_multiset, read_table
from pcn.ingest.patient_ids import PatientIndex
from pcn.ingest.report import IngestReport
from pcn.record.check import EARLIEST, latest_plausible_date
from pcn.record.codes import is_snomed_id
from pcn.record.nhs_number import valid_mask
from pcn.record.schemas import TABLES

Format = Literal["csv", "parquet"]


class ExtractError(Exception):
    """An input file cannot be read with the mapping (nothing is written)."""


@cache
def known_lsoa_codes() -> frozenset[str]:
    from pcn.refdata.places import lsoas

    return frozenset(lsoas()["lsoa_code"].astype(str))


@cache
def _snomed_ok(code: str) -> bool:
    return is_snomed_id(code)


def _read(path: Path, fmt: Format) -> pd.DataFrame:
    try:
        if fmt == "csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        df = pd.read_parquet(path)
    except (OSError, ValueError, UnicodeDecodeError, pa.ArrowException) as e:
        raise ExtractError(f"{path.name}: cannot read as {fmt}: {e}") from e
    for c in df.columns:
        if not pd.api.types.is_datetime64_any_dtype(df[c]):
            df[c] = df[c].map(lambda v: "" if v is None or v is pd.NA or
                              (isinstance(v, float) and np.isnan(v)) else str(v))
    return df


class ExtractLoad:
    def __init__(self, mapping: ExtractMapping, record_dir: Path, fmt: Format,
                 practice: str | None = None) -> None:
        self.mapping, self.fmt, self.practice = mapping, fmt, practice
        self.record_dir = Path(record_dir)
        self.report = IngestReport()
        self.old = existing_record(self.record_dir)
        pts = read_table(self.old, "patients").select(["nhs_number", "patient_id"]).to_pydict()
        self.index = PatientIndex(dict(zip(pts["nhs_number"], pts["patient_id"], strict=True)))
        self.known_practices = set(read_table(self.old, "practices")
                                   .column("practice_code").to_pylist())
        self.tables: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}

    # -- row rejection helpers ------------------------------------------------------------
    def _reject(self, df: pd.DataFrame, mask: np.ndarray, src: str, fm: FileMapping,
                column: str, why: str | pd.Series) -> pd.DataFrame:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            bad = df[mask]
            for (_, row), reason in zip(bad.iterrows(), (why[mask] if isinstance(why, pd.Series)
                                                          else [why] * len(bad)), strict=True):
                self.report.reject(src, f"row {row['__row']}", fm.table,
                                   fm.columns.get(column, column), str(reason))
        return df[~mask]

    def _date(self, df: pd.DataFrame, col: str, src: str, fm: FileMapping,
              required: bool) -> pd.DataFrame:
        raw = df[col]
        if pd.api.types.is_datetime64_any_dtype(raw):
            parsed = raw
            empty = raw.isna().to_numpy()
        else:
            empty = (raw.str.strip() == "").to_numpy()
            parsed = pd.to_datetime(raw.where(~empty), format=self.mapping.date_format,
                                    errors="coerce")
        bad = parsed.isna().to_numpy() & ~empty
        df = df.assign(**{col: parsed})
        why = pd.Series([f"{v!r} is not a date in the format {self.mapping.date_format}"
                         for v in raw], index=df.index)
        df = self._reject(df, bad, src, fm, col, why)
        if required:
            df = self._reject(df, df[col].isna().to_numpy(), src, fm, col, "is required")
        return df

    def _snomed(self, df: pd.DataFrame, col: str, src: str, fm: FileMapping,
                required: bool) -> pd.DataFrame:
        vals = df[col].str.strip()
        empty = (vals == "").to_numpy()
        ok = np.array([_snomed_ok(v) for v in vals], dtype=bool) | empty
        kind = "dm+d" if fm.code_system == "dmd" else "SNOMED CT"
        why = pd.Series([f"{v!r} is not a {kind} identifier (SNOMED CT format, Verhoeff check)"
                         for v in vals], index=df.index)
        df = self._reject(df.assign(**{col: vals.where(~empty)}), ~ok, src, fm, col, why)
        if required:
            df = self._reject(df, df[col].isna().to_numpy(), src, fm, col, "is required")
        return df

    def _nhs(self, df: pd.DataFrame, src: str, fm: FileMapping) -> pd.DataFrame:
        nhs = df["nhs_number"].str.replace(" ", "", regex=False)
        ok = valid_mask(nhs.to_numpy(dtype="U10")) & (nhs.str.len() == 10).to_numpy()
        why = pd.Series([f"{v!r} is not a valid NHS number (modulus 11)" for v in nhs],
                        index=df.index)
        return self._reject(df.assign(nhs_number=nhs), ~ok, src, fm, "nhs_number", why)

    # -- per file -------------------------------------------------------------------------
    def _frame(self, path: Path, fm: FileMapping) -> pd.DataFrame:
        raw = _read(path, self.fmt)
        missing = [s for s in fm.columns.values() if s not in raw.columns]
        if missing:
            raise ExtractError(f"{path.name}: column(s) {missing} named by the mapping "
                               f"{self.mapping.layout} v{self.mapping.version} are missing "
                               f"(found {list(raw.columns)})")
        df = pd.DataFrame({rec: raw[src] for rec, src in fm.columns.items()})
        df["__row"] = np.arange(len(df)) + (2 if self.fmt == "csv" else 1)
        for col, table in fm.values.items():
            df[col] = df[col].map(lambda v, t=table: t.get(v, v))
        self.report.read += len(df)
        return df

    def patients(self, path: Path, fm: FileMapping) -> None:
        src = path.name
        df = self._nhs(self._frame(path, fm), src, fm)
        df = self._date(df, "date_of_birth", src, fm, True)
        sex_ok = df["sex"].isin(["F", "M"]).to_numpy()
        df = self._reject(df, ~sex_ok, src, fm, "sex",
                          pd.Series([f"{v!r} is not F or M (add it to the mapping's values)"
                                     for v in df["sex"]], index=df.index))
        for col in ("date_of_death", "registration_start", "registration_end"):
            if col in df:
                df = self._date(df, col, src, fm, col == "registration_start")
            else:
                df[col] = pd.NaT
        df = self._plausible_dates(df, src, fm)
        df = self._snomed(df, "ethnicity_code", src, fm, False) if "ethnicity_code" in df \
            else df.assign(ethnicity_code=None)
        if "lsoa_code" not in df:
            df["lsoa_code"] = None
        df["lsoa_code"] = df["lsoa_code"].map(lambda v: v.strip() or None if isinstance(v, str)
                                              else None)
        df = self._lsoa(df, src, fm)
        if "practice_code" not in df:
            if not self.practice:
                raise ExtractError(f"{src}: the mapping has no practice_code column; give "
                                   "--practice ODS_CODE")
            df["practice_code"] = self.practice
        df["practice_code"] = df["practice_code"].str.strip().str.upper()
        df = self._practices(df, src, fm)
        # the latest registration wins the demographics (rows later in the frame win the key)
        df = df.sort_values("registration_start", kind="stable", na_position="first")
        ids = []
        keep = np.ones(len(df), dtype=bool)
        for i, nhs in enumerate(df["nhs_number"]):
            try:
                ids.append(self.index.assign(nhs))
            except ValueError as e:
                keep[i] = False
                self.report.reject(src, f"row {df['__row'].iloc[i]}", "patients",
                                   fm.columns["nhs_number"], str(e))
        df = df[keep].assign(patient_id=ids)
        self.tables["patients"].append(
            df[[*TABLES["patients"].schema.names, "registration_start"]])
        reg = df[df["registration_start"].notna()].rename(
            columns={"registration_start": "start_date", "registration_end": "end_date"})
        self.tables["registrations"].append(reg[list(TABLES["registrations"].schema.names)])
        self.report.loaded[src] += len(df)

    def _plausible_dates(self, df: pd.DataFrame, src: str, fm: FileMapping) -> pd.DataFrame:
        """The date rules of ``pcn record check`` (:mod:`pcn.record.rules`), row by row: born
        between 1880 and today, no death before birth or after the last plausible date, no
        registration before birth or ending before it starts."""
        today, latest = pd.Timestamp(dt.date.today()), pd.Timestamp(latest_plausible_date())
        earliest = pd.Timestamp(EARLIEST)
        born, died = df["date_of_birth"], df["date_of_death"]
        start, end = df["registration_start"], df["registration_end"]
        rules = [
            ("date_of_birth", (born < earliest) | (born > today),
             lambda r: f"{r.date_of_birth.date()} is not a plausible date of birth "
                       f"({EARLIEST} to today)"),
            ("date_of_death", died.notna() & (died < born),
             lambda r: f"death {r.date_of_death.date()} is before birth "
                       f"{r.date_of_birth.date()}"),
            ("date_of_death", died.notna() & ((died > latest) | (died < earliest)),
             lambda r: f"{r.date_of_death.date()} is not a plausible date of death"),
            ("registration_start", start.notna() & (start < born),
             lambda r: f"registration {r.registration_start.date()} is before birth "
                       f"{r.date_of_birth.date()}"),
            ("registration_start", start.notna() & (start > latest),
             lambda r: f"{r.registration_start.date()} is not a plausible registration date"),
            ("registration_end", end.notna() & (end < start),
             lambda r: f"registration ends {r.registration_end.date()} before it starts "
                       f"{r.registration_start.date()}"),
        ]
        for column, bad, why in rules:
            mask = bad.reindex(df.index, fill_value=False).to_numpy(dtype=bool)
            if mask.any():
                reasons = pd.Series([why(r) if m else "" for r, m in
                                     zip(df.itertuples(), mask, strict=True)], index=df.index)
                df = self._reject(df, mask, src, fm, column, reasons)
        return df

    def _lsoa(self, df: pd.DataFrame, src: str, fm: FileMapping) -> pd.DataFrame:
        """An LSOA must be a real 2011 LSOA code of the reference data (a spreadsheet formula
        or a typo never reaches the record)."""
        known = known_lsoa_codes()
        codes = df["lsoa_code"]
        bad = (codes.notna() & ~codes.isin(known)).to_numpy()
        why = pd.Series([f"{c!r} is not an LSOA code of England (2011 LSOAs, e.g. E01012039)"
                         for c in codes], index=df.index)
        return self._reject(df, bad, src, fm, "lsoa_code", why)

    def _practices(self, df: pd.DataFrame, src: str, fm: FileMapping) -> pd.DataFrame:
        from pcn.refdata.places import practices

        ref = practices().set_index("practice_code")
        codes = set(df["practice_code"]) - self.known_practices
        unknown = {c for c in codes if c not in ref.index}
        df = self._reject(df, df["practice_code"].isin(unknown).to_numpy(), src, fm,
                          "practice_code", pd.Series([f"{c!r} is not a GP practice ODS code in "
                                                      "the reference data" for c in
                                                      df["practice_code"]], index=df.index))
        new = sorted(codes - unknown)
        if new:
            r = ref.loc[new].reset_index()
            rows = pd.DataFrame({
                "practice_code": r["practice_code"], "name": r["practice_name"],
                "pcn_code": r["pcn_code"], "pcn_name": r["pcn_name"],
                "sub_icb_code": r["sub_icb_code"], "icb_code": r["icb_code"],
                "region_code": r["region_code"], "postcode": r["postcode"], "lsoa_code": None})
            self.tables["practices"].append(rows)
            self.known_practices |= set(new)
        return df

    def _link(self, df: pd.DataFrame, src: str, fm: FileMapping) -> pd.DataFrame:
        # object dtype: int63 ids must not pass through float64
        pid = pd.Series([self.index.by_nhs.get(n) for n in df["nhs_number"]], index=df.index,
                        dtype=object)
        missing = pid.isna().to_numpy()
        df = self._reject(df.assign(patient_id=pid), missing, src, fm, "nhs_number",
                          "no patient with this NHS number in the patient files or the record")
        return df

    def _numeric(self, df: pd.DataFrame, col: str, src: str, fm: FileMapping) -> pd.DataFrame:
        if col not in df:
            return df.assign(**{col: np.nan})
        raw = df[col].str.strip()
        num = pd.to_numeric(raw.where(raw != ""), errors="coerce")
        bad = num.isna().to_numpy() & (raw != "").to_numpy()
        df = df.assign(**{col: num})
        return self._reject(df, bad, src, fm, col, pd.Series(
            [f"{v!r} is not a number" for v in raw], index=df.index))

    def events(self, path: Path, fm: FileMapping) -> None:
        src = path.name
        df = self._link(self._nhs(self._frame(path, fm), src, fm), src, fm)
        df = self._date(df, "date", src, fm, True)
        df = self._snomed(df, "snomed_code", src, fm, True)
        df = self._numeric(df, "numeric_value", src, fm)
        if "unit" in df:
            units = standard_units()
            expected = df["snomed_code"].map(units)
            given = df["unit"].map(lambda u: normalise_unit(u) if u and u.strip() else None)
            bad = (df["numeric_value"].notna() & expected.notna()
                   & (given.isna() | (given != expected))).to_numpy()
            why = pd.Series([f"unit {g!r} for {c}; expected {e} (values are not converted)"
                             for g, c, e in zip(given, df["snomed_code"], expected,
                                                strict=True)], index=df.index)
            df = self._reject(df, bad, src, fm, "unit", why)
        self.tables["clinical_events"].append(
            df[list(TABLES["clinical_events"].schema.names)])
        self.report.loaded[src] += len(df)

    def medications(self, path: Path, fm: FileMapping) -> None:
        src = path.name
        df = self._link(self._nhs(self._frame(path, fm), src, fm), src, fm)
        df = self._date(df, "date", src, fm, True)
        df = self._snomed(df, "dmd_code", src, fm, True)
        df = self._numeric(df, "quantity", src, fm)
        self.tables["medications"].append(df[list(TABLES["medications"].schema.names)])
        self.report.loaded[src] += len(df)

    def read(self, inputs: list[Path]) -> None:
        files: list[Path] = []
        for p in inputs:
            p = Path(p)
            if p.is_dir():
                files += sorted(f for f in p.iterdir() if f.suffix == f".{self.fmt}")
            elif p.exists():
                files.append(p)
            else:
                raise ExtractError(f"{p}: no such file or directory")
        matched = []
        for f in files:
            fm = self.mapping.for_file(f)
            if fm is None:
                patterns = ", ".join(x.match for x in self.mapping.files)
                raise ExtractError(f"{f.name}: matches no file of mapping "
                                   f"{self.mapping.layout} (patterns: {patterns})")
            matched.append((f, fm))
        for f, fm in matched:
            if fm.table == "patients":
                self.patients(f, fm)
        for f, fm in matched:
            if fm.table == "clinical_events":
                self.events(f, fm)
            elif fm.table == "medications":
                self.medications(f, fm)

    @staticmethod
    def _arrow(name: str, df: pd.DataFrame) -> pa.Table:
        df = df[list(TABLES[name].schema.names)].copy()
        for c, t in zip(TABLES[name].schema.names, TABLES[name].schema.types, strict=True):
            if pa.types.is_date32(t):
                df[c] = pd.to_datetime(df[c]).dt.date
            df[c] = df[c].astype(object).where(df[c].notna(), None)
        return pa.Table.from_pandas(df, schema=TABLES[name].schema, preserve_index=False)

    def run(self, strict: bool = False) -> IngestReport:
        new: dict[str, pa.Table] = {}
        for name, frames in self.tables.items():
            frames = [f for f in frames if len(f)]
            if not frames:
                continue
            if TABLES[name].key:
                df = pd.concat(frames, ignore_index=True)
                if name == "patients":  # latest registration last, so it wins the key
                    df = df.sort_values("registration_start", kind="stable",
                                        na_position="first")
                table = self._arrow(name, df)
            else:
                # the same entry in two practices' extracts (a record moved by GP2GP) is one
                # entry: across files each distinct row counts as often as in the file with most
                table = self._arrow(name, frames[0])
                for f in frames[1:]:
                    table = merge_multiset(table, self._arrow(name, f))
            new[name] = table
            self.report.rows[name] = table.num_rows
        if strict and self.report.rejected:
            self.report.notes.append("strict: nothing written because rows were rejected")
            return self.report
        if not new:
            self.report.notes.append("nothing to load: the record is unchanged")
            return self.report
        record, changed = merge_into_record(self.record_dir, new, source={
            "kind": f"extract-{self.fmt}", "layout": self.mapping.layout,
            "layout_version": self.mapping.version})
        self.report.changed, self.report.content_hash = changed, record.manifest.content_hash
        return self.report


def ingest_extract(inputs: list[Path], mapping: ExtractMapping, record_dir: Path,
                   fmt: Format = "csv", practice: str | None = None,
                   strict: bool = False) -> IngestReport:
    load = ExtractLoad(mapping, record_dir, fmt, practice)
    load.read(inputs)
    return load.run(strict=strict)
