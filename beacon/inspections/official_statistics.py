"""Ofsted official statistics: "State-funded schools inspections and outcomes as at 31 August 2025".

Source key ``ofsted_official_statistics``. One row per state-funded school open on the snapshot date,
with Ofsted's original 76 column names. Each row gives up to three inspections, all stored against the
school's *current* URN:

* the latest graded inspection (framework ``legacy``): inspection number and type, start and
  publication dates, overall effectiveness 1-4 **only where published** - from September 2024 Ofsted
  publishes 'Not judged' and the overall grade stays null (never invented) -, category of concern
  (SM / SWK as published), safeguarding effective (Yes / No; 9 = not judged, stored null) and the
  sub-grades as `InspectionGrade` rows (quality of education, behaviour and attitudes, personal
  development, leadership and management, early years, sixth form; 9 = not applicable);
* the previous graded inspection, with its overall grade and sub-grades (the file has no type for it);
* the latest ungraded inspection since the last graded one (framework ``ungraded``), with the outcome
  wording as published ('School remains Good', 'Standards maintained' ...) and whether it converted to
  a graded inspection.

Where an inspection was of a predecessor URN ('Does the ... relate to the URN of the current school?'
= No, typically the maintained school an academy converted from), the row is still the current
school's, with ``urn_at_time`` / ``name_at_time`` kept from the 'URN at time of ...' columns.

Precedence (docs/decisions/0015): the same inspection (school, framework, start date) may already be
held from an older or scraped file (waiky8 history, pvhee latest, the MI sample). This source ranks
highest (`importers.SOURCE_PRECEDENCE`): it overwrites those rows, and they never overwrite it.

The snapshot date is read from the file name ("..._as_at_31_August_2025...") and recorded as the run's
first note, "As at 2025-08-31"; `snapshot_date(run)` gives it back (the freshness report uses it).
Warning notices issued in 2024/25 and monitoring inspections since the last graded one are facts about
the school, not inspections: they are listed in the run's notes.

With an LA (``--la 202``), rows are kept where LAESTAB // 10000 is the LA (the maintaining LA).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import polars as pl

from beacon.imports.framework import (
    ROW_COL,
    Column,
    ColumnKind,
    ImportContext,
    LoadResult,
    Source,
    register,
    update_rows,
)
from beacon.imports.freshness import as_at_from_name
from beacon.imports.models import ImportRun
from beacon.inspections.importers import (
    KEY_JUDGEMENT_CODES,
    NOT_APPLICABLE,
    NOT_JUDGED,
    OVERALL_CODES,
    YES_NO,
    Error,
    coded,
    dates_in_order,
    reject_if,
    required_when,
    save_grades,
    save_inspections,
)
from beacon.inspections.models import EvaluationArea, Framework, OverallEffectiveness
from beacon.schools.lookup import school_ids_by_urn

SOURCE_KEY = "ofsted_official_statistics"
AS_AT_NOTE = "As at "
SAFEGUARDING_CODES: dict[str, int] = {**YES_NO, "9": NOT_APPLICABLE}
CONCERN_CODES: dict[str, int] = {"sm": 1, "swk": 2, "nti": 3}  # NTI: notice to improve (before 2012)

# canonical name -> Ofsted header
HEADERS: dict[str, str] = {
    "urn": "URN",
    "laestab": "LAESTAB",
    "name": "School name",
    "ofsted_phase": "Ofsted phase",
    "type_of_education": "Type of education",
    "open_date": "School open date",
    "admissions_policy": "Admissions policy",
    "sixth_form": "Sixth form",
    "religious_character": "Designated religious character",
    "region": "Region",
    "la_name": "Local authority",
    "constituency": "Parliamentary constituency",
    "trust_name": "Multi-academy trust name",
    "postcode": "Postcode",
    "warning_notices": "Number of warning notices issued in 2024/25 academic year",
    "low_age": "Statutory lowest age",
    "high_age": "Statutory highest age",
    # latest ungraded inspection
    "ug_number": "Latest ungraded inspection number since last graded inspection",
    "ug_same_urn": "Does the ungraded inspection relate to the URN of the current school?",
    "ug_urn": "URN at time of the ungraded inspection",
    "ug_name": "School name at time of the latest ungraded inspection",
    "ug_count": "Number of ungraded inspections since the last graded inspection",
    "ug_start": "Date of latest ungraded inspection",
    "ug_published": "Ungraded inspection publication date",
    "ug_converted": "Did the latest ungraded inspection convert to a graded inspection?",
    "ug_outcome": "Ungraded inspection overall outcome",
    "monitoring": "Number of monitoring and urgent inspections since last graded inspection",
    # latest graded inspection
    "g_number": "Inspection number of latest graded inspection",
    "g_type": "Inspection type",
    "g_start": "Inspection start date",
    "g_published": "Publication date",
    "g_same_urn": "Does the latest graded inspection relate to the URN of the current school?",
    "g_urn": "URN at time of latest graded inspection",
    "g_name": "School name at time of latest graded inspection",
    "g_overall": "Overall effectiveness",
    "g_concern": "Category of concern",
    "g_quality": "Quality of education",
    "g_behaviour": "Behaviour and attitudes",
    "g_personal": "Personal development",
    "g_leadership": "Effectiveness of leadership and management",
    "g_safeguarding": "Safeguarding is effective?",
    "g_early_years": "Early years provision (where applicable)",
    "g_sixth_form": "Sixth form provision (where applicable)",
    # previous graded inspection
    "p_number": "Previous inspection number",
    "p_start": "Previous inspection start date",
    "p_published": "Previous publication date",
    "p_same_urn": "Does the previous graded inspection relate to the URN of the current school?",
    "p_urn": "URN at time of previous graded inspection",
    "p_name": "School name at time of previous graded inspection",
    "p_overall": "Previous graded inspection overall effectiveness",
    "p_concern": "Previous category of concern",
    "p_quality": "Previous quality of education",
    "p_behaviour": "Previous behaviour and attitudes",
    "p_personal": "Previous personal development",
    "p_leadership": "Previous effectiveness of leadership and management",
    "p_safeguarding": "Previous safeguarding is effective?",
    "p_early_years": "Previous early years provision (where applicable)",
    "p_sixth_form": "Previous sixth form provision (where applicable)",
}
INTS = {"urn", "laestab", "warning_notices", "low_age", "high_age", "ug_urn", "ug_count", "monitoring"}
INTS |= {"g_urn", "p_urn"}
DATES = {"open_date", "ug_start", "ug_published", "g_start", "g_published", "p_start", "p_published"}
# Context columns a council's copy may lack (the inspection columns are required).
OPTIONAL = {
    "ofsted_phase",
    "type_of_education",
    "open_date",
    "admissions_policy",
    "sixth_form",
    "religious_character",
    "region",
    "la_name",
    "constituency",
    "trust_name",
    "postcode",
    "warning_notices",
    "low_age",
    "high_age",
    "monitoring",
    "ug_count",
}
# Early years and sixth form also carry 0 and 8 in older inspections (no provision / not inspected):
# like 9, not a grade; stored as not applicable.
OPTIONAL_AREAS = {"early_years", "sixth_form"}
OPTIONAL_AREA_CODES: dict[str, int] = {**KEY_JUDGEMENT_CODES, "0": NOT_APPLICABLE, "8": NOT_APPLICABLE}
# Sub-grades: suffix -> evaluation area
AREAS: tuple[tuple[str, str], ...] = (
    ("quality", EvaluationArea.QUALITY_OF_EDUCATION),
    ("behaviour", EvaluationArea.BEHAVIOUR_ATTITUDES),
    ("personal", EvaluationArea.PERSONAL_DEVELOPMENT),
    ("leadership", EvaluationArea.LEADERSHIP_MANAGEMENT),
    ("early_years", EvaluationArea.EARLY_YEARS),
    ("sixth_form", EvaluationArea.POST16),
)


def _column(name: str, header: str) -> Column:
    aliases: tuple[str, ...] = (header,)
    if name == "warning_notices":  # the academic year is part of the header in each edition
        aliases = (header, "Number of warning notices issued in academic year")
    kind: ColumnKind = "int" if name in INTS else "date" if name in DATES else "str"
    return Column(name, aliases, kind, required=name not in OPTIONAL)


COLUMNS = tuple(_column(name, header) for name, header in HEADERS.items())

# Ofsted names each edition '..._as_at_31_August_2025...': one parser for every snapshot file name.
as_at_from_file_name = as_at_from_name


def snapshot_date(run: ImportRun) -> dt.date | None:
    """The as-at date recorded by an import of this source (None if the run recorded none)."""
    for note in run.notes or []:
        if isinstance(note, str) and note.startswith(AS_AT_NOTE):
            try:
                return dt.date.fromisoformat(note[len(AS_AT_NOTE) : len(AS_AT_NOTE) + 10])
            except ValueError:
                return None
    return None


def validate(df: pl.DataFrame) -> tuple[pl.DataFrame, list[Error]]:
    """Codes and words checked cell by cell; returns the frame with `<name>__code` columns."""
    h = HEADERS
    errors: list[Error] = []
    checks: list[tuple[str, Mapping[str, int], str]] = [
        ("g_overall", OVERALL_CODES, "overall effectiveness grade"),
        ("p_overall", OVERALL_CODES, "overall effectiveness grade"),
        ("g_concern", CONCERN_CODES, "category of concern"),
        ("p_concern", CONCERN_CODES, "category of concern"),
        ("g_safeguarding", SAFEGUARDING_CODES, "safeguarding answer"),
        ("p_safeguarding", SAFEGUARDING_CODES, "safeguarding answer"),
        ("ug_converted", YES_NO, "yes/no answer"),
        ("ug_same_urn", YES_NO, "yes/no answer"),
        ("g_same_urn", YES_NO, "yes/no answer"),
        ("p_same_urn", YES_NO, "yes/no answer"),
        *(
            (
                f"{p}_{suffix}",
                OPTIONAL_AREA_CODES if suffix in OPTIONAL_AREAS else KEY_JUDGEMENT_CODES,
                "grade",
            )
            for p in "gp"
            for suffix, _ in AREAS
        ),
    ]
    codes = []
    for name, vocab, what in checks:
        series, errs = coded(df, name, h[name], vocab, what)
        codes.append(series.alias(f"{name}__code"))
        errors += errs
    df = df.with_columns(codes)
    errors += required_when(df, pl.Series([True] * df.height), "urn", h["urn"], "URN is blank")
    for p in "gp":
        graded_cols = [f"{p}_overall", *(f"{p}_{s}" for s, _ in AREAS), f"{p}_safeguarding"]
        has_grades = df.select(pl.any_horizontal(pl.col(graded_cols).is_not_null())).to_series()
        errors += required_when(
            df, has_grades, f"{p}_start", h[f"{p}_start"], "Grades without an inspection start date"
        )
        errors += required_when(
            df,
            df[f"{p}_start"].is_not_null(),
            f"{p}_overall",
            h[f"{p}_overall"],
            "Inspection without a grade",
        )
        errors += dates_in_order(
            df, f"{p}_start", f"{p}_published", h[f"{p}_published"], start_header=h[f"{p}_start"]
        )
    errors += required_when(
        df, df["ug_outcome"].is_not_null(), "ug_start", h["ug_start"], "Ungraded outcome without a date"
    )
    # An ungraded inspection may have no outcome (56 in the 2025 file, 34 of them converted to graded).
    errors += dates_in_order(df, "ug_start", "ug_published", h["ug_published"], start_header=h["ug_start"])
    # The previous graded inspection comes before the latest one.
    late = (df["p_start"] >= df["g_start"]).fill_null(False)
    errors += [
        {
            "row": r,
            "column": h["p_start"],
            "value": str(v),
            "reason": "Not before the latest graded inspection",
        }
        for r, v in zip(df[ROW_COL].filter(late), df["p_start"].filter(late), strict=True)
    ]
    return df, errors


def _graded_frame(rows: pl.DataFrame, p: str, *, with_type: bool) -> pl.DataFrame:
    blank = pl.lit("")
    other_urn = pl.col(f"{p}_same_urn__code") == 0
    return rows.filter(pl.col(f"{p}_start").is_not_null()).select(
        "school_id",
        pl.lit(Framework.LEGACY.value).alias("framework"),
        pl.col(f"{p}_start").alias("start_date"),
        pl.col(f"{p}_published").alias("publication_date"),
        pl.col(f"{p}_number").fill_null(blank).alias("inspection_number"),
        (pl.col("g_type").fill_null(blank) if with_type else blank).alias("inspection_type"),
        pl.when(pl.col(f"{p}_overall__code") == NOT_JUDGED)
        .then(None)
        .otherwise(pl.col(f"{p}_overall__code"))
        .alias("overall_effectiveness"),
        pl.when(pl.col(f"{p}_safeguarding__code").is_in([0, 1]))
        .then(pl.col(f"{p}_safeguarding__code") == 1)
        .otherwise(None)
        .alias("safeguarding_met"),
        pl.col(f"{p}_concern").str.to_uppercase().fill_null(blank).alias("category_of_concern"),
        pl.col(f"{p}_overall__code")
        .replace_strict(
            {NOT_JUDGED: "Not judged", **{g.value: g.label for g in OverallEffectiveness}},
            default="",
            return_dtype=pl.Utf8,
        )
        .fill_null(blank)
        .alias("outcome_text"),
        pl.lit(None, dtype=pl.Boolean).alias("converted_to_graded"),
        pl.when(other_urn).then(pl.col(f"{p}_urn")).otherwise(None).alias("urn_at_time"),
        pl.when(other_urn).then(pl.col(f"{p}_name")).otherwise(None).fill_null(blank).alias("name_at_time"),
    )


def _complete_new_schools(kept: pl.DataFrame, ctx: ImportContext) -> list[str]:
    """Schools added to the register from the January 2025 census (their type is still CSP's SCHOOLTYPE)
    take the Ofsted file's details: type of education, phase, LAESTAB, open date, trust, religious
    character, admissions policy, sixth form, ages, LA name, region, constituency, postcode."""
    from beacon.schools.importers import phase_from_text, record_register_history, snapshot
    from beacon.schools.models import School
    from beacon.schools.register_2025 import CSP_SCHOOL_TYPES, PLACEHOLDER_PREFIX

    ids = kept["school_id"].to_list()
    schools = {
        s.pk: s for s in School.objects.filter(pk__in=ids, establishment_type__in=sorted(CSP_SCHOOL_TYPES))
    }
    if not schools:
        return []
    before = snapshot([s.urn for s in schools.values()])
    for r in kept.filter(pl.col("school_id").is_in(list(schools))).iter_rows(named=True):
        s = schools[r["school_id"]]
        if r["name"] and s.name.startswith(PLACEHOLDER_PREFIX):
            s.name = r["name"]
        s.establishment_type = r["type_of_education"] or s.establishment_type
        s.phase = phase_from_text(r["ofsted_phase"], r["type_of_education"])
        s.laestab = r["laestab"] or s.laestab
        s.open_date = r["open_date"] or s.open_date
        s.trust_name = r["trust_name"] or s.trust_name
        s.religious_character = r["religious_character"] or s.religious_character
        s.admissions_policy = r["admissions_policy"] or s.admissions_policy
        s.la_name = r["la_name"] or s.la_name
        s.region = r["region"] or s.region
        s.parliamentary_constituency = r["constituency"] or s.parliamentary_constituency
        s.postcode = r["postcode"] or s.postcode
        s.statutory_low_age = r["low_age"] if r["low_age"] is not None else s.statutory_low_age
        s.statutory_high_age = r["high_age"] if r["high_age"] is not None else s.statutory_high_age
        if r["sixth_form"] in {"Has a sixth form", "Does not have a sixth form"}:
            s.has_sixth_form = r["sixth_form"] == "Has a sixth form"
    fields = [
        "name",
        "establishment_type",
        "phase",
        "laestab",
        "open_date",
        "trust_name",
        "religious_character",
        "admissions_policy",
        "la_name",
        "region",
        "parliamentary_constituency",
        "postcode",
        "statutory_low_age",
        "statutory_high_age",
        "has_sixth_form",
    ]
    # One UPDATE by primary key per changed school (update_rows), not bulk_update's CASE WHEN per field.
    update_rows(School, fields, [(s.pk, *(getattr(s, f) for f in fields)) for s in schools.values()])
    record_register_history(before, [s.urn for s in schools.values()], ctx)
    return [
        f"Register: {len(schools)} school(s) added from the 2025 census given Ofsted's details (type, phase, trust, open date)."
    ]


def load(df: pl.DataFrame, ctx: ImportContext) -> LoadResult:
    df, errors = validate(df)
    reject_if(errors)

    notes: list[str] = []
    as_at = as_at_from_file_name(ctx.file_name)
    if as_at is None:
        latest = max(
            (d for c in ("g_published", "p_published", "ug_published") for d in df[c].drop_nulls().to_list()),
            default=None,
        )
        notes.append(
            f"{AS_AT_NOTE}{latest.isoformat()} (the file name gives no as-at date: the latest publication "
            "date in the file is used)"
            if latest
            else "As-at date unknown: the file name gives none and the file has no publication dates."
        )
    else:
        notes.append(f"{AS_AT_NOTE}{as_at.isoformat()} (Ofsted official statistics snapshot)")

    if ctx.la_code is not None:
        df = df.filter((pl.col("laestab") // 10000) == ctx.la_code)
    schools = school_ids_by_urn(df["urn"].drop_nulls().to_list())
    known = pl.DataFrame(list(schools.items()), schema={"urn": pl.Int64, "school_id": pl.Int64}, orient="row")
    kept = df.join(known, on="urn", how="inner")
    skipped = df.height - kept.height
    if skipped:
        missing = df.filter(~pl.col("urn").is_in(kept["urn"].to_list()))["urn"].to_list()
        notes.append(
            f"{skipped} school(s) not in the register, not imported (URN "
            f"{', '.join(str(u) for u in missing[:20])}{' ...' if len(missing) > 20 else ''})."
        )

    notes += _complete_new_schools(kept, ctx)

    blank = pl.lit("")
    latest = _graded_frame(kept, "g", with_type=True)
    previous = _graded_frame(kept, "p", with_type=False)
    ug_other = pl.col("ug_same_urn__code") == 0
    ungraded = kept.filter(pl.col("ug_start").is_not_null()).select(
        "school_id",
        pl.lit(Framework.UNGRADED.value).alias("framework"),
        pl.col("ug_start").alias("start_date"),
        pl.col("ug_published").alias("publication_date"),
        pl.col("ug_number").fill_null(blank).alias("inspection_number"),
        pl.lit("Ungraded inspection").alias("inspection_type"),
        pl.lit(None, dtype=pl.Int64).alias("overall_effectiveness"),
        pl.lit(None, dtype=pl.Boolean).alias("safeguarding_met"),
        blank.alias("category_of_concern"),
        pl.col("ug_outcome").fill_null(blank).alias("outcome_text"),
        (pl.col("ug_converted__code") == 1).alias("converted_to_graded"),
        pl.when(ug_other).then(pl.col("ug_urn")).otherwise(None).alias("urn_at_time"),
        pl.when(ug_other).then(pl.col("ug_name")).otherwise(None).fill_null(blank).alias("name_at_time"),
    )
    frame = pl.concat([latest, previous, ungraded], how="vertical_relaxed")
    inserted, updated, ids = save_inspections(
        frame,
        [
            "publication_date",
            "inspection_number",
            "inspection_type",
            "overall_effectiveness",
            "safeguarding_met",
            "category_of_concern",
            "outcome_text",
            "converted_to_graded",
            "urn_at_time",
            "name_at_time",
        ],
        ctx,
    )

    grade_rows: list[tuple[int, str, int | None, bool]] = []
    for p in "gp":
        cols = [f"{p}_{suffix}__code" for suffix, _ in AREAS]
        for row in (
            kept.filter(pl.col(f"{p}_start").is_not_null())
            .select("school_id", f"{p}_start", *cols)
            .iter_rows()
        ):
            inspection_id = ids.get((row[0], Framework.LEGACY.value, row[1]))
            if inspection_id is None:
                continue
            for (_, area), code in zip(AREAS, row[2:], strict=True):
                if code is None:
                    continue
                na = code == NOT_APPLICABLE
                grade_rows.append((inspection_id, str(area), None if na else code, na))
    grades_added, grades_updated = save_grades(grade_rows)

    not_judged = latest.filter(pl.col("overall_effectiveness").is_null()).height
    predecessor = sum(
        f.filter(pl.col("urn_at_time").is_not_null()).height for f in (latest, previous, ungraded)
    )
    notes.insert(
        1,
        f"Inspections: {latest.height} latest graded ({not_judged} 'Not judged': no overall grade, sub-grades "
        f"kept), {previous.height} previous graded, {ungraded.height} ungraded ({inserted} added, "
        f"{updated} updated); sub-grades: {grades_added} added, {grades_updated} updated; "
        f"{predecessor} inspection(s) of a predecessor URN kept against the current school.",
    )
    warned = kept.filter(pl.col("warning_notices").fill_null(0) > 0)
    if warned.height:
        notes.append(
            "Warning notices issued in 2024/25: "
            + ", ".join(f"URN {u} ({n})" for u, n in warned.select("urn", "warning_notices").iter_rows())
            + "."
        )
    monitored = kept.filter(pl.col("monitoring").fill_null(0) > 0)
    if monitored.height:
        notes.append(
            f"{monitored.height} school(s) had monitoring or urgent inspections since their last graded "
            "inspection (counted by Ofsted; not listed in the file)."
        )
    return LoadResult(inserted=inserted, updated=updated, skipped=skipped, notes=notes)


def warning_notice_counts(run: ImportRun) -> dict[int, int]:
    """URN -> warning notices issued in 2024/25, as recorded in the run's notes."""
    out: dict[int, int] = {}
    for note in run.notes or []:
        if isinstance(note, str) and note.startswith("Warning notices issued in"):
            for urn, n in re.findall(r"URN (\d+) \((\d+)\)", note):
                out[int(urn)] = int(n)
    return out


OFFICIAL_STATISTICS = register(
    Source(
        key=SOURCE_KEY,
        label="Ofsted official statistics: state-funded schools inspections and outcomes (as at 31 August)",
        description=(
            "Ofsted's official statistics file (76 columns): each open school's latest and previous graded "
            "inspections with sub-grades ('Not judged' overall from September 2024 is kept as no overall "
            "grade), category of concern, and the latest ungraded inspection with its outcome. Wins over "
            "older Ofsted files for the same inspection."
        ),
        columns=COLUMNS,
        loader=load,
        demo_files=(
            (
                "ofsted-official-statistics-2025/"
                "state_funded_schools_inspections_and_outcomes_as_at_31_august_2025_extract.csv",
                None,
            ),
        ),
    )
)
