"""The 2024/25 register: who the LA serves now (issue 11 item 3).

Three sources, loaded in this order after the 2022 register (school census 2022/23, GIAS 2022):

* ``csp_census_register`` - the CSP census file (January 2025, DfE's original headers: URN, LA, Estab,
  SCHOOLTYPE, NOR ...), year given by the run (2024 = 2024/25). Records pupils (NOR), % EHC plan
  (PSENELSE), % SEN support (PSENELK), % EAL (PNUMEAL) and % disadvantaged (PNUMFSMEVER) with the same
  measure codes as the other census files. Schools whose URN the register does not know (opened or
  re-registered since 2022, mostly academy conversions) are *added* (URN, LA, LAESTAB = LA * 10000 + Estab,
  type and phase from SCHOOLTYPE) instead of their values being dropped; every school's
  `is_state_funded` is set from SCHOOLTYPE ('Independent school', 'Non-maintained special school' are not).
  '% FSM now' is not derived: the file's NUMFSM has another denominator than NOR (compulsory-age pupils).
  Where NORFSMEVER is 'NA' the file still prints 0.00% for PNUMFSMEVER: stored as not available.
* ``csp_school_register`` (after ``gias_links``) - the CSP 2024/25 school list (URN, SCHNAME, POSTCODE, ISPRIMARY, ISSECONDARY,
  LAT, LON; no LA column). Names, postcodes and phases of schools added from the census; then the
  *closure check*: an open school of the run's LA (every LA without one) that is absent from the January
  2025 census AND either absent from this list or succeeded (GIAS link) by a school in that census is marked
  closed, with its evidence in `School.closure_evidence`
  (GIAS status and close date where known, absent files, 0 on roll). Skipped, with a note, until the
  census for 2024 has been imported (absence from a file never read is no evidence).
* ``gias_links`` - GIAS establishment links (URN, LinkURN, LinkName, LinkType, LinkEstablishedDate):
  `SchoolLink` rows, so a converted academy's predecessor (its older results and inspections) is
  reachable from its page. With an LA, links touching the LA's schools are kept.

Decision: docs/decisions/0015-served-schools-and-inspection-snapshot.md.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from beacon.imports.framework import (
    ROW_COL,
    Column,
    ImportContext,
    ImportRejected,
    LoadResult,
    Source,
    model_frame,
    register,
    update_rows,
    upsert_rows,
)
from beacon.imports.parsing import ValueStatus
from beacon.schools.figures import figures
from beacon.schools.importers import (
    mapped,
    phase_from_text,
    record_register_history,
    register_rows,
    snapshot,
    state_funded,
)
from beacon.schools.models import LinkType, Phase, School, SchoolLink

CENSUS_YEAR_NOTE = "January 2025 census = academic year 2024/25, stored as 2024."
PLACEHOLDER_PREFIX = "School URN "  # a school added from the census before its name is known
# CSP's SCHOOLTYPE values: a school whose establishment type is one of these was added from the census
# and takes its GIAS-style details (type, phase, trust, open date) from the Ofsted file when that loads.
CSP_SCHOOL_TYPES = frozenset(
    {
        "State-funded primary",
        "State-funded secondary",
        "State-funded special school",
        "State-funded nursery",
        "State-funded AP school",
        "Independent school",
        "Non-maintained special school",
        "Special school",
    }
)


def _error(row: int, column: str, value: Any, reason: str) -> dict[str, Any]:
    return {"row": row, "column": column, "value": "" if value is None else str(value)[:80], "reason": reason}


def _num(name: str, header: str) -> Column:
    return Column(name, (header,), "number", required=False)


# --------------------------------------------------------------------------------------------
# 1. CSP census (January 2025)

CENSUS_COLUMNS = (
    Column("urn", ("URN",)),  # text: the national rows say 'NAT'
    Column("la", ("LA", "LEA"), "int", required=False),
    Column("estab", ("Estab", "ESTAB")),
    Column("school_type", ("SCHOOLTYPE",)),
    _num("pupils", "NOR"),
    _num("sen_ehcp", "PSENELSE"),
    _num("sen_support", "PSENELK"),
    _num("eal", "PNUMEAL"),
    _num("fsm_ever6", "PNUMFSMEVER"),
    _num("fsm_ever6_base", "NORFSMEVER"),
)


def _la_name_by_code() -> dict[int, tuple[str, str]]:
    rows = (
        model_frame(School.objects.exclude(la_name=""), ["la_code", "la_name", "region"])
        .drop_nulls("la_code")
        .unique("la_code", keep="first", maintain_order=True)
    )
    return {code: (name, region) for code, name, region in rows.iter_rows()}


def load_census(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    if ctx.year is None:
        raise ImportRejected([_error(0, "", "", "Choose the census's academic year (2024 for January 2025)")])
    national = df.filter(pl.col("urn").str.to_uppercase() == "NAT")
    df = df.filter(pl.col("urn").str.to_uppercase() != "NAT")
    errors = [
        _error(r, "URN", v, "Not a URN (a whole number) or 'NAT'")
        for r, v in df.filter(~pl.col("urn").str.contains(r"^\d+$").fill_null(False))
        .select(ROW_COL, "urn")
        .iter_rows()
    ]
    errors += [
        _error(r, "LA", "", "LA code is blank") for r in df.filter(pl.col("la").is_null())[ROW_COL].to_list()
    ]
    errors += [
        _error(r, "Estab", v, "Not an establishment number")
        for r, v in df.filter(~pl.col("estab").str.contains(r"^\d{1,4}$").fill_null(False))
        .select(ROW_COL, "estab")
        .iter_rows()
    ]
    if errors:
        raise ImportRejected(errors)
    df = df.with_columns(pl.col("urn").cast(pl.Int64), pl.col("estab").cast(pl.Int64))
    if ctx.la_code is not None:
        df = df.filter(pl.col("la") == ctx.la_code)

    notes = [CENSUS_YEAR_NOTE]
    if national.height:
        notes.append(f"{national.height} national summary rows (URN 'NAT') were not imported.")
    urns = df["urn"].to_list()
    before = snapshot(urns)
    # The register's corrections and additions in polars: the file against the schools it names.
    la_names = _la_name_by_code()
    areas = pl.DataFrame(
        {
            "la": list(la_names),
            "la_name": [v[0] for v in la_names.values()],
            "region": [v[1] for v in la_names.values()],
        },
        schema={"la": pl.Int64, "la_name": pl.Utf8, "region": pl.Utf8},
    )
    rows = df.select("urn", pl.col("la").cast(pl.Int64), "estab", "school_type")
    rows = rows.with_columns(
        mapped(rows, ["school_type"], "funded", lambda t: state_funded(t, None), pl.Boolean()),
        (pl.col("la") * 10000 + pl.col("estab")).alias("laestab"),
    )
    existing = model_frame(School.objects.order_by(), ["urn", "id", "is_state_funded", "laestab"]).select(
        "urn", "id", pl.col("is_state_funded").alias("was_funded"), pl.col("laestab").alias("had_laestab")
    )
    rows = rows.join(existing, on="urn", how="left", maintain_order="left")
    new = (
        rows.filter(pl.col("id").is_null())
        .unique("urn", keep="first", maintain_order=True)  # a URN twice: the first row created it
        .join(areas, on="la", how="left", maintain_order="left")
        .select(
            "urn",
            (pl.lit(PLACEHOLDER_PREFIX) + pl.col("urn").cast(pl.Utf8)).alias("name"),
            pl.col("la").alias("la_code"),
            pl.col("la_name").fill_null(""),
            pl.col("region").fill_null(""),
            "laestab",
            pl.col("school_type").fill_null("").alias("establishment_type"),
            pl.col("school_type").fill_null("").alias("type_group"),
            mapped(
                rows.filter(pl.col("id").is_null()).unique("urn", keep="first", maintain_order=True),
                ["school_type"],
                "phase",
                phase_from_text,
                pl.Utf8(),
            ),
            pl.col("funded").alias("is_state_funded"),
            pl.lit(True).alias("is_open"),
            pl.lit(ctx.run.pk, dtype=pl.Int64).alias("source_run"),
        )
    )
    # An existing school: the funding flag from SCHOOLTYPE, and its LAESTAB if it had none (last row wins).
    fixes = (
        rows.filter(pl.col("id").is_not_null())
        .unique("urn", keep="last", maintain_order=True)
        .with_columns(pl.coalesce("had_laestab", "laestab").alias("laestab"))
        .filter((pl.col("funded") != pl.col("was_funded")) | pl.col("had_laestab").is_null())
    )
    if new.height:
        columns, register = register_rows(new)
        upsert_rows(School, columns, register.iter_rows(), unique_fields=["urn"], update_fields=[])
    update_rows(
        School, ["is_state_funded", "laestab"], list(fixes.select("id", "funded", "laestab").iter_rows())
    )
    record_register_history(before, urns, ctx)
    created = new["urn"].to_list()
    if created:
        notes.append(
            f"Register: {len(created)} school(s) opened or re-registered since the 2022 register added "
            f"(URN {', '.join(str(u) for u in created[:20])}{' ...' if len(created) > 20 else ''})."
        )
    flipped = fixes.height
    if flipped:
        notes.append(
            f"Register: {flipped} school(s) corrected (state-funded or not, from SCHOOLTYPE; LAESTAB)."
        )

    # The census measures: written by indicators, which owns them (beacon.schools.figures).
    measures = figures().write_census("csp_census_register", df, ctx)
    notes += measures.notes
    return LoadResult(
        inserted=len(created) + measures.inserted,
        updated=measures.updated,
        skipped=national.height + measures.skipped,
        notes=notes,
    )


CSP_CENSUS_REGISTER = register(
    Source(
        key="csp_census_register",
        label="School census (CSP, January 2025): pupils and context, and schools new since the 2022 register",
        description=(
            "DfE Compare School Performance census file with its original headers (URN, LA, Estab, SCHOOLTYPE, "
            "NOR, PSENELSE, PSENELK, PNUMEAL, PNUMFSMEVER). Records the census measures for the year chosen and "
            "adds schools the register does not know yet (opened or converted since), state-funded or not "
            "from SCHOOLTYPE."
        ),
        columns=CENSUS_COLUMNS,
        loader=load_census,
        needs_year=True,
        demo_files=(("calvinchankf-csp-2024-25/england_census.csv", 2024),),
    )
)


# --------------------------------------------------------------------------------------------
# 2. CSP school list 2024/25 (names, postcodes, phase flags) and the closure check

COORDS_COLUMNS = (
    Column("urn", ("URN",), "int"),
    Column("name", ("SCHNAME",)),
    Column("postcode", ("POSTCODE",), required=False),
    Column("is_primary", ("ISPRIMARY",), "int", required=False),
    Column("is_secondary", ("ISSECONDARY",), "int", required=False),
)


def _phase_from_flags(primary: int | None, secondary: int | None) -> str | None:
    if primary and secondary:
        return Phase.ALL_THROUGH
    if primary:
        return Phase.PRIMARY
    if secondary:
        return Phase.SECONDARY
    return None


def closure_evidence(
    school: School,
    *,
    census_label: str,
    register_label: str,
    listed: bool,
    successor: SchoolLink | None,
    latest: tuple[int, float] | None,
) -> str:
    """The evidence for holding `school` as closed, one clause per fact, from what the register holds.

    `latest` is the school's most recent census headcount with a figure, (year, pupils), if any.
    """
    facts = []
    if school.close_date:
        facts.append(f"GIAS close date {school.close_date:%-d %B %Y}")
    facts.append(f"absent from the {census_label}")
    if not listed:
        facts.append(f"absent from the {register_label}")
    if successor is not None:
        when = f" from {successor.established:%-d %B %Y}" if successor.established else ""
        facts.append(
            f"succeeded by {successor.linked_name or 'URN ' + str(successor.linked_urn)} "
            f"(URN {successor.linked_urn}){when}, in that census (GIAS links)"
        )
    if latest is not None and latest[1] == 0:
        facts.append(f"0 pupils on roll in the {latest[0]}/{str(latest[0] + 1)[-2:]} census")
    elif latest is not None:
        facts.append(
            f"last census headcount {latest[1]:,.0f} ({latest[0]}/{str(latest[0] + 1)[-2:]}), none since"
        )
    return "; ".join(facts)[:1].upper() + "; ".join(facts)[1:] + "."


def mark_closures(listed_urns: set[int], ctx: ImportContext, census_year: int) -> list[str]:
    """Open schools (of the run's LA) absent from the 2024/25 list and from the census of `census_year`."""
    qs = School.objects.filter(is_open=True)
    if ctx.la_code is not None:
        qs = qs.filter(la_code=ctx.la_code)
    pupils = figures().headcounts()  # every census headcount held (indicators owns the figures)
    census_ids = pupils.filter(pl.col("year") == census_year)["school_id"]
    open_schools = model_frame(qs, ["id", "urn"])
    in_census = open_schools.filter(pl.col("id").is_in(census_ids.implode()))
    if not in_census.height:
        return [
            f"Closure check skipped: no {census_year}/{str(census_year + 1)[-2:]} census is imported for these "
            "schools (absence from a file not read is no evidence)."
        ]
    # A school that has a successor in the census is closed even if the 2024/25 list still names it
    # (the list keeps schools that closed during the year, e.g. at an academy conversion).
    census_urns = model_frame(School.objects.all(), ["id", "urn"]).filter(
        pl.col("id").is_in(census_ids.implode())
    )["urn"]
    links = model_frame(
        SchoolLink.objects.filter(direction=LinkType.SUCCESSOR).order_by("established"),
        ["id", "urn", "linked_urn"],
    )
    links = links.filter(
        pl.col("urn").is_in(open_schools["urn"].implode()) & pl.col("linked_urn").is_in(census_urns.implode())
    )
    successor_link = dict(zip(links["urn"].to_list(), links["id"].to_list(), strict=True))  # the latest wins
    listed = pl.Series(list(listed_urns), dtype=pl.Int64)
    gone_frame = open_schools.filter(
        ~pl.col("id").is_in(census_ids.implode())
        & (~pl.col("urn").is_in(listed.implode()) | pl.col("urn").is_in(list(successor_link)))
    )
    if not gone_frame.height:
        return ["Closure check: every open school is in the 2024/25 list or the census."]
    gone = list(
        School.objects.filter(pk__in=gone_frame["id"].to_list())
        .order_by("urn")
        .only("id", "urn", "close_date")
    )
    successors = SchoolLink.objects.in_bulk(list(successor_link.values()))
    # The latest census headcount with a figure, per school: one query, not one per school.
    latest = (
        pupils.filter(pl.col("status") == ValueStatus.OK.value)
        .sort("school_id", "year")
        .group_by("school_id", maintain_order=True)
        .last()
    )
    latest_by_id = {i: (y, v) for i, y, v in latest.select("school_id", "year", "value").iter_rows()}
    urns = [s.urn for s in gone]
    before = snapshot(urns)
    census_label = f"January {census_year + 1} school census"
    rows = []
    for s in gone:
        link = successor_link.get(s.urn)
        evidence = closure_evidence(
            s,
            census_label=census_label,
            register_label=f"{census_year}/{str(census_year + 1)[-2:]} CSP school list",
            listed=s.urn in listed_urns,
            successor=successors[link] if link is not None else None,
            latest=latest_by_id.get(s.pk),
        )
        rows.append((s.pk, False, evidence))
    update_rows(School, ["is_open", "closure_evidence"], rows)
    record_register_history(before, urns, ctx)
    return [
        f"Marked closed, with the evidence on each school's page: {len(gone)} school(s) (URN "
        f"{', '.join(str(u) for u in urns[:20])}{' ...' if len(urns) > 20 else ''})."
    ]


def load_coords(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    missing = df.filter(pl.col("urn").is_null())
    if missing.height:
        raise ImportRejected([_error(r, "URN", "", "URN is blank") for r in missing[ROW_COL].to_list()])
    listed = set(df["urn"].to_list())
    qs = School.objects.all()
    if ctx.la_code is not None:
        qs = qs.filter(la_code=ctx.la_code)
    schools = model_frame(qs, ["id", "urn", "name", "postcode", "phase"]).filter(
        pl.col("urn").is_in(df["urn"].implode())
    )
    # Each file row against its school, in file order (a repeated URN: the last row's values stand).
    flag_phase = (
        pl.when(
            pl.col("is_primary").fill_null(0).cast(pl.Boolean)
            & pl.col("is_secondary").fill_null(0).cast(pl.Boolean)
        )
        .then(pl.lit(Phase.ALL_THROUGH.value))
        .when(pl.col("is_primary").fill_null(0).cast(pl.Boolean))
        .then(pl.lit(Phase.PRIMARY.value))
        .when(pl.col("is_secondary").fill_null(0).cast(pl.Boolean))
        .then(pl.lit(Phase.SECONDARY.value))
    )
    rows = df.select(
        "urn",
        pl.col("name").alias("new_name"),
        pl.col("postcode").alias("new_postcode"),
        flag_phase.alias("new_phase"),
    ).join(schools, on="urn", how="inner", maintain_order="left")
    # Row by row, a school named twice would see its first row's changes; fold them in file order.
    changes: dict[int, tuple[int, str, str, str]] = {}
    for urn, new_name, new_postcode, new_phase, pk, name, postcode, phase in rows.iter_rows():
        if urn in changes:
            _, name, postcode, phase = changes[urn]
        if new_name and (not name or name.startswith(PLACEHOLDER_PREFIX)):
            name = new_name
        if new_postcode and not postcode:
            postcode = new_postcode
        if new_phase and phase == Phase.OTHER:
            phase = new_phase
        changes[urn] = (pk, name, postcode, phase)
    current = {
        pk: (name, postcode, phase)
        for pk, name, postcode, phase in schools.select("id", "name", "postcode", "phase").iter_rows()
    }
    changed = [(pk, *values) for pk, *values in changes.values() if current[pk] != tuple(values)]
    touched = [urn for urn, (pk, *values) in changes.items() if current[pk] != tuple(values)]
    before = snapshot(touched)
    update_rows(School, ["name", "postcode", "phase"], changed)
    record_register_history(before, touched, ctx)
    notes = [f"Register: {len(changed)} school(s) given their 2024/25 name, postcode or phase."]
    census_year = ctx.year if ctx.year is not None else 2024
    notes += mark_closures(listed, ctx, census_year)
    return LoadResult(updated=len(changed), skipped=df.height - schools.height, notes=notes)


CSP_SCHOOL_REGISTER = register(
    Source(
        key="csp_school_register",
        label="School list 2024/25 (CSP): names, postcodes, phase; schools no longer listed marked closed",
        description=(
            "Every establishment in Compare School Performance 2024/25 (URN, SCHNAME, POSTCODE, ISPRIMARY, "
            "ISSECONDARY). Names schools added from the January 2025 census; an open school absent from this "
            "list and from that census is marked closed with the evidence. The year is the census's (2024)."
        ),
        columns=COORDS_COLUMNS,
        loader=load_coords,
        demo_files=(("calvinchankf-csp-2024-25/england_school_coords.csv", 2024),),
    )
)


# --------------------------------------------------------------------------------------------
# 3. GIAS establishment links (predecessor / successor)

LINK_COLUMNS = (
    Column("urn", ("URN",), "int"),
    Column("linked_urn", ("LinkURN",), "int"),
    Column("linked_name", ("LinkName",), required=False),
    Column("link_type", ("LinkType",)),
    Column("established", ("LinkEstablishedDate",), "date", required=False),
)


def _direction(link_type: str) -> str:
    text = link_type.lower()
    if text.startswith("predecessor"):
        return LinkType.PREDECESSOR
    if text.startswith("successor"):
        return LinkType.SUCCESSOR
    return LinkType.OTHER


def load_links(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    bad = df.filter(pl.col("urn").is_null() | pl.col("linked_urn").is_null() | pl.col("link_type").is_null())
    if bad.height:
        raise ImportRejected(
            [_error(r, "URN / LinkURN / LinkType", "", "Blank") for r in bad[ROW_COL].to_list()]
        )
    if ctx.la_code is not None:
        la_urns = list(School.objects.filter(la_code=ctx.la_code).values_list("urn", flat=True))
        df = df.filter(pl.col("urn").is_in(la_urns) | pl.col("linked_urn").is_in(la_urns))
    df = df.unique(subset=["urn", "linked_urn", "link_type"], keep="last", maintain_order=True)
    rows = [
        (urn, linked, name or "", _direction(kind), kind, established, ctx.run.pk)
        for urn, linked, name, kind, established in df.select(
            "urn", "linked_urn", "linked_name", "link_type", "established"
        ).iter_rows()
    ]
    inserted, updated = upsert_rows(
        SchoolLink,
        ["urn", "linked_urn", "linked_name", "direction", "link_type", "established", "source_run"],
        rows,
        unique_fields=["urn", "linked_urn", "link_type"],
        update_fields=["linked_name", "direction", "established", "source_run"],
        ctx=ctx,
        total=len(rows),
    )
    return LoadResult(
        inserted=inserted,
        updated=updated,
        notes=[f"Establishment links: {inserted} added, {updated} updated."],
    )


GIAS_LINKS = register(
    Source(
        key="gias_links",
        label="GIAS establishment links (predecessor and successor schools)",
        description=(
            "Get Information about Schools links file (URN, LinkURN, LinkName, LinkType, LinkEstablishedDate): "
            "keeps a converted academy's history joined to its predecessor."
        ),
        columns=LINK_COLUMNS,
        loader=load_links,
        demo_files=(("pvhee-london-schools/links_edubasealldata.csv", None),),
    )
)
