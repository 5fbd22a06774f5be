"""Register importers: the DfE school census underlying data and GIAS (Get Information about Schools).

Column registries accept raw GIAS headers ("LA (code)", "TypeOfEstablishment (name)" ...) and the
renamed headers of the GIAS extracts on hand (establishment_name, education_phase ...).
"""

from __future__ import annotations

import polars as pl

from beacon.imports.framework import (
    Column,
    ImportContext,
    LoadResult,
    Source,
    bulk_upsert,
    copy_to_history,
    register,
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


def snapshot(urns: list[int]) -> dict[int, tuple[object, ...]]:
    found: dict[int, tuple[object, ...]] = {}
    for start in range(0, len(urns), 5000):
        chunk = urns[start : start + 5000]
        for row in School.objects.filter(urn__in=chunk).values_list("urn", "id", *AUDITED_FIELDS):
            found[row[0]] = row[1:]
    return found


def record_register_history(
    before: dict[int, tuple[object, ...]], urns: list[int], ctx: ImportContext
) -> None:
    """Write a history row for every school the import created or changed, with the run as the reason.

    The register is edited by people too and head changes are read from its history, so it keeps history
    rows (copied inside the database, decision 0026); imported facts (measures, inspections) do not.
    """
    after = snapshot(urns)
    created = sorted(int(str(values[0])) for urn, values in after.items() if urn not in before)
    changed = sorted(
        int(str(values[0])) for urn, values in after.items() if urn in before and before[urn] != values
    )
    reason = f"Import run {ctx.run.pk}: {ctx.file_name}"
    copy_to_history(School, created, history_type="+", reason=reason)
    copy_to_history(School, changed, history_type="~", reason=reason)


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
    schools: list[School] = []
    for r in df.iter_rows(named=True):
        schools.append(
            School(
                urn=r["urn"],
                laestab=r["laestab"],
                name=r["name"],
                la_code=r["la_code"],
                la_name=r["la_name"] or "",
                region=r["region"] or "",
                phase=phase_from_text(r["phase_group"], r["type_name"], r["all_through"] == "Yes"),
                establishment_type=r["type_name"] or "",
                type_group=r["academy_flag"] or "",
                is_state_funded=state_funded(r["phase_group"], r["academy_flag"]),
                is_open=True,
                open_date=r["open_date"],
                religious_character=(r["religious_character"] or "").replace(
                    "No religious character", "None"
                ),
                admissions_policy=r["admissions_policy"] or "",
                gender=r["gender"] or "",
                trust_name=r["trust"] or "",
                ward=r["ward"] or "",
                parliamentary_constituency=r["constituency"] or "",
                postcode=r["postcode"] or "",
                source_run=ctx.run,
            )
        )
    urns = [s.urn for s in schools]
    before = snapshot(urns)
    inserted, updated = bulk_upsert(
        School, schools, unique_fields=["urn"], update_fields=REGISTER_FIELDS, ctx=ctx
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
    Column("la_name", ("LA (name)", "administrative_district"), required=False),
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
            df = df.filter((pl.col("la_name") == la_name) | pl.col("urn").is_in(existing))
        else:
            df = df.filter(pl.col("la_code") == ctx.la_code)
    urns = df["urn"].to_list()
    before = snapshot(urns)
    existing_by_urn = {s.urn: s for s in School.objects.filter(urn__in=urns)}
    to_create: list[School] = []
    to_update: list[School] = []
    changed_fields: set[str] = set()
    for r in df.iter_rows(named=True):
        school = existing_by_urn.get(r["urn"]) or School(urn=r["urn"], name=r["name"])
        head = " ".join(
            p for p in (r["head_title"], r["head_first"], r["head_last"]) if p and p != "Not applicable"
        )
        values = {
            "name": r["name"],
            "la_code": r["la_code"] if r["la_code"] is not None else school.la_code,
            "la_name": r["la_name"] or school.la_name,
            "establishment_type": r["type_name"] or school.establishment_type,
            "type_group": r["type_group"] or school.type_group,
            "is_open": (r["status"] or "Open").lower().startswith("open"),
            "closure_evidence": (
                f"GIAS establishment status '{r['status']}'"
                + (f", close date {r['close_date']:%-d %B %Y}" if r["close_date"] else "")
                + "."
                if not (r["status"] or "Open").lower().startswith("open")
                else school.closure_evidence
            ),
            "open_date": r["open_date"] or school.open_date,
            "close_date": r["close_date"],
            "statutory_low_age": r["low_age"],
            "statutory_high_age": r["high_age"],
            "gender": r["gender"] or school.gender,
            "religious_character": r["religious_character"] or school.religious_character,
            "admissions_policy": r["admissions_policy"] or school.admissions_policy,
            "street": r["street"] or "",
            "locality": r["locality"] or "",
            "town": r["town"] or "",
            "postcode": r["postcode"] or school.postcode,
            "ward": r["ward"] or school.ward,
            "parliamentary_constituency": r["constituency"] or school.parliamentary_constituency,
            "region": r["region"] or school.region,
            "easting": r["easting"] or None,
            "northing": r["northing"] or None,
            "website": r["website"] or "",
            "telephone": r["telephone"] or "",
            "head_name": head or school.head_name,
            "head_job_title": r["head_job"] or school.head_job_title,
            "capacity": r["capacity"] if r["capacity"] is not None else school.capacity,
            "source_run": ctx.run,
        }
        if r["phase"] or r["type_name"]:
            values["phase"] = phase_from_text(r["phase"], r["type_name"])
            values["is_state_funded"] = state_funded(r["type_name"], r["type_group"])
        if r["sixth_form"]:
            values["has_sixth_form"] = r["sixth_form"].lower().startswith("has")
        for k, v in values.items():
            setattr(school, k, v)
        changed_fields.update(values)
        (to_update if school.pk else to_create).append(school)
    bulk_upsert(School, [*to_create, *to_update], unique_fields=["urn"], update_fields=sorted(changed_fields))
    record_register_history(before, urns, ctx)
    ctx.progress(df.height, df.height)
    return LoadResult(inserted=len(to_create), updated=len(to_update))


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
