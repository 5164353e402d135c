"""Load the reviewed funding definitions (``pcn/definitions/funding/*.yaml``) into typed objects."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

_DIR = resources.files("pcn.definitions") / "funding"


class FundingDefinitionError(ValueError):
    """A funding definition file that is missing a field or has a wrong value."""


def _load(name: str) -> dict[str, Any]:
    text = (_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise FundingDefinitionError(f"{name}.yaml: expected a mapping at the top level")
    return data


def _need(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] in (None, ""):
        raise FundingDefinitionError(f"{where}: field {key!r} is missing")
    return data[key]


@dataclass(frozen=True)
class AgeBand:
    id: str
    title: str
    min_age: int
    max_age: int | None
    weight: float


@dataclass(frozen=True)
class Component:
    id: str
    title: str
    carr_hill: str
    status: str  # estimated | proxy | not_available
    pcn: str


@dataclass(frozen=True)
class CarrHill:
    title: str
    source: str
    age_bands: tuple[AgeBand, ...]
    rural_weight: float
    components: tuple[Component, ...]
    fit: dict[str, Any]

    def band_for(self, age: int) -> AgeBand:
        for band in self.age_bands:
            if age >= band.min_age and (band.max_age is None or age <= band.max_age):
                return band
        raise FundingDefinitionError(f"no age band covers age {age}")


@dataclass(frozen=True)
class ImdNeed:
    title: str
    source: str
    register_groups: tuple[str, ...]
    population_group: str
    missing_decile_need: float


@cache
def carr_hill() -> CarrHill:
    d = _load("carr_hill")
    bands = []
    for i, b in enumerate(_need(d, "age_bands", "carr_hill.yaml")):
        where = f"carr_hill.yaml age_bands[{i}]"
        bands.append(AgeBand(id=_need(b, "id", where), title=_need(b, "title", where),
                             min_age=int(b.get("min_age", 0)), max_age=b.get("max_age"),
                             weight=float(_need(b, "weight", where))))
    comps = []
    for i, c in enumerate(_need(d, "components", "carr_hill.yaml")):
        where = f"carr_hill.yaml components[{i}]"
        status = _need(c, "status", where)
        if status not in {"estimated", "proxy", "not_available"}:
            raise FundingDefinitionError(f"{where}: status {status!r} is not one of "
                                         "estimated, proxy, not_available")
        comps.append(Component(id=_need(c, "id", where), title=_need(c, "title", where),
                               carr_hill=_need(c, "carr_hill", where), status=status,
                               pcn=_need(c, "pcn", where)))
    return CarrHill(title=_need(d, "title", "carr_hill.yaml"),
                    source=_need(d, "source", "carr_hill.yaml"), age_bands=tuple(bands),
                    rural_weight=float(_need(d, "rural_weight", "carr_hill.yaml")),
                    components=tuple(comps), fit=dict(d.get("fit") or {}))


@cache
def imd_need() -> ImdNeed:
    d = _load("imd_need")
    return ImdNeed(title=_need(d, "title", "imd_need.yaml"),
                   source=_need(d, "source", "imd_need.yaml"),
                   register_groups=tuple(_need(d, "register_groups", "imd_need.yaml")),
                   population_group=_need(d, "population_group", "imd_need.yaml"),
                   missing_decile_need=float(d.get("missing_decile_need", 1.0)))


@cache
def rates() -> dict[str, Any]:
    return _load("rates")
