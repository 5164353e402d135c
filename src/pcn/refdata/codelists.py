"""Codelists: OpenCodelists-format CSVs (``code,term``) in ``pcn/definitions/codelists``.

A codelist id is its file name without ``.csv``. Users may drop any OpenCodelists export in the
directory named by ``PCN_CODELISTS_DIR`` to add or override lists.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd


class UnknownCodelist(LookupError):
    pass


@dataclass(frozen=True)
class Codelist:
    id: str
    codes: frozenset[str]
    terms: dict[str, str]

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __len__(self) -> int:
        return len(self.codes)


def _dirs() -> list[Path]:
    dirs = []
    extra = os.environ.get("PCN_CODELISTS_DIR")
    if extra:
        dirs.append(Path(extra))
    with resources.as_file(resources.files("pcn.definitions") / "codelists") as p:
        dirs.append(Path(p))
    return dirs


def codelist_ids() -> list[str]:
    ids: set[str] = set()
    for d in _dirs():
        if d.exists():
            ids.update(p.stem for p in d.glob("*.csv"))
    return sorted(ids)


def _path(codelist_id: str) -> Path:
    for d in _dirs():
        p = d / f"{codelist_id}.csv"
        if p.exists():
            return p
    import difflib

    close = difflib.get_close_matches(codelist_id, codelist_ids(), n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise UnknownCodelist(f"no codelist {codelist_id!r}{hint}")


@cache
def codelist(codelist_id: str) -> Codelist:
    path = _path(codelist_id)
    codes: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "code" not in reader.fieldnames:
            raise ValueError(f"{path}: an OpenCodelists CSV needs a 'code' column")
        for row in reader:
            code = (row.get("code") or "").strip()
            if code:
                codes[code] = (row.get("term") or "").strip()
    return Codelist(codelist_id, frozenset(codes), codes)


def codelist_codes(codelist_id: str) -> frozenset[str]:
    return codelist(codelist_id).codes


def codelist_frame(codelist_id: str) -> pd.DataFrame:
    return pd.read_csv(_path(codelist_id), dtype=str)
