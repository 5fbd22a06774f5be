"""Import source for the public profile: KS4 destinations by school (DfE, 2018/19 performance tables
release: pupils who finished KS4 in 2016/17 and their sustained destinations in 2017/18).

It reuses the indicators pipeline (`save_school_file`: LA filter, summary rows dropped, DfE codes such as
SUPP / SP / NA kept as a status, blank cells not stored, re-imports change nothing).
"""

from __future__ import annotations

import polars as pl

from beacon.imports.framework import REGISTRY, Column, ImportContext, LoadResult, Source, register
from beacon.indicators.importers import URN, num, save_school_file
from beacon.profiles.measures import ensure_profile_measures

DESTINATION_COLUMNS: dict[str, str] = {
    "dest_cohort": "ks4dest_cohort",
    "dest_overall": "ks4dest_overall",
    "dest_education": "ks4dest_education",
    "dest_school_sixth": "ks4dest_school_sixth",
    "dest_sixth_college": "ks4dest_sixth_college",
    "dest_fe": "ks4dest_fe",
    "dest_other_education": "ks4dest_other_education",
    "dest_apprenticeship": "ks4dest_apprenticeship",
    "dest_employment": "ks4dest_employment",
    "dest_not_sustained": "ks4dest_not_sustained",
    "dest_unknown": "ks4dest_unknown",
    "dest_cohort_dis": "ks4dest_cohort_disadvantaged",
    "dest_overall_dis": "ks4dest_overall_disadvantaged",
}


def load_ks4_destinations(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    ensure_profile_measures()
    return save_school_file(df, ctx, DESTINATION_COLUMNS, la_column="la")


def _register(source: Source) -> Source:
    return REGISTRY.get(source.key) or register(source)


KS4_DESTINATIONS = _register(
    Source(
        key="ks4_destinations",
        label="KS4 destinations by school (Compare School Performance)",
        description=(
            "Where each school's year 11 pupils went next (sustained education, apprenticeship, employment), "
            "all pupils and disadvantaged pupils, as percentages of the cohort."
        ),
        columns=(
            URN,
            Column("la", ("LEA", "LA"), required=False),
            num("dest_cohort", "COHORT"),
            num("dest_overall", "OVERALL_DESTPER"),
            num("dest_education", "EDUCATIONPER"),
            num("dest_school_sixth", "SCH_6THPER"),
            num("dest_sixth_college", "SIXTH_COLPER"),
            num("dest_fe", "FEPER"),
            num("dest_other_education", "OTHER_EDUPER"),
            num("dest_apprenticeship", "APPRENPER"),
            num("dest_employment", "EMPLOYMENTPER"),
            num("dest_not_sustained", "NOT_SUSTAINEDPER"),
            num("dest_unknown", "UNKNOWNPER"),
            num("dest_cohort_dis", "COHORT_DIS"),
            num("dest_overall_dis", "OVERALL_DESTPER_DIS"),
        ),
        loader=load_ks4_destinations,
        demo_files=(
            ("kspdeveloper-csp-2018-19/england_ks4-pupdest.csv", 2017),
            # CSP 2024-2025 release: pupils who finished KS4 in 2022/23, destinations in 2023/24
            ("calvinchankf-csp-2024-25/england_ks4-pupdest.csv", 2023),
        ),
    )
)
