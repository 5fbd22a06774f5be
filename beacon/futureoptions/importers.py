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

from beacon.futureoptions.models import APPROXIMATE, IntakeYear, RollRecord, SchoolLocation, YearGroupCount
from beacon.imports.framework import (
    Column,
    ImportContext,
    ImportRejected,
    LoadResult,
    Source,
    bulk_upsert,
    read_table,
    register,
)
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


def _schools_by_urn(urns: list[int]) -> dict[int, int]:
    return dict(School.objects.filter(urn__in=urns).values_list("urn", "pk"))


def _int(value: float | None) -> int | None:
    return None if value is None else round(value)


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
    ids = _schools_by_urn(df["urn"].drop_nulls().to_list())
    label = f"GIAS extract ({ctx.file_name}), census January {ctx.year + 1}"
    records = []
    for r in df.iter_rows(named=True):
        school_id = ids.get(r["urn"])
        if school_id is None or (r["pupils"] is None and r.get("capacity") is None):
            continue
        records.append(
            RollRecord(
                school_id=school_id,
                year=ctx.year,
                pupils=_int(r["pupils"]),
                capacity=_int(r.get("capacity")),
                source=label[:120],
                source_run=ctx.run,
            )
        )
    inserted, updated = bulk_upsert(
        RollRecord,
        records,
        unique_fields=["school", "year"],
        update_fields=["pupils", "capacity", "source", "source_run"],
        ctx=ctx,
    )
    return LoadResult(inserted=inserted, updated=updated, skipped=df.height - len(records))


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
        .group_by("urn", "year", "phase_key")
        .agg(pl.col("offers").sum(), pl.col("first_preferences").sum(), pl.col("any_preferences").sum())
    )
    ids = _schools_by_urn(df["urn"].to_list())
    records = []
    for r in df.iter_rows(named=True):
        school_id = ids.get(r["urn"])
        if school_id is None:
            continue
        records.append(
            IntakeYear(
                school_id=school_id,
                year=r["year"],
                entry_year=ENTRY_YEAR.get(r["phase_key"], "Entry year"),
                places_offered=_int(r["offers"]),
                first_preferences=_int(r["first_preferences"]),
                any_preferences=_int(r["any_preferences"]),
                source_run=ctx.run,
            )
        )
    inserted, updated = bulk_upsert(
        IntakeYear,
        records,
        unique_fields=["school", "year", "entry_year"],
        update_fields=["places_offered", "first_preferences", "any_preferences", "source_run"],
        ctx=ctx,
    )
    return LoadResult(inserted=inserted, updated=updated, skipped=df.height - len(records))


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
    ids = _schools_by_urn(df["urn"].drop_nulls().to_list())
    label = f"CSP school list {ctx.file_name} (geocoded from the postcode)"[:120]
    records = []
    for r in df.iter_rows(named=True):
        school_id = ids.get(r["urn"])
        lat, lon = r["lat"], r["lon"]
        if school_id is None or lat is None or lon is None or not (49 < lat < 61 and -9 < lon < 3):
            continue
        records.append(
            SchoolLocation(school_id=school_id, latitude=lat, longitude=lon, source=label, source_run=ctx.run)
        )
    # Schools the list does not place and GIAS gives no grid reference for (in Camden: the pupil referral
    # units, a nursery school, alternative provision) get the centre of the listed schools in their postcode
    # sector, else district: approximate, and said so wherever the position is shown.
    own = {r.school_id for r in records}
    sectors, districts = area_centres(df)
    approximate = 0
    unplaced = School.objects.filter(easting__isnull=True).exclude(pk__in=own).exclude(postcode="")
    if ctx.la_code is not None:
        unplaced = unplaced.filter(la_code=ctx.la_code)
    for school in unplaced.only("pk", "postcode"):
        sector = postcode_sector(school.postcode)
        district = sector.split(" ")[0] if sector else ""
        area, centre = (
            (sector, sectors.get(sector)) if sector in sectors else (district, districts.get(district))
        )
        if centre is None:
            continue
        lat, lon, n = centre
        note = f"{APPROXIMATE} centre of the {n} listed school{'s' if n != 1 else ''} in postcode area {area}"
        records.append(
            SchoolLocation(
                school_id=school.pk, latitude=lat, longitude=lon, source=note[:120], source_run=ctx.run
            )
        )
        approximate += 1
    inserted, updated = bulk_upsert(
        SchoolLocation,
        records,
        unique_fields=["school"],
        update_fields=["latitude", "longitude", "source", "source_run"],
        ctx=ctx,
    )
    return LoadResult(
        inserted=inserted,
        updated=updated,
        skipped=df.height - len(records) + approximate,
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
    ids = _schools_by_urn(df["urn"].drop_nulls().to_list())
    records = []
    for r in df.iter_rows(named=True):
        school_id = ids.get(r["urn"])
        if school_id is None:
            continue
        year = int(r["time_period"]) // 100
        for g in YEAR_GROUPS_HELD:
            pupils = round(sum(r.get(f"g{g}_{i}") or 0 for i in range(len(_PARTS))))
            if pupils:
                records.append(
                    YearGroupCount(school_id=school_id, year=year, group=g, pupils=pupils, source_run=ctx.run)
                )
    inserted, updated = bulk_upsert(
        YearGroupCount,
        records,
        unique_fields=["school", "year", "group"],
        update_fields=["pupils", "source_run"],
        ctx=ctx,
    )
    return LoadResult(
        inserted=inserted, updated=updated, skipped=df.height - len({r.school_id for r in records})
    )


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
