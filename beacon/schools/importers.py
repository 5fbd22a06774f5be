"""Register importers: the DfE school census underlying data and GIAS (Get Information about Schools).

Column registries accept raw GIAS headers ("LA (code)", "TypeOfEstablishment (name)" ...) and the
renamed headers of the GIAS extracts on hand (establishment_name, education_phase ...).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from beacon.imports.framework import (
    Column,
    ImportContext,
    LoadResult,
    Source,
    TableSnapshot,
    copy_to_history,
    created_and_changed,
    model_frame,
    model_rows,
    register,
    snapshot_rows,
    upsert_rows,
)
from beacon.schools.figures import figures
from beacon.schools.models import Phase, School

# --------------------------------------------------------------------------------------------
# Phase and type vocabularies


def phase_from_text(phase: str | None, type_name: str | None = None, all_through: bool = False) -> str:
    text = f"{phase or ''} {type_name or ''}".lower()
    if all_through or "all-through" in text or "all through" in text:
        return Phase.ALL_THROUGH
    if "special" in text:
        return Phase.SPECIAL
    if "pupil referral" in text or "alternative" in text or " ap " in f" {text} ":
        return Phase.ALTERNATIVE
    if "nursery" in text:
        return Phase.NURSERY
    if "middle" in text:
        return Phase.MIDDLE
    if "primary" in text:
        return Phase.PRIMARY
    if "secondary" in text:
        return Phase.SECONDARY
    if "16 plus" in text or "sixth form" in text:
        return Phase.POST16
    return Phase.OTHER


def state_funded(type_name: str | None, group: str | None) -> bool:
    text = f"{type_name or ''} {group or ''}".lower()
    return not (
        "independent" in text or "non-maintained" in text or "welsh" in text or "further education" in text
    )


# --------------------------------------------------------------------------------------------
# Audit: imports write in bulk, so they record the register's history themselves.

AUDITED_FIELDS = [
    f.attname for f in School._meta.concrete_fields if f.attname not in {"id", "updated_at", "source_run_id"}
]


def snapshot(urns: list[int]) -> TableSnapshot:
    """The register rows of `urns` (every audited field) as they are now, kept in the database for
    `record_register_history` (decision 0026, second amendment)."""
    return snapshot_rows(School, "urn", urns, AUDITED_FIELDS)


def record_register_history(before: TableSnapshot, urns: list[int], ctx: ImportContext) -> None:
    """Write a history row for every school the import created or changed, with the run as the reason.

    The register is edited by people too and head changes are read from its history, so it keeps history
    rows (copied inside the database, decision 0026); imported facts (measures, inspections) do not.
    `before` is `snapshot(urns)` taken before the write; the comparison is one join in the database, not a
    loop.
    """
    created, changed = created_and_changed(before, urns)
    reason = f"Import run {ctx.run.pk}: {ctx.file_name}"
    copy_to_history(School, created, history_type="+", reason=reason)
    copy_to_history(School, changed, history_type="~", reason=reason)


def mapped(
    frame: pl.DataFrame, inputs: list[str], name: str, rule: Callable[..., object], dtype: pl.DataType
) -> pl.Series:
    """`rule(*inputs)` for every row, computed once per distinct combination of inputs and joined back.

    The register's vocabulary rules (phase, state-funded) stay one readable Python function each; the
    file's 20,000+ rows have a few dozen distinct combinations.
    """
    keys = frame.select(inputs).unique()
    table = keys.with_columns(pl.Series(name, [rule(*values) for values in keys.iter_rows()], dtype=dtype))
    return frame.select(inputs).join(table, on=inputs, how="left", nulls_equal=True, maintain_order="left")[
        name
    ]


def register_rows(frame: pl.DataFrame) -> tuple[list[str], pl.DataFrame]:
    """Every concrete register column for `upsert_rows`: the frame's, or the model's default for a new school."""
    names, (defaults,) = model_rows(School, [School(urn=0, name="")])
    exprs = [
        pl.col(n) if n in frame.columns else pl.lit(d).alias(n) for n, d in zip(names, defaults, strict=True)
    ]
    return names, frame.select(exprs)


# --------------------------------------------------------------------------------------------
# School census (Schools, pupils and their characteristics: school-level underlying data)

CENSUS_COLUMNS = (
    Column("time_period", ("time_period",), "int"),
    Column("urn", ("urn",), "int"),
    Column("la_code", ("old_la_code",), "int"),
    Column("la_name", ("la_name",)),
    Column("region", ("region_name",), required=False),
    Column("laestab", ("laestab",), "int", required=False),
    Column("name", ("school_name",)),
    Column("phase_group", ("phase_type_grouping",)),
    Column("type_name", ("typeofestablishment_name",)),
    Column("all_through", ("all_through_school",), required=False),
    Column("trust", ("trust",), required=False),
    Column("open_date", ("opendate",), "date", required=False),
    Column("religious_character", ("denomination",), required=False),
    Column("admissions_policy", ("admissions_policy",), required=False),
    Column("gender", ("sex_of_school_description",), required=False),
    Column("ward", ("ward_name",), required=False),
    Column("constituency", ("parl_con_name",), required=False),
    Column("postcode", ("school_postcode",), required=False),
    Column("academy_flag", ("academy_flag",), required=False),
    Column("pupils", ("headcount of pupils",), "number"),
    Column("fsm", ("% of pupils known to be eligible for free school meals",), "number", required=False),
    Column(
        "eal",
        ("% of pupils whose first language is known or believed to be other than English",),
        "number",
        required=False,
    ),
)

REGISTER_FIELDS = [
    "laestab",
    "name",
    "la_code",
    "la_name",
    "region",
    "phase",
    "establishment_type",
    "type_group",
    "is_state_funded",
    "is_open",
    "open_date",
    "religious_character",
    "admissions_policy",
    "gender",
    "trust_name",
    "ward",
    "parliamentary_constituency",
    "postcode",
    "source_run",
]


def load_census(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    # The register columns in polars; the two vocabulary rules once per distinct combination.
    all_through = pl.col("all_through") == "Yes"
    rules = df.select(
        "phase_group", "type_name", "academy_flag", all_through.fill_null(False).alias("all_through")
    )
    schools = df.select(
        "urn",
        "laestab",
        "name",
        "la_code",
        pl.col("la_name").fill_null(""),
        pl.col("region").fill_null(""),
        mapped(rules, ["phase_group", "type_name", "all_through"], "phase", phase_from_text, pl.Utf8()),
        pl.col("type_name").fill_null("").alias("establishment_type"),
        pl.col("academy_flag").fill_null("").alias("type_group"),
        mapped(rules, ["phase_group", "academy_flag"], "is_state_funded", state_funded, pl.Boolean()),
        pl.lit(True).alias("is_open"),
        "open_date",
        pl.col("religious_character")
        .fill_null("")
        .str.replace_all("No religious character", "None", literal=True),
        pl.col("admissions_policy").fill_null(""),
        pl.col("gender").fill_null(""),
        pl.col("trust").fill_null("").alias("trust_name"),
        pl.col("ward").fill_null(""),
        pl.col("constituency").fill_null("").alias("parliamentary_constituency"),
        pl.col("postcode").fill_null(""),
        pl.lit(ctx.run.pk, dtype=pl.Int64).alias("source_run"),
    )
    urns = schools["urn"].to_list()
    before = snapshot(urns)
    columns, rows = register_rows(schools)
    inserted, updated = upsert_rows(
        School,
        columns,
        rows.iter_rows(),
        unique_fields=["urn"],
        update_fields=REGISTER_FIELDS,
        ctx=ctx,
        total=rows.height,
    )
    record_register_history(before, urns, ctx)
    # Pupils, % FSM and % EAL: written by indicators, which owns them (beacon.schools.figures).
    measures = figures().write_census("school_census", df, ctx)
    return LoadResult(
        inserted=inserted,
        updated=updated,
        notes=[f"Register: {inserted} schools added, {updated} updated.", *measures.notes],
    )


CENSUS = register(
    Source(
        key="school_census",
        label="School census: school-level underlying data (register and context)",
        description=(
            "DfE 'Schools, pupils and their characteristics' school-level file. Creates or updates each "
            "school in the register and records pupils, % FSM and % EAL for the census year."
        ),
        columns=CENSUS_COLUMNS,
        loader=load_census,
        la_filter_column="la_code",
        demo_files=(("helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv", None),),
    )
)

# --------------------------------------------------------------------------------------------
# GIAS establishment fields (raw "edubasealldata" headers or the renamed extract)

GIAS_COLUMNS = (
    Column("urn", ("URN",), "int"),
    Column("name", ("EstablishmentName", "establishment_name")),
    Column("la_code", ("LA (code)",), "int", required=False),
    Column("la_name", ("LA (name)",), required=False),
    # The renamed extract gives the district, not the LA: a county's schools name Cambridge or Fenland, and
    # a school near a boundary its neighbour's district. Only a school the register holds no LA name for
    # takes it (see load_gias).
    Column("district", ("administrative_district",), required=False),
    Column("estab", ("EstablishmentNumber", "establishment_number"), "int", required=False),
    Column("type_name", ("TypeOfEstablishment (name)", "establishment_type"), required=False),
    Column("type_group", ("EstablishmentTypeGroup (name)", "establishment_type_group"), required=False),
    Column("status", ("EstablishmentStatus (name)", "establishment_status"), required=False),
    Column("phase", ("PhaseOfEducation (name)", "education_phase"), required=False),
    Column("open_date", ("OpenDate", "open_date"), "date", required=False),
    Column("close_date", ("CloseDate", "close_date"), "date", required=False),
    Column("low_age", ("StatutoryLowAge", "statutory_low_age"), "int", required=False),
    Column("high_age", ("StatutoryHighAge", "statutory_high_age"), "int", required=False),
    Column("gender", ("Gender (name)", "gender"), required=False),
    Column("religious_character", ("ReligiousCharacter (name)", "religious_character"), required=False),
    Column("admissions_policy", ("AdmissionsPolicy (name)", "admissions_policy"), required=False),
    Column("sixth_form", ("OfficialSixthForm (name)",), required=False),
    Column("street", ("Street", "street"), required=False),
    Column("locality", ("Locality", "locality"), required=False),
    Column("town", ("Town", "town"), required=False),
    Column("postcode", ("Postcode", "postcode"), required=False),
    Column("ward", ("AdministrativeWard (name)", "administrative_ward"), required=False),
    Column(
        "constituency", ("ParliamentaryConstituency (name)", "parliamentary_constituency"), required=False
    ),
    Column("region", ("GOR (name)", "gor"), required=False),
    Column("easting", ("Easting", "easting"), "int", required=False),
    Column("northing", ("Northing", "northing"), "int", required=False),
    Column("website", ("SchoolWebsite", "school_website", "WebsiteAddress"), required=False),
    Column("telephone", ("TelephoneNum", "telephone_num"), required=False),
    Column("head_title", ("HeadTitle (name)", "head_title"), required=False),
    Column("head_first", ("HeadFirstName", "head_first_name"), required=False),
    Column("head_last", ("HeadLastName", "head_last_name"), required=False),
    Column("head_job", ("HeadPreferredJobTitle", "head_preferred_job_title"), required=False),
    Column("capacity", ("SchoolCapacity",), "int", required=False),
)


def load_gias(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    df = df.filter(pl.col("urn") > 0)
    if ctx.la_code is not None:
        # Files with an LA code column are filtered by the framework; renamed extracts carry the
        # LA only as a name, so match that (or keep schools already in the register for this LA).
        if df["la_code"].null_count() == df.height:
            la_name = (
                figures().area_name(ctx.la_code)
                or School.objects.filter(la_code=ctx.la_code).values_list("la_name", flat=True).first()
                or ""
            )
            existing = list(School.objects.filter(la_code=ctx.la_code).values_list("urn", flat=True))
            named = pl.coalesce(pl.col("la_name"), pl.col("district"))
            df = df.filter((named == la_name) | pl.col("urn").is_in(existing))
        else:
            df = df.filter(pl.col("la_code") == ctx.la_code)
    # Each file row against the school it updates (or the model's defaults for a new school), in polars.
    fields = [f.attname for f in School._meta.concrete_fields if f.attname != "id"]
    register = model_frame(School.objects.all(), ["id", *fields]).filter(
        pl.col("urn").is_in(df["urn"].implode())
    )
    names, (defaults,) = model_rows(School, [School(urn=0, name="")])
    attnames = {f.name: f.attname for f in School._meta.concrete_fields}
    default_of = dict(zip([attnames[n] for n in names], defaults, strict=True))
    file_cols = [c for c in df.columns if c != "urn"]
    joined = df.rename({c: f"file__{c}" for c in file_cols}).join(
        register, on="urn", how="left", maintain_order="left"
    )
    joined = joined.with_columns(
        pl.col(c).fill_null(default_of[c]) if default_of[c] is not None else pl.col(c)
        for c in fields
        if c not in {"urn", "updated_at", "source_run_id"}
    )

    def file(name: str) -> pl.Expr:
        return pl.col(f"file__{name}")

    def file_or_kept(name: str, attr: str | None = None) -> pl.Expr:
        return pl.coalesce(file(name), pl.col(attr or name))

    status = file("status").fill_null("Open")
    is_open = status.str.to_lowercase().str.starts_with("open")
    evidence = pl.concat_str(
        pl.lit("GIAS establishment status '"),
        status,
        pl.lit("'"),
        pl.when(file("close_date").is_not_null())
        .then(pl.lit(", close date ") + file("close_date").dt.strftime("%-d %B %Y"))
        .otherwise(pl.lit("")),
        pl.lit("."),
    )
    head_parts = [
        pl.when(file(p).is_not_null() & (file(p) != "Not applicable")).then(file(p))
        for p in ("head_title", "head_first", "head_last")
    ]
    head = pl.concat_list(head_parts).list.drop_nulls().list.join(" ")
    rules = joined.select(file("phase"), file("type_name"), file("type_group"))
    phase = mapped(rules, ["file__phase", "file__type_name"], "phase", phase_from_text, pl.Utf8())
    funded = mapped(rules, ["file__type_name", "file__type_group"], "funded", state_funded, pl.Boolean())
    has_phase = file("phase").is_not_null() | file("type_name").is_not_null()
    values = {
        "name": file("name"),
        "la_code": file_or_kept("la_code"),
        # The LA's name: the file's (GIAS's own "LA (name)"), else the register's (the census names the LA),
        # else, for a school the register holds no name for, the file's district.
        "la_name": pl.coalesce(
            file("la_name"), pl.when(pl.col("la_name") != "").then(pl.col("la_name")), file("district")
        ),
        "establishment_type": file_or_kept("type_name", "establishment_type"),
        "type_group": file_or_kept("type_group"),
        "is_open": is_open,
        "closure_evidence": pl.when(is_open).then(pl.col("closure_evidence")).otherwise(evidence),
        "open_date": file_or_kept("open_date"),
        "close_date": file("close_date"),
        "statutory_low_age": file("low_age"),
        "statutory_high_age": file("high_age"),
        "gender": file_or_kept("gender"),
        "religious_character": file_or_kept("religious_character"),
        "admissions_policy": file_or_kept("admissions_policy"),
        "street": file("street").fill_null(""),
        "locality": file("locality").fill_null(""),
        "town": file("town").fill_null(""),
        "postcode": file_or_kept("postcode"),
        "ward": file_or_kept("ward"),
        "parliamentary_constituency": file_or_kept("constituency", "parliamentary_constituency"),
        "region": file_or_kept("region"),
        "easting": pl.when(file("easting") != 0).then(file("easting")),
        "northing": pl.when(file("northing") != 0).then(file("northing")),
        "website": file("website").fill_null(""),
        "telephone": file("telephone").fill_null(""),
        "head_name": pl.when(head != "").then(head).otherwise(pl.col("head_name")),
        "head_job_title": file_or_kept("head_job", "head_job_title"),
        "capacity": file_or_kept("capacity"),
        "phase": pl.when(has_phase).then(phase).otherwise(pl.col("phase")),
        "is_state_funded": pl.when(has_phase).then(funded).otherwise(pl.col("is_state_funded")),
        "has_sixth_form": pl.when(file("sixth_form").is_not_null())
        .then(file("sixth_form").str.to_lowercase().str.starts_with("has"))
        .otherwise(pl.col("has_sixth_form")),
        "source_run_id": pl.lit(ctx.run.pk, dtype=pl.Int64),
    }
    joined = joined.with_columns(**{k: v.cast(joined.schema[k]) for k, v in values.items()})
    created = joined.filter(pl.col("id").is_null()).height
    urns = df["urn"].to_list()
    before = snapshot(urns)
    # A new school's updated_at is the model's (now); an existing school's is left as it was on update.
    rows = joined.select([pl.col(c) if c != "updated_at" else pl.lit(default_of[c]) for c in fields])
    upsert_rows(
        School,
        names,
        rows.iter_rows(),
        unique_fields=["urn"],
        update_fields=sorted(School._meta.get_field(a).name for a in values),
        ctx=ctx,
        total=rows.height,
    )
    record_register_history(before, urns, ctx)
    ctx.progress(df.height, df.height)
    return LoadResult(inserted=created, updated=df.height - created)


GIAS = register(
    Source(
        key="gias_establishments",
        label="GIAS establishments (register details, address, location, headteacher)",
        description=(
            "Get Information about Schools 'all establishment data' extract. Creates or updates schools "
            "with type, phase, status, ages, address, easting/northing and headteacher."
        ),
        columns=GIAS_COLUMNS,
        loader=load_gias,
        demo_files=(("clarelgibson-england-school-admissions/dim_school.csv", None),),
    )
)


# The 2024/25 register sources (CSP census and school list, GIAS links) live in their own module;
# importing it here registers them with the others.
from beacon.schools import register_2025  # noqa: E402, F401
