"""pcn beside OpenSAFELY ehrQL on the same data, timed as whole processes, checked row by row.

    python benchmarks/ehrql_side_by_side.py --ehrql-source PATH/TO/ehrql [--sizes 50k,500k,2M]

What is compared (issue 18): one dataset, defined twice - once by ``pcn bench dataset`` (the
``ehrql_dataset`` Ibis expression in ``pcn.analytics.benchmark``) and once as an ehrQL dataset
definition written here - over the same synthetic twin at the same index date (the twin's date,
so the 12-month medication window is full). Adults alive and registered on the index date, with
age, sex, hypertension ever, latest systolic blood pressure and its date, distinct medicines
issued in the last 12 months and distinct eFI deficit codes.

How: for each size the twin record (shared with ``pcn bench run``) is copied into a SQLite
database in ehrQL's core schema (not timed: it is the loading a database owner does once).
Then, alternately and ``--repeats`` times each, the script starts ``ehrql generate-dataset
... --query-engine sqlite`` and ``pcn bench dataset`` as processes and takes their wall time and
peak memory; both write an Arrow file. The two files must agree on every row and column, or the
script says where they differ and exits non-zero.

ehrQL needs Python >= 3.13 and is installed from a checkout of its source
(https://github.com/opensafely-core/ehrql) into its own virtual environment under the work
directory, so the two never share packages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

CORE_SCHEMA = {
    "patients": "patient_id INTEGER PRIMARY KEY, date_of_birth DATE, sex TEXT, date_of_death DATE",
    "practice_registrations": "row_id INTEGER PRIMARY KEY, patient_id INTEGER, start_date DATE, "
    "end_date DATE, practice_pseudo_id INTEGER",
    "clinical_events": "row_id INTEGER PRIMARY KEY, patient_id INTEGER, date DATE, "
    "snomedct_code TEXT, numeric_value REAL",
    "medications": "row_id INTEGER PRIMARY KEY, patient_id INTEGER, date DATE, dmd_code TEXT",
}

DEFINITION = '''\
# Written by pcn's benchmarks/ehrql_side_by_side.py: the same dataset as `pcn bench dataset`.
from ehrql import codelist_from_csv, create_dataset
from ehrql.tables.core import clinical_events, medications, patients, practice_registrations

INDEX = "{index}"
WINDOW_START = "{window_start}"
hypertension_codes = codelist_from_csv("{codes}/hypertension.csv", column="code")
systolic_codes = codelist_from_csv("{codes}/systolic.csv", column="code")
efi_codes = codelist_from_csv("{codes}/efi.csv", column="code")

registrations = practice_registrations.where(
    practice_registrations.start_date.is_on_or_before(INDEX)
    & (practice_registrations.end_date.is_null()
       | practice_registrations.end_date.is_on_or_after(INDEX))
    & practice_registrations.practice_pseudo_id.is_not_null()
)
# pcn's population: alive means no date of death on or before the index date.
alive = patients.date_of_death.is_null() | patients.date_of_death.is_after(INDEX)
age = patients.age_on(INDEX)

dataset = create_dataset()
dataset.define_population(registrations.exists_for_patient() & alive & (age >= 18))
dataset.age = age
dataset.sex = patients.sex

to_date = clinical_events.where(clinical_events.date.is_on_or_before(INDEX))
dataset.hypertension = to_date.where(
    to_date.snomedct_code.is_in(hypertension_codes)).exists_for_patient()
systolic = to_date.where(
    to_date.snomedct_code.is_in(systolic_codes) & to_date.numeric_value.is_not_null())
latest = systolic.sort_by(systolic.date, systolic.numeric_value).last_for_patient()
dataset.sbp = latest.numeric_value
dataset.sbp_date = latest.date
dataset.medications = medications.where(
    medications.date.is_on_or_between(WINDOW_START, INDEX)).dmd_code.count_distinct_for_patient()
dataset.efi_codes = to_date.where(
    to_date.snomedct_code.is_in(efi_codes)).snomedct_code.count_distinct_for_patient()
'''


# --- ehrQL's environment ------------------------------------------------------------------------


def find_python313() -> str:
    """A Python 3.13+ on this machine: on PATH, or installed by pyenv."""
    candidates = ["python3.14", "python3.13"]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob("3.1[3-9]*/bin/python3"))
    for candidate in candidates:
        if _is_python313(candidate):
            return candidate
    sys.exit("no Python 3.13 or newer found for ehrQL: pass --python")


def _is_python313(command: str) -> bool:
    if shutil.which(command) is None and not Path(command).exists():
        return False
    probe = subprocess.run([command, "-c", "import sys; print(sys.version_info >= (3, 13))"],
                           capture_output=True, text=True, check=False)
    return probe.stdout.strip() == "True"


def ehrql_environment(source: Path, work: Path, python: str) -> Path:
    """A virtual environment with ehrQL installed from ``source``; returns its ``ehrql``."""
    venv = work / "ehrql-venv"
    exe = venv / "bin" / "ehrql"
    if exe.exists():
        return exe
    if not (source / "pyproject.toml").exists() or not (source / "ehrql").is_dir():
        sys.exit(f"--ehrql-source {source}: not a checkout of ehrQL (no pyproject.toml/ehrql/)")
    if not _is_python313(python):
        sys.exit(f"--python {python}: ehrQL needs Python 3.13 or newer")
    print(f"installing ehrQL from {source} into {venv} …", flush=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(source)], check=True)
    return exe


# --- the data, in ehrQL's core schema -----------------------------------------------------------


def to_sqlite(record_dir: Path, database: Path) -> dict[str, int]:
    """Copy a pcn record into a SQLite database in ehrQL's core schema (once per record)."""
    import duckdb

    from pcn.record import open_record

    marker = database.with_suffix(".json")
    record = open_record(record_dir)
    if database.exists() and marker.exists():
        return dict(json.loads(marker.read_text()))
    database.unlink(missing_ok=True)
    con = duckdb.connect()
    queries = {
        "patients": "SELECT patient_id, strftime(date_of_birth, '%Y-%m-%d'), "
        "CASE sex WHEN 'F' THEN 'female' WHEN 'M' THEN 'male' ELSE 'unknown' END, "
        "strftime(date_of_death, '%Y-%m-%d') FROM {t}",
        # Practice codes become stable integer pseudo-ids, as in OpenSAFELY.
        "practice_registrations": "SELECT row_number() OVER (), patient_id, "
        "strftime(start_date, '%Y-%m-%d'), strftime(end_date, '%Y-%m-%d'), "
        "CASE WHEN practice_code IS NULL THEN NULL ELSE dense_rank() OVER "
        "(ORDER BY practice_code) END FROM {t}",
        "clinical_events": "SELECT row_number() OVER (), patient_id, strftime(date, '%Y-%m-%d'), "
        "snomed_code, numeric_value FROM {t}",
        "medications": "SELECT row_number() OVER (), patient_id, strftime(date, '%Y-%m-%d'), "
        "dmd_code FROM {t}",
    }
    tables = {"patients": "patients", "practice_registrations": "registrations",
              "clinical_events": "clinical_events", "medications": "medications"}
    counts: dict[str, int] = {}
    db = sqlite3.connect(database)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    for name, source in tables.items():
        db.execute(f"CREATE TABLE {name} ({CORE_SCHEMA[name]})")
        relation = f"read_parquet('{record.glob(source)}')"
        cursor = con.execute(queries[name].format(t=relation))
        holes = ",".join("?" * len(CORE_SCHEMA[name].split(",")))
        counts[name] = 0
        while batch := cursor.fetchmany(200_000):
            db.executemany(f"INSERT INTO {name} VALUES ({holes})", batch)
            counts[name] += len(batch)
        if name != "patients":
            db.execute(f"CREATE INDEX {name}_patient ON {name} (patient_id)")
        db.commit()
    db.close()
    marker.write_text(json.dumps(counts))
    return counts


def write_codelists(directory: Path) -> None:
    from pcn.analytics.benchmark import HYPERTENSION, SYSTOLIC, efi_codelists
    from pcn.refdata import codelist

    directory.mkdir(parents=True, exist_ok=True)
    efi: set[str] = set()
    for cid in efi_codelists():
        efi |= codelist(cid).codes
    for name, codes in (("hypertension", codelist(HYPERTENSION).codes),
                        ("systolic", codelist(SYSTOLIC).codes), ("efi", efi)):
        (directory / f"{name}.csv").write_text("code\n" + "\n".join(sorted(codes)) + "\n")


# --- timing whole processes ---------------------------------------------------------------------


def measure(command: list[str], cwd: Path) -> dict[str, Any]:
    """Run ``command`` in a fresh measuring process: its wall time and its own peak memory."""
    os.sync()  # the previous run's written output must not be flushed inside this one's time
    out = subprocess.run([sys.executable, __file__, "--measure", str(cwd), "--", *command],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _measure_child(cwd: str, command: list[str]) -> None:
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-2000:] + done.stderr[-3000:])
        sys.exit(done.returncode)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


# --- comparing the two datasets -----------------------------------------------------------------


def compare(pcn_file: Path, ehrql_file: Path) -> list[str]:
    """Differences between the two Arrow files (empty when they agree row by row)."""
    import pyarrow.feather as feather

    from pcn.analytics.benchmark import COMPARABLE_COLUMNS

    ours = feather.read_table(pcn_file).to_pandas().set_index("patient_id").sort_index()
    theirs = feather.read_table(ehrql_file).to_pandas().set_index("patient_id").sort_index()
    ours["sex"] = ours["sex"].map({"F": "female", "M": "male"}).fillna("unknown")
    problems = []
    only_ours = ours.index.difference(theirs.index)
    only_theirs = theirs.index.difference(ours.index)
    if len(only_ours) or len(only_theirs):
        problems.append(f"population differs: {len(only_ours)} only in pcn "
                        f"(e.g. {list(only_ours[:5])}), {len(only_theirs)} only in ehrQL "
                        f"(e.g. {list(only_theirs[:5])})")
    both = ours.index.intersection(theirs.index)
    for column in COMPARABLE_COLUMNS[1:]:
        a, b = ours.loc[both, column], theirs.loc[both, column]
        if column == "sbp_date":
            a = a.astype("datetime64[ns]")
            b = b.astype("datetime64[ns]")
        elif column in ("age", "medications", "efi_codes"):
            a, b = a.astype("int64"), b.astype("int64")
        elif column == "hypertension":
            a, b = a.astype(bool), b.astype(bool)
        differ = ~((a == b) | (a.isna() & b.isna()))
        if differ.any():
            first = differ[differ].index[0]
            problems.append(f"{column}: {int(differ.sum())} patients differ (e.g. patient "
                            f"{first}: pcn {a[first]!r}, ehrQL {b[first]!r})")
    return problems


# --- the run ------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        _measure_child(sys.argv[2], sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ehrql-source", type=Path, required=True,
                        help="a checkout of https://github.com/opensafely-core/ehrql")
    parser.add_argument("--sizes", default="50k,500k,2M", help="patients, e.g. 50k,500k,2M")
    parser.add_argument("--work-dir", type=Path, default=Path("var/bench"),
                        help="records (shared with `pcn bench run`), databases, ehrQL's venv")
    parser.add_argument("--python", default="",
                        help="a Python >= 3.13 for ehrQL (default: the first found)")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs of each, alternating")
    parser.add_argument("--seed", type=int, default=1, help="twin seed")
    args = parser.parse_args()

    import pyarrow.feather as feather
    from rich.console import Console
    from rich.table import Table

    from pcn.analytics.benchmark import ensure_record, parse_sizes
    from pcn.config import get_settings

    console = Console(width=200)
    work = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    ehrql = ehrql_environment(args.ehrql_source.resolve(), work,
                              args.python or find_python313())
    pcn = Path(sys.executable).parent / "pcn"
    index = get_settings().twin_as_of
    window_start = (index.replace(year=index.year - 1) + dt.timedelta(days=1)).isoformat()
    codes = work / "ehrql-codelists"
    write_codelists(codes)
    definition = work / "ehrql_dataset_definition.py"
    definition.write_text(DEFINITION.format(index=index.isoformat(), window_start=window_start,
                                            codes=codes))
    rows = []
    failed = False
    for n in parse_sizes(args.sizes):
        record = work / f"twin-{n}"
        console.print(f"[bold]{n:,} patients[/]: record {record}")
        ensure_record(record, n, args.seed, index, console)
        database = work / f"ehrql-core-{n}.sqlite"
        t0 = time.perf_counter()
        counts = to_sqlite(record, database)
        console.print(f"  SQLite in ehrQL's core schema: {database.name} "
                      f"({counts['clinical_events']:,} events; {time.perf_counter() - t0:.0f} s)")
        times: dict[str, list[dict[str, Any]]] = {"ehrql": [], "pcn": []}
        out = {"ehrql": work / f"dataset-ehrql-{n}.arrow", "pcn": work / f"dataset-pcn-{n}.arrow"}
        for _ in range(args.repeats):
            times["ehrql"].append(measure(
                [str(ehrql), "generate-dataset", str(definition), "--output", str(out["ehrql"]),
                 "--dsn", f"sqlite:///{database}", "--query-engine", "sqlite"], work))
            times["pcn"].append(measure(
                [str(pcn), "bench", "dataset", "--record", str(record), "--output",
                 str(out["pcn"]), "--index-date", index.isoformat()], work))
        problems = compare(out["pcn"], out["ehrql"])
        failed |= bool(problems)
        for problem in problems:
            console.print(f"  [red]disagree[/]: {problem}")
        best = {k: min(v, key=lambda m: m["seconds"]) for k, v in times.items()}
        rows.append({"patients": n, "events": counts["clinical_events"],
                     "dataset_rows": feather.read_table(out["pcn"]).num_rows,
                     "ehrql_s": [m["seconds"] for m in times["ehrql"]],
                     "pcn_s": [m["seconds"] for m in times["pcn"]],
                     "ehrql_peak_mb": best["ehrql"]["peak_mb"],
                     "pcn_peak_mb": best["pcn"]["peak_mb"],
                     "speedup": best["ehrql"]["seconds"] / best["pcn"]["seconds"],
                     "agree": not problems, "load_average": os.getloadavg()[0]})
        console.print(json.dumps(rows[-1]))
    table = Table(title=f"pcn beside ehrQL (SQLite engine), index date {index:%-d %b %Y}, "
                  "whole processes", header_style="bold")
    for col in ("patients", "events", "dataset rows", "ehrQL s (each run)", "pcn s (each run)",
                "speed-up (best/best)", "ehrQL peak MB", "pcn peak MB", "rows agree",
                "load avg"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(f"{r['patients']:,}", f"{r['events']:,}", f"{r['dataset_rows']:,}",
                      " / ".join(f"{s:.2f}" for s in r["ehrql_s"]),
                      " / ".join(f"{s:.2f}" for s in r["pcn_s"]), f"{r['speedup']:.1f}×",
                      f"{r['ehrql_peak_mb']:,.0f}", f"{r['pcn_peak_mb']:,.0f}",
                      "yes" if r["agree"] else "NO", f"{r['load_average']:.1f}")
    console.print(table)
    console.print("goal (issue 18): ≥ 10× at every size from 50k. Both sides are whole processes "
                  "from start-up to a written Arrow file; the SQLite load is not timed.")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
