"""Spec: every register definition on a tiny population derived from its own fields, on every
engine; and the definition model refuses malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pcn.analytics.dryrun import dry_run, tiny_population
from pcn.analytics.registers import (
    DefinitionError,
    Register,
    default_registers,
    load_register,
    load_registers,
    register_json_schema,
)

EXPECTED_REGISTERS = {
    "hypertension", "diabetes", "asthma", "copd", "chd", "stroke_tia", "af", "heart_failure",
    "ckd", "dementia", "depression", "smi", "learning_disability", "epilepsy", "osteoporosis",
    "rheumatoid_arthritis", "pad", "cancer", "palliative_care", "ndh", "obesity",
}


def test_every_qof_register_is_defined_and_cites_qof() -> None:
    regs = {r.id: r for r in default_registers()}
    assert set(regs) == EXPECTED_REGISTERS
    for r in regs.values():
        assert "business rules" in r.source.document and r.source.year
        assert r.next_review > r.date_reviewed


def test_register_rules_from_qof() -> None:
    regs = {r.id: r for r in default_registers()}
    assert regs["diabetes"].min_age == 17
    assert {regs[i].min_age for i in ("ckd", "depression", "epilepsy", "ndh", "obesity")} == {18}
    assert regs["osteoporosis"].min_age == 50 and regs["rheumatoid_arthritis"].min_age == 16
    assert str(regs["depression"].diagnosed_from) == "2006-04-01"
    assert str(regs["cancer"].diagnosed_from) == "2003-04-01"
    assert regs["ndh"].excluding_registers == ["diabetes"]
    assert regs["obesity"].value_criterion is not None
    assert regs["obesity"].value_criterion.min_value == 30


def test_registers_come_after_those_they_exclude() -> None:
    order = [r.id for r in load_registers()]
    assert order.index("diabetes") < order.index("ndh")


def test_every_register_dry_run_agrees(engine_kind) -> None:
    registers = default_registers()
    cases = tiny_population(registers).cases
    assert {c.register for c in cases} == EXPECTED_REGISTERS
    # every register has positive and negative cases
    for rid in EXPECTED_REGISTERS:
        assert {c.expected for c in cases if c.register == rid} == {True, False}
    mismatches = dry_run(registers, engine_kind)
    assert [str(m) for m in mismatches] == []


def test_dry_run_catches_a_wrong_definition() -> None:
    """A definition whose codes do not match the population's is reported, not passed."""
    hyp = next(r for r in default_registers() if r.id == "hypertension")
    # Shift the age limit after building cases: the 'aged exactly N' case must now fail.
    pop_registers = [hyp.model_copy(update={"min_age": 40})]
    cases = tiny_population(pop_registers).cases
    assert any("aged exactly 40" in c.why for c in cases)
    from pcn.analytics import dryrun

    original = dryrun.tiny_population
    try:
        dryrun.tiny_population = lambda regs: original(pop_registers)  # type: ignore[assignment]
        mismatches = dry_run([hyp.model_copy(update={"min_age": 41})])
    finally:
        dryrun.tiny_population = original  # type: ignore[assignment]
    assert any("aged exactly 40" in m.case.why for m in mismatches)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


BASE = """
id: {id}
title: Test
description: test
codelists: [nhsd-primary-care-domain-refsets-hyp_cod]
source: {{document: QOF business rules v49.0, publisher: NHS England, year: 2024-25, rule: HYP}}
authored_by: a
checked_by: b
date_reviewed: 2026-01-01
next_review: 2027-01-01
"""


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "x", BASE.format(id="x") + "colour: blue\n")
    with pytest.raises(DefinitionError, match=r"x.yaml.*colour"):
        load_register(path)


def test_unknown_codelist_is_refused(tmp_path: Path) -> None:
    text = BASE.format(id="x").replace("hyp_cod]", "hyp_codd]")
    with pytest.raises(DefinitionError, match=r"no codelist.*hyp_codd"):
        load_register(_write(tmp_path, "x", text))


def test_id_must_match_file_name(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="must equal the file name"):
        load_register(_write(tmp_path, "y", BASE.format(id="x")))


def test_unknown_excluded_register_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "x", BASE.format(id="x") + "excluding_registers: [nope]\n")
    with pytest.raises(DefinitionError, match="unknown 'nope'"):
        load_registers(tmp_path)


def test_json_schema_forbids_extra_fields() -> None:
    schema = register_json_schema()
    assert '"additionalProperties": false' in schema
    assert Register.model_json_schema()["title"] == "Register"


def test_published_json_schema_is_current() -> None:
    path = Path(__file__).resolve().parents[2] / "docs" / "reference" / "register.schema.json"
    assert path.read_text() == register_json_schema(), (
        "regenerate with: pcn definitions schema --out docs/reference/register.schema.json")


def test_every_register_is_documented() -> None:
    path = Path(__file__).resolve().parents[2] / "docs" / "reference" / "registers.md"
    text = path.read_text()
    for rid in EXPECTED_REGISTERS:
        assert f"| `{rid}` |" in text, rid
