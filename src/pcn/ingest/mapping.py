"""Column mappings for tabular practice extracts (YAML, validated, versioned).

A mapping describes one source layout (e.g. an EMIS Web or SystmOne search export): which input
file feeds which record table, which source column holds each record column, how dates are
written and how coded values translate. ``layout`` + ``version`` identify it; change the version
whenever the meaning of a column changes, so a load's manifest says exactly how it was read.
"""

from __future__ import annotations

import fnmatch
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Target = Literal["patients", "clinical_events", "medications"]

#: Record columns each target needs from the source (beyond nhs_number, always required).
REQUIRED = {
    "patients": ("date_of_birth", "sex"),
    "clinical_events": ("date", "snomed_code"),
    "medications": ("date", "dmd_code"),
}
OPTIONAL = {
    "patients": ("ethnicity_code", "lsoa_code", "date_of_death", "practice_code",
                 "registration_start", "registration_end"),
    "clinical_events": ("numeric_value", "unit"),
    "medications": ("quantity",),
}


class MappingError(Exception):
    """A mapping file is missing or invalid."""


class FileMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: str = Field(description="Glob on the input file name, e.g. '*patient*.csv'")
    table: Target
    columns: dict[str, str] = Field(description="record column -> source column header")
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="record column -> {source value: record value}")
    code_system: Literal["snomed", "dmd"] | None = None

    @model_validator(mode="after")
    def _columns_known(self) -> FileMapping:
        allowed = {"nhs_number", *REQUIRED[self.table], *OPTIONAL[self.table]}
        unknown = set(self.columns) - allowed
        if unknown:
            raise ValueError(f"{self.table}: unknown record column(s) {sorted(unknown)}; "
                             f"allowed: {sorted(allowed)}")
        missing = {"nhs_number", *REQUIRED[self.table]} - set(self.columns)
        if missing:
            raise ValueError(f"{self.table}: no source column for {sorted(missing)}")
        for col in self.values:
            if col not in self.columns:
                raise ValueError(f"values given for unmapped column {col!r}")
        return self


class ExtractMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layout: str
    version: int = Field(ge=1)
    title: str
    source_system: str
    illustrative: bool = Field(description="True when the layout is an example, not a "
                               "supplier-published specification")
    description: str
    date_format: str = Field(description="strptime format of dates in the extract")
    files: list[FileMapping] = Field(min_length=1)

    def for_file(self, path: Path) -> FileMapping | None:
        for f in self.files:
            if fnmatch.fnmatch(path.name.lower(), f.match.lower()):
                return f
        return None


def load_mapping(path_or_name: str | Path) -> ExtractMapping:
    """A mapping from a YAML file, or a shipped one by layout name (e.g. ``emis_search_v1``)."""
    p = Path(path_or_name)
    if p.exists():
        text = p.read_text()
    else:
        shipped = resources.files("pcn.ingest") / "mappings" / f"{path_or_name}.yaml"
        if not shipped.is_file():
            raise MappingError(f"{path_or_name}: no such mapping file or shipped layout "
                               f"(shipped: {', '.join(shipped_layouts())})")
        text = shipped.read_text()
    try:
        return ExtractMapping.model_validate(yaml.safe_load(text))
    except (ValidationError, yaml.YAMLError) as e:
        raise MappingError(f"{path_or_name}: invalid mapping: {e}") from e


def shipped_layouts() -> list[str]:
    d = resources.files("pcn.ingest") / "mappings"
    return sorted(f.name[:-5] for f in d.iterdir() if f.name.endswith(".yaml"))
