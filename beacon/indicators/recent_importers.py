"""Importers for the recent school-level files (2022/23-2024/25) and DfE's current absence and
suspensions files (issue 11; decision 0014).

Same guarantees as `indicators/importers.py`: a column registry with aliases, DfE codes (SUPP, NE, NP,
NA, c, x, z, '%' signs stripped) kept as a status, every cell validated before anything is written
(row + column in the errors), one transaction, upserts by (school, measure, year), the same file twice
skipped by its SHA-256. Values from different files for the same school, measure and year follow one
precedence (`indicators/precedence.py`), applied where every school value is written.

Years are stored by their start year (2024 = 2024/25): from the file's own year column where it has one
('2024/25', '202425'), else the run's year (`demo_files` gives it for `make run`).

Rows the register does not hold are counted and named in the run's notes; so are charleskk6 rows whose
URN was matched by name and is ambiguous or missing (never guessed). After schools join the register,
the same file is imported again rather than skipped (`framework.register_changed_since`, told by beacon.schools.lookup), and
`load_demo` loads these sources after every register source (`demo.LATE_ORDER`).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from beacon.imports.framework import (
    REGISTRY,
    ROW_COL,
    Column,
    ImportContext,
    ImportRejected,
    Loader,
    LoadResult,
    Source,
    register,
)
from beacon.indicators.importers import URN, measures_long, num
from beacon.indicators.services import save_school_measures
from beacon.schools.lookup import school_ids_by_urn

MAX_ROW_NOTES = 200
RECENT = "gieffeemme-school-data-by-urn"
CHARLESKK6 = "charleskk6-ks2-ks4-2023-25"
CALVIN = "calvinchankf-csp-2024-25"
HEMALEED = "hemaleed-ks4-2024-25-camden/camden_ks4_prev_years_from_ks4_2025.csv"


def _error(row: int, column: str, value: Any, reason: str) -> dict[str, Any]:
    return {"row": row, "column": column, "value": "" if value is None else str(value)[:80], "reason": reason}


def _register(source: Source) -> Source:
    return REGISTRY.get(source.key) or register(source)


def academic_year_start(label: pl.Expr) -> pl.Expr:
    """'2024/25', '2024-25', '2024-2025', '202425' -> 2024; anything else -> null."""
    text = label.cast(pl.Utf8).str.strip_chars()
    ok = text.str.contains(r"^\d{4}([/-](\d{2}|\d{4})|\d{2})$")
    return pl.when(ok).then(text.str.slice(0, 4).cast(pl.Int64, strict=False)).otherwise(None)


def file_years(df: pl.DataFrame, ctx: ImportContext, column: str | None, header: str) -> list[str]:
    """Add an integer `year` column: from the file's academic-year column, else the run's year."""
    notes: list[str] = []
    if column is not None and df.height == 0:
        return notes  # nothing to store (e.g. no rows for this LA)
    if column is not None and df[column].null_count() < df.height:
        parsed = df.with_columns(academic_year_start(pl.col(column)).alias("__year"))
        bad = parsed.filter(pl.col("__year").is_null())
        if bad.height:
            raise ImportRejected(
                [
                    _error(r, header, v, "Not an academic year (e.g. 2024/25)")
                    for r, v in bad.select(ROW_COL, column).head(MAX_ROW_NOTES).iter_rows()
                ]
            )
        years = sorted(set(parsed["__year"].to_list()))
        if ctx.year is not None and years != [ctx.year]:
            notes.append(
                f"The file's own academic year ({', '.join(map(str, years))}) was used, not {ctx.year}."
            )
        return notes
    if ctx.year is None:
        raise ImportRejected(
            [_error(0, "", "", "This file has no academic year column: choose the academic year to import")]
        )
    return notes


def with_year(df: pl.DataFrame, ctx: ImportContext, column: str | None) -> pl.DataFrame:
    if column is not None and df.height and df[column].null_count() < df.height:
        return df.with_columns(academic_year_start(pl.col(column)).alias("year"))
    return df.with_columns(pl.lit(ctx.year, dtype=pl.Int64).alias("year"))


def _cap(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_ROW_NOTES:
        return lines
    return [*lines[:MAX_ROW_NOTES], f"... and {len(lines) - MAX_ROW_NOTES} more."]


def school_rows(
    df: pl.DataFrame, ctx: ImportContext, *, has_la_column: bool, name_column: str | None = None
) -> tuple[pl.DataFrame, list[str]]:
    """Rows with a whole-number URN, and notes on what was left out.

    Rows with a blank URN (LA and national summary rows) are dropped and counted; any other URN that is
    not a whole number rejects the file. Rows for URNs the register does not hold are counted and named
    (they are written once the school joins the register and the file is imported again). Files without
    an LA column, imported for one LA, keep that LA's register schools only.
    """
    from beacon.schools.models import School

    notes: list[str] = []
    urn = pl.col("urn").cast(pl.Utf8)
    blank = df.filter(pl.col("urn").is_null() | urn.is_in(["NAT"]))
    bad = df.filter(pl.col("urn").is_not_null() & ~urn.is_in(["NAT"]) & ~urn.str.contains(r"^\d+$"))
    if bad.height:
        raise ImportRejected(
            [
                _error(r, "URN", v, "Not a URN (a whole number)")
                for r, v in bad.select(ROW_COL, "urn").iter_rows()
            ]
        )
    if blank.height:
        notes.append(f"{blank.height} national or LA summary rows (no URN) were not imported.")
    rows = df.filter(urn.str.contains(r"^\d+$").fill_null(False)).with_columns(pl.col("urn").cast(pl.Int64))
    if ctx.la_code is not None and not has_la_column:
        la_urns = list(School.objects.filter(la_code=ctx.la_code).values_list("urn", flat=True))
        outside = rows.filter(~pl.col("urn").is_in(la_urns)).height
        rows = rows.filter(pl.col("urn").is_in(la_urns))
        notes.append(
            f"The file has no LA column: kept the {rows.height} rows for schools the register holds for LA "
            f"{ctx.la_code} ({outside} other rows are for other LAs or schools not in the register)."
        )
        return rows, notes
    known = set(school_ids_by_urn())  # every URN (no IN list: national files hold 30,000+ URNs)
    unknown = rows.filter(~pl.col("urn").is_in(list(known)))
    if unknown.height:
        cols = [ROW_COL, "urn", *([name_column] if name_column else [])]
        named = [
            f"row {r[0]}: URN {r[1]}" + (f" ({r[2]})" if len(r) > 2 and r[2] else "")
            for r in unknown.select(cols).iter_rows()
        ]
        notes.append(
            f"{unknown.height} rows are for URNs not in the register (not imported; imported again once the "
            f"schools join the register): " + "; ".join(named[:50]) + (" ..." if len(named) > 50 else "")
        )
    return rows, notes


def save_rows(
    df: pl.DataFrame,
    ctx: ImportContext,
    measures: dict[str, str],
    *,
    year_column: str | None = None,
    year_header: str = "year",
    has_la_column: bool = False,
    name_column: str | None = None,
    notes: list[str] | None = None,
) -> LoadResult:
    """Year, school rows, long (urn, measure, year, value, status), precedence-aware upsert."""
    out_notes = [*(notes or []), *file_years(df, ctx, year_column, year_header)]
    df = with_year(df, ctx, year_column)
    rows, row_notes = school_rows(df, ctx, has_la_column=has_la_column, name_column=name_column)
    long, blanks = measures_long(rows, measures, pl.col("year"))
    result = save_school_measures(long, ctx)
    if blanks:
        row_notes.append(f"{blanks} blank cells were not stored.")
    result.notes = _cap([*out_notes, *row_notes, *result.notes])
    return result


def year_col(*aliases: str) -> Column:
    return Column("academic_year", aliases, required=False)


# ---------------------------------------------------------------------------------------------
# KS2 2022/23 with progress (gieffeemme ks2_by_urn.csv, repo-built from CSP england_ks2final 2022-2023)

KS2_BY_URN_MEASURES = {
    "rwm_expected": "ks2_rwm_expected",
    "rwm_higher": "ks2_rwm_higher",
    "reading_progress": "ks2_reading_progress",
    "writing_progress": "ks2_writing_progress",
    "maths_progress": "ks2_maths_progress",
}


def load_ks2_by_urn(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    return save_rows(df, ctx, KS2_BY_URN_MEASURES, year_column="academic_year")


KS2_BY_URN = _register(
    Source(
        key="ks2_results_by_urn",
        label="KS2 results by URN, 2022/23 with progress (CSP final, re-keyed)",
        description=(
            "KS2 reading, writing and maths expected and higher standard and the reading, writing and maths "
            "progress scores (2022/23 is the last year with KS2 progress)."
        ),
        columns=(
            URN,
            year_col("year"),
            num("rwm_expected", "rwmExp", "PTRWM_EXP"),
            num("rwm_higher", "rwmHigh", "PTRWM_HIGH"),
            num("reading_progress", "readProg", "READPROG"),
            num("writing_progress", "writProg", "WRITPROG"),
            num("maths_progress", "matProg", "MATPROG"),
        ),
        loader=load_ks2_by_urn,
        demo_files=((f"{RECENT}/ks2_by_urn.csv", 2022),),
    )
)

# ---------------------------------------------------------------------------------------------
# charleskk6: KS2 and KS4 2023/24 and 2024/25 with URNs matched by name


def matched_rows(df: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Keep rows whose URN was matched; report ambiguous and unmatched rows (never guessed), and URNs
    given to more than one row (neither row is imported: which school the values belong to is unknown)."""
    status = pl.col("urn_match").str.to_lowercase().fill_null("")
    bad_status = df.filter(~status.is_in(["matched", "ambiguous", "none", "unmatched", ""]))
    if bad_status.height:
        raise ImportRejected(
            [
                _error(r, "urn_match", v, "Expected matched, ambiguous or none")
                for r, v in bad_status.select(ROW_COL, "urn_match").iter_rows()
            ]
        )
    matched = df.filter((status == "matched") & pl.col("urn").is_not_null())
    lines: list[str] = []
    for row, name, la, cands in (
        df.filter(status == "ambiguous").select(ROW_COL, "name", "la", "urn_candidates").iter_rows()
    ):
        lines.append(
            f"row {row}: '{name}' (LA {la}): URN ambiguous, candidates {cands or 'not listed'}; not imported"
        )
    for row, name, la in (
        df.filter(~status.is_in(["matched", "ambiguous"]) | (status == "matched") & pl.col("urn").is_null())
        .select(ROW_COL, "name", "la")
        .iter_rows()
    ):
        lines.append(f"row {row}: '{name}' (LA {la}): no URN matched; not imported")
    dup = matched.filter(pl.col("urn").is_duplicated())
    if dup.height:
        for urn, part in dup.group_by("urn", maintain_order=True):
            rows = ", ".join(f"row {r} '{n}'" for r, n in part.select(ROW_COL, "name").iter_rows())
            lines.append(f"URN {urn[0]} was matched to more than one row ({rows}); none imported")
        matched = matched.filter(~pl.col("urn").is_duplicated())
    if lines:
        lines.insert(0, f"{len(lines)} rows have no single matched URN (reported, not guessed):")
    return matched, lines


MATCH_COLUMNS = (
    year_col("academic_year"),
    Column("urn", ("URN",), required=False),
    Column("urn_match", ("urn_match",)),
    Column("urn_candidates", ("urn_candidates",), required=False),
    Column("name", ("name", "SCHNAME"), required=False),
    Column("la", ("lea", "LA", "LEA"), required=False),
)

KS2_MATCHED_MEASURES = {
    "rwm_expected": "ks2_rwm_expected",
    "rwm_higher": "ks2_rwm_higher",
    "reading_score": "ks2_reading_score",
    "maths_score": "ks2_maths_score",
    "gps_score": "ks2_gps_score",
}


def load_matched(measures: dict[str, str]) -> Loader:
    def loader(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
        kept, lines = matched_rows(df)
        return save_rows(
            kept,
            ctx,
            measures,
            year_column="academic_year",
            year_header="academic_year",
            has_la_column=True,
            name_column="name",
            notes=lines,
        )

    return loader


KS2_MATCHED = _register(
    Source(
        key="ks2_results_matched",
        label="KS2 results 2023/24 and 2024/25 (CSP final; URN matched by name)",
        description=(
            "KS2 reading, writing and maths expected and higher standard and reading, maths and GPS average "
            "scaled scores. No progress scores (not published for these years). Rows whose URN is ambiguous "
            "or unmatched are listed in the run's notes, not imported."
        ),
        columns=(
            *MATCH_COLUMNS,
            num("rwm_expected", "PTRWM_EXP"),
            num("rwm_higher", "PTRWM_HIGH"),
            num("reading_score", "READ_AVERAGE"),
            num("maths_score", "MAT_AVERAGE"),
            num("gps_score", "GPS_AVERAGE"),
        ),
        loader=load_matched(KS2_MATCHED_MEASURES),
        la_filter_column="la",
        demo_files=(
            (f"{CHARLESKK6}/ks2_2023-2024_school_level_with_urn.csv", 2023),
            (f"{CHARLESKK6}/ks2_2024-2025_school_level_with_urn.csv", 2024),
        ),
    )
)

KS4_MATCHED_MEASURES = {
    "attainment8": "ks4_attainment8",
    "em_grade5": "ks4_em_grade5",
    "ebacc_aps": "ks4_ebacc_aps",
    "ebacc_entry": "ks4_ebacc_entry",
}

KS4_MATCHED = _register(
    Source(
        key="ks4_results_matched",
        label="KS4 results 2023/24 and 2024/25 (CSP final; URN matched by name)",
        description=(
            "Attainment 8, English and maths grade 5+, EBacc average point score and EBacc entry. No Progress 8 "
            "(2024/25: not published). Rows whose URN is ambiguous or unmatched are listed in the run's notes."
        ),
        columns=(
            *MATCH_COLUMNS,
            num("attainment8", "ATT8SCR"),
            num("em_grade5", "PTL2BASICS_95"),
            num("ebacc_aps", "EBACCAPS"),
            num("ebacc_entry", "PTEBACC_E_PTQ_EE"),
        ),
        loader=load_matched(KS4_MATCHED_MEASURES),
        la_filter_column="la",
        demo_files=(
            (f"{CHARLESKK6}/ks4_2023-2024_school_level_with_urn.csv", 2023),
            (f"{CHARLESKK6}/ks4_2024-2025_school_level_with_urn.csv", 2024),
        ),
    )
)

# ---------------------------------------------------------------------------------------------
# KS4 2022/23 with Progress 8 (gieffeemme ks4_by_urn.csv)

KS4_BY_URN_MEASURES = {
    "progress8": "ks4_progress8",
    "attainment8": "ks4_attainment8",
    "em_grade5": "ks4_em_grade5",
    "em_grade4": "ks4_em_grade4",
    "ebacc_entry": "ks4_ebacc_entry",
    "ebacc_94": "ks4_ebacc_94",
    "progress8_disadvantaged": "ks4_progress8_disadvantaged",
}


def load_ks4_by_urn(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    return save_rows(df, ctx, KS4_BY_URN_MEASURES, year_column="academic_year")


KS4_BY_URN = _register(
    Source(
        key="ks4_results_by_urn",
        label="KS4 results by URN, 2022/23 with Progress 8 (CSP final, re-keyed)",
        description=(
            "Progress 8 (all and disadvantaged pupils), Attainment 8, English and maths 9-5 and 9-4, EBacc entry "
            "and EBacc 9-4 (percentages rounded to whole numbers by the file's builder)."
        ),
        columns=(
            URN,
            year_col("year"),
            num("progress8", "p8", "P8MEA"),
            num("attainment8", "att8", "ATT8SCR"),
            num("em_grade5", "em5", "PTL2BASICS_95"),
            num("em_grade4", "em4", "PTL2BASICS_94"),
            num("ebacc_entry", "ebaccEntry", "PTEBACC_E_PTQ_EE"),
            num("ebacc_94", "ebacc94", "PTEBACC_94"),
            num("progress8_disadvantaged", "disP8", "P8MEA_FSM6CLA1A"),
        ),
        loader=load_ks4_by_urn,
        demo_files=((f"{RECENT}/ks4_by_urn.csv", 2022),),
    )
)

# ---------------------------------------------------------------------------------------------
# KS4 2024/25 provisional (calvinchankf, from CSP england_ks4provisional 2024/25)

KS4_PROVISIONAL_MEASURES = {
    "attainment8": "ks4_attainment8",
    "em_grade4": "ks4_em_grade4",
    "ebacc_94": "ks4_ebacc_94",
    "ebacc_entry": "ks4_ebacc_entry",
    "disadvantaged": "ks4_disadvantaged_cohort",
}


def load_ks4_provisional(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """Provisional KS4 figures for the run's year. Final figures (any other KS4 source) always win over
    these, whichever is loaded first (precedence.PROVISIONAL)."""
    return save_rows(df, ctx, KS4_PROVISIONAL_MEASURES, name_column="name")


KS4_PROVISIONAL = _register(
    Source(
        key="ks4_results_provisional",
        label="KS4 results, provisional (CSP england_ks4provisional)",
        description=(
            "Provisional Attainment 8, English and maths 9-4, EBacc 9-4, EBacc entry and % disadvantaged in the "
            "cohort. Replaced by final figures wherever a final file gives the same measure and year."
        ),
        columns=(
            URN,
            Column("name", ("SCHNAME",), required=False),
            num("attainment8", "att8_score", "ATT8SCR"),
            num("em_grade4", "l2basics_94", "PTL2BASICS_94"),
            num("ebacc_94", "ebacc_94", "PTEBACC_94"),
            num("ebacc_entry", "PTEBACC_E_PTQ_EE"),
            num("disadvantaged", "fsm_pct", "PTFSM6CLA1A"),
        ),
        loader=load_ks4_provisional,
        needs_year=True,
        demo_files=((f"{CALVIN}/secondary_ks4_2024-25_provisional.csv", 2024),),
    )
)

# ---------------------------------------------------------------------------------------------
# CSP KS4 final: the previous two years' columns (*_PREV, *_PREV2) of a year's file (hemaleed Camden)

CSP_PREV_MEASURES = {
    "P8MEA": "ks4_progress8",
    "P8CILOW": "ks4_progress8_ci_lower",
    "P8CIUPP": "ks4_progress8_ci_upper",
    "P8PUP": "ks4_progress8_pupils",
    "ATT8SCR": "ks4_attainment8",
    "ATT8SCR_FSM6CLA1A": "ks4_attainment8_disadvantaged",
    "ATT8SCR_NFSM6CLA1A": "ks4_attainment8_other",
    "EBACCAPS": "ks4_ebacc_aps",
    "PTEBACC_E_PTQ_EE": "ks4_ebacc_entry",
    "PTEBACC_94": "ks4_ebacc_94",
    "PTEBACC_95": "ks4_ebacc_95",
    "PTL2BASICS_94": "ks4_em_grade4",
    "PTL2BASICS_95": "ks4_em_grade5",
    "PTFSM6CLA1ABASICS_95": "ks4_em_grade5_disadvantaged",
    "PTNOTFSM6CLA1ABASICS_95": "ks4_em_grade5_other",
    "PTFSM6CLA1A": "ks4_disadvantaged_cohort",
}
PREV_SUFFIXES = {"PREV": 1, "PREV2": 2}


def load_csp_prev_years(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """The run's year is the year of the CSP file the columns come from (2024 = england_ks4final 2024/25):
    *_PREV is the year before (2023/24), *_PREV2 two years before (2022/23). CSP codes (NP, NE, SUPP, NA)
    are kept as statuses; '%' signs are stripped."""
    if ctx.year is None:
        raise ImportRejected([_error(0, "", "", "Give the year of the CSP file (2024 = 2024/25)")])
    notes = [f"Year of the CSP file: {ctx.year}; *_PREV = {ctx.year - 1}, *_PREV2 = {ctx.year - 2}."]
    rows, row_notes = school_rows(df, ctx, has_la_column=True, name_column="name")
    parts = []
    blanks = 0
    for suffix, back in PREV_SUFFIXES.items():
        measures = {f"{base}_{suffix}".lower(): code for base, code in CSP_PREV_MEASURES.items()}
        long, b = measures_long(rows, measures, pl.lit(ctx.year - back))
        parts.append(long)
        blanks += b
    result = save_school_measures(pl.concat(parts), ctx)
    if blanks:
        row_notes.append(f"{blanks} blank cells were not stored.")
    result.notes = _cap([*notes, *row_notes, *result.notes])
    return result


CSP_PREV_YEARS = _register(
    Source(
        key="ks4_results_csp_prev_years",
        label="KS4 results, previous two years from a CSP final file (*_PREV, *_PREV2)",
        description=(
            "Progress 8 with confidence limits and pupils, Attainment 8 (all, disadvantaged, other), EBacc, "
            "English and maths 9-4 / 9-5 (all, disadvantaged, other) for the two years before the file's "
            "year, in DfE's own columns. Give the file's year (2024 for england_ks4final 2024/25)."
        ),
        columns=(
            URN,
            Column("la", ("LEA",), required=False),
            Column("name", ("SCHNAME",), required=False),
            *(
                num(f"{base}_{suffix}".lower(), f"{base}_{suffix}")
                for base in CSP_PREV_MEASURES
                for suffix in PREV_SUFFIXES
            ),
        ),
        loader=load_csp_prev_years,
        needs_year=True,
        la_filter_column="la",
        demo_files=((HEMALEED, 2024),),
    )
)

# ---------------------------------------------------------------------------------------------
# Census context, January 2023 (gieffeemme census_by_urn.csv, from the CSP census 2022-2023)

CENSUS_BY_URN_MEASURES = {
    "fsm_ever6": "fsm_ever6",
    "eal": "eal",
    "sen_ehcp": "sen_ehcp",
    "sen_support": "sen_support",
}


def load_census_by_urn(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    return save_rows(df, ctx, CENSUS_BY_URN_MEASURES)


CENSUS_BY_URN = _register(
    Source(
        key="census_context_by_urn",
        label="School census context by URN (CSP census, re-keyed)",
        description=(
            "% disadvantaged (FSM in the last 6 years), % EAL, % EHC plans and % SEN support for the run's "
            "year (January 2023 census = 2022)."
        ),
        columns=(
            URN,
            num("fsm_ever6", "fsm", "PNUMFSMEVER"),
            num("eal", "PNUMEAL"),
            num("sen_ehcp", "senEhcp", "PSENELSE"),
            num("sen_support", "senSupport", "PSENELK"),
        ),
        loader=load_census_by_urn,
        needs_year=True,
        demo_files=((f"{RECENT}/census_by_urn.csv", 2022),),
    )
)

# ---------------------------------------------------------------------------------------------
# Finance, workforce and 16-18 results (gieffeemme)

FINANCE_MEASURES = {
    "spend_per_pupil": "finance_spend_per_pupil",
    "revenue_reserve": "finance_revenue_reserve",
    "in_year_balance": "finance_in_year_balance",
}

FINANCE = _register(
    Source(
        key="finance_by_urn",
        label="School finance by URN (CFR / AAR benchmarking)",
        description="Total expenditure per pupil, revenue reserve and in-year balance (£), by financial year.",
        columns=(
            URN,
            year_col("year"),
            num("spend_per_pupil", "perPupil"),
            num("revenue_reserve", "reserve"),
            num("in_year_balance", "inYear"),
        ),
        loader=lambda df, ctx: save_rows(df, ctx, FINANCE_MEASURES, year_column="academic_year"),
        demo_files=((f"{RECENT}/finance_by_urn.csv", 2024),),
    )
)

WORKFORCE_MEASURES = {
    "ptr": "workforce_pupil_teacher_ratio",
    "teachers_fte": "workforce_teachers_fte",
    "staff_fte": "workforce_staff_fte",
}

WORKFORCE = _register(
    Source(
        key="workforce_by_urn",
        label="School workforce by URN (pupil to teacher ratios)",
        description=(
            "Pupil to teacher ratio, teachers and all staff (FTE). Each row carries its own year (the latest "
            "workforce census for that school)."
        ),
        columns=(
            URN,
            year_col("year"),
            num("ptr", "PTR"),
            num("teachers_fte", "teachersFte"),
            num("staff_fte", "staffFte"),
        ),
        loader=lambda df, ctx: save_rows(df, ctx, WORKFORCE_MEASURES, year_column="academic_year"),
        demo_files=((f"{RECENT}/workforce_by_urn.csv", None),),
    )
)

KS5_MEASURES = {
    "aps": "alevel_aps_per_entry",
    "aab_facilitating": "alevel_aab_facilitating",
    "cohort": "alevel_cohort",
}


def load_ks5_by_urn(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """A level APS per entry, % AAB with two facilitating subjects and the cohort. The average grade
    ('A+', 'B-') is the APS per entry expressed as a grade and is not stored separately."""
    return save_rows(df, ctx, KS5_MEASURES, year_column="academic_year")


KS5_BY_URN = _register(
    Source(
        key="ks5_results_by_urn",
        label="16-18 (A level) results by URN (CSP, re-keyed)",
        description="A level average point score per entry, % AAB with two facilitating subjects, A level cohort.",
        columns=(
            URN,
            year_col("year"),
            Column("grade", ("grade",), required=False),
            num("aps", "aps"),
            num("aab_facilitating", "aabFac"),
            num("cohort", "pupils"),
        ),
        loader=load_ks5_by_urn,
        demo_files=((f"{RECENT}/ks5_by_urn.csv", 2022),),
    )
)

# ---------------------------------------------------------------------------------------------
# Destinations. KS4 destinations with CSP headers load through the profile's `ks4_destinations` source.
# Stored by destination year: the CSP 2024-2025 release (pupils who finished in 2022/23) = 2023.

KS5_DESTINATION_MEASURES = {
    "cohort": "ks5dest_cohort",
    "overall": "ks5dest_overall",
    "education": "ks5dest_education",
    "he": "ks5dest_he",
    "fe": "ks5dest_fe",
    "apprenticeship": "ks5dest_apprenticeship",
    "employment": "ks5dest_employment",
    "not_sustained": "ks5dest_not_sustained",
    "overall_dis": "ks5dest_overall_disadvantaged",
    "he_progressed": "ks5dest_he_progressed",
    "he_top_third": "ks5dest_he_top_third",
}

KS5_DESTINATIONS = _register(
    Source(
        key="ks5_destinations",
        label="16-18 destinations by institution (Compare School Performance)",
        description=(
            "Where students went after 16-18 study: sustained education, higher and further education, "
            "apprenticeships, employment (CSP ks5-studest), and progression to higher education or training "
            "(CSP ks5-studest-he). Give the destination year (2023 for the 2024-2025 release)."
        ),
        columns=(
            URN,
            Column("la", ("LEA",), required=False),
            Column("name", ("SCHNAME",), required=False),
            num("cohort", "TOT_COHORT"),
            num("overall", "TOT_OVERALLPER"),
            num("education", "TOT_EDUCATIONPER"),
            num("he", "TOT_HEPER"),
            num("fe", "TOT_FEPER"),
            num("apprenticeship", "TOT_APPRENPER"),
            num("employment", "TOT_EMPLOYMENTPER"),
            num("not_sustained", "TOT_NOT_SUSTAINEDPER"),
            num("overall_dis", "TOT_OVERALLPER_DIS"),
            num("he_progressed", "ALL_PROGRESSED"),
            num("he_top_third", "ALL_TOP3RD"),
        ),
        loader=lambda df, ctx: save_rows(
            df, ctx, KS5_DESTINATION_MEASURES, has_la_column=True, name_column="name"
        ),
        needs_year=True,
        la_filter_column="la",
        demo_files=(
            (f"{CALVIN}/england_ks5-studest.csv", 2023),
            (f"{CALVIN}/england_ks5-studest-he.csv", 2023),
        ),
    )
)

DESTINATIONS_BY_URN_MEASURES = {
    "ks4_sustained": "ks4dest_overall",
    "ks4_education": "ks4dest_education",
    "ks4_appren": "ks4dest_apprenticeship",
    "ks4_employment": "ks4dest_employment",
    "ks4_not_sustained": "ks4dest_not_sustained",
    "ks5_sustained": "ks5dest_overall",
    "ks5_he": "ks5dest_he",
    "ks5_fe": "ks5dest_fe",
    "ks5_appren": "ks5dest_apprenticeship",
    "ks5_employment": "ks5dest_employment",
}


def load_destinations_by_urn(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    from beacon.indicators.destinations import ensure_destination_measures

    ensure_destination_measures()
    return save_rows(df, ctx, DESTINATIONS_BY_URN_MEASURES)


DESTINATIONS_BY_URN = _register(
    Source(
        key="destinations_by_urn",
        label="KS4 and 16-18 destinations by URN (CSP, re-keyed)",
        description=(
            "% in sustained destinations after KS4 (education, apprenticeship, employment, not sustained) and "
            "after 16-18 (higher and further education, apprenticeship, employment). Give the destination year "
            "(2021 for the CSP 2022-2023 release)."
        ),
        columns=(
            URN,
            num("ks4_sustained", "ks4_sustained"),
            num("ks4_education", "ks4_education"),
            num("ks4_appren", "ks4_appren"),
            num("ks4_employment", "ks4_employment"),
            num("ks4_not_sustained", "ks4_notSustained"),
            num("ks5_sustained", "ks5_sustained"),
            num("ks5_he", "ks5_he"),
            num("ks5_fe", "ks5_fe"),
            num("ks5_appren", "ks5_appren"),
            num("ks5_employment", "ks5_employment"),
        ),
        loader=load_destinations_by_urn,
        needs_year=True,
        demo_files=((f"{RECENT}/destinations_by_urn.csv", 2021),),
    )
)

# ---------------------------------------------------------------------------------------------
# DfE's current school-level absence and suspensions files (Explore Education Statistics)
#
# Absence: "Pupil absence in schools in England", school-level underlying data (1a_absence_3term_school).
# Suspensions: "Suspensions and permanent exclusions in England", school-level data (by term).
# Column specification relied on: EES data catalogue previews and data guidance (see tests/fixtures/
# ees_school_level/README.md): time_period (202324), time_identifier, geographic_level ('School'),
# old_la_code, school_laestab / laestab, school_urn / urn, school_name; absence: sess_overall_percent,
# sess_unauthorised_percent, enrolments_pa_10_exact_percent; suspensions: headcount, suspension, susp_rate,
# perm_excl, perm_excl_rate, one_plus_susp, one_plus_susp_rate. Codes: c, x, z, low, ':'.

EES_COMMON = (
    Column("time_period", ("time_period",)),
    Column("time_identifier", ("time_identifier",), required=False),
    Column("geographic_level", ("geographic_level",)),
    Column("urn", ("school_urn", "URN")),
    Column("laestab", ("school_laestab", "LAESTAB"), required=False),
    Column("name", ("school_name",), required=False),
    Column("la", ("old_la_code",), required=False),
)

FULL_YEAR = "academic year"


def ees_school_rows(df: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """School rows only ('School' geographic level); time_period '202324' -> year 2023."""
    level = pl.col("geographic_level").str.to_lowercase().fill_null("")
    notes = []
    others = df.filter(level != "school").height
    if others:
        notes.append(f"{others} national, regional or LA rows were not imported (school rows only).")
    df = df.filter(level == "school")
    df = df.with_columns(academic_year_start(pl.col("time_period")).alias("year"))
    bad = df.filter(pl.col("year").is_null())
    if bad.height:
        raise ImportRejected(
            [
                _error(r, "time_period", v, "Not a DfE time period (e.g. 202324)")
                for r, v in bad.select(ROW_COL, "time_period").head(MAX_ROW_NOTES).iter_rows()
            ]
        )
    return df, notes


ABSENCE_MEASURES = {
    "overall": "absence_overall",
    "unauthorised": "absence_unauthorised",
    "persistent": "absence_persistent",
}


def load_ees_absence(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """Full-year school absence ('Academic year' rows; the termly rows of other files are not the annual
    rate and are reported, not stored): overall and unauthorised absence %, persistent absence (10%+ of
    sessions missed, enrolments_pa_10_exact_percent) - the codes the risk criteria read."""
    df, notes = ees_school_rows(df)
    ident = pl.col("time_identifier").str.to_lowercase().fill_null(FULL_YEAR)
    termly = df.filter(ident != FULL_YEAR)
    if termly.height:
        notes.append(f"{termly.height} termly rows were not imported (the annual rate needs the full year).")
    df = df.filter(ident == FULL_YEAR).drop("year").with_columns(pl.col("time_period").alias("academic_year"))
    return save_rows(
        df,
        ctx,
        ABSENCE_MEASURES,
        year_column="academic_year",
        year_header="time_period",
        has_la_column=True,
        name_column="name",
        notes=notes,
    )


EES_ABSENCE = _register(
    Source(
        key="absence_school_ees",
        label="Absence by school (Explore Education Statistics, current format)",
        description=(
            "DfE 'Pupil absence in schools in England' school-level file: overall and unauthorised absence "
            "rate and persistent absence (10% or more of sessions), full academic year."
        ),
        columns=(
            *EES_COMMON,
            num("overall", "sess_overall_percent"),
            num("unauthorised", "sess_unauthorised_percent"),
            num("persistent", "enrolments_pa_10_exact_percent"),
        ),
        loader=load_ees_absence,
        la_filter_column="la",
    )
)

TERMS = ("autumn term", "spring term", "summer term")
SUSPENSION_COUNTS = {"suspension": "suspension_rate", "perm_excl": "permanent_exclusion_rate"}


def _termly_to_year(df: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Annual rates from termly rows: the three terms' counts summed, per 100 pupils of the spring-term
    headcount (the January census, DfE's annual headcount). A year without all three terms, or with a
    count that is not published (c, x, z), is not computed: it is reported."""
    notes: list[str] = []
    ident = pl.col("time_identifier").str.to_lowercase()
    terms = df.filter(ident.is_in(TERMS))
    if terms.height == 0:
        return df.clear(), notes
    counts_ok = pl.all_horizontal([pl.col(f"{c}__status") == "ok" for c in (*SUSPENSION_COUNTS, "headcount")])
    grouped = terms.group_by("urn", "year").agg(
        pl.col(ROW_COL).min(),
        pl.col("la").first(),
        pl.col("name").first(),
        pl.col("time_identifier").str.to_lowercase().n_unique().alias("terms"),
        counts_ok.all().alias("ok"),
        *(pl.col(c).sum().alias(c) for c in SUSPENSION_COUNTS),
        pl.col("headcount").filter(ident == "spring term").first().alias("headcount"),
    )
    incomplete = grouped.filter((pl.col("terms") < 3) | ~pl.col("ok") | pl.col("headcount").is_null())
    if incomplete.height:
        notes.append(
            f"{incomplete.height} school-years have fewer than three terms or an unpublished count: no annual "
            "rate was computed for them."
        )
    full = grouped.filter((pl.col("terms") == 3) & pl.col("ok") & pl.col("headcount").is_not_null())
    out = full.with_columns(
        *((pl.col(c) * 100 / pl.col("headcount")).alias(f"{c}_rate") for c in SUSPENSION_COUNTS),
        pl.lit(None, dtype=pl.Float64).alias("one_plus_rate"),
    )
    return out, notes


def load_ees_suspensions(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """Suspension and permanent exclusion rates per 100 pupils (and pupils with one or more suspensions).

    'Academic year' rows are stored as published. Termly rows (the current school-level file is termly)
    are combined into the year when all three terms are there (`_termly_to_year`); the rate of pupils
    with one or more suspensions cannot be summed over terms and is stored from full-year rows only."""
    df, notes = ees_school_rows(df)
    ident = pl.col("time_identifier").str.to_lowercase().fill_null(FULL_YEAR)
    yearly = df.filter(ident == FULL_YEAR)
    termly = df.filter(ident != FULL_YEAR)
    combined, term_notes = _termly_to_year(termly)
    if combined.height and yearly.height:  # a published full-year row wins over the terms combined
        combined = combined.join(yearly.select("urn", "year"), on=["urn", "year"], how="anti")
    parts = [
        yearly.select(
            ROW_COL,
            "urn",
            "la",
            "name",
            "year",
            pl.col("susp_rate").alias("s"),
            pl.col("susp_rate__status").alias("s__status"),
            pl.col("perm_excl_rate").alias("p"),
            pl.col("perm_excl_rate__status").alias("p__status"),
            pl.col("one_plus_rate").alias("o"),
            pl.col("one_plus_rate__status").alias("o__status"),
        )
    ]
    if combined.height:
        parts.append(
            combined.select(
                ROW_COL,
                "urn",
                "la",
                "name",
                "year",
                pl.col("suspension_rate").alias("s"),
                pl.lit("ok").alias("s__status"),
                pl.col("perm_excl_rate").alias("p"),
                pl.lit("ok").alias("p__status"),
                pl.col("one_plus_rate").alias("o"),
                pl.lit("missing").alias("o__status"),
            )
        )
        notes.append(f"{combined.height} school-years were combined from termly rows.")
    rows = pl.concat(parts, how="vertical_relaxed").with_columns(
        (pl.col("year") * 100 + (pl.col("year") + 1) % 100).cast(pl.Utf8).alias("academic_year")  # 202324
    )
    return save_rows(
        rows,
        ctx,
        {"s": "suspension_rate", "p": "permanent_exclusion_rate", "o": "suspension_one_plus_rate"},
        year_column="academic_year",
        year_header="time_period",
        has_la_column=True,
        name_column="name",
        notes=[*notes, *term_notes],
    )


EES_SUSPENSIONS = _register(
    Source(
        key="suspensions_school_ees",
        label="Suspensions and permanent exclusions by school (Explore Education Statistics)",
        description=(
            "DfE 'Suspensions and permanent exclusions in England' school-level file: suspension and "
            "permanent exclusion rates per 100 pupils (full year, or combined from the three terms)."
        ),
        columns=(
            *EES_COMMON,
            num("headcount", "headcount"),
            num("suspension", "suspension"),
            num("susp_rate", "susp_rate"),
            num("perm_excl", "perm_excl"),
            num("perm_excl_rate", "perm_excl_rate"),
            num("one_plus", "one_plus_susp"),
            num("one_plus_rate", "one_plus_susp_rate"),
        ),
        loader=load_ees_suspensions,
        la_filter_column="la",
    )
)
