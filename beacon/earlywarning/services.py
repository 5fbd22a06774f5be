"""Train, save, score, store and backtest the early-warning model."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from beacon.earlywarning.artefact import DEFAULT_ARTEFACT as DEFAULT_ARTEFACT
from beacon.earlywarning.artefact import artefact_card as artefact_card
from beacon.earlywarning.artefact import load as load
from beacon.earlywarning.artefact import save as save
from beacon.earlywarning.artefact import warm_worker as warm_worker
from beacon.earlywarning.features import Sources, first_graded_after, load_sources
from beacon.earlywarning.model import TrainedModel, fit, score
from beacon.earlywarning.scoring import PendingScores as PendingScores
from beacon.earlywarning.scoring import finish_scores, start_scores

EXPORT_COLUMNS = ("urn", "probability", "rank", "top_reasons")


def train(
    as_of: dt.date, *, seed: int = 0, src: Sources | None = None, history_until: dt.date | None = None
) -> TrainedModel:
    return fit(src or load_sources(), as_of, seed=seed, history_until=history_until)


def export_scores(
    as_of: dt.date,
    output: Path,
    *,
    la_code: int | None = None,
    seed: int = 0,
    history_until: dt.date | None = None,
) -> int:
    """Train on what was published before `as_of`, score the schools open then, write the CSV."""
    src = load_sources()
    model = fit(src, as_of, seed=seed, history_until=history_until)
    scores = score(model, src, as_of, la_code=la_code)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(EXPORT_COLUMNS)
        for r in scores.iter_rows(named=True):
            w.writerow([r["urn"], f"{r['probability']:.4f}", r["rank"], "; ".join(r["reasons"])])
    return scores.height


def store_scores(
    model: TrainedModel,
    as_of: dt.date,
    *,
    src: Sources | None = None,
    la_code: int | None = None,
) -> int:
    """Score the schools open on `as_of` and store the scores: `start_scores` and `finish_scores`, in this
    process (the caller has nothing to do meanwhile)."""
    pending = start_scores(model, as_of, src=src or load_sources(), la_code=la_code, in_worker=False)
    with pending.job:
        return finish_scores(pending)


# ---------------------------------------------------------------- backtest


def _recall_at(
    scores: np.ndarray, y: np.ndarray, inspected: np.ndarray, share: float
) -> tuple[float, float, int]:
    """Recall and precision among inspected schools in the riskiest `share` of ALL ranked schools.
    Tied scores at the cut count fractionally (expected value under a random order: no URN tie-break)."""
    n = len(scores)
    k = round(n * share)
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    hit = (y[order] == 1) & inspected[order]
    ins = inspected[order]
    # fraction of each school inside the top k, sharing ties
    frac = np.zeros(n)
    i = 0
    taken = 0
    while i < n and taken < k:
        j = i
        while j < n and s[j] == s[i]:
            j += 1
        size = j - i
        f = min(1.0, (k - taken) / size)
        frac[i:j] = f
        taken += size
        i = j
    hits = float((frac * hit).sum())
    inspected_in = float((frac * ins).sum())
    total = float((y[inspected] == 1).sum())
    return (hits / total if total else 0.0, hits / inspected_in if inspected_in else 0.0, k)


def appendix_a_scores(as_of: dt.date, data_year: int | None = None) -> pl.DataFrame:
    """school_id, appendix_a: the Appendix A score (weighted count of data criteria met, as the register
    ranks) of each school as the active rulebook's data rules would have run on `as_of`, computed in memory
    (nothing is written). Inspections and register history before `as_of`; results up to `data_year`,
    by default the latest academic year whose results were published before `as_of` (results for year Y/Y+1
    are published in the autumn and winter of Y+1, so as of 1 September Y+1 the latest is Y-1/Y:
    `as_of.year - 2`, the same cut the model's features use). No staleness rule (as for the rules
    backtest). Judgement criteria are not in it: no judgement was recorded in the past."""
    from beacon.risk.models import Outcome
    from beacon.risk.services import active_rulebook, load_frames, run_rules

    book = active_rulebook()
    rules = list(book.rules.select_related("criterion", "rulebook"))
    fr = load_frames(data_year=as_of.year - 2 if data_year is None else data_year, cutoff=as_of)
    weights = {r.criterion_id: float(r.weight) for r in rules}
    frames = [
        f.filter(pl.col("outcome") == Outcome.MET.value).select(
            "school_id", pl.lit(weights[cid], dtype=pl.Float64).alias("w")
        )
        for cid, f in run_rules(fr, rules).items()
    ]
    met = (
        pl.concat(frames).group_by("school_id").agg(pl.col("w").sum().alias("appendix_a"))
        if frames
        else pl.DataFrame(schema={"school_id": pl.Int64, "appendix_a": pl.Float64})
    )
    return (
        fr.schools.select(pl.col("school_id").cast(pl.Int64))
        .join(met.with_columns(pl.col("school_id").cast(pl.Int64)), on="school_id", how="left")
        .with_columns(pl.col("appendix_a").fill_null(0.0))
    )


@dataclass
class BacktestResult:
    as_of: dt.date
    until: dt.date
    text: str
    figures: dict[str, Any]


def backtest(
    as_of: dt.date,
    until: dt.date,
    *,
    seed: int = 0,
    src: Sources | None = None,
    history_until: dt.date | None = None,
    appendix_a: bool = True,
) -> BacktestResult:
    src = src or load_sources()
    model = fit(src, as_of, seed=seed, history_until=history_until)
    s = score(model, src, as_of, reasons=False)
    out = first_graded_after(src, as_of, until + dt.timedelta(days=1))
    df = s.join(out.select("school_id", "below"), on="school_id", how="left")
    inspected = df["below"].is_not_null().to_numpy()
    y = df["below"].fill_null(False).cast(pl.Int64).to_numpy()
    p = df["probability"].to_numpy()
    prior = df["last_overall"].cast(pl.Float64).fill_null(1.5).to_numpy()
    rankings: list[tuple[str, np.ndarray]] = [("model", p), ("prior Ofsted grade", prior)]
    if appendix_a:
        # Schools the rules do not evaluate (outside their scope) score 0: no criterion met.
        aa = df.select("school_id").join(appendix_a_scores(as_of), on="school_id", how="left")
        rankings.append(("Appendix A count", aa["appendix_a"].fill_null(0.0).to_numpy()))
    lines = [
        f"Backtest as of {as_of}: trained on inspections published before {as_of} "
        f"({model.metrics['training_rows']} snapshot rows, base rate {model.metrics['base_rate']:.1%}, "
        f"LA-grouped CV AUC {model.metrics['cv_auc']:.3f}); outcomes = first graded inspection {as_of} to {until}.",
        f"Schools ranked: {len(p)}; inspected afterwards: {int(inspected.sum())}; below good: {int(y[inspected].sum())} "
        f"({y[inspected].mean():.1%}).",
        "",
        f"{'ranking':<22} {'phase':<10} {'schools':>8} {'insp.':>6} {'below':>6} {'AUC':>6} "
        f"{'rec@10%':>8} {'prec@10%':>9} {'rec@20%':>8} {'prec@20%':>9}",
    ]
    figures: dict[str, Any] = {}
    phases = ["all", *sorted({str(v) for v in df["phase"].to_list() if v})]
    for name, sc in rankings:
        for ph in phases:
            mask = np.ones(len(p), dtype=bool) if ph == "all" else (df["phase"] == ph).to_numpy()
            yi, ii, si = y[mask], inspected[mask], sc[mask]
            if ii.sum() < 20 or len(np.unique(yi[ii])) < 2:
                continue
            auc = float(roc_auc_score(yi[ii], si[ii]))
            r10, p10, _ = _recall_at(si, yi, ii, 0.10)
            r20, p20, _ = _recall_at(si, yi, ii, 0.20)
            figures[f"{name}|{ph}"] = {
                "auc": auc,
                "recall10": r10,
                "precision10": p10,
                "recall20": r20,
                "precision20": p20,
            }
            lines.append(
                f"{name:<22} {ph:<10} {int(mask.sum()):>8} {int(ii.sum()):>6} {int(yi[ii].sum()):>6} {auc:>6.3f} "
                f"{r10:>8.1%} {p10:>9.1%} {r20:>8.1%} {p20:>9.1%}"
            )
    # Calibration: deciles of predicted probability among inspected schools.
    lines += [
        "",
        "Calibration (inspected schools, deciles of predicted probability):",
        f"{'decile':>6} {'n':>6} {'predicted':>10} {'observed':>9}",
    ]
    pi, yi = p[inspected], y[inspected]
    order = np.argsort(pi, kind="stable")
    calib = []
    for d, chunk in enumerate(np.array_split(order, 10), start=1):
        if len(chunk) == 0:
            continue
        calib.append((d, len(chunk), float(pi[chunk].mean()), float(yi[chunk].mean())))
        lines.append(f"{d:>6} {len(chunk):>6} {pi[chunk].mean():>10.1%} {yi[chunk].mean():>9.1%}")
    figures["calibration"] = calib
    figures["model_card"] = artefact_card(model)
    return BacktestResult(as_of=as_of, until=until, text="\n".join(lines), figures=figures)
