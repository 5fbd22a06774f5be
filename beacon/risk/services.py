"""Evaluating the data-driven criteria for every school, vectorised with polars.

`evaluate(term)` loads the school measures, area benchmarks, inspections and head-teacher history
into frames once, runs each enabled rule of the rulebook as polars expressions over all schools,
and upserts one `CriterionResult` per (school, term, criterion, rulebook), each with its evidence.

Principles (issue 3): missing or suppressed data (status other than 'ok') is 'no_evidence', never
the worst case; a cohort under the rule's `min_cohort` is 'low_confidence' and not judged; every
result carries values, benchmarks, years, cohort and a plain-English sentence.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from django.db import transaction
from django.utils import timezone

from beacon.indicators.catalogue import BY_CODE
from beacon.indicators.models import AreaMeasure, Polarity, SchoolMeasure
from beacon.inspections.models import Framework, Inspection, InspectionGrade, OverallEffectiveness
from beacon.risk.models import (
    Criterion,
    CriterionKind,
    Outcome,
    RiskModel,
    Rule,
    Rulebook,
    Term,
)
from beacon.risk.store import WriteCounts, write_results
from beacon.schools.models import School

ENGLAND, LONDON = 970, 986
COMPARATOR_AREAS = {"national": ENGLAND, "london": LONDON}
COMPARATOR_LABELS = {"national": "England", "london": "London", "la": "the LA"}

# Outcome precedence when a criterion has several measures: any 'met' wins, then a judged 'not_met'.
PRECEDENCE = {Outcome.MET: 3, Outcome.NOT_MET: 2, Outcome.LOW_CONFIDENCE: 1, Outcome.NO_EVIDENCE: 0}

# School phase -> the criterion phases that apply to it.
PHASE_MAP: dict[str, tuple[str, ...]] = {
    "primary": ("primary",),
    "secondary": ("secondary",),
    "all_through": ("primary", "secondary"),
    "middle": ("primary", "secondary"),
    "special": ("special",),
    "nursery": ("nursery",),
}

RESULT_SCHEMA = {"school_id": pl.Int64, "outcome": pl.Utf8, "evidence": pl.Utf8}


@dataclass
class EvaluationSummary:
    term: str
    rulebook: str
    schools: int = 0
    results: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    by_criterion: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    load_seconds: float = 0.0
    write_seconds: float = 0.0
    written: WriteCounts | None = None


@dataclass
class Frames:
    """Everything a check needs, loaded once per evaluation."""

    schools: pl.DataFrame  # school_id, urn, la_code, phase
    school_measures: pl.DataFrame  # school_id, measure, year, value, status
    area_measures: pl.DataFrame  # area_code, measure, year, value, status
    inspections: pl.DataFrame  # inspection_id, school_id, framework, start_date, overall, safeguarding_met
    grades: pl.DataFrame  # inspection_id, area, grade, not_applicable
    heads: pl.DataFrame  # school_id, history_date, head_name
    data_year: int
    cutoff: dt.date
    peers: pl.DataFrame | None = None  # school_id, phase: every state-funded school held (similar schools)
    # First academic year whose evidence is current (set per rule from the rulebook's stale_after_years).
    stale_before: int | None = None
    # Similar-intake medians by (measure, spec): several rules compare the same measure.
    similar_cache: dict[str, pl.DataFrame] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------
# Loading


def _frame(rows: Iterable[tuple[Any, ...]], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def _chunks(ids: list[int], size: int = 5000) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def load_frames(
    *,
    data_year: int,
    cutoff: dt.date,
    school_ids: Iterable[int] | None = None,
    state_funded_only: bool = True,
) -> Frames:
    """Measures up to `data_year` (academic start year) and inspections / history before `cutoff`.

    Independent schools are left out by default: the strategy is for state-funded schools, and
    their published measures (e.g. iGCSEs not counted in KS4 tables) would read as failure."""
    qs = School.objects.all()
    if state_funded_only:
        qs = qs.filter(is_state_funded=True)
    if school_ids is not None:
        qs = qs.filter(pk__in=list(school_ids))
    schools = _frame(
        qs.values_list("id", "urn", "la_code", "phase"),
        {"school_id": pl.Int64, "urn": pl.Int64, "la_code": pl.Int64, "phase": pl.Utf8},
    )
    # Measures for every school held (national medians need them all), filtered by year only.
    sm = _frame(
        SchoolMeasure.objects.filter(year__lte=data_year).values_list(
            "school_id", "measure__code", "year", "value", "status"
        ),
        {"school_id": pl.Int64, "measure": pl.Utf8, "year": pl.Int64, "value": pl.Float64, "status": pl.Utf8},
    )
    am = _frame(
        AreaMeasure.objects.filter(year__lte=data_year).values_list(
            "area__code", "measure__code", "year", "value", "status"
        ),
        {"area_code": pl.Int64, "measure": pl.Utf8, "year": pl.Int64, "value": pl.Float64, "status": pl.Utf8},
    )
    ids = schools["school_id"].to_list()
    insp_rows: list[tuple[Any, ...]] = []
    grade_rows: list[tuple[Any, ...]] = []
    head_rows: list[tuple[Any, ...]] = []
    history = School.history.model
    for chunk in _chunks(ids):
        insp_rows += Inspection.objects.filter(school_id__in=chunk, start_date__lt=cutoff).values_list(
            "id", "school_id", "framework", "start_date", "overall_effectiveness", "safeguarding_met"
        )
        grade_rows += InspectionGrade.objects.filter(
            inspection__school_id__in=chunk, inspection__start_date__lt=cutoff
        ).values_list("inspection_id", "area", "grade", "not_applicable")
        head_rows += (
            history.objects.filter(id__in=chunk, history_date__date__lt=cutoff)
            .exclude(head_name="")
            .values_list("id", "history_date", "head_name")
        )
    return Frames(
        schools=schools,
        school_measures=sm,
        area_measures=am,
        inspections=_frame(
            insp_rows,
            {
                "inspection_id": pl.Int64,
                "school_id": pl.Int64,
                "framework": pl.Utf8,
                "start_date": pl.Date,
                "overall": pl.Int64,
                "safeguarding_met": pl.Boolean,
            },
        ),
        grades=_frame(
            grade_rows,
            {"inspection_id": pl.Int64, "area": pl.Utf8, "grade": pl.Int64, "not_applicable": pl.Boolean},
        ),
        heads=_frame(
            head_rows,
            {"school_id": pl.Int64, "history_date": pl.Datetime("us", "UTC"), "head_name": pl.Utf8},
        ),
        data_year=data_year,
        cutoff=cutoff,
        peers=_frame(
            School.objects.filter(is_state_funded=True).values_list("id", "phase"),
            {"school_id": pl.Int64, "phase": pl.Utf8},
        ),
    )


# ------------------------------------------------------------------------------------------------
# Helpers shared by the checks


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN and infinities (e.g. a fall from a roll of 0) become null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, dt.date | dt.datetime):
        return obj.isoformat()
    return obj


def _dumps(obj: Any) -> str:
    return json.dumps(_clean(obj), allow_nan=False)


def _fmt(v: float | None, measure: str = "") -> str:
    if v is None:
        return "-"
    decimals = BY_CODE[measure].decimals if measure in BY_CODE else 1
    return f"{v:.{decimals}f}"


def _label(measure: str) -> str:
    return BY_CODE[measure].label if measure in BY_CODE else measure


def _high_good(measure: str) -> bool:
    return BY_CODE[measure].polarity != Polarity.LOW_GOOD if measure in BY_CODE else True


def _ok(col: str = "status") -> pl.Expr:
    return pl.col(col) == "ok"


def series(fr: Frames, measure: str, cohort: str = "") -> pl.DataFrame:
    """school_id, year, value, ok, cohort for one measure (all years up to the data year)."""
    s = fr.school_measures.filter(pl.col("measure") == measure).select(
        "school_id", "year", "value", (_ok() & pl.col("value").is_not_null()).alias("ok"), "status"
    )
    if cohort:
        c = fr.school_measures.filter((pl.col("measure") == cohort) & _ok()).select(
            "school_id", "year", pl.col("value").alias("cohort")
        )
        s = s.join(c, on=["school_id", "year"], how="left")
    else:
        s = s.with_columns(pl.lit(None, dtype=pl.Float64).alias("cohort"))
    return s


def area_series(fr: Frames, measure: str, area_code: int) -> pl.DataFrame:
    return fr.area_measures.filter(
        (pl.col("measure") == measure) & (pl.col("area_code") == area_code) & _ok()
    ).select("year", pl.col("value").alias("bench"))


def combine(parts: list[pl.DataFrame], schools: pl.DataFrame) -> pl.DataFrame:
    """One row per school in scope: the strongest outcome over the parts, with all their evidence."""
    if not parts:
        parts = [pl.DataFrame(schema={"school_id": pl.Int64, "outcome": pl.Utf8, "detail": pl.Utf8})]
    allp = pl.concat([p.select("school_id", "outcome", "detail") for p in parts])
    allp = allp.with_columns(
        pl.col("outcome").replace_strict(PRECEDENCE, return_dtype=pl.Int64).alias("rank")
    )
    return (
        schools.select("school_id")
        .join(allp, on="school_id", how="left")
        .group_by("school_id", maintain_order=True)
        .agg(
            pl.col("rank").max().alias("rank"),
            pl.col("detail").drop_nulls().alias("details"),
            pl.col("outcome").drop_nulls().alias("outcomes"),
        )
    )


def academic_year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def _newest_year(item: dict[str, Any]) -> int | None:
    """The newest academic year with a value in an evidence item (None: the item has no yearly data)."""
    years, values = item.get("years"), item.get("values")
    if not isinstance(years, list) or not isinstance(values, list) or not years:
        return None
    held = [y for y, v in zip(years, values, strict=False) if v is not None and isinstance(y, int)]
    return max(held) if held else None


def _data_items(item: dict[str, Any]) -> list[str]:
    """The data items (measure and academic year, or inspection judgement) that make an item met."""
    if "data_items" in item:
        return [str(k) for k in item["data_items"]]
    years = item.get("met_years", item.get("years")) or []
    return [f"{item.get('measure', '')}:{y}" for y in years]


# Outcome of a criterion from its items: stale evidence ranks above no evidence, below a judged one.
ITEM_RANK = {**{str(k): v * 2 for k, v in PRECEDENCE.items()}, Outcome.STALE.value: 1}


_SHARED_NOTE = re.compile(
    r" ?No progress score published for [0-9, ]+ and too few schools with a similar intake to compare with\."
)


def join_explanations(texts: Iterable[str]) -> str:
    """The items' explanations as one text; the note several items share (no progress score published for a
    year and too few similar-intake schools to compare with) is said once, at the end, not after every item."""
    body: list[str] = []
    notes: list[str] = []
    for text in texts:
        for note in _SHARED_NOTE.findall(text):
            if note.strip() not in notes:
                notes.append(note.strip())
        body.append(_SHARED_NOTE.sub("", text).strip())
    return " ".join([b for b in body if b] + notes)


def _evidence_rows(fr: Frames, combined: pl.DataFrame, none_text: str) -> pl.DataFrame:
    """Turn combined details (JSON strings) into the result frame with an explanation sentence.

    Each item keeps its own outcome. An item whose newest value is older than `fr.stale_before` is
    'stale evidence' (never met); the criterion's outcome is the strongest over its items. A met item
    lists the data items (measure:year) it rests on, so one data item is counted under one criterion."""
    inverse = {v: k for k, v in ITEM_RANK.items()}
    out: list[tuple[int, str, str]] = []
    for school_id, _rank, details, outcomes in combined.iter_rows():
        parsed = [json.loads(d) for d in details]
        ranks = []
        for d, o in zip(parsed, outcomes, strict=False):
            newest = _newest_year(d)
            if newest is not None:
                d["latest_year"] = newest
            if fr.stale_before is not None and newest is not None and newest < fr.stale_before:
                d["stale"] = True
                o = Outcome.STALE.value
            d["outcome"] = o
            if o == Outcome.MET:
                d["data_items"] = _data_items(d)
            ranks.append(ITEM_RANK[o])
        outcome = inverse[max(ranks)] if ranks else Outcome.NO_EVIDENCE.value
        chosen = [d for d in parsed if d["outcome"] == outcome] or parsed
        payload: dict[str, Any]
        if outcome == Outcome.STALE:
            latest = max(d["latest_year"] for d in chosen)
            sentence = f"No current evidence (latest {academic_year_label(latest)}): " + join_explanations(
                d["explanation"] for d in chosen
            )
            payload = {"explanation": sentence, "items": parsed, "latest_year": latest, "stale": True}
        else:
            sentence = join_explanations(d["explanation"] for d in chosen) if chosen else none_text
            payload = {"explanation": sentence, "items": parsed}
            years = [d["latest_year"] for d in parsed if "latest_year" in d]
            if years:
                payload["latest_year"] = max(years)
        out.append((school_id, str(outcome), _dumps(payload)))
    return pl.DataFrame(out, schema=RESULT_SCHEMA, orient="row")


def _windowed(s: pl.DataFrame, years: int) -> pl.DataFrame:
    """The latest `years` rows per school (by year) among the rows given."""
    return (
        s.sort("school_id", "year", descending=[False, True])
        .with_columns(pl.int_range(pl.len()).over("school_id").alias("_i"))
        .filter(pl.col("_i") < years)
        .drop("_i")
        .sort("school_id", "year")
    )


# ------------------------------------------------------------------------------------------------
# Schools with a similar intake (issue 11: attainment where progress is not published)


def intake_bands(fr: Frames, spec: dict[str, Any]) -> pl.DataFrame:
    """school_id, phase, one band per context (0 = lowest) and the values they rest on.

    Each context (e.g. 'sen') is the sum of its measures (sen_support + sen_ehcp) in the school's latest
    census year held up to the data year; bands are equal-count groups (terciles by default) among the
    state-funded schools of the same phase held. A school missing a context has no band for it."""
    n_bands = int(spec.get("bands", 3))
    peers = fr.peers if fr.peers is not None else fr.schools.select("school_id", "phase")
    out = peers.select("school_id", "phase")
    for name, measures in spec["context"].items():
        v = (
            fr.school_measures.filter(
                pl.col("measure").is_in(list(measures)) & _ok() & pl.col("value").is_not_null()
            )
            .group_by("school_id", "year")
            .agg(pl.col("value").sum(), pl.col("measure").n_unique().alias("n"))
            .filter(pl.col("n") == len(measures))
            .sort("year")
            .group_by("school_id")
            .agg(pl.col("value").last().alias(name), pl.col("year").last().alias(f"{name}_year"))
        )
        out = out.join(v, on="school_id", how="left")
        rank = pl.col(name).rank("min").over("phase") - 1
        count = pl.col(name).count().over("phase")
        out = out.with_columns(
            pl.when(pl.col(name).is_not_null())
            .then((rank * n_bands / count).floor().cast(pl.Int64))
            .otherwise(None)
            .alias(f"{name}_band")
        )
    return out


def similar_schools_frame(fr: Frames, measure: str, spec: dict[str, Any]) -> pl.DataFrame:
    """school_id, year, similar (median of the measure among schools with a similar intake that year,
    the school itself left out), similar_n.

    Similar = same phase, and the sum over contexts of |band difference| at most `max_band_distance`.
    Schools sharing a band cell share their neighbours, so the work is done per (phase, cell, year) with
    sorted numpy arrays (a school's own value is taken out by index), never as school-by-school pairs:
    linear in the number of schools, also nationally."""
    names = list(spec["context"])
    cols = [f"{n}_band" for n in names]
    max_d = int(spec.get("max_band_distance", 1))
    min_similar = int(spec.get("min_similar", 3))
    bands = intake_bands(fr, spec).drop_nulls(cols).select("school_id", "phase", *cols)
    values = fr.school_measures.filter(
        (pl.col("measure") == measure) & _ok() & pl.col("value").is_not_null()
    ).select("school_id", "year", "value")
    joined = bands.join(values, on="school_id", how="left")
    out_ids: list[np.ndarray] = []
    out_years: list[np.ndarray] = []
    out_median: list[np.ndarray] = []
    out_n: list[np.ndarray] = []
    for (phase,), group in bands.group_by(["phase"]):
        cells = group.select(cols).unique().to_numpy()
        with_values = joined.filter((pl.col("phase") == phase) & pl.col("year").is_not_null())
        peer_cells = with_values.select(cols).to_numpy()
        peer_years = with_values["year"].to_numpy()
        peer_values = with_values["value"].to_numpy().astype(float)
        peer_ids = with_values["school_id"].to_numpy()
        for cell in cells:
            near = np.abs(peer_cells - cell).sum(axis=1) <= max_d if len(peer_cells) else np.zeros(0, bool)
            members = group.filter(
                pl.all_horizontal([pl.col(c) == int(v) for c, v in zip(cols, cell, strict=True)])
            )["school_id"].to_numpy()
            for year in np.unique(peer_years[near]):
                pool = near & (peer_years == year)
                s_sorted = np.sort(peer_values[pool])
                own = dict(zip(peer_ids[pool].tolist(), peer_values[pool].tolist(), strict=True))
                has = np.array([m in own for m in members.tolist()], dtype=bool)
                v = np.array([own.get(m, np.nan) for m in members.tolist()], dtype=float)
                n = np.where(has, len(s_sorted) - 1, len(s_sorted))
                pos = np.searchsorted(s_sorted, np.nan_to_num(v), side="left")

                def at(
                    i: np.ndarray, pos: np.ndarray = pos, has: np.ndarray = has, s: np.ndarray = s_sorted
                ) -> np.ndarray:
                    j = i + (has & (i >= pos))
                    return s[np.clip(j, 0, max(len(s) - 1, 0))] if len(s) else np.full(len(i), np.nan)

                med = np.where(n > 0, (at((n - 1) // 2) + at(n // 2)) / 2, np.nan)
                out_ids.append(members)
                out_years.append(np.full(len(members), year))
                out_median.append(med)
                out_n.append(n)
    if not out_ids:
        return pl.DataFrame(
            schema={"school_id": pl.Int64, "year": pl.Int64, "similar": pl.Float64, "similar_n": pl.UInt32}
        )
    frame = pl.DataFrame(
        {
            "school_id": np.concatenate(out_ids).astype(np.int64),
            "year": np.concatenate(out_years).astype(np.int64),
            "similar": np.concatenate(out_median).astype(float),
            "similar_n": np.concatenate(out_n).astype(np.uint32),
        }
    )
    return frame.filter(pl.col("similar_n") > 0).with_columns(
        pl.when(pl.col("similar_n") >= min_similar).then(pl.col("similar")).otherwise(None).alias("similar")
    )


def progress_published(fr: Frames, progress: list[str]) -> pl.DataFrame:
    """school_id, year, progress_ok: a progress score is published for the school that year."""
    return (
        fr.school_measures.filter(pl.col("measure").is_in(progress) & _ok() & pl.col("value").is_not_null())
        .select("school_id", "year")
        .unique()
        .with_columns(pl.lit(True).alias("progress_ok"))
    )


def _where_progress_absent(p: dict[str, Any], measure: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (measure spec, similar-schools spec) when the rule compares this attainment measure with
    similar schools in years without a published progress score."""
    wpa = p.get("where_progress_absent")
    if not wpa:
        return None
    spec = next((m for m in wpa["measures"] if m["measure"] == measure), None)
    return (spec, wpa["similar"]) if spec else None


def _with_similar(fr: Frames, s: pl.DataFrame, p: dict[str, Any], measure: str) -> pl.DataFrame:
    """Add progress_ok, similar, similar_n (null columns when the rule has no similar-schools route)."""
    route = _where_progress_absent(p, measure)
    if route is None:
        return s.with_columns(
            pl.lit(True).alias("progress_ok"),
            pl.lit(None, dtype=pl.Float64).alias("similar"),
            pl.lit(None, dtype=pl.UInt32).alias("similar_n"),
        )
    spec, similar_spec = route
    key = f"{measure}|{json.dumps(similar_spec, sort_keys=True)}"
    if key not in fr.similar_cache:
        fr.similar_cache[key] = similar_schools_frame(fr, measure, similar_spec).select(
            "school_id", "year", "similar", "similar_n"
        )
    sim = fr.similar_cache[key]
    return (
        s.join(progress_published(fr, list(spec["progress"])), on=["school_id", "year"], how="left")
        .with_columns(pl.col("progress_ok").fill_null(False))
        .join(sim, on=["school_id", "year"], how="left")
    )


# ------------------------------------------------------------------------------------------------
# Checks: each returns (school_id, outcome, evidence JSON) for the schools in scope


def check_below_benchmark(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    years, need, min_cohort = int(p.get("years", 3)), int(p.get("min_years_below", 2)), p.get("min_cohort", 0)
    parts: list[pl.DataFrame] = []
    for spec in p["measures"]:
        m = spec["measure"]
        s = series(fr, m, spec.get("cohort", "")).filter(
            pl.col("school_id").is_in(schools["school_id"].implode())
        )
        s = _with_similar(fr, _windowed(s, years), p, m)
        route = _where_progress_absent(p, m)
        sim_margin = float(route[0].get("margin", 0)) if route else 0.0
        sim_line = pl.col("similar") - sim_margin if _high_good(m) else pl.col("similar") + sim_margin
        below_similar = (pl.col("value") < sim_line) if _high_good(m) else (pl.col("value") > sim_line)
        # Where no progress score is published that year, attainment must also be below schools with a
        # similar intake (when there are enough of them to compare with).
        similar_ok = pl.col("progress_ok") | pl.col("similar").is_null() | below_similar
        comparators = ["threshold"] if "threshold" in spec else list(p.get("comparators", ["national"]))
        for comp in comparators:
            if comp == "threshold":
                t = s.with_columns(pl.lit(float(spec["threshold"])).alias("bench"))
                line = pl.col("bench")
                bench_label = f"the threshold {spec['threshold']}"
            else:
                t = s.join(area_series(fr, m, COMPARATOR_AREAS[comp]), on="year", how="left")
                margin = float(spec.get("margin", 0))
                line = pl.col("bench") - margin if _high_good(m) else pl.col("bench") + margin
                bench_label = f"{COMPARATOR_LABELS[comp]} by more than {margin:g}"
            usable = pl.col("ok") & pl.col("bench").is_not_null()
            below = (pl.col("value") < line) if _high_good(m) else (pl.col("value") > line)
            t = t.with_columns(usable.alias("usable"), (usable & below & similar_ok).alias("below"))
            agg = t.group_by("school_id").agg(
                pl.col("usable").sum().alias("n_ok"),
                pl.col("below").sum().alias("n_below"),
                pl.col("year"),
                pl.col("value"),
                pl.col("bench"),
                pl.col("cohort"),
                pl.col("status"),
                pl.col("below").alias("below_each"),
                pl.col("progress_ok"),
                pl.col("similar"),
                pl.col("similar_n"),
                pl.col("cohort").filter(pl.col("usable")).last().alias("cohort_latest"),
            )
            need_ok = min(need, years)
            agg = agg.with_columns(
                pl.when(pl.col("n_ok") < need_ok)
                .then(pl.lit(Outcome.NO_EVIDENCE.value))
                .when(pl.col("cohort_latest").is_not_null() & (pl.col("cohort_latest") < min_cohort))
                .then(pl.lit(Outcome.LOW_CONFIDENCE.value))
                .when(pl.col("n_below") >= need)
                .then(pl.lit(Outcome.MET.value))
                .otherwise(pl.lit(Outcome.NOT_MET.value))
                .alias("outcome")
            )
            rows = []
            for r in agg.iter_rows(named=True):
                pairs = "; ".join(
                    f"{y + 1}: {_fmt(v, m)} vs {_fmt(b, m)}"
                    if st == "ok"
                    else f"{y + 1}: {st.replace('_', ' ')}"
                    for y, v, b, st in zip(r["year"], r["value"], r["bench"], r["status"], strict=False)
                )
                o = r["outcome"]
                name = _label(m)
                if o == Outcome.NO_EVIDENCE:
                    text = f"{name}: not enough published years to compare ({pairs or 'no data'})."
                elif o == Outcome.LOW_CONFIDENCE:
                    text = (
                        f"{name}: cohort of {r['cohort_latest']:.0f} pupils is under {min_cohort}, "
                        f"so not judged ({pairs})."
                    )
                else:
                    verb = "below" if o == Outcome.MET else "not below"
                    text = (
                        f"{name} was {verb} {bench_label} in {r['n_below']} of {r['n_ok']} year(s) "
                        f"(needs {need}); exam years {pairs}."
                    )
                if route is not None:
                    sims = [
                        f"{y + 1}: {_fmt(sv, m)} ({sn} schools)"
                        for y, po, sv, sn in zip(
                            r["year"], r["progress_ok"], r["similar"], r["similar_n"], strict=False
                        )
                        if not po and sv is not None
                    ]
                    unpublished = [
                        y + 1 for y, po in zip(r["year"], r["progress_ok"], strict=False) if not po
                    ]
                    if sims:
                        text += (
                            " No progress score published for "
                            + ", ".join(map(str, unpublished))
                            + f": also compared with the median of schools with a similar intake (by more "
                            f"than {sim_margin:g}): " + "; ".join(sims) + "."
                        )
                    elif unpublished and o != Outcome.NO_EVIDENCE:
                        text += (
                            " No progress score published for "
                            + ", ".join(map(str, unpublished))
                            + " and too few schools with a similar intake to compare with."
                        )
                detail = {
                    "measure": m,
                    "comparator": comp,
                    "years": list(r["year"]),
                    "values": r["value"],
                    "benchmark": r["bench"],
                    "cohort": r["cohort"],
                    "statuses": r["status"],
                    "years_below": r["n_below"],
                    "met_years": [y for y, b in zip(r["year"], r["below_each"], strict=False) if b],
                    "explanation": text,
                }
                if route is not None:
                    detail["progress_published"] = r["progress_ok"]
                    detail["similar_schools"] = r["similar"]
                    detail["similar_schools_n"] = r["similar_n"]
                rows.append((r["school_id"], o, _dumps(detail)))
            parts.append(
                pl.DataFrame(
                    rows, schema={"school_id": pl.Int64, "outcome": pl.Utf8, "detail": pl.Utf8}, orient="row"
                )
            )
    return _evidence_rows(fr, combine(parts, schools), "No published results for this measure.")


DETAIL_SCHEMA = {"school_id": pl.Int64, "outcome": pl.Utf8, "detail": pl.Utf8}


def _detail_frame(rows: list[tuple[int, str, dict[str, Any]]]) -> pl.DataFrame:
    return pl.DataFrame([(s, o, _dumps(d)) for s, o, d in rows], schema=DETAIL_SCHEMA, orient="row")


def check_declining(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    """Falling over the school's latest `years` published years (strict: every year lower)."""
    years, min_cohort, strict = int(p.get("years", 3)), p.get("min_cohort", 0), bool(p.get("strict", True))
    parts = []
    for spec in p["measures"]:
        m = spec["measure"]
        sign = 1.0 if _high_good(m) else -1.0
        s = series(fr, m, spec.get("cohort", "")).filter(
            pl.col("school_id").is_in(schools["school_id"].implode()) & pl.col("ok")
        )
        s = _with_similar(fr, _windowed(s, years), p, m)
        agg = s.group_by("school_id").agg(
            pl.col("progress_ok").last().alias("progress_latest"),
            pl.col("similar").last().alias("similar_latest"),
            pl.col("similar_n").last().alias("similar_n_latest"),
            pl.len().alias("n"),
            pl.col("year"),
            pl.col("value"),
            pl.col("cohort"),
            pl.col("cohort").last().alias("cohort_latest"),
            ((pl.col("value").first() - pl.col("value").last()) * sign).alias("drop"),
            ((pl.col("value").diff().drop_nulls() * sign) <= 0).all().alias("monotone"),
        )
        min_drop = float(spec.get("min_drop", 0))
        falling = (pl.col("drop") >= min_drop) & (pl.col("monotone") if strict else pl.lit(True))
        # Latest year without a published progress score: the decline counts only where the school is
        # also below the schools with a similar intake that year (when there are enough to compare).
        below_similar = (
            (pl.col("value").list.last() < pl.col("similar_latest"))
            if _high_good(m)
            else (pl.col("value").list.last() > pl.col("similar_latest"))
        )
        falling = falling & (pl.col("progress_latest") | pl.col("similar_latest").is_null() | below_similar)
        agg = agg.with_columns(
            pl.when(pl.col("n") < years)
            .then(pl.lit(Outcome.NO_EVIDENCE.value))
            .when(pl.col("cohort_latest").is_not_null() & (pl.col("cohort_latest") < min_cohort))
            .then(pl.lit(Outcome.LOW_CONFIDENCE.value))
            .when(falling)
            .then(pl.lit(Outcome.MET.value))
            .otherwise(pl.lit(Outcome.NOT_MET.value))
            .alias("outcome")
        )
        rows = []
        for r in agg.iter_rows(named=True):
            pairs = ", ".join(f"{y + 1}: {_fmt(v, m)}" for y, v in zip(r["year"], r["value"], strict=False))
            o = r["outcome"]
            if o == Outcome.NO_EVIDENCE:
                text = f"{_label(m)}: fewer than {years} published years ({pairs})."
            elif o == Outcome.LOW_CONFIDENCE:
                text = f"{_label(m)}: cohort of {r['cohort_latest']:.0f} under {min_cohort}, not judged ({pairs})."
            elif o == Outcome.MET:
                text = f"{_label(m)} declined by {r['drop']:.1f} over {years} years ({pairs})."
            else:
                text = f"{_label(m)} did not decline by {min_drop:g} or more ({pairs})."
            if not r["progress_latest"] and r["similar_latest"] is not None:
                text += (
                    f" No progress score published for {r['year'][-1] + 1}: the median of "
                    f"{r['similar_n_latest']} schools with a similar intake was {_fmt(r['similar_latest'], m)}."
                )
            rows.append(
                (
                    r["school_id"],
                    o,
                    {
                        "measure": m,
                        "years": r["year"],
                        "values": r["value"],
                        "cohort": r["cohort"],
                        "drop": r["drop"],
                        "min_drop": min_drop,
                        "progress_published_latest": r["progress_latest"],
                        "similar_schools_latest": r["similar_latest"],
                        "similar_schools_n": r["similar_n_latest"],
                        "explanation": text,
                    },
                )
            )
        parts.append(_detail_frame(rows))
    return _evidence_rows(fr, combine(parts, schools), "No published results to show a trend.")


def check_gap_widening(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    """Gap = national other pupils minus the school's disadvantaged pupils; widening over the window."""
    years, min_cohort, widen = int(p.get("years", 3)), p.get("min_cohort", 0), float(p.get("min_widening", 3))
    area = COMPARATOR_AREAS[p.get("comparator", "national")]
    parts = []
    for spec in p["measures"]:
        m, bm = spec["measure"], spec["benchmark_measure"]
        s = series(fr, m, spec.get("cohort", "")).filter(
            pl.col("school_id").is_in(schools["school_id"].implode()) & pl.col("ok")
        )
        s = s.join(area_series(fr, bm, area), on="year", how="inner")
        s = _windowed(s.with_columns((pl.col("bench") - pl.col("value")).alias("gap")), years)
        agg = s.group_by("school_id").agg(
            pl.len().alias("n"),
            pl.col("year"),
            pl.col("value"),
            pl.col("bench"),
            pl.col("gap"),
            pl.col("cohort").last().alias("cohort_latest"),
            (pl.col("gap").last() - pl.col("gap").first()).alias("widening"),
            pl.col("gap").last().alias("gap_latest"),
        )
        agg = agg.with_columns(
            pl.when(pl.col("n") < 2)
            .then(pl.lit(Outcome.NO_EVIDENCE.value))
            .when(pl.col("cohort_latest").is_not_null() & (pl.col("cohort_latest") < min_cohort))
            .then(pl.lit(Outcome.LOW_CONFIDENCE.value))
            .when((pl.col("widening") >= widen) & (pl.col("gap_latest") > 0))
            .then(pl.lit(Outcome.MET.value))
            .otherwise(pl.lit(Outcome.NOT_MET.value))
            .alias("outcome")
        )
        rows = []
        for r in agg.iter_rows(named=True):
            o = r["outcome"]
            text = (
                f"Gap between the school's disadvantaged pupils ({_label(m)}) and other pupils nationally: "
                + ", ".join(f"{y + 1}: {g:.1f}" for y, g in zip(r["year"], r["gap"], strict=False))
                + (f"; widened by {r['widening']:.1f}." if o == Outcome.MET else ".")
            )
            rows.append(
                (
                    r["school_id"],
                    o,
                    {
                        "measure": m,
                        "benchmark_measure": bm,
                        "years": r["year"],
                        "values": r["value"],
                        "benchmark": r["bench"],
                        "gaps": r["gap"],
                        "explanation": text,
                    },
                )
            )
        parts.append(_detail_frame(rows))
    return _evidence_rows(
        fr,
        combine(parts, schools),
        "No school-level results for disadvantaged pupils are held, so the gap cannot be measured.",
    )


def check_absence_high(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    """Latest absence vs the median of same-phase schools held (the strategy's "median for absence").

    The median is over the state-funded schools of the same phase held for that year: every school in
    England when the national files are loaded, the LA's schools otherwise (said in the evidence). With
    fewer than `min_schools_for_median` such schools, England's published rate is used and said so."""
    om, pm = float(p.get("overall_margin", 1.0)), float(p.get("persistent_margin", 5.0))
    min_las = int(p.get("min_las_for_national_median", 20))
    min_schools = int(p.get("min_schools_for_median", 5))
    peers = fr.peers if fr.peers is not None else fr.schools.select("school_id", "phase")
    held = fr.school_measures.filter(pl.col("measure").is_in(["absence_overall", "absence_persistent"]))
    las_held = (
        held.select("school_id")
        .unique()
        .join(
            _frame(
                School.objects.filter(is_state_funded=True).values_list("id", "la_code"),
                {"school_id": pl.Int64, "la_code": pl.Int64},
            ),
            on="school_id",
            how="inner",
        )["la_code"]
        .n_unique()
    )
    scope_word = (
        "in England" if las_held >= min_las else "in the LA" if las_held == 1 else f"in {las_held} LAs"
    )
    parts = []
    for m, margin in (("absence_overall", om), ("absence_persistent", pm)):
        s = series(fr, m).join(peers, on="school_id", how="inner")
        medians = (
            s.filter(pl.col("ok"))
            .group_by("phase", "year")
            .agg(pl.col("value").median().alias("median"), pl.len().alias("n_schools"))
        )
        mine = _windowed(s.filter(pl.col("school_id").is_in(schools["school_id"].implode())), 1)
        mine = mine.join(medians, on=["phase", "year"], how="left")
        mine = mine.join(area_series(fr, m, ENGLAND).rename({"bench": "england"}), on="year", how="left")
        la = fr.area_measures.filter((pl.col("measure") == m) & _ok()).select(
            pl.col("area_code").alias("la_code"), "year", pl.col("value").alias("la_rate")
        )
        mine = mine.join(fr.schools.select("school_id", "la_code"), on="school_id", how="left").join(
            la, on=["la_code", "year"], how="left"
        )
        use_median = pl.col("n_schools").fill_null(0) >= min_schools
        mine = mine.with_columns(
            pl.when(use_median).then(pl.col("median")).otherwise(pl.col("england")).alias("bench"),
            use_median.alias("is_median"),
        ).with_columns(
            pl.when(~pl.col("ok") | pl.col("bench").is_null())
            .then(pl.lit(Outcome.NO_EVIDENCE.value))
            .when(pl.col("value") > pl.col("bench") + margin)
            .then(pl.lit(Outcome.MET.value))
            .otherwise(pl.lit(Outcome.NOT_MET.value))
            .alias("outcome")
        )
        rows = []
        for r in mine.iter_rows(named=True):
            o = r["outcome"]
            year = academic_year_label(r["year"])
            if r["is_median"]:
                bench_label = (
                    f"the median of {r['n_schools']} {r['phase'].replace('_', '-')} schools {scope_word}"
                )
            else:
                bench_label = (
                    f"England's rate (fewer than {min_schools} {r['phase']} schools held for a median)"
                )
            if o == Outcome.NO_EVIDENCE:
                text = f"{_label(m)} {year}: {r['status'].replace('_', ' ')}."
            else:
                text = (
                    f"{_label(m)} {year}: {r['value']:.1f}% vs {bench_label} "
                    f"{r['bench']:.1f}% (margin {margin:g})"
                    + (f", LA {r['la_rate']:.1f}%" if r["la_rate"] is not None else "")
                    + ("; significantly above." if o == Outcome.MET else ".")
                )
            rows.append(
                (
                    r["school_id"],
                    o,
                    {
                        "measure": m,
                        "years": [r["year"]],
                        "values": [r["value"]],
                        "status": r["status"],
                        "benchmark": r["bench"],
                        "benchmark_kind": "median_same_phase" if r["is_median"] else "england",
                        "median_schools": r["n_schools"],
                        "median_scope": scope_word,
                        "england": r["england"],
                        "la": r["la_rate"],
                        "explanation": text,
                    },
                )
            )
        parts.append(_detail_frame(rows))
    return _evidence_rows(fr, combine(parts, schools), "No school-level absence data is held.")


def check_suspensions(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    m, factor = p.get("measure", "suspension_rate"), float(p.get("factor", 1.5))
    s = series(fr, m).filter(pl.col("school_id").is_in(schools["school_id"].implode()) & pl.col("ok"))
    s = _windowed(s, 2).join(area_series(fr, m, ENGLAND), on="year", how="left")
    agg = s.group_by("school_id").agg(
        pl.len().alias("n"),
        pl.col("year"),
        pl.col("value"),
        pl.col("bench"),
        (pl.col("value").last() > pl.col("bench").last() * factor).alias("high"),
        (pl.col("value").last() > pl.col("value").first()).alias("rising"),
    )
    agg = agg.with_columns(
        pl.when((pl.col("n") < 2) | pl.col("high").is_null())
        .then(pl.lit(Outcome.NO_EVIDENCE.value))
        .when(pl.col("high") & pl.col("rising"))
        .then(pl.lit(Outcome.MET.value))
        .otherwise(pl.lit(Outcome.NOT_MET.value))
        .alias("outcome")
    )
    rows = [
        (
            r["school_id"],
            r["outcome"],
            {
                "measure": m,
                "years": r["year"],
                "values": r["value"],
                "benchmark": r["bench"],
                "explanation": f"Suspensions per 100 pupils {r['value']} vs England x{factor:g} {r['bench']}.",
            },
        )
        for r in agg.iter_rows(named=True)
    ]
    return _evidence_rows(
        fr,
        combine([_detail_frame(rows)], schools),
        "No school-level suspension data is held (LAIT has LA rates only).",
    )


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
    rows = []
    for r in latest.iter_rows(named=True):
        areas = r["area"] or []
        when = r["start_date"].isoformat()
        keys = [f"inspection:{when}:{a}" for a in areas]
        if r["framework"] == Framework.LEGACY.value and r["overall"] is None:
            met = bool(areas)
            listed = ", ".join(
                f"{str(x['area']).replace('_', ' ')} {OverallEffectiveness(x['grade']).label.lower()}"
                for x in r["all_grades"] or []
                if x["grade"] in (1, 2, 3, 4)
            )
            text = (
                f"Latest graded inspection {when}: overall effectiveness not judged (inspections from "
                f"September 2024); key judgements: {listed or 'none held'}"
                + (f"; below good: {', '.join(a.replace('_', ' ') for a in areas)}." if areas else ".")
            )
        elif r["framework"] == Framework.LEGACY.value:
            overall_bad = r["overall"] in legacy_in
            met = overall_bad or bool(areas)
            if overall_bad:
                keys = [f"inspection:{when}:overall", *keys]
            word = OverallEffectiveness(r["overall"]).label if r["overall"] in (1, 2, 3, 4) else "not judged"
            text = f"Latest graded inspection {when} (legacy): overall effectiveness {word.lower()}" + (
                f"; key judgements below good: {', '.join(areas)}." if areas else "."
            )
        else:
            met = bool(areas)
            text = f"Latest report card {when}: " + (
                f"{', '.join(a.replace('_', ' ') for a in areas)} at needs attention or worse."
                if areas
                else "no evaluation area at needs attention or worse."
            )
        rows.append(
            (
                r["school_id"],
                Outcome.MET.value if met else Outcome.NOT_MET.value,
                {
                    "inspection_date": when,
                    "framework": r["framework"],
                    "overall": r["overall"],
                    "areas_flagged": areas,
                    "grades": r["all_grades"] or [],
                    "data_items": keys,
                    "explanation": text,
                },
            )
        )
    return _evidence_rows(
        fr, combine([_detail_frame(rows)], schools), "No graded inspection is held for this school."
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
        for r in latest.iter_rows(named=True)
    ]
    return _evidence_rows(
        fr, combine([_detail_frame(rows)], schools), "No inspection with a safeguarding judgement is held."
    )


def check_head_change(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    months = int(p.get("months", 24))
    since = dt.datetime.combine(fr.cutoff, dt.time(), tzinfo=dt.UTC) - dt.timedelta(
        days=round(months * 30.44)
    )
    h = (
        fr.heads.filter(pl.col("school_id").is_in(schools["school_id"].implode()))
        .with_columns(pl.col("head_name").str.strip_chars().alias("head_name"))
        .sort("school_id", "history_date")
        .with_columns(
            (
                pl.col("head_name").str.to_lowercase()
                != pl.col("head_name").str.to_lowercase().shift(1).over("school_id")
            )
            .fill_null(False)
            .alias("changed")
        )
    )
    agg = h.group_by("school_id").agg(
        pl.len().alias("n"),
        pl.col("head_name").unique(maintain_order=True).alias("names"),
        pl.col("history_date").filter(pl.col("changed")).alias("change_dates"),
        pl.col("history_date").min().alias("first_seen"),
    )
    rows = []
    for r in agg.iter_rows(named=True):
        recent = [d for d in r["change_dates"] if d >= since]
        if r["n"] < 2:
            o, text = (
                Outcome.NO_EVIDENCE.value,
                "Only one record of the head's name, so a change cannot be seen.",
            )
        elif recent:
            o = Outcome.MET.value
            text = f"Head changed on {recent[-1].date().isoformat()} (register: {' then '.join(r['names'])})."
        else:
            o = Outcome.NOT_MET.value
            text = f"No change of head in the {months} months before the term ({r['n']} register records)."
        rows.append(
            (
                r["school_id"],
                o,
                {
                    "names": r["names"],
                    "change_dates": [d.isoformat() for d in r["change_dates"]],
                    "explanation": text,
                },
            )
        )
    return _evidence_rows(fr, combine([_detail_frame(rows)], schools), "No head's name is recorded.")


def check_falling_rolls(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    m, pct, span = p.get("measure", "pupils"), float(p.get("min_fall_pct", 10)), int(p.get("years", 5))
    s = series(fr, m).filter(
        pl.col("school_id").is_in(schools["school_id"].implode()) & pl.col("ok") & (pl.col("value") > 0)
    )
    s = s.with_columns(pl.col("year").max().over("school_id").alias("latest")).filter(
        pl.col("year") >= pl.col("latest") - span
    )
    agg = (
        s.sort("year")
        .group_by("school_id")
        .agg(
            pl.len().alias("n"),
            pl.col("year"),
            pl.col("value"),
            ((pl.col("value").first() - pl.col("value").last()) / pl.col("value").first() * 100).alias(
                "fall"
            ),
        )
    )
    agg = agg.with_columns(
        pl.when(pl.col("n") < 2)
        .then(pl.lit(Outcome.NO_EVIDENCE.value))
        .when(pl.col("fall") >= pct)
        .then(pl.lit(Outcome.MET.value))
        .otherwise(pl.lit(Outcome.NOT_MET.value))
        .alias("outcome")
    )
    rows = []
    for r in agg.iter_rows(named=True):
        pairs = ", ".join(f"January {y + 1}: {v:.0f}" for y, v in zip(r["year"], r["value"], strict=False))
        if r["outcome"] == Outcome.NO_EVIDENCE:
            text = f"Only one census year held ({pairs})."
        else:
            text = f"Pupils on roll {pairs}: " + (
                f"fell {r['fall']:.1f}%." if r["fall"] > 0 else f"rose {-r['fall']:.1f}%."
            )
        rows.append(
            (
                r["school_id"],
                r["outcome"],
                {
                    "measure": m,
                    "years": r["year"],
                    "values": r["value"],
                    "fall_pct": r["fall"],
                    "explanation": text,
                },
            )
        )
    return _evidence_rows(fr, combine([_detail_frame(rows)], schools), "No pupil numbers are held.")


Check = Callable[[Frames, dict[str, Any], pl.DataFrame], pl.DataFrame]

CHECKS: dict[str, Check] = {
    "below_benchmark": check_below_benchmark,
    "declining": check_declining,
    "gap_widening": check_gap_widening,
    "absence_high": check_absence_high,
    "suspensions_high_rising": check_suspensions,
    "ofsted_below": check_ofsted_below,
    "safeguarding_not_met": check_safeguarding,
    "head_change": check_head_change,
    "falling_rolls": check_falling_rolls,
}


# ------------------------------------------------------------------------------------------------
# Evaluation


def active_rulebook(model: str = RiskModel.CAMDEN) -> Rulebook:
    """The model's active rulebook (the catalogue and version 1 are created if the database has none)."""
    active = Rulebook.objects.filter(model=model, is_active=True).order_by("-version").first()
    if active is not None:
        return active
    from beacon.risk.catalogue import ensure_catalogue

    books = ensure_catalogue()
    active = Rulebook.objects.filter(model=model, is_active=True).order_by("-version").first()
    return active or books[model]


def schools_in_scope(schools: pl.DataFrame, criterion: Criterion, params: dict[str, Any]) -> pl.DataFrame:
    """Schools of the phases the criterion applies to, less any phase the rule excludes (special
    schools and alternative provision are not judged against national attainment benchmarks: the
    strategy compares them with pupils with similar needs, A-spe-2)."""
    excluded = list(params.get("exclude_phases", []))
    if excluded:
        schools = schools.filter(~pl.col("phase").is_in(excluded))
    if "all" in criterion.phases:
        return schools
    wanted = set(criterion.phases)
    phases = [ph for ph, mapped in PHASE_MAP.items() if wanted & set(mapped)]
    return schools.filter(pl.col("phase").is_in(phases))


def run_rules(fr: Frames, rules: list[Rule], *, term_year: int | None = None) -> dict[int, pl.DataFrame]:
    """criterion id -> (school_id, outcome, evidence) for the schools the criterion applies to.

    `term_year`: the academic year of the term; evidence older than the rulebook's `stale_after_years`
    before it is stale (None: no staleness, as for a backtest run against its own data year)."""
    out: dict[int, pl.DataFrame] = {}
    for rule in rules:
        if not rule.enabled or rule.criterion.kind != CriterionKind.DATA:
            continue
        check = CHECKS[rule.params["check"]]
        scope = schools_in_scope(fr.schools, rule.criterion, rule.params)
        if scope.height == 0:
            continue
        fr.stale_before = None
        if term_year is not None:
            after = int(rule.params.get("stale_after_years", rule.rulebook.stale_after_years))
            fr.stale_before = term_year - after
        out[rule.criterion_id] = check(fr, rule.params, scope)
    fr.stale_before = None
    return count_once(out, rules)


def count_once(results: dict[int, pl.DataFrame], rules: list[Rule]) -> dict[int, pl.DataFrame]:
    """One data item meets one criterion (issue 13).

    A rule's `counted_under` names the criteria (codes) its data items are counted under first. Where
    this criterion is met and one of those is met for the same school, each met evidence item whose data
    items (measure:academic year, or inspection:date:judgement) are all already met there is marked
    'counted under' that criterion; if no met item is left, the outcome is 'counted_under' (shown, never
    counted as met, never in the score). E.g. one 2018/19 absence figure meets viii, not also secondary 5."""
    by_code = {r.criterion.code: r for r in rules}
    for rule in rules:
        targets = [by_code[c] for c in rule.params.get("counted_under", []) if c in by_code]
        mine = results.get(rule.criterion_id)
        if not targets or mine is None:
            continue
        met = mine.filter(pl.col("outcome") == Outcome.MET.value)
        if met.height == 0:
            continue
        claimed: dict[int, dict[str, str]] = {}
        for target in targets:
            theirs = results.get(target.criterion_id)
            if theirs is None:
                continue
            hits = theirs.filter(
                (pl.col("outcome") == Outcome.MET.value)
                & pl.col("school_id").is_in(met["school_id"].implode())
            )
            for school_id, evidence in hits.select("school_id", "evidence").iter_rows():
                for item in json.loads(evidence)["items"]:
                    for key in item.get("data_items", []):
                        claimed.setdefault(school_id, {}).setdefault(key, target.criterion.ref)
        if not claimed:
            continue
        changed: list[tuple[int, str, str]] = []
        for school_id, evidence in met.select("school_id", "evidence").iter_rows():
            keys = claimed.get(school_id)
            if not keys:
                continue
            ev = json.loads(evidence)
            still_met = False
            under: set[str] = set()
            for item in ev["items"]:
                if item.get("outcome") != Outcome.MET.value:
                    continue
                items = item.get("data_items", [])
                if items and all(k in keys for k in items):
                    item["outcome"] = Outcome.COUNTED_UNDER.value
                    item["counted_under"] = sorted({keys[k] for k in items})
                    under.update(item["counted_under"])
                else:
                    still_met = True
            if not under:
                continue
            note = f"The same data already meet {', '.join(sorted(under))}, so they are counted once, there."
            ev["explanation"] = f"{note} {ev['explanation']}"
            ev["counted_under"] = sorted(under)
            changed.append(
                (school_id, Outcome.MET.value if still_met else Outcome.COUNTED_UNDER.value, _dumps(ev))
            )
        if changed:
            upd = pl.DataFrame(changed, schema=RESULT_SCHEMA, orient="row")
            results[rule.criterion_id] = (
                mine.join(upd, on="school_id", how="left", suffix="_new")
                .with_columns(
                    pl.coalesce("outcome_new", "outcome").alias("outcome"),
                    pl.coalesce("evidence_new", "evidence").alias("evidence"),
                )
                .select("school_id", "outcome", "evidence")
            )
    return results


def evaluate(
    term: Term,
    rulebook: Rulebook | None = None,
    school_ids: Iterable[int] | None = None,
    *,
    data_year: int | None = None,
    cutoff: dt.date | None = None,
    state_funded_only: bool = True,
) -> EvaluationSummary:
    """Evaluate every enabled data rule for every school (or `school_ids`) and upsert the results.

    `data_year` / `cutoff` default to the term's (results up to the previous academic year,
    inspections and register history before the term starts); the backtest overrides them."""
    started = time.perf_counter()
    rulebook = rulebook or active_rulebook()
    rules = list(rulebook.rules.select_related("criterion", "rulebook"))
    fr = load_frames(
        data_year=term.data_year if data_year is None else data_year,
        cutoff=term.start_date if cutoff is None else cutoff,
        school_ids=school_ids,
        state_funded_only=state_funded_only,
    )
    loaded = time.perf_counter()
    results = run_rules(fr, rules, term_year=term.academic_year if data_year is None else None)
    summary = EvaluationSummary(term=str(term), rulebook=str(rulebook), schools=fr.schools.height)
    now = timezone.now()
    codes = {r.criterion_id: r.criterion.code for r in rules}
    frames = []
    for criterion_id, frame in results.items():
        counts = frame.group_by("outcome").len()
        summary.by_criterion[codes[criterion_id]] = dict(counts.iter_rows())
        frames.append(frame.with_columns(pl.lit(criterion_id, dtype=pl.Int64).alias("criterion_id")))
    write_started = time.perf_counter()
    if frames:
        allres = pl.concat(frames)
        summary.results = allres.height
        summary.counts = dict(allres.group_by("outcome").len().iter_rows())
        summary.written = write_results(
            term.pk,
            rulebook.pk,
            allres.select("school_id", "criterion_id", "outcome", "evidence").iter_rows(),
            now=now,
        )
    done = time.perf_counter()
    summary.load_seconds = loaded - started
    summary.write_seconds = done - write_started
    summary.seconds = done - started
    return summary


@transaction.atomic
def new_rulebook_version(from_rulebook: Rulebook, user: Any = None, *, activate: bool = True) -> Rulebook:
    """Copy a rulebook (all its rules) into the next version; the old one and its results stay as they are."""
    latest = Rulebook.objects.filter(model=from_rulebook.model).order_by("-version").first()
    version = (latest.version if latest else 0) + 1
    book = Rulebook.objects.create(
        model=from_rulebook.model,
        version=version,
        name=from_rulebook.name,
        stale_after_years=from_rulebook.stale_after_years,
        notes=f"Copied from version {from_rulebook.version}.",
        is_active=False,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    Rule.objects.bulk_create(
        [
            Rule(
                rulebook=book,
                criterion_id=r.criterion_id,
                enabled=r.enabled,
                weight=r.weight,
                params=json.loads(json.dumps(r.params)),
                explanation=r.explanation,
            )
            for r in from_rulebook.rules.all()
        ]
    )
    if activate:
        activate_rulebook(book)
    return book


def activate_rulebook(book: Rulebook) -> None:
    Rulebook.objects.filter(model=book.model).exclude(pk=book.pk).update(is_active=False)
    Rulebook.objects.filter(pk=book.pk).update(is_active=True)
    book.is_active = True
