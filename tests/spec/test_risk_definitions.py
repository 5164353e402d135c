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
        for cid in condition.codelist_ids():
            assert len(codelist(cid)) > 0, cid


def test_cms_rules_are_structured_as_documented() -> None:
    rules = {c.id: c for c in cms_definition().conditions}
    assert rules["CAN"].codes is not None
    assert (rules["CAN"].codes.when, rules["CAN"].codes.months) == ("first_within", 60)
    assert rules["AST"].combine == "and"
    pain = rules["PNC"].medications
    assert [m.min_issues for m in pain] == [4, 4]
    assert pain[1].unless_coded == ("nhsd-primary-care-domain-refsets-epil_cod",)
    assert rules["IBS"].codes is None and rules["IBS"].medications == ()


def test_cms_definition_model_refuses_inconsistent_rules() -> None:
    import pytest
    from pydantic import ValidationError

    from pcn.risk.cms import CmsCondition

    base = {"id": "X", "title": "x", "original_rule": "r", "pcn_rule": "r"}
    codes = {"codelists": ["a"], "when": "ever"}
    with pytest.raises(ValidationError, match="not_available but has a rule"):
        CmsCondition.model_validate(base | {"codes": codes, "status": "not_available"})
    with pytest.raises(ValidationError, match="needs a code or medication rule"):
        CmsCondition.model_validate(base | {"status": "proxy"})
    with pytest.raises(ValidationError, match="combine 'and'"):
        CmsCondition.model_validate(base | {"codes": codes, "combine": "and", "status": "proxy"})
    with pytest.raises(ValidationError, match="months"):
        CmsCondition.model_validate(
            base | {"codes": {"codelists": ["a"], "when": "within"}, "status": "proxy"})
    with pytest.raises(ValidationError, match="extra"):
        CmsCondition.model_validate(base | {"codes": codes, "status": "proxy", "typo": 1})
