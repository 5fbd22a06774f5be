"""Import sources for future options: pupils on roll and capacity from GIAS extracts, and admissions
(offers and preferences for the entry year) from the DfE school admissions statistics.

The admissions star schema on hand (clarelgibson-england-school-admissions) keys its fact tables by
`school_key` / `la_key`; the reader joins `dim_school.csv` and `dim_la.csv` from the same folder so the
rows carry URN and LA code like every other source. Only schools already in the register are loaded
(the register comes first); other rows are counted as skipped.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from beacon.core.frames import tuple_rows
from beacon.futureoptions.models import APPROXIMATE, IntakeYear, RollRecord, SchoolLocation, YearGroupCount
from beacon.imports.framework import (
    Column,
    ImportContext,
    ImportRejected,
    LoadResult,
    Source,
    read_table,
    register,
    upsert_rows,
)
from beacon.schools.lookup import school_ids_by_urn
from beacon.schools.models import School

ADMISSIONS_DIR = "clarelgibson-england-school-admissions"
ENTRY_YEAR = {1: "Reception", 2: "Year 7"}


def _with_star_keys(path: Path, df: pl.DataFrame) -> pl.DataFrame:
    """Add `urn` and `la_code` to a fact table keyed by school_key / la_key (dimension files beside it)."""
    if "school_key" not in df.columns:
        return df
    missing = [n for n in ("dim_school.csv", "dim_la.csv") if not (path.parent / n).exists()]
    if missing:
        raise ImportRejected(
            [
                {
                    "row": 1,
                    "column": "school_key",
                    "value": "",
                    "reason": f"This fact table needs {', '.join(missing)} in the same folder to find URNs",
                }
            ]
        )
    schools = read_table(path.parent / "dim_school.csv").select("school_key", "urn")
    las = read_table(path.parent / "dim_la.csv").select("la_key", "la_code")
    return df.join(schools, on="school_key", how="left").join(las, on="la_key", how="left")


def read_star(path: Path) -> pl.DataFrame:
    return _with_star_keys(path, read_table(path))


def _with_school_ids(df: pl.DataFrame) -> pl.DataFrame:
    """`df` with the register's `school_id` for its `urn`, in file order; rows for schools the register does
    not hold are left out (the loaders count them as skipped)."""
    ids = school_ids_by_urn()
    register = pl.DataFrame(
        {"urn": list(ids), "school_id": list(ids.values())}, schema={"urn": pl.Int64, "school_id": pl.Int64}
    )
    return df.with_columns(pl.col("urn").cast(pl.Int64)).join(
        register, on="urn", how="inner", maintain_order="left"
    )


def _whole(column: str) -> pl.Expr:
    """A count as a whole number of pupils (half to even, as Python's round), null kept."""
    return pl.col(column).cast(pl.Float64).round(0).cast(pl.Int64)


# --------------------------------------------------------------------------------------------
# Pupils on roll and capacity (GIAS "all establishment data" or an extract of it)

ROLL_COLUMNS = (
    Column("urn", ("URN", "unique_reference_number"), "int"),
    Column("la_code", ("LA (code)", "authority_code", "la_code"), "int", required=False),
    Column("pupils", ("NumberOfPupils", "number_of_pupils", "pupil_number"), "number"),
    Column("capacity", ("SchoolCapacity", "school_capacity"), "number", required=False),
)


def load_roll(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    assert ctx.year is not None
    label = f"GIAS extract ({ctx.file_name}), census January {ctx.year + 1}"
    known = _with_school_ids(df.filter(pl.col("urn").is_not_null())).filter(
        pl.col("pupils").is_not_null() | pl.col("capacity").is_not_null()
    )
    rows = list(
        tuple_rows(
            known.select(
                "school_id",
                pl.lit(ctx.year, dtype=pl.Int64).alias("year"),
                _whole("pupils").alias("pupils"),
                _whole("capacity").alias("capacity"),
                pl.lit(label[:120]).alias("source"),
                pl.lit(ctx.run.pk, dtype=pl.Int64).alias("source_run"),
            )
        )
    )
    inserted, updated = upsert_rows(
        RollRecord,
        ["school", "year", "pupils", "capacity", "source", "source_run"],
        rows,
        unique_fields=["school", "year"],
        update_fields=["pupils", "capacity", "source", "source_run"],
        ctx=ctx,
        total=len(rows),
    )
    return LoadResult(inserted=inserted, updated=updated, skipped=df.height - len(rows))


ROLL = register(
    Source(
        key="gias_roll_capacity",
        label="GIAS: pupils on roll and school capacity (future options)",
        description=(
            "Number of pupils and school capacity from a GIAS extract, for roll trends and surplus places. "
            "Give the academic year of the census the pupil numbers come from (a GIAS extract of August "
            "2022 carries the January 2022 census: 2021)."
        ),
        columns=ROLL_COLUMNS,
        loader=load_roll,
        needs_year=True,
        reader=read_star,
        la_filter_column="la_code",
        # The wrm65 GIAS extract (c. April 2024) also fits, but its pupil numbers are the January 2023
        # census the census file already gives, so the demo loads only the August 2022 extract.
        demo_files=((f"{ADMISSIONS_DIR}/fct_school.csv", 2021),),
    )
)

# --------------------------------------------------------------------------------------------
# Admissions: offers and preferences for the entry year, by year of entry

ADMISSIONS_COLUMNS = (
    Column("urn", ("urn", "school_urn"), "int"),
    Column("la_code", ("la_code", "old_la_code"), "int", required=False),
    Column("year", ("year_key", "entry_year"), "int"),
    Column("phase_key", ("phase_key",), "int", required=False),
    Column("offers", ("total_number_places_offered",), "number"),
    Column("first_preferences", ("times_put_as_1st_preference",), "number", required=False),
    Column("any_preferences", ("times_put_as_any_preferred_school",), "number", required=False),
)


def load_admissions(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    # The star schema averages duplicate source rows, leaving halves and thirds: sum per school, year
    # and entry point, then round to whole pupils.
    df = (
        df.filter(pl.col("urn").is_not_null())
        .group_by("urn", "year", "phase_key", maintain_order=True)
        .agg(pl.col("offers").sum(), pl.col("first_preferences").sum(), pl.col("any_preferences").sum())
    )
    entry_year = pl.col("phase_key").replace_strict(ENTRY_YEAR, default="Entry year", return_dtype=pl.Utf8)
    rows = list(
        tuple_rows(
            _with_school_ids(df).select(
                "school_id",
                pl.col("year").cast(pl.Int64),
                entry_year.alias("entry_year"),
                _whole("offers").alias("places_offered"),
                _whole("first_preferences").alias("first_preferences"),
                _whole("any_preferences").alias("any_preferences"),
                pl.lit(ctx.run.pk, dtype=pl.Int64).alias("source_run"),
            )
        )
    )
    inserted, updated = upsert_rows(
        IntakeYear,
        [
            "school",
            "year",
            "entry_year",
            "places_offered",
            "first_preferences",
            "any_preferences",
            "source_run",
        ],
        rows,
        unique_fields=["school", "year", "entry_year"],
        update_fields=["places_offered", "first_preferences", "any_preferences", "source_run"],
        ctx=ctx,
        total=len(rows),
    )
    return LoadResult(inserted=inserted, updated=updated, skipped=df.height - len(rows))


ADMISSIONS = register(
    Source(
        key="admissions_offers",
        label="School admissions: offers and preferences by year of entry (future options)",
        description=(
            "DfE school admissions statistics per school and year of entry (Reception or Year 7): places "
            "offered, first and any preferences. Used for intake trends and roll projections. The admissions star schema "
            "(fct_school_year.csv) needs its dim_school.csv and dim_la.csv in the same folder (command line)."
        ),
        columns=ADMISSIONS_COLUMNS,
        loader=load_admissions,
        reader=read_star,
        la_filter_column="la_code",
        demo_files=((f"{ADMISSIONS_DIR}/fct_school_year.csv", None),),
    )
)


# --------------------------------------------------------------------------------------------
# Latitude/longitude (2024/25 CSP school list) for schools without a GIAS grid reference

COORDS_COLUMNS = (
    Column("urn", ("URN",), "int"),
    Column("lat", ("LAT", "Latitude"), "number"),
    Column("lon", ("LON", "Longitude"), "number"),
    Column("postcode", ("POSTCODE", "Postcode"), required=False),
)


def postcode_sector(postcode: str) -> str:
    """'NW3 2NY' -> 'NW3 2' (the outward code and the first digit of the inward code); '' if malformed."""
    pc = "".join(postcode.upper().split())
    return f"{pc[:-3]} {pc[-3]}" if len(pc) >= 5 and pc[-3].isdigit() else ""


def area_centres(
    df: pl.DataFrame,
) -> tuple[dict[str, tuple[float, float, int]], dict[str, tuple[float, float, int]]]:
    """Mean latitude/longitude (and count) of the schools listed in each postcode sector and district."""
    placed = df.filter(
        pl.col("postcode").is_not_null()
        & pl.col("lat").is_between(49, 61, closed="none")
        & pl.col("lon").is_between(-9, 3, closed="none")
    ).with_columns(sector=pl.col("postcode").map_elements(postcode_sector, return_dtype=pl.Utf8))
    placed = placed.filter(pl.col("sector") != "").with_columns(
        district=pl.col("sector").str.split(" ").list.first()
    )

    def centres(key: str) -> dict[str, tuple[float, float, int]]:
        g = placed.group_by(key).agg(pl.col("lat").mean(), pl.col("lon").mean(), pl.len().alias("n"))
        return {r[key]: (r["lat"], r["lon"], r["n"]) for r in g.iter_rows(named=True)}

    return centres("sector"), centres("district")


def load_coords(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """Only schools already in the register; rows without a position, or outside the UK, are skipped."""
    label = f"CSP school list {ctx.file_name} (geocoded from the postcode)"[:120]
    placed = _with_school_ids(df.filter(pl.col("urn").is_not_null())).filter(
        pl.col("lat").is_between(49, 61, closed="none") & pl.col("lon").is_between(-9, 3, closed="none")
    )
    rows = list(
        tuple_rows(
            placed.select(
                "school_id",
                pl.col("lat").alias("latitude"),
                pl.col("lon").alias("longitude"),
                pl.lit(label).alias("source"),
                pl.lit(ctx.run.pk, dtype=pl.Int64).alias("source_run"),
            )
        )
    )
    # Schools the list does not place and GIAS gives no grid reference for (in Camden: the pupil referral
    # units, a nursery school, alternative provision) get the centre of the listed schools in their postcode
    # sector, else district: approximate, and said so wherever the position is shown.
    own = set(placed["school_id"].to_list())
    sectors, districts = area_centres(df)
    approximate = 0
    unplaced = School.objects.filter(easting__isnull=True).exclude(postcode="")
    if ctx.la_code is not None:
        unplaced = unplaced.filter(la_code=ctx.la_code)
    for school_id, postcode in unplaced.values_list("pk", "postcode"):
        if school_id in own:
            continue
        sector = postcode_sector(postcode)
        district = sector.split(" ")[0] if sector else ""
        area, centre = (
            (sector, sectors.get(sector)) if sector in sectors else (district, districts.get(district))
        )
        if centre is None:
            continue
        lat, lon, n = centre
        note = f"{APPROXIMATE} centre of the {n} listed school{'s' if n != 1 else ''} in postcode area {area}"
        rows.append((school_id, lat, lon, note[:120], ctx.run.pk))
        approximate += 1
    inserted, updated = upsert_rows(
        SchoolLocation,
        ["school", "latitude", "longitude", "source", "source_run"],
        rows,
        unique_fields=["school"],
        update_fields=["latitude", "longitude", "source", "source_run"],
        ctx=ctx,
        total=len(rows),
    )
    return LoadResult(
        inserted=inserted,
        updated=updated,
        skipped=df.height - len(rows) + approximate,
        notes=[
            f"{approximate} school(s) not in the list placed approximately, at their postcode area's centre."
        ]
        if approximate
        else [],
    )


COORDS = register(
    Source(
        key="school_coords",
        label="School positions (latitude/longitude) from the CSP school list (future options map)",
        description=(
            "URN, LAT and LON for every school in Compare School Performance 2024/25 (geocoded from the "
            "postcode). Places schools on the map and in partner suggestions when GIAS gives no grid reference."
        ),
        columns=COORDS_COLUMNS,
        loader=load_coords,
        demo_files=(("calvinchankf-csp-2024-25/england_school_coords.csv", None),),
    )
)


# --------------------------------------------------------------------------------------------
# Pupils by year group (the 2022/23 school-level census file): for cohort-survival projections

YEAR_GROUPS_HELD = ("R", *(str(g) for g in range(1, 15)))
_PARTS = ("Part time girls", "Full time girls", "Part time boys", "Full time boys")


def _group_header(part: str, group: str) -> str:
    return f"{part} Reception" if group == "R" else f"{part} Year group {group}"


YEAR_GROUP_COLUMNS = (
    Column("time_period", ("time_period",), "int"),
    Column("urn", ("urn",), "int"),
    Column("la_code", ("old_la_code",), "int"),
    *(
        Column(f"g{g}_{i}", (_group_header(part, g),), "number", required=False)
        for g in YEAR_GROUPS_HELD
        for i, part in enumerate(_PARTS)
    ),
)


def load_year_groups(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    """One row per school, year group and census year (time_period 202223 -> 2022); empty year groups are not
    stored. Only schools already in the register."""
    known = _with_school_ids(df.filter(pl.col("urn").is_not_null()))
    # Headcount per year group: the four parts summed left to right (missing as 0), rounded half to even.
    per_group = known.select(
        "school_id",
        (pl.col("time_period").cast(pl.Int64) // 100).alias("year"),
        *(
            pl.sum_horizontal(pl.col(f"g{g}_{i}").cast(pl.Float64).fill_null(0) for i in range(len(_PARTS)))
            .round(0)
            .cast(pl.Int64)
            .alias(g)
            for g in YEAR_GROUPS_HELD
        ),
    )
    long = (
        per_group.with_row_index("__row")
        .unpivot(
            index=["__row", "school_id", "year"],
            on=list(YEAR_GROUPS_HELD),
            variable_name="group",
            value_name="pupils",
        )
        .filter(pl.col("pupils") != 0)
        .sort("__row", maintain_order=True)
        .select(
            "school_id", "year", "group", "pupils", pl.lit(ctx.run.pk, dtype=pl.Int64).alias("source_run")
        )
    )
    inserted, updated = upsert_rows(
        YearGroupCount,
        ["school", "year", "group", "pupils", "source_run"],
        tuple_rows(long),
        unique_fields=["school", "year", "group"],
        update_fields=["pupils", "source_run"],
        ctx=ctx,
        total=long.height,
    )
    return LoadResult(inserted=inserted, updated=updated, skipped=df.height - long["school_id"].n_unique())


YEAR_GROUPS = register(
    Source(
        key="census_year_groups",
        label="School census: pupils by year group (future options projections)",
        description=(
            "Headcount of pupils in each year group (Reception to Year 14, full and part time, girls and boys) "
            "from the DfE school-level census file, for cohort-survival roll projections."
        ),
        columns=YEAR_GROUP_COLUMNS,
        loader=load_year_groups,
        la_filter_column="la_code",
        demo_files=(("helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv", None),),
    )
)
