"""The community directory in the Open Referral UK data model (HSDS 3.0 UK profile, ADR 0153).

Services are held as ORUK ``service`` objects (with their ``organization``, locations and
addresses, contacts and phones, age eligibility and needs as taxonomy terms) in the operational
store, one row per service with the columns search needs beside the document. Import validates
the whole file before writing; export writes the ORUK paginated list shape (``contents``), which
imports back to the same directory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import delete, select

from pcn.social.vocabulary import definitions
from pcn.store.database import Store, now_utc
from pcn.store.models import SocialService

#: The taxonomy whose terms are our needs (see ``definitions/social``).
NEEDS_VOCABULARY = "pcn-social-prescribing-needs"
_OUTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})?$")


class DirectoryError(ValueError):
    """A directory file that cannot be taken in (the message names the service and field)."""


class _Oruk(BaseModel):
    # Fields of the standard this directory does not use are dropped on import (ADR 0153).
    model_config = ConfigDict(extra="ignore")


class Organisation(_Oruk):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str | None = None
    email: str | None = None
    website: str | None = None


class Address(_Oruk):
    id: str = Field(min_length=1)
    address_1: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    address_type: str | None = None


class Location(_Oruk):
    id: str = Field(min_length=1)
    name: str | None = None
    description: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    addresses: list[Address] = Field(default_factory=list)


class ServiceAtLocation(_Oruk):
    id: str = Field(min_length=1)
    location: Location | None = None


class Phone(_Oruk):
    id: str = Field(min_length=1)
    number: str = Field(min_length=1)


class Contact(_Oruk):
    id: str = Field(min_length=1)
    name: str | None = None
    title: str | None = None
    email: str | None = None
    phones: list[Phone] = Field(default_factory=list)


class TaxonomyTerm(_Oruk):
    id: str = Field(min_length=1)
    code: str | None = None
    name: str = Field(min_length=1)
    vocabulary: str | None = None


class Attribute(_Oruk):
    id: str = Field(min_length=1)
    link_type: str | None = None
    taxonomy_term: TaxonomyTerm | None = None


class Service(_Oruk):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1)
    description: str | None = None
    url: str | None = None
    email: str | None = None
    status: str = "active"
    minimum_age: int | None = Field(default=None, ge=0, le=130)
    maximum_age: int | None = Field(default=None, ge=0, le=130)
    eligibility_description: str | None = None
    organization: Organisation
    service_at_locations: list[ServiceAtLocation] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    attributes: list[Attribute] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ages(self) -> Service:
        if (
            self.minimum_age is not None
            and self.maximum_age is not None
            and self.minimum_age > self.maximum_age
        ):
            raise ValueError(
                f"minimum_age {self.minimum_age} is above maximum_age {self.maximum_age}"
            )
        return self

    @property
    def needs(self) -> list[str]:
        return sorted(
            {
                a.taxonomy_term.code
                for a in self.attributes
                if a.taxonomy_term is not None
                and a.taxonomy_term.code
                and a.taxonomy_term.vocabulary == NEEDS_VOCABULARY
            }
        )

    @property
    def outcodes(self) -> list[str]:
        found = set()
        for sal in self.service_at_locations:
            for address in sal.location.addresses if sal.location else []:
                district = postcode_district(address.postal_code or "")
                if district:
                    found.add(district)
        return sorted(found)


def postcode_district(postcode: str) -> str | None:
    """The outward code (postcode district) of a UK postcode or of a district, e.g. ``LS6``."""
    match = _OUTCODE.match(postcode.strip().upper())
    return match.group(1) if match else None


def parse_directory(data: Any) -> list[Service]:
    """Services from ORUK JSON: a paginated list (``contents``), a list, or one service."""
    if isinstance(data, dict) and "contents" in data:
        items = data["contents"]
    elif isinstance(data, dict):
        items = [data]
    else:
        items = data
    if not isinstance(items, list):
        raise DirectoryError(
            "expected ORUK services: a list page with 'contents', a list of services or one service"
        )
    services: list[Service] = []
    problems: list[str] = []
    needs = definitions().need_terms
    for number, item in enumerate(items, start=1):
        label = f"service {number}"
        if isinstance(item, dict) and item.get("id"):
            label += f" ({item['id']})"
        try:
            service = Service.model_validate(item)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "service"
            problems.append(f"{label}: {where}: {first['msg']}")
            continue
        unknown = [n for n in service.needs if n not in needs]
        if unknown:
            problems.append(
                f"{label}: attributes: need {unknown[0]!r} is not one of the "
                "needs this network records"
            )
            continue
        services.append(service)
    ids = [s.id for s in services]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        problems.append(f"service id {repeated[0]!r} appears more than once")
    if problems:
        raise DirectoryError("nothing imported; " + "; ".join(problems[:10]))
    return services


def read_directory_file(path: Path) -> list[Service]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise DirectoryError(f"cannot read {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise DirectoryError(f"{path.name} is not JSON (line {e.lineno}: {e.msg})") from None
    return parse_directory(data)


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int


def import_services(store: Store, services: Sequence[Service], *, username: str) -> ImportResult:
    """Add or replace services by id, in one transaction."""
    now = now_utc()
    with store.session() as session:
        held = set(
            session.scalars(
                select(SocialService.id).where(SocialService.id.in_([s.id for s in services]))
            )
        )
        if held:
            session.execute(delete(SocialService).where(SocialService.id.in_(sorted(held))))
        session.add_all(
            SocialService(
                id=s.id,
                organisation_id=s.organization.id,
                name=s.name,
                status=s.status,
                minimum_age=s.minimum_age,
                maximum_age=s.maximum_age,
                needs=s.needs,
                outcodes=s.outcodes,
                document=s.model_dump(mode="json", exclude_none=True),
                updated_by=username,
                updated_at=now,
            )
            for s in services
        )
    return ImportResult(added=len(services) - len(held), updated=len(held))


def all_services(store: Store) -> list[Service]:
    with store.read() as session:
        rows = session.scalars(
            select(SocialService).order_by(SocialService.name, SocialService.id)
        ).all()
    return [Service.model_validate(r.document) for r in rows]


def export_page(services: Sequence[Service]) -> dict[str, Any]:
    """One ORUK list page holding every service (HSDA list shape)."""
    return {
        "total_items": len(services),
        "total_pages": 1,
        "page_number": 1,
        "size": len(services),
        "first_page": True,
        "last_page": True,
        "empty": not services,
        "contents": [s.model_dump(mode="json", exclude_none=True) for s in services],
    }


@dataclass(frozen=True)
class Search:
    need: str | None = None
    postcode: str | None = None
    age: int | None = None
    text: str | None = None


def search(services: Sequence[Service], wanted: Search) -> list[Service]:
    """Active services meeting every criterion given: a need they list, a location in the
    person's postcode district, an age within their eligibility, words in name/description."""
    district = postcode_district(wanted.postcode) if wanted.postcode else None
    if wanted.postcode and district is None:
        raise DirectoryError(f"{wanted.postcode!r} is not a UK postcode or postcode district")
    if wanted.need and wanted.need not in definitions().need_terms:
        raise DirectoryError(
            f"{wanted.need!r} is not a need; needs are {', '.join(definitions().need_terms)}"
        )
    words = (wanted.text or "").lower().split()
    out = []
    for s in services:
        if s.status != "active":
            continue
        if wanted.need and wanted.need not in s.needs:
            continue
        if district and district not in s.outcodes:
            continue
        if wanted.age is not None and (
            (s.minimum_age is not None and wanted.age < s.minimum_age)
            or (s.maximum_age is not None and wanted.age > s.maximum_age)
        ):
            continue
        haystack = f"{s.name} {s.description or ''} {s.organization.name}".lower()
        if any(w not in haystack for w in words):
            continue
        out.append(s)
    return out
