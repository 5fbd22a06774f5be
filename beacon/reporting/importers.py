"""Reporting sources: extra LAIT indicators (FSM breakdowns, HE entry, KS4 destinations) and KS4 results
by gender per school. Registered here and loaded by `manage.py load_reporting` (called by `make demo`).

They reuse the indicators pipeline (the LAIT loader `lait_loader` with its own measure map,
`save_school_file`), so the same conventions hold: DfE codes become a
status, academic years are stored by their starting year, re-importing a file changes nothing.
"""

from __future__ import annotations

import polars as pl

from beacon.imports.framework import (
    REGISTRY,
    Column,
    ImportContext,
    LoadResult,
    Source,
    register,
)
from beacon.indicators.importers import (
    LAIT_COLUMNS,
    URN,
    lait_loader,
    num,
    save_school_file,
)
from beacon.reporting.measures import ensure_reporting_measures

# LAIT 'Short Desc' -> Beacon code (checked in lait_data_dictionary.csv and the parquet).
LAIT_EXTRA: dict[str, str] = {
    "FSM_NEW_KS2_RWM": "ks2_rwm_expected_fsm",
    "NonFSM_NEW_KS2_RWM": "ks2_rwm_expected_non_fsm",
    "FSM_AVG_Attain8_Score": "ks4_attainment8_fsm",
    "NonFSM_AVG_Attain8_Score": "ks4_attainment8_non_fsm",
    "FSP_Gooddev_FSM": "eyfs_gld_fsm",
    "FSP_Gooddev_FSM_Other": "eyfs_gld_non_fsm",
    "KS1P_FSM": "phonics_y1_fsm",
    "KS1P_NonSEND": "phonics_y1_no_sen",
    "HE_19_All": "he_entry_age19",
    "SusEdOverall_All": "ks4_sustained_destination",
}


# As `beacon.indicators.importers.load_lait` (one LAIT loader), for the LAIT_EXTRA indicators.
load_lait_extra = lait_loader(LAIT_EXTRA, prepare=ensure_reporting_measures)


KS4_GENDER_MEASURES = {
    "attainment8_boys": "ks4_attainment8_boys",
    "attainment8_girls": "ks4_attainment8_girls",
    "progress8_boys": "ks4_progress8_boys",
    "progress8_girls": "ks4_progress8_girls",
}


def load_ks4_gender(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """KS4 school results by gender ('Academic Year' is the exam series: 2016 = 2015/16, stored 2015)."""
    ensure_reporting_measures()
    return save_school_file(df, ctx, KS4_GENDER_MEASURES, year_column="exam_year")


def _register(source: Source) -> Source:
    return REGISTRY.get(source.key) or register(source)


LAIT_EXTRA_SOURCE = _register(
    Source(
        key="lait_group_breakdowns",
        label="LAIT group breakdowns and destinations (LA, region, England)",
        description=(
            "LAIT indicators for group gaps and post-16 targets: KS2, KS4, EYFS and phonics by FSM "
            "eligibility, phonics with no SEN, entry to higher education by 19, KS4 sustained destinations."
        ),
        columns=LAIT_COLUMNS,
        loader=load_lait_extra,
        demo_files=(("dfe-lait/bds_long_0.parquet", None),),
    )
)

KS4_GENDER_SOURCE = _register(
    Source(
        key="ks4_results_by_gender",
        label="KS4 results by school and gender (Compare School Performance)",
        description="Attainment 8 and Progress 8 for boys and girls in each school.",
        columns=(
            URN,
            Column("exam_year", ("Academic Year",), "int", required=False),
            num("attainment8_boys", "Attainment 8 Boys"),
            num("attainment8_girls", "Attainment 8 Girls"),
            num("progress8_boys", "Progress 8 Boys"),
            num("progress8_girls", "Progress 8 Girls"),
        ),
        loader=load_ks4_gender,
        demo_files=(
            ("waiky8-schools-data/ks4_perf_2016.csv", None),
            ("waiky8-schools-data/ks4_perf_2017.csv", None),
            ("waiky8-schools-data/ks4_perf_2018.csv", None),
        ),
    )
)

REPORTING_SOURCES: tuple[Source, ...] = (LAIT_EXTRA_SOURCE, KS4_GENDER_SOURCE)
