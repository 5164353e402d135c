"""Every codelist a risk definition names is shipped and non-empty."""

from __future__ import annotations

import csv
from importlib import resources

from pcn.refdata import codelist
from pcn.risk.cms import cms_definition
from pcn.risk.efi import efi_definition


def test_every_efi_codelist_exists_and_matches_the_reference_deficit_list() -> None:
    for deficit in efi_definition().deficits:
        if deficit.codelist:
            assert deficit.codelist == f"efi-{deficit.id}"
            assert len(codelist(deficit.codelist)) > 0
    ref = resources.files("pcn.refdata") / "data" / "efi_deficits.csv"
    with ref.open(encoding="utf-8") as f:
        reference_ids = {row["deficit_id"] for row in csv.DictReader(f)}
    assert {d.id for d in efi_definition().deficits} == reference_ids


def test_every_cms_codelist_exists() -> None:
    for condition in cms_definition().conditions:
        for cid in (*condition.codelists, *condition.medication_codelists):
            assert len(codelist(cid)) > 0, cid
