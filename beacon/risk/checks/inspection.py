"""The latest graded inspection: overall effectiveness, evaluation areas / key judgements, safeguarding.

Checks: `ofsted_below` (Camden i and ix; Cambridgeshire amber / red 7), `safeguarding_not_met` (Camden x e)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from beacon.inspections.models import Framework, OverallEffectiveness
from beacon.risk.checks.base import (
    Details,
    _detail_frame,
    _evidence_rows,
    combine,
    item_frame,
    named_rows,
)
from beacon.risk.models import Outcome

if TYPE_CHECKING:
    from beacon.risk.services import Frames


def _latest_graded(fr: Frames, schools: pl.DataFrame) -> pl.DataFrame:
    """The latest graded inspection per school: a report card, or a legacy one with an overall grade."""
    i = fr.inspections.filter(pl.col("school_id").is_in(schools["school_id"].implode()))
    # Graded inspections from September 2024 carry no overall grade ('Not judged'), only key judgements.
    sub_graded = fr.grades.filter(~pl.col("not_applicable") & pl.col("grade").is_not_null())["inspection_id"]
    graded = i.filter(
        (pl.col("framework") == Framework.REPORT_CARD.value)
        | (
            (pl.col("framework") == Framework.LEGACY.value)
            & (pl.col("overall").is_not_null() | pl.col("inspection_id").is_in(sub_graded.implode()))
        )
    )
    return graded.sort("start_date").group_by("school_id").agg(pl.all().last())


def check_ofsted_below(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    legacy_in = [int(x) for x in p.get("legacy_overall_in", [3, 4])]
    rc_in = [int(x) for x in p.get("report_card_grades_in", [1, 2])]
    area_in = [int(x) for x in p.get("legacy_area_grades_in", [])] if p.get("scope") == "areas" else []
    # No overall grade (graded inspections from September 2024): the key-judgement sub-grades are read.
    sub_in = [int(x) for x in p.get("legacy_subgrades_in_without_overall", legacy_in)]
    latest = _latest_graded(fr, schools)
    g = fr.grades.filter(~pl.col("not_applicable") & pl.col("grade").is_not_null())
    g = g.join(latest.select("inspection_id", "framework", "overall"), on="inspection_id", how="inner")
    bad_area = (
        pl.when(pl.col("framework") == Framework.REPORT_CARD.value)
        .then(pl.col("grade").is_in(rc_in))
        .when(pl.col("overall").is_null())
        .then(pl.col("grade").is_in(sub_in))
        .otherwise(pl.col("grade").is_in(area_in))
    )
    flagged = g.filter(bad_area).group_by("inspection_id").agg(pl.col("area"), pl.col("grade"))
    grades = g.group_by("inspection_id").agg(pl.struct("area", "grade").alias("all_grades"))
    latest = latest.join(flagged, on="inspection_id", how="left").join(grades, on="inspection_id", how="left")
    return _evidence_rows(
        fr,
        combine([_ofsted_items(latest, legacy_in)], schools),
        "No graded inspection is held for this school.",
    )


# A judgement's word in a sentence: 3 -> 'requires improvement'.
_JUDGEMENT_WORDS = {int(c.value): str(c.label).lower() for c in OverallEffectiveness}


def _per_row(frame: pl.DataFrame, column: str, text: pl.Expr) -> pl.Series:
    """For each row of `frame`, the list of the `text` of each element of its list `column` (`text` reads the
    element as `column`, or a struct element's fields by name, and the row's other columns), in the list's
    order, nulls left out; rows with none get an empty list."""
    others = [c for c in text.meta.root_names() if c in frame.columns and c != column]
    indexed = frame.select(pl.int_range(pl.len()).alias("_row"), column, *others)
    texts = (
        indexed.explode(column)
        .drop_nulls(column)
        .pipe(lambda f: f.unnest(column) if isinstance(f.schema[column], pl.Struct) else f)
        .select("_row", text.alias("_text"))
        .drop_nulls("_text")
        .group_by("_row", maintain_order=True)
        .agg("_text")
    )
    joined = indexed.join(texts, on="_row", how="left", maintain_order="left")["_text"]
    return joined.fill_null(pl.Series([[]], dtype=pl.List(pl.Utf8)))


def _ofsted_items(latest: pl.DataFrame, legacy_in: list[int]) -> Details:
    """One evidence item per school from its latest graded inspection, built in polars (decision 0030)."""
    latest = latest.with_columns(
        pl.col("start_date").cast(pl.Utf8).alias("when"),
        pl.col("area").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))).alias("areas"),
        pl.col("all_grades").fill_null(pl.lit([], dtype=latest.schema["all_grades"])).alias("all_grades"),
    )
    latest = latest.with_columns(
        _per_row(
            latest, "areas", pl.concat_str(pl.lit("inspection:"), pl.col("when"), pl.lit(":"), "areas")
        ).alias("area_keys"),
        # Key judgements held, graded 1-4, in words (inspections from September 2024 have no overall grade).
        _per_row(
            latest.select("all_grades"),
            "all_grades",
            pl.when(pl.col("grade").is_in(list(_JUDGEMENT_WORDS))).then(
                pl.concat_str(
                    pl.col("area").cast(pl.Utf8).str.replace_all("_", " ", literal=True),
                    pl.lit(" "),
                    pl.col("grade").replace_strict(_JUDGEMENT_WORDS, default=None, return_dtype=pl.Utf8),
                )
            ),
        )
        .list.join(", ")
        .alias("listed"),
    )
    legacy = pl.col("framework") == Framework.LEGACY.value
    no_overall = legacy & pl.col("overall").is_null()
    overall_bad = legacy & pl.col("overall").is_in(legacy_in)
    has_areas = pl.col("areas").list.len() > 0
    areas_words = (
        pl.col("areas").list.eval(pl.element().str.replace_all("_", " ", literal=True)).list.join(", ")
    )
    when = pl.col("when")
    text = (
        pl.when(no_overall)
        .then(
            pl.concat_str(
                pl.lit("Latest graded inspection "),
                when,
                pl.lit(
                    ": overall effectiveness not judged (inspections from September 2024); key judgements: "
                ),
                pl.when(pl.col("listed") == "").then(pl.lit("none held")).otherwise(pl.col("listed")),
                pl.when(has_areas)
                .then(pl.concat_str(pl.lit("; below good: "), areas_words, pl.lit(".")))
                .otherwise(pl.lit(".")),
            )
        )
        .when(legacy)
        .then(
            pl.concat_str(
                pl.lit("Latest graded inspection "),
                when,
                pl.lit(" (legacy): overall effectiveness "),
                pl.col("overall").replace_strict(
                    _JUDGEMENT_WORDS, default="not judged", return_dtype=pl.Utf8
                ),
                pl.when(has_areas)
                .then(
                    pl.concat_str(
                        pl.lit("; key judgements below good: "), pl.col("areas").list.join(", "), pl.lit(".")
                    )
                )
                .otherwise(pl.lit(".")),
            )
        )
        .otherwise(
            pl.concat_str(
                pl.lit("Latest report card "),
                when,
                pl.lit(": "),
                pl.when(has_areas)
                .then(pl.concat_str(areas_words, pl.lit(" at needs attention or worse.")))
                .otherwise(pl.lit("no evaluation area at needs attention or worse.")),
            )
        )
    )
    area_keys = pl.col("area_keys")
    keys = (
        pl.when(overall_bad)
        .then(pl.concat_list(pl.concat_str(pl.lit("inspection:"), when, pl.lit(":overall")), area_keys))
        .otherwise(area_keys)
    )
    met = overall_bad | has_areas
    return item_frame(
        latest.with_columns(
            pl.when(met)
            .then(pl.lit(Outcome.MET.value))
            .otherwise(pl.lit(Outcome.NOT_MET.value))
            .alias("outcome"),
            text.alias("explanation"),
            keys.alias("keys"),
        ),
        fields={
            "inspection_date": when,
            "framework": pl.col("framework"),
            "overall": pl.col("overall"),
            "areas_flagged": pl.col("areas"),
            "grades": pl.col("all_grades"),
            "explanation": pl.col("explanation"),
        },
        newest=pl.lit(None, dtype=pl.Int64),
        data_items=pl.col("keys"),
        own_data_items=True,
    )


def check_safeguarding(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    i = fr.inspections.filter(
        pl.col("school_id").is_in(schools["school_id"].implode()) & pl.col("safeguarding_met").is_not_null()
    )
    latest = i.sort("start_date").group_by("school_id").agg(pl.all().last())
    rows = [
        (
            r["school_id"],
            Outcome.NOT_MET.value if r["safeguarding_met"] else Outcome.MET.value,
            {
                "inspection_date": r["start_date"].isoformat(),
                "framework": r["framework"],
                "safeguarding_met": r["safeguarding_met"],
                "explanation": f"Inspection {r['start_date'].isoformat()}: safeguarding "
                + ("met." if r["safeguarding_met"] else "NOT met."),
            },
        )
        for r in named_rows(latest)
    ]
    return _evidence_rows(
        fr, combine([_detail_frame(rows)], schools), "No inspection with a safeguarding judgement is held."
    )
