import pytest

from pcn import refdata as rd


def test_pcn_practices_of_central_middlesbrough() -> None:
    df = rd.pcn_practices("u55830")
    assert set(df.practice_code) == {
        "A81016",
        "A81020",
        "A81023",
        "A81029",
        "A81037",
        "A81064",
        "A81621",
    }
    assert (df.pcn_name == "Central Middlesbrough PCN").all()
    assert df.list_size.sum() > 40_000
    # the age groups are consistent with the list size
    assert (df.age_65_over <= df.age_50_over).all()
    assert (df.age_18_over <= df.list_size).all()


def test_unknown_pcn_suggests_close_codes() -> None:
    with pytest.raises(rd.UnknownCode, match="did you mean"):
        rd.pcn_practices("U55831")


def test_lsoas_near_a_practice_are_sorted_and_local() -> None:
    near = rd.lsoas_near("A81016", n=20)
    assert near.distance_km.is_monotonic_increasing
    assert near.distance_km.max() < 10
    assert near.lad_name.str.contains("Middlesbrough|Redcar|Stockton").all()


def test_imd_decile_of_a_known_lsoa() -> None:
    # City of London 001A: IMD 2019 rank 29,199 of 32,844 -> decile 9 (MHCLG File 1)
    assert rd.imd_decile("E01000001") == 9
    assert int(rd.lsoa("E01000001")["imd_rank"]) == 29199
    with pytest.raises(rd.UnknownCode):
        rd.lsoa("W01000001")


def test_every_pcn_in_the_qof_mapping_is_available() -> None:
    assert len(rd.pcns()) == 1276
    assert len(rd.practices()) == 6267


def test_codelists_load_with_codes_and_terms() -> None:
    hyp = rd.codelist("nhsd-primary-care-domain-refsets-hyp_cod")
    assert "38341003" in hyp
    assert hyp.terms["38341003"].startswith("Hypertensive disorder")
    assert "efi-falls" in rd.codelist_ids()
    with pytest.raises(rd.UnknownCodelist, match="did you mean"):
        rd.codelist("nhsd-primary-care-domain-refsets-hyp_cood")


def test_qof_prevalence_has_every_decile() -> None:
    q = rd.qof_prevalence_by_imd()
    hyp = q[q.group_code == "HYP"]
    assert sorted(hyp.imd_decile) == list(range(1, 11))
    assert hyp.prevalence.between(0.05, 0.3).all()
