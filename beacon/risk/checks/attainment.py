"""Attainment and progress scores against England / London, and against schools with a similar intake
where no progress score is published (issue 11; docs/decisions/0017-attainment-against-similar-schools.md).

Check: `below_benchmark` (Camden ii, secondary 1, primary 1 and 2; Cambridgeshire amber / red 2)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from beacon.risk.checks.base import (
    COMPARATOR_AREAS,
    COMPARATOR_LABELS,
    Details,
    _evidence_rows,
    _formatter,
    _high_good,
    _label,
    _ok,
    _windowed,
    area_series,
    combine,
    fixed,
    item_frame,
    measure_keys,
    series,
    with_formatted,
)
from beacon.risk.models import Outcome

if TYPE_CHECKING:
    from beacon.risk.services import Frames


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
    linear in the number of schools, also nationally. The bands of one intake spec are computed once per
    evaluation (`Frames.similar_cache`): every measure compared with similar schools shares them."""
    names = list(spec["context"])
    cols = [f"{n}_band" for n in names]
    max_d = int(spec.get("max_band_distance", 1))
    min_similar = int(spec.get("min_similar", 3))
    bands_key = "bands|" + json.dumps(
        {"context": spec["context"], "bands": spec.get("bands", 3)}, sort_keys=True
    )
    if bands_key not in fr.similar_cache:
        fr.similar_cache[bands_key] = (
            intake_bands(fr, spec).drop_nulls(cols).select("school_id", "phase", *cols)
        )
    bands = fr.similar_cache[bands_key]
    values = fr.school_measures.filter(
        (pl.col("measure") == measure) & _ok() & pl.col("value").is_not_null()
    ).select("school_id", "year", "value")
    # Each phase's schools with a value, and each band cell's members: split once, not filtered per cell.
    joined = bands.join(values, on="school_id", how="inner")
    valued = joined.partition_by("phase", as_dict=True, maintain_order=True)
    no_values = joined.clear()
    out_ids: list[np.ndarray] = []
    out_years: list[np.ndarray] = []
    out_median: list[np.ndarray] = []
    out_n: list[np.ndarray] = []
    for (phase,), group in bands.group_by(["phase"]):
        with_values = valued.get((phase,), no_values)
        peer_cells = with_values.select(cols).to_numpy()
        peer_years = with_values["year"].to_numpy()
        peer_values = with_values["value"].to_numpy().astype(float)
        peer_ids = with_values["school_id"].to_numpy()
        for key, cell_members in group.partition_by(cols, as_dict=True, maintain_order=True).items():
            cell = np.asarray(key)
            near = np.abs(peer_cells - cell).sum(axis=1) <= max_d if len(peer_cells) else np.zeros(0, bool)
            members = cell_members["school_id"].to_numpy()
            for year in np.unique(peer_years[near]):
                pool = near & (peer_years == year)
                s_sorted = np.sort(peer_values[pool])
                # Each member's own value in the pool, if it has one (a school has one value a year).
                order = np.argsort(peer_ids[pool], kind="stable")
                pool_ids, pool_values = peer_ids[pool][order], peer_values[pool][order]
                at_id = np.clip(np.searchsorted(pool_ids, members), 0, max(len(pool_ids) - 1, 0))
                has = pool_ids[at_id] == members if len(pool_ids) else np.zeros(len(members), bool)
                v = (
                    np.where(has, pool_values[at_id], np.nan)
                    if len(pool_ids)
                    else np.full(len(members), np.nan)
                )
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


def check_below_benchmark(fr: Frames, p: dict[str, Any], schools: pl.DataFrame) -> pl.DataFrame:
    years = int(p.get("years", 3))
    parts: list[Details] = []
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
            parts.append(_below_items(t, p, m, comp, bench_label, route, sim_margin))
    return _evidence_rows(fr, combine(parts, schools), "No published results for this measure.")


def _below_items(
    t: pl.DataFrame,
    p: dict[str, Any],
    m: str,
    comp: str,
    bench_label: str,
    route: tuple[dict[str, Any], dict[str, Any]] | None,
    sim_margin: float,
) -> Details:
    """One evidence item per school from its yearly rows `t` (school_id, year, value, bench, cohort, status,
    usable, below, progress_ok, similar, similar_n), built in polars: the national pass makes ~150,000 of
    them (decision 0030). Values are shown as `_formatter` shows them, formatted once per distinct value."""
    years, need, min_cohort = int(p.get("years", 3)), int(p.get("min_years_below", 2)), p.get("min_cohort", 0)
    fmt = _formatter(m)
    t = with_formatted(t.sort("school_id", "year"), "value", fmt, "value_text")
    t = with_formatted(t, "bench", fmt, "bench_text")
    t = with_formatted(t, "similar", fmt, "similar_text")
    year_text = (pl.col("year") + 1).cast(pl.Utf8)
    unpublished = ~pl.col("progress_ok")
    t = t.with_columns(
        pl.when(pl.col("status") == "ok")
        .then(pl.concat_str(year_text, pl.lit(": "), "value_text", pl.lit(" vs "), "bench_text"))
        .otherwise(
            pl.concat_str(year_text, pl.lit(": "), pl.col("status").str.replace_all("_", " ", literal=True))
        )
        .alias("pair"),
        pl.when(unpublished & pl.col("similar").is_not_null())
        .then(
            pl.concat_str(
                year_text,
                pl.lit(": "),
                "similar_text",
                pl.lit(" ("),
                pl.col("similar_n").cast(pl.Utf8),
                pl.lit(" schools)"),
            )
        )
        .alias("sim"),
        pl.when(unpublished).then(year_text).alias("unpublished"),
    )
    agg = t.group_by("school_id").agg(
        pl.col("usable").sum().alias("n_ok"),
        pl.col("below").sum().alias("n_below"),
        pl.col("year"),
        pl.col("value"),
        pl.col("bench"),
        pl.col("cohort"),
        pl.col("status"),
        pl.col("progress_ok"),
        pl.col("similar"),
        pl.col("similar_n"),
        pl.col("year").filter(pl.col("below")).alias("met_years"),
        pl.col("year").filter(pl.col("value").is_not_null()).max().alias("newest"),
        pl.col("cohort").filter(pl.col("usable")).last().alias("cohort_latest"),
        pl.col("pair").str.join("; ").alias("pairs"),
        pl.col("sim").drop_nulls().str.join("; ").alias("sims"),
        pl.col("unpublished").drop_nulls().str.join(", ").alias("unpublished"),
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
    agg = with_formatted(agg, "cohort_latest", fixed(0), "cohort_text")
    name, o, pairs = _label(m), pl.col("outcome"), pl.col("pairs")
    text = (
        pl.when(o == Outcome.NO_EVIDENCE.value)
        .then(
            pl.concat_str(
                pl.lit(f"{name}: not enough published years to compare ("),
                pl.when(pairs == "").then(pl.lit("no data")).otherwise(pairs),
                pl.lit(")."),
            )
        )
        .when(o == Outcome.LOW_CONFIDENCE.value)
        .then(
            pl.concat_str(
                pl.lit(f"{name}: cohort of "),
                "cohort_text",
                pl.lit(f" pupils is under {min_cohort}, so not judged ("),
                pairs,
                pl.lit(")."),
            )
        )
        .otherwise(
            pl.concat_str(
                pl.lit(f"{name} was "),
                pl.when(o == Outcome.MET.value).then(pl.lit("below")).otherwise(pl.lit("not below")),
                pl.lit(f" {bench_label} in "),
                pl.col("n_below").cast(pl.Utf8),
                pl.lit(" of "),
                pl.col("n_ok").cast(pl.Utf8),
                pl.lit(f" year(s) (needs {need}); exam years "),
                pairs,
                pl.lit("."),
            )
        )
    )
    if route is not None:
        text = pl.concat_str(
            text,
            pl.when(pl.col("sims") != "")
            .then(
                pl.concat_str(
                    pl.lit(" No progress score published for "),
                    "unpublished",
                    pl.lit(
                        ": also compared with the median of schools with a similar intake (by more "
                        f"than {sim_margin:g}): "
                    ),
                    "sims",
                    pl.lit("."),
                )
            )
            .when((pl.col("unpublished") != "") & (o != Outcome.NO_EVIDENCE.value))
            .then(
                pl.concat_str(
                    pl.lit(" No progress score published for "),
                    "unpublished",
                    pl.lit(" and too few schools with a similar intake to compare with."),
                )
            )
            .otherwise(pl.lit("")),
        )
    fields: dict[str, pl.Expr] = {
        "measure": pl.lit(m),
        "comparator": pl.lit(comp),
        "years": pl.col("year"),
        "values": pl.col("value"),
        "benchmark": pl.col("bench"),
        "cohort": pl.col("cohort"),
        "statuses": pl.col("status"),
        "years_below": pl.col("n_below"),
        "met_years": pl.col("met_years"),
        "explanation": pl.col("explanation"),
    }
    if route is not None:
        fields |= {
            "progress_published": pl.col("progress_ok"),
            "similar_schools": pl.col("similar"),
            "similar_schools_n": pl.col("similar_n"),
        }
    return item_frame(
        agg.with_columns(text.alias("explanation")),
        fields=fields,
        newest=pl.col("newest"),
        data_items=measure_keys(m, pl.col("met_years")),
    )
