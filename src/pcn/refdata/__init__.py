"""Real public reference data shipped inside pcn, and questions answered from it.

Practices and their PCN/sub-ICB/ICB/region (QOF 2023-24 mapping), list sizes and age structure
(Apr 2020), LSOA deprivation (IMD 2019), rurality, centroids and population, QOF modelled
prevalence by IMD decile, and the codelists. Sources and licences: ``data/ATTRIBUTION.md``.
"""

from pcn.refdata.codelists import (
    Codelist,
    UnknownCodelist,
    codelist,
    codelist_codes,
    codelist_ids,
)
from pcn.refdata.places import (
    UnknownCode,
    imd_decile,
    lsoa,
    lsoas,
    lsoas_near,
    pcn_practices,
    pcns,
    practice,
    practices,
    qof_prevalence_by_imd,
    qof_prevalence_by_region,
)

__all__ = [
    "Codelist",
    "UnknownCode",
    "UnknownCodelist",
    "codelist",
    "codelist_codes",
    "codelist_ids",
    "imd_decile",
    "lsoa",
    "lsoas",
    "lsoas_near",
    "pcn_practices",
    "pcns",
    "practice",
    "practices",
    "qof_prevalence_by_imd",
    "qof_prevalence_by_region",
]
