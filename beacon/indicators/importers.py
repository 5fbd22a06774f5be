"""Indicator importers (KS2, KS4, census context, absence, LAIT benchmarks, statistical neighbours).

Every source validates each registered cell in the framework (a bad number rejects the whole file with
its row and column), keeps DfE codes (SUPP, NE, NP, LOWCOV, NA, '-' ...) as a status, and writes with
bulk upserts by natural key, so importing a file twice changes nothing.

Year conventions (stored year = the calendar year the academic year starts in, 2018 = 2018/19):

* school performance files are named and labelled by the summer exam series: KS2 '2016' = 2015/16;
* CSP 2018-19 census (January 2019) and absence files are 2018/19 (see ABSENCE_YEAR_NOTE);
* LAIT labels are converted by `lait_year` (see its docstring).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings

from beacon.imports.framework import (
    ROW_COL,
    Column,
    ImportContext,
    ImportRejected,
    Loader,
    LoadResult,
    Source,
    bulk_upsert,
    register,
)
from beacon.indicators.models import Area, AreaType, StatisticalNeighbour, ValueStatus
from beacon.indicators.services import save_area_measures, save_school_measures

# ---------------------------------------------------------------------------------------------
# Shared helpers for school-level files

# Rows that summarise a whole LA or England rather than one school (CSP files end with them).
SUMMARY_MARKERS = ("NAT",)


def _error(row: int, column: str, value: Any, reason: str) -> dict[str, Any]:
    return {"row": row, "column": column, "value": "" if value is None else str(value)[:80], "reason": reason}


def school_rows(
    df: pl.DataFrame, ctx: ImportContext, *, la_column: str | None = None
) -> tuple[pl.DataFrame, int]:
    """Keep rows for schools: URN (text) must be a whole number, or the row must be a summary row.

    Returns (rows with an integer `urn`, number of summary rows dropped). Any other URN rejects the file.
    With an LA filter, only schools the register holds for that LA are kept.
    """
    urn_text = pl.col("urn").cast(pl.Utf8)
    is_summary = pl.col("urn").is_null() | urn_text.is_in(SUMMARY_MARKERS)
    if la_column is not None:
        is_summary = is_summary | pl.col(la_column).is_in(SUMMARY_MARKERS).fill_null(False)
    marked = df.with_columns(is_summary.alias("__summary"), urn_text.str.contains(r"^\d+$").alias("__ok"))
    bad = marked.filter(~pl.col("__summary") & ~pl.col("__ok"))
    if bad.height:
        raise ImportRejected(
            [
                _error(r, "URN", v, "Not a URN (a whole number)")
                for r, v in bad.select(ROW_COL, "urn").iter_rows()
            ]
        )
    summary = marked.filter(pl.col("__summary")).height
    out = (
        marked.filter(~pl.col("__summary"))
        .with_columns(pl.col("urn").cast(pl.Int64))
        .drop("__summary", "__ok")
    )
    if ctx.la_code is not None:
        from beacon.schools.models import School

        urns = list(School.objects.filter(la_code=ctx.la_code).values_list("urn", flat=True))
        out = out.filter(pl.col("urn").is_in(urns))
    return out, summary


def measures_long(
    df: pl.DataFrame, measure_columns: dict[str, str], year: pl.Expr
) -> tuple[pl.DataFrame, int]:
    """(urn, measure, year, value, status) rows for the measure columns present in the file.

    A column the file does not have (every status 'missing') writes nothing, so a file with fewer
    columns never blanks values another file supplied. Blank cells are not stored either (counted).
    """
    parts = []
    blanks = 0
    for col, code in measure_columns.items():
        status = df[f"{col}__status"]
        if df.height and (status == ValueStatus.MISSING).all():
            continue
        part = df.select(
            pl.col("urn").cast(pl.Int64),
            pl.lit(code).alias("measure"),
            year.cast(pl.Int64).alias("year"),
            pl.col(col).cast(pl.Float64).round(6).alias("value"),
            pl.col(f"{col}__status").alias("status"),
        )
        blanks += part.filter(pl.col("status") == ValueStatus.MISSING).height
        parts.append(part.filter(pl.col("status") != ValueStatus.MISSING))
    if not parts:
        raise ImportRejected([_error(1, "", "", "The file has none of this source's measure columns")])
    return pl.concat(parts), blanks


def run_year(
    df: pl.DataFrame, ctx: ImportContext, year_column: str | None = None
) -> tuple[pl.Expr, list[str]]:
    """The academic (start) year: from the file's exam-year column when present, else the run's year."""
    notes: list[str] = []
    if year_column is not None and df.height and df[year_column].null_count() < df.height:
        missing = df.filter(pl.col(year_column).is_null())
        if missing.height:
            raise ImportRejected(
                [_error(r, "Academic Year", "", "Blank academic year") for r in missing[ROW_COL].to_list()]
            )
        years = sorted({y - 1 for y in df[year_column].to_list()})
        if ctx.year is not None and years != [ctx.year]:
            notes.append(f"The file's own year ({', '.join(map(str, years))}) was used, not {ctx.year}.")
        return pl.col(year_column) - 1, notes  # exam series (summer 2016) -> academic year 2015/16
    if ctx.year is None:
        raise ImportRejected(
            [_error(0, "", "", "This file has no academic year column: choose the academic year to import")]
        )
    return pl.lit(ctx.year), notes


def save_school_file(
    df: pl.DataFrame,
    ctx: ImportContext,
    measure_columns: dict[str, str],
    *,
    year_column: str | None = None,
    la_column: str | None = None,
) -> LoadResult:
    year, notes = run_year(df, ctx, year_column)
    rows, summary = school_rows(df, ctx, la_column=la_column)
    long, blanks = measures_long(rows, measure_columns, year)
    result = save_school_measures(long, ctx)
    if summary:
        notes.append(f"{summary} national or LA summary rows were not imported.")
    if blanks:
        notes.append(f"{blanks} blank cells were not stored.")
    result.notes = [*notes, *result.notes]
    return result


def num(name: str, *aliases: str) -> Column:
    return Column(name, aliases, "number", required=False)


URN = Column("urn", ("URN",))

# ---------------------------------------------------------------------------------------------
# KS2 (CSP final results: waiky8 renamed headers and the original CSP headers)

KS2_MEASURES = {
    "pupils": "ks2_pupils",
    "rwm_expected": "ks2_rwm_expected",
    "rwm_higher": "ks2_rwm_higher",
    "reading_expected": "ks2_reading_expected",
    "writing_expected": "ks2_writing_expected",
    "maths_expected": "ks2_maths_expected",
    "reading_progress": "ks2_reading_progress",
    "writing_progress": "ks2_writing_progress",
    "maths_progress": "ks2_maths_progress",
    "reading_score": "ks2_reading_score",
    "maths_score": "ks2_maths_score",
}

KS2_COLUMNS = (
    URN,
    Column("exam_year", ("Academic Year",), "int", required=False),
    num("pupils", "KS2 Pupils", "TELIG"),
    num("rwm_expected", "Overall Meet Std", "PTRWM_EXP"),
    num("rwm_higher", "Overall Exceed Std", "PTRWM_HIGH"),
    num("reading_expected", "Reading Meet Std", "PTREAD_EXP"),
    num("writing_expected", "Writing Meet Std", "PTWRITTA_EXP"),
    num("maths_expected", "Maths Meet Std", "PTMAT_EXP"),
    num("reading_progress", "Reading Progress", "READPROG"),
    num("writing_progress", "Writing Progress", "WRITPROG"),
    num("maths_progress", "Maths Progress", "MATPROG"),
    num("reading_score", "Reading Score", "READ_AVERAGE"),
    num("maths_score", "Maths Score", "MAT_AVERAGE"),
)


def load_ks2(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """KS2 school results. 'Academic Year' is the exam series (2016 = 2015/16, stored as 2015);
    a file without it (CSP england_ks2final) takes the run's year."""
    return save_school_file(df, ctx, KS2_MEASURES, year_column="exam_year")


KS2 = register(
    Source(
        key="ks2_results",
        label="KS2 results by school (Compare School Performance)",
        description=(
            "Key stage 2 school results: % meeting the expected and higher standard in reading, writing "
            "and maths, subject results, progress and average scaled scores."
        ),
        columns=KS2_COLUMNS,
        loader=load_ks2,
        demo_files=(
            ("waiky8-schools-data/ks2_perf_2016.csv", None),
            ("waiky8-schools-data/ks2_perf_2017.csv", None),
            ("waiky8-schools-data/ks2_perf_2018.csv", None),
            ("waiky8-eng-schools/england_ks2final.csv", 2018),  # 2018/19 progress only
        ),
    )
)

# ---------------------------------------------------------------------------------------------
# KS4

KS4_MEASURES = {
    "pupils": "ks4_pupils",
    "progress8": "ks4_progress8",
    "attainment8": "ks4_attainment8",
    "em_grade5": "ks4_em_grade5",
    "em_grade4": "ks4_em_grade4",
    "ebacc_entry": "ks4_ebacc_entry",
    "ebacc_aps": "ks4_ebacc_aps",
}

KS4_COLUMNS = (
    URN,
    Column("exam_year", ("Academic Year",), "int", required=False),
    Column("la", ("LEA", "LA"), required=False),
    num("pupils", "KS4 Pupils", "TPUP"),
    num("progress8", "Progress 8", "P8MEA"),
    num("attainment8", "Attainment 8", "ATT8SCR"),
    num("em_grade5", "Eng Maths Grade 5", "PTL2BASICS_95"),
    num("em_grade4", "PTL2BASICS_94"),
    num("ebacc_entry", "Entering EBacc", "PTEBACC_E_PTQ_EE"),
    num("ebacc_aps", "EBacc Avg Score", "EBACCAPS"),
)


def load_ks4(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """KS4 school results. 'Academic Year' is the exam series (2016 = 2015/16, stored as 2015); CSP
    files without it (england_ks4final, england_ks4provisional) take the run's year.

    One source with header aliases covers the renamed waiky8 files and the CSP headers. For 2018/19 the
    demo loads the provisional file first and the final file after it, so final figures win; only
    English and maths grade 4+ (PTL2BASICS_94, not in the trimmed final file) stays provisional.
    """
    return save_school_file(df, ctx, KS4_MEASURES, year_column="exam_year", la_column="la")


KS4 = register(
    Source(
        key="ks4_results",
        label="KS4 results by school (Compare School Performance)",
        description=(
            "Key stage 4 school results: Progress 8, Attainment 8, English and maths grade 5+ (and 4+), "
            "EBacc entry and EBacc average point score."
        ),
        columns=KS4_COLUMNS,
        loader=load_ks4,
        demo_files=(
            ("waiky8-schools-data/ks4_perf_2016.csv", None),
            ("waiky8-schools-data/ks4_perf_2017.csv", None),
            ("waiky8-schools-data/ks4_perf_2018.csv", None),
            ("kspdeveloper-csp-2018-19/england_ks4provisional.csv", 2018),
            ("waiky8-eng-schools/england_ks4final.csv", 2018),
        ),
    )
)

# ---------------------------------------------------------------------------------------------
# CSP census (January 2019) and absence

CENSUS_MEASURES = {
    "pupils": "pupils",
    "sen_ehcp": "sen_ehcp",
    "sen_support": "sen_support",
    "eal": "eal",
    "fsm_ever6": "fsm_ever6",
}

CSP_CENSUS_COLUMNS = (
    URN,
    Column("la", ("LA", "LEA")),
    num("pupils", "NOR"),
    num("sen_ehcp", "PSENELSE"),
    num("sen_support", "PSENELK"),
    num("eal", "PNUMEAL"),
    num("fsm_ever6", "PNUMFSMEVER"),
)


def load_csp_census(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """CSP census file: pupils on roll, % EHCP, % SEN support, % EAL, % FSM ever 6 for the run's year.

    The national rows at the end (URN 'NAT') are summaries and are not imported."""
    return save_school_file(df, ctx, CENSUS_MEASURES, la_column="la")


CSP_CENSUS = register(
    Source(
        key="csp_census",
        label="School census context (Compare School Performance)",
        description="Pupils on roll, % SEN support, % EHC plans, % EAL and % disadvantaged (FSM ever 6).",
        columns=CSP_CENSUS_COLUMNS,
        loader=load_csp_census,
        needs_year=True,
        la_filter_column="la",
        demo_files=(("kspdeveloper-csp-2018-19/england_census.csv", 2018),),  # January 2019 census
    )
)

ABSENCE_YEAR_NOTE = """
The CSP 2018-19 absence file holds 2018/19 absence (stored as 2018), not 2017/18. Checked against LAIT:
its national rows (PRI 4.0 / 8.2 PA, SEC 5.5 / 13.7, SPE 10.1 / 28.8) match LAIT England for '2019'
(= 2018/19: 4.03 / 8.25, 5.49 / 13.69, 10.13 / 28.85), not '2018' (4.17 / 8.67, 5.53 / 13.91,
10.22 / 29.65); Camden's pupil-weighted primary rate from this file (4.21) matches LAIT Camden 2018/19
(4.22), not 2017/18 (4.36).
"""

CSP_ABSENCE_COLUMNS = (
    URN,
    Column("la", ("LA", "LEA")),
    num("absence_overall", "PERCTOT"),
    num("absence_persistent", "PPERSABS10"),
)


def load_csp_absence(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """CSP absence: overall absence % and persistent absence (10%+) for the run's year."""
    return save_school_file(
        df,
        ctx,
        {"absence_overall": "absence_overall", "absence_persistent": "absence_persistent"},
        la_column="la",
    )


CSP_ABSENCE = register(
    Source(
        key="csp_absence",
        label="Absence by school (Compare School Performance)",
        description="Overall absence rate and persistent absence (missing 10% or more of sessions).",
        columns=CSP_ABSENCE_COLUMNS,
        loader=load_csp_absence,
        needs_year=True,
        la_filter_column="la",
        demo_files=(("kspdeveloper-csp-2018-19/england_abs.csv", 2018),),  # 2018/19: ABSENCE_YEAR_NOTE
    )
)

# ---------------------------------------------------------------------------------------------
# LAIT benchmarks (LA, region, England)

# LAIT 'Short Desc' -> Beacon measure code (codes checked in lait_data_dictionary.csv and the parquet).
LAIT_MEASURES: dict[str, str] = {
    # KS2
    "KS2RWM_Expected_STD": "ks2_rwm_expected",
    "KS2RWM_Higher_STD": "ks2_rwm_higher",
    "DAP_NEW_KS2_RWM": "ks2_rwm_expected_disadvantaged",
    "NonDAP_NEW_KS2_RWM": "ks2_rwm_expected_other",
    "KS2R_Expected_STD": "ks2_reading_expected",
    "KS2W_Teacher_Assess": "ks2_writing_expected",
    "KS2M_Expected_STD": "ks2_maths_expected",
    "KS2R_Prog_VA": "ks2_reading_progress",
    "KS2W_Prog_VA": "ks2_writing_progress",
    "KS2M_Prog_VA": "ks2_maths_progress",
    "KS2R_AVG_Scaled_Score": "ks2_reading_score",
    "KS2M_AVG_Scaled_Score": "ks2_maths_score",
    # Early years and phonics
    "FSP_NEW_GOODDEV": "eyfs_gld",
    "KS1P_all": "phonics_y1",
    # KS4
    "AVG_Attain8_Score": "ks4_attainment8",
    "DAP_KS4_ATT8": "ks4_attainment8_disadvantaged",
    "NonDAP_KS4_ATT8": "ks4_attainment8_other",
    "AVG_Prog8_Score": "ks4_progress8",
    "DAP_KS4_Prog8": "ks4_progress8_disadvantaged",
    "NonDAP_KS4_Prog8": "ks4_progress8_other",
    "EngMaths9-5": "ks4_em_grade5",
    "EngMaths9-4": "ks4_em_grade4",
    "EngBacEntries": "ks4_ebacc_entry",
    "EngBacAvgPointScore": "ks4_ebacc_aps",
    # Attendance and exclusions
    "TotAbs": "absence_overall",
    "TotUnAuthAbs": "absence_unauthorised",
    "TotPerAbNew": "absence_persistent",
    "TotFixedEx": "suspension_rate",
    "TotPermEx": "permanent_exclusion_rate",
    # SEND
    "SEN_TotSENSuP": "sen_support",
    "SEN_TotStat": "sen_ehcp",
    "NEW_KS2_RWM_Sen_W/Osta": "ks2_rwm_expected_sen_support",
    "NEW_KS2_RWM_Sen_Withsta": "ks2_rwm_expected_ehcp",
    "NoID_SEN_NEW_KS2_RWM": "ks2_rwm_expected_no_sen",
    "SEN_WoStat_AVG_Attain8_Score": "ks4_attainment8_sen_support",
    "SEN_Stat_AVG_Attain8_Score": "ks4_attainment8_ehcp",
    "SEN_NoID_AVG_Attain8_Score": "ks4_attainment8_no_sen",
    "SEN_WoStat_AVG_Prog8_Score": "ks4_progress8_sen_support",
    "SEN_Stat_AVG_Prog8_Score": "ks4_progress8_ehcp",
    "KS1P_SEND": "phonics_y1_sen_support",
    "KS1P_EHCP": "phonics_y1_ehcp",
    "SEN_EHC_All_20wks": "ehcp_issued_20wks",
    # Post-16
    "APSE_Alevel": "alevel_aps_per_entry",
    "Alevel_AAB": "alevel_aab",
    "Level3Age19": "level3_age19",
    "Level2Age19_E&M": "level2_em_age19",
    "16-17Ed&Training": "participation_16_17",
    "16-17 NEET": "neet_16_17",
}

ENGLAND = 970
LONDON = 986
SUB_REGIONS = {987: "Inner London", 988: "Outer London"}
REGION_CODES = range(980, 991)

LAIT_COLUMNS = (
    Column("indicator", ("Short Desc",)),
    Column("item", ("Data item",), required=False),
    Column("period", ("Years",)),
    Column("area_name", ("LA and Regions",)),
    Column("value", ("Values",), "number"),
    Column("area_code", ("LA Number",), "int"),
    Column("region", ("Region",), required=False),
)

_YEAR_PART = r"(\d{4}|\d{2})"
_REVISION_RANK = {"rev": 2, "final": 2, "": 1, "ot": 1, "prov": 0}


def lait_year(period: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(academic start year, revision rank) for LAIT 'Years' labels.

    Rule: a label names the academic year that ENDS in the last year it mentions, and we store that
    academic year by its start. So '2019' (KS2 exam series summer 2019, the January 2019 census, the
    2018/19 absence year, financial or calendar year 2019 - the dictionary's Year_Type) -> 2018;
    '2016/17' -> 2016; '2022-23 (OT)' -> 2022; ranges take their latest year: '2014-16' -> 2015,
    '2014/15-16/17' -> 2016. Checked on KS2 RWM (COVID gaps at '2020' and '2021' = 2019/20, 2020/21)
    and absence ('2020' missing = 2019/20 not collected; '2021' published).
    Suffixes rank revisions: '(Rev)' and '(Final)' beat a plain label, which beats '(prov)'.
    """
    text = period.cast(pl.Utf8).str.strip_chars()
    suffix = text.str.extract(r"\(([A-Za-z]+)\)\s*$", 1).str.to_lowercase().fill_null("")
    base = text.str.replace(r"\s*\([A-Za-z]+\)\s*$", "")
    valid = base.str.contains(r"^\d{4}([/-]\d{2,4})*$")
    last = base.str.extract(_YEAR_PART + r"$", 1)
    end = (
        pl.when(last.str.len_chars() == 2)
        .then(pl.lit("20") + last)
        .otherwise(last)
        .cast(pl.Int64, strict=False)
    )
    year = pl.when(valid & suffix.is_in(list(_REVISION_RANK))).then(end - 1).otherwise(None)
    rank = suffix.replace_strict(_REVISION_RANK, default=-1, return_dtype=pl.Int64)
    return year, rank


def _region_name(name: str) -> str:
    """LAIT spells 'Yorkshire and The Humber' for LAs and 'Yorkshire and the Humber' for the region."""
    return name.replace("The Humber", "the Humber")


def area_rows(df: pl.DataFrame) -> list[Area]:
    """One Area per code, typed by the DfE code ranges LAIT uses, in code order (so a national import gives
    every area the same id each time)."""
    out: list[Area] = []
    rows = df.select("area_code", "area_name", "region").unique(
        "area_code", keep="first", maintain_order=True
    )
    for code, name, region in rows.sort("area_code").iter_rows():
        region = None if region in (None, "NA") else region
        if code == ENGLAND:
            out.append(Area(code=code, name=name, area_type=AreaType.NATIONAL))
        elif code in SUB_REGIONS:
            out.append(Area(code=code, name=name, area_type=AreaType.INNER_OUTER, region="London"))
        elif code in REGION_CODES:
            out.append(Area(code=code, name=name, area_type=AreaType.REGION))
        elif region in SUB_REGIONS.values():
            out.append(
                Area(code=code, name=name, area_type=AreaType.LA, region="London", sub_region=str(region))
            )
        else:
            out.append(Area(code=code, name=name, area_type=AreaType.LA, region=_region_name(region or "")))
    return out


def neighbour_codes(la_code: int) -> set[int]:
    """Statistical neighbours of an LA: from the database (any model year) or, before those are imported,
    from the latest DfE neighbour file in the data directory."""
    held = set(
        StatisticalNeighbour.objects.filter(area__code=la_code).values_list("neighbour__code", flat=True)
    )
    if held:
        return held
    path = Path(settings.DATA_DIR) / SN_LATEST
    if not path.exists():
        return set()
    sn = read_sn_groups(path)
    row = sn.filter(pl.col("LA num") == str(la_code))
    return {
        int(v)
        for c in row.columns
        if re.fullmatch(r"SN\d+", c)
        for v in row[c].to_list()
        if v and v.isdigit()
    }


def lait_loader(measures: dict[str, str], *, prepare: Callable[[], object] | None = None) -> Loader:
    """The LAIT loader for one measure map ('Short Desc' -> Beacon code): LAIT long file -> Area rows and
    AreaMeasure values for the mapped indicators only. `prepare` runs first (e.g. to add the map's
    measures to the catalogue).

    Years: see `lait_year`; the source label is kept in period_label, and where two labels give the
    same year ('2018' and '2018 (Rev)') the revised figure is kept. '-' is stored as not_available.
    With an LA filter: that LA, its statistical neighbours, every LA in its region (all London boroughs
    for Camden), every region and sub-region and England.
    """

    def load(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
        if prepare is not None:
            prepare()
        df = df.filter(pl.col("indicator").is_in(list(measures)))
        year, rank = lait_year(pl.col("period"))
        df = df.with_columns(year.alias("year"), rank.alias("rank"))
        bad = df.filter(pl.col("year").is_null() | (pl.col("rank") < 0))
        if bad.height:
            raise ImportRejected(
                [
                    _error(r, "Years", v, "Not a year label LAIT uses (e.g. 2019, 2018/19, 2024 (Rev))")
                    for r, v in bad.select(ROW_COL, "period").head(200).iter_rows()
                ]
            )
        areas = area_rows(df)
        notes: list[str] = []
        if ctx.la_code is not None:
            by_code = {a.code: a for a in areas}
            home = by_code.get(ctx.la_code)
            if home is None:
                raise ImportRejected([_error(0, "LA Number", ctx.la_code, "This LA is not in the file")])
            keep = {ctx.la_code, *neighbour_codes(ctx.la_code)}
            keep |= {a.code for a in areas if a.area_type != AreaType.LA or a.region == home.region}
            areas = [a for a in areas if a.code in keep]
            df = df.filter(pl.col("area_code").is_in(list(keep)))
            notes.append(
                f"Kept {len(areas)} areas: LA {ctx.la_code}, its neighbours, its region's LAs, regions, England."
            )
        bulk_upsert(
            Area, areas, unique_fields=["code"], update_fields=["name", "area_type", "region", "sub_region"]
        )
        area_ids = dict(Area.objects.filter(code__in=[a.code for a in areas]).values_list("code", "id"))
        long = (
            df.sort("rank", "period")
            .unique(["area_code", "indicator", "year"], keep="last", maintain_order=True)
            .select(
                pl.col("area_code").replace_strict(area_ids, return_dtype=pl.Int64).alias("area_id"),
                pl.col("indicator").replace_strict(measures, return_dtype=pl.Utf8).alias("measure"),
                "year",
                pl.col("period").alias("period_label"),
                pl.col("value").round(6),
                pl.col("value__status").alias("status"),
            )
        )
        superseded = df.height - long.height
        if superseded:
            notes.append(f"{superseded} values were superseded by a revised figure for the same year.")
        result = save_area_measures(long, ctx)
        result.notes = [*notes, f"Areas: {len(areas)}.", *result.notes]
        return result

    return load


load_lait = lait_loader(LAIT_MEASURES)


LAIT = register(
    Source(
        key="lait_benchmarks",
        label="LAIT benchmarks (LA, region, England)",
        description=(
            "DfE Local Authority Interactive Tool long file: LA, regional and national values for KS2, "
            "phonics, EYFS, KS4, attendance, exclusions, SEND and post-16 indicators, 2016 onwards."
        ),
        columns=LAIT_COLUMNS,
        loader=load_lait,
        demo_files=(("dfe-lait/bds_long_0.parquet", None),),
    )
)

# ---------------------------------------------------------------------------------------------
# Statistical neighbours (DfE children's services statistical neighbour benchmarking tool)

SN_LATEST = "dfe-lait/sn_may_2025.xlsx"
SN_SHEET = "LA SN Groups"
OLD_SNS_MARKER = "Old SNs:"


def read_sn_groups(path: Path) -> pl.DataFrame:
    """Sheet 'LA SN Groups': two rows of column numbers above the real header row
    ('LA num, LA Name, LA number, GOInd, GOReg, SN1, SNP, SN2, SNP, ...'). Each SNP (closeness) is
    renamed after the SN column before it (SNP1 ... SNP10). All cells are text."""
    raw = pl.read_excel(path, sheet_name=SN_SHEET, has_header=False, infer_schema_length=0)
    first = raw.get_column(raw.columns[0]).to_list()
    header_at = next((i for i, v in enumerate(first[:10]) if (v or "").strip().lower() == "la num"), None)
    if header_at is None:
        raise ImportRejected(
            [
                _error(
                    3,
                    "LA num",
                    first[2] if len(first) > 2 else "",
                    "Header row 'LA num, LA Name, ...' not found",
                )
            ]
        )
    header = raw.row(header_at)
    names: list[str] = []
    last_sn = ""
    for i, h in enumerate(header):
        h = (h or "").strip()
        if re.fullmatch(r"SN\d+", h):
            last_sn = h[2:]
        elif h == "SNP" and last_sn:
            h = f"SNP{last_sn}"
        names.append(h or f"__blank{i}")
    body = raw.slice(header_at + 1)
    body.columns = names
    return body.select([n for n in names if not n.startswith("__blank")])


SN_COLUMNS = (
    Column("la_code", ("LA num",), "int"),
    Column("la_name", ("LA Name",)),
    Column("region", ("GOReg",), required=False),
    *(Column(f"sn{i}", (f"SN{i}",), required=i == 1) for i in range(1, 11)),
    *(Column(f"snp{i}", (f"SNP{i}",), required=False) for i in range(1, 11)),
)


def _sn_region(goreg: str | None) -> tuple[str, str]:
    """GOReg 'London (Inner)' -> ('London', 'Inner London')."""
    g = (goreg or "").strip()
    m = re.fullmatch(r"London \((Inner|Outer)\)", g)
    if m:
        return "London", f"{m.group(1)} London"
    return _region_name(g), ""


def load_statistical_neighbours(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """StatisticalNeighbour rows (rank 1-10, closeness from SNP) for the model year.

    The model year is the run's year, or the year in the file name (sn_may_2025.xlsx -> 2025).
    Neighbour cells hold LA numbers (or names): each is resolved to an Area by code or name; LAs the
    database does not hold yet are created from the file's own rows. LAs listed under 'Old SNs:'
    (pre-reorganisation councils) are not imported. With an LA filter: that LA and the LAs of its
    region (so neighbour comparisons work for every borough a London page may show).
    """
    model_year = ctx.year
    if model_year is None:
        m = re.search(r"(20\d{2})", ctx.file_name)
        if m is None:
            raise ImportRejected([_error(0, "", ctx.file_name, "Give the neighbour model year (e.g. 2025)")])
        model_year = int(m.group(1))
    marker = df.filter(pl.col("la_code").is_null() & (pl.col("la_name") == OLD_SNS_MARKER))
    notes: list[str] = []
    if marker.height:
        cut = marker[ROW_COL].min()
        old = df.filter(pl.col(ROW_COL) > cut).height
        df = df.filter(pl.col(ROW_COL) < cut)
        notes.append(f"{old} superseded LAs listed under '{OLD_SNS_MARKER}' were not imported.")
    blank = df.filter(pl.col("la_code").is_null())
    if blank.height:
        raise ImportRejected(
            [
                _error(r, "LA num", v, "Blank LA number")
                for r, v in blank.select(ROW_COL, "la_name").iter_rows()
            ]
        )
    # Areas: every LA row of the file (names and regions), then any the database already holds.
    file_las = {
        code: (name, *_sn_region(region))
        for code, name, region in df.select("la_code", "la_name", "region").iter_rows()
    }
    known = dict(Area.objects.values_list("code", "id"))
    by_name = {name.lower(): code for code, name in Area.objects.values_list("code", "name")}
    by_name.update({name.lower(): code for code, (name, _r, _s) in file_las.items()})
    # Long frame of (row, la_code, rank, neighbour text, closeness)
    parts = [
        df.select(
            ROW_COL,
            "la_code",
            pl.lit(i).alias("rank"),
            pl.col(f"sn{i}").alias("neighbour"),
            pl.col(f"snp{i}").alias("closeness"),
            pl.lit(f"SN{i}").alias("column"),
        )
        for i in range(1, 11)
    ]
    long = pl.concat(parts).filter(pl.col("neighbour").is_not_null() & (pl.col("neighbour") != "-"))
    if ctx.la_code is not None:
        home = file_las.get(ctx.la_code)
        if home is None:
            raise ImportRejected([_error(0, "LA num", ctx.la_code, "This LA is not in the file")])
        region = {c for c, (_n, r, _s) in file_las.items() if r == home[1]}
        long = long.filter(pl.col("la_code").is_in(list(region)))
    resolved = long.with_columns(
        pl.when(pl.col("neighbour").str.contains(r"^\d+(\.0)?$"))
        .then(pl.col("neighbour").str.replace(r"\.0$", "").cast(pl.Int64, strict=False))
        .otherwise(
            pl.col("neighbour")
            .str.to_lowercase()
            .replace_strict(by_name, default=None, return_dtype=pl.Int64)
        )
        .alias("neighbour_code")
    )
    codes_ok = set(file_las) | set(known)
    bad = resolved.filter(
        pl.col("neighbour_code").is_null() | ~pl.col("neighbour_code").is_in(list(codes_ok))
    )
    if bad.height:
        raise ImportRejected(
            [
                _error(r, c, v, "Not an LA in this file or in Beacon")
                for r, c, v in bad.select(ROW_COL, "column", "neighbour").iter_rows()
            ]
        )
    needed = set(resolved["la_code"].to_list()) | set(resolved["neighbour_code"].to_list())
    new_areas = [
        Area(
            code=c,
            name=file_las[c][0],
            area_type=AreaType.LA,
            region=file_las[c][1],
            sub_region=file_las[c][2],
        )
        for c in sorted(needed - set(known))
    ]
    if new_areas:
        Area.objects.bulk_create(new_areas)
        notes.append(f"{len(new_areas)} LAs were added to the area list.")
    ids = dict(Area.objects.filter(code__in=list(needed)).values_list("code", "id"))
    objs = [
        StatisticalNeighbour(
            area_id=ids[la],
            neighbour_id=ids[n],
            rank=rank,
            closeness=(closeness or "").strip().capitalize(),
            model_year=model_year,
            source_run=ctx.run,
        )
        for la, rank, n, closeness in resolved.select(
            "la_code", "rank", "neighbour_code", "closeness"
        ).iter_rows()
    ]
    inserted, updated = bulk_upsert(
        StatisticalNeighbour,
        objs,
        unique_fields=["area", "rank", "model_year"],
        update_fields=["neighbour", "closeness", "source_run"],
        ctx=ctx,
    )
    return LoadResult(inserted=inserted, updated=updated, notes=[f"Model year {model_year}.", *notes])


STATISTICAL_NEIGHBOURS = register(
    Source(
        key="statistical_neighbours",
        label="Statistical neighbours (DfE benchmarking model)",
        description="Each LA's ten statistical neighbours, in rank order, with how close each one is.",
        columns=SN_COLUMNS,
        loader=load_statistical_neighbours,
        reader=read_sn_groups,
        demo_files=(("dfe-lait/sn_april_2021.xlsx", 2021), ("dfe-lait/sn_may_2025.xlsx", 2025)),
    )
)
