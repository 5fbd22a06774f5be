"""The early-warning model: P(a school's next graded inspection is below good), trained and scored as of
one date with only what was published before it (see features.py), with plain-words reasons.

Training rows are snapshots: on 1 September of each of the `YEARS_BACK` years before the as-of date,
every open state-funded school with its features as of that day, labelled by its first graded
inspection in the next `HORIZON_YEARS` years (only inspections published before the as-of date).
Schools not inspected in the window are not training rows (the model is of the *next graded
inspection's* outcome). Gradient boosting (scikit-learn HistGradientBoostingClassifier, missing values
native), out-of-fold predictions by GroupKFold over local authorities, Platt scaling of those
out-of-fold scores (a strictly monotone map: no ties in the ranking), then a final fit on all rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
import polars as pl
import sklearn
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from beacon.earlywarning.features import (
    CATEGORICAL,
    KJ_FEATURES,
    OFSTED_FEATURES,
    SCHOOL_NUMERIC,
    Sources,
    build_features,
    build_vocab,
    feature_codes,
    first_graded_after,
    population,
    to_matrix,
)

MODEL_VERSION = "ew-1"
YEARS_BACK = 8
MIN_SNAPSHOT_LABELS = (
    50  # a snapshot labelled by fewer inspections is named as the likely cause (_check_folds)
)
HORIZON_YEARS = 3
DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "max_iter": 150,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 80,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
OVERALL_LABEL = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}


def _add_years(d: dt.date, years: int) -> dt.date:
    return d.replace(year=d.year + years)


def training_rows(src: Sources, as_of: dt.date, history_until: dt.date | None = None) -> pl.DataFrame:
    """Labelled snapshots. `history_until`: the date up to which the database holds every graded
    inspection (a property of the data held, not of any backtest): label windows end there, so no
    training row rests on a history with holes."""
    frames = []
    last = min(as_of, history_until) if history_until else as_of
    for y in range(last.year - YEARS_BACK, last.year + 1):
        snap = dt.date(y, 9, 1)
        if snap >= last:
            break
        end = min(_add_years(snap, HORIZON_YEARS), last)
        out = first_graded_after(src, snap, end, known_before=as_of)
        frames.append(
            population(src, snap).join(out.select("school_id", "below"), on="school_id", how="inner")
        )
    rows = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(schema={"school_id": pl.Int64, "as_of": pl.Date, "below": pl.Boolean})
    )
    return rows.with_row_index("row_id").with_columns(pl.col("row_id").cast(pl.Int64))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass
class TrainedModel:
    as_of: dt.date
    codes: list[str]
    names: list[str]
    vocab: dict[str, list[str]]
    estimator: HistGradientBoostingClassifier
    calibrator: LogisticRegression
    reference: np.ndarray
    dead: list[int]
    measure_meta: dict[str, tuple[str, str, str]]
    seed: int
    params: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    version: str = MODEL_VERSION
    library: str = f"scikit-learn {sklearn.__version__}"

    def matrix(self, F: pl.DataFrame) -> np.ndarray:
        X = to_matrix(F, self.codes, self.vocab).X
        X[:, self.dead] = 0.0
        return X

    def predict(self, X: np.ndarray) -> np.ndarray:
        raw = self.estimator.predict_proba(X)[:, 1]
        return np.asarray(self.calibrator.predict_proba(_logit(raw).reshape(-1, 1))[:, 1])

    def groups(self) -> dict[str, list[int]]:
        """Feature groups (for reasons): name -> column indices."""
        idx = {n: i for i, n in enumerate(self.names)}
        out: dict[str, list[int]] = {
            "ofsted_grade": [
                idx[n]
                for n in OFSTED_FEATURES
                if n not in {"years_since_graded", "ungraded_signal", "years_since_ungraded"}
            ],
            "ofsted_time": [idx["years_since_graded"]],
            "ungraded": [idx["ungraded_signal"], idx["years_since_ungraded"]],
            "roll": [idx["roll"], idx["roll_change"]],
            "school": [idx[n] for n in ("has_sixth_form", "religious", "school_age_years", *CATEGORICAL)],
        }
        for c in self.codes:
            g = _measure_group(c, self.measure_meta.get(c, ("", "other", ""))[1])
            out.setdefault(g, []).extend([idx[f"{c}_pct"], idx[f"{c}_chg"]])
        return out


def _check_folds(
    X: np.ndarray,
    names: list[str],
    categorical: list[bool],
    dead: list[int],
    splits: list[tuple[np.ndarray, np.ndarray]],
    rows: pl.DataFrame,
    as_of: dt.date,
) -> None:
    """Refuse, with the reason, to train when a feature has values in the training rows only inside the
    local authorities one cross-validation fold holds out (the gradient boosting cannot bin a column with
    no value). On the shared files this is what training as of a date a year or more after the newest
    inspections held looks like: the latest snapshots are labelled by a handful of inspections (the labels
    are inspections *after* each snapshot), so the features only those rows have sit in one or two LAs."""
    live = [j for j in range(X.shape[1]) if j not in set(dead) and not categorical[j]]
    empty: list[str] = []
    for tr, _te in splits:
        none = np.isnan(X[np.ix_(tr, live)]).all(axis=0)
        empty += [names[live[j]] for j in np.flatnonzero(none) if names[live[j]] not in empty]
    if not empty:
        return
    per_snapshot = rows.group_by("as_of").len().sort("as_of")
    counts = ", ".join(f"{d}: {n:,}" for d, n in per_snapshot.iter_rows())
    thin = per_snapshot.filter(pl.col("len") < MIN_SNAPSHOT_LABELS)
    advice = ""
    if thin.height:
        full = per_snapshot.filter(pl.col("len") >= MIN_SNAPSHOT_LABELS)
        if full.height:
            latest = full["as_of"].max()
            assert isinstance(latest, dt.date)
            after = _add_years(latest, 1)
            advice = (
                f" The latest snapshot with at least {MIN_SNAPSHOT_LABELS} labelled schools is {latest}: "
                f"train as of {after} or earlier, or import the graded inspections since {after}."
            )
    raise ValueError(
        f"Cannot train as of {as_of}: {len(empty)} feature(s) ({', '.join(empty[:5])}"
        f"{', ...' if len(empty) > 5 else ''}) have no value in the training rows outside the local "
        f"authorities one cross-validation fold holds out. Training rows are labelled by each school's next "
        f"graded inspection after the snapshot date; labelled rows per snapshot: {counts}.{advice}"
    )


def fit(
    src: Sources,
    as_of: dt.date,
    *,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    folds: int = 3,
    history_until: dt.date | None = None,
) -> TrainedModel:
    started = time.perf_counter()
    params = {**DEFAULT_PARAMS, **(params or {})}
    codes = feature_codes(src, as_of)
    rows = training_rows(src, as_of, history_until)
    if rows.height < 50 or rows["below"].n_unique() < 2:
        raise ValueError(f"Too few labelled inspections before {as_of} to train ({rows.height}).")
    F = build_features(src, rows.select("row_id", "school_id", "as_of"), codes)
    vocab = build_vocab(F)
    M = to_matrix(F, codes, vocab)
    y = rows.sort("row_id")["below"].cast(pl.Int64).to_numpy()
    # A feature with no value at all before the as-of date is held constant (the binner needs one).
    dead = [j for j in range(M.X.shape[1]) if np.isnan(M.X[:, j]).all()]
    M.X[:, dead] = 0.0
    groups = F["la_code"].fill_null(-1).to_numpy()

    def make() -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            categorical_features=np.array(M.categorical), random_state=seed, **params
        )

    k = min(folds, len(np.unique(groups)))
    oof = np.full(len(y), np.nan)
    if k >= 2:
        splits = list(GroupKFold(n_splits=k).split(M.X, y, groups))
        _check_folds(M.X, M.names, M.categorical, dead, splits, rows, as_of)
        for tr, te in splits:
            oof[te] = make().fit(M.X[tr], y[tr]).predict_proba(M.X[te])[:, 1]
    est = make().fit(M.X, y)
    if k < 2:
        oof = est.predict_proba(M.X)[:, 1]
    cal = LogisticRegression(C=1e6).fit(_logit(oof).reshape(-1, 1), y)
    ref = np.nanmedian(np.where(np.isnan(M.X), np.nan, M.X), axis=0)
    for j, cat in enumerate(M.categorical):
        col = M.X[:, j][~np.isnan(M.X[:, j])]
        if cat:
            ref[j] = float(np.bincount(col.astype(int)).argmax()) if col.size else np.nan
    metrics = {
        "training_rows": len(y),
        "training_below_good": int(y.sum()),
        "base_rate": float(y.mean()),
        "cv": f"GroupKFold by local authority, {k} folds" if k >= 2 else "none (one LA)",
        "cv_auc": float(roc_auc_score(y, oof)) if k >= 2 else None,
        "snapshots": sorted({str(d) for d in rows["as_of"].to_list()}),
        "fit_seconds": round(time.perf_counter() - started, 1),
    }
    return TrainedModel(
        as_of=as_of,
        codes=codes,
        names=M.names,
        vocab=vocab,
        estimator=est,
        calibrator=cal,
        reference=ref,
        dead=dead,
        measure_meta=src.measure_meta,
        seed=seed,
        params=params,
        metrics=metrics,
    )


# ---------------------------------------------------------------- scoring and reasons


def _year_label(y: Any) -> str:
    y = int(y)
    return f"{y}/{(y + 1) % 100:02d}"


def _fmt_date(d: dt.date | None) -> str:
    return d.strftime("%B %Y") if d else "unknown date"


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _measure_group(code: str, topic: str) -> str:
    """The reasons' feature group of a measure code."""
    return {
        "fsm": "disadvantage",
        "fsm_ever6": "disadvantage",
        "eal": "eal",
        "pupils": "roll",
        "capacity": "roll",
    }.get(code, "sen" if code.startswith("sen_") else topic)


def _codes_by_group(model: TrainedModel) -> dict[str, list[str]]:
    """Group -> the model's measure codes in it, in the model's code order."""
    out: dict[str, list[str]] = {}
    for c in model.codes:
        out.setdefault(_measure_group(c, model.measure_meta.get(c, ("", "other", ""))[1]), []).append(c)
    return out


def reason_text(
    group: str,
    r: Mapping[str, Any],
    model: TrainedModel,
    measure_codes: dict[str, list[str]] | None = None,
) -> str | None:
    """A plain-words sentence for one feature group of one school (r: its feature row).
    `measure_codes`: `_codes_by_group(model)`, computed once by the caller when scoring many schools."""
    if group == "ofsted_grade":
        last = _num(r.get("last_overall"))
        date = r.get("last_graded_date")
        if last is not None:
            text = f"Last graded inspection: {OVERALL_LABEL.get(int(last), '?')} ({_fmt_date(date)})"
        elif _num(r.get("last_below")) is not None:
            text = f"Last graded inspection ({_fmt_date(date)}): " + (
                "a key judgement below good" if r.get("last_below") else "all key judgements good or better"
            )
        else:
            return "No graded inspection on record"
        kj_low = [n[3:].replace("_", " ") for n in KJ_FEATURES if (_num(r.get(n)) or 0) >= 3]
        if kj_low:
            text += f"; below good for {', '.join(kj_low)}"
        nb = _num(r.get("n_prior_below")) or 0
        if nb >= 2:
            text += f"; {int(nb)} below-good judgements on record"
        return text
    if group == "ofsted_time":
        y = _num(r.get("years_since_graded"))
        if y is None:
            return "No graded inspection on record"
        return f"{y:.1f} years since the last graded inspection ({_fmt_date(r.get('last_graded_date'))})"
    if group == "ungraded":
        if _num(r.get("ungraded_signal")) is None:
            return None
        return f"Latest ungraded inspection ({_fmt_date(r.get('ungraded_date'))}): {r.get('ungraded_outcome') or 'outcome not recorded'}"
    if group == "roll":
        roll, chg = _num(r.get("roll")), _num(r.get("roll_change"))
        if roll is None:
            return None
        yr = r.get("pupils__year")
        if chg is not None and abs(chg) >= 0.03:
            return f"Roll {'fell' if chg < 0 else 'rose'} {abs(chg):.0%} to {roll:.0f} pupils ({_year_label(yr)})"
        return f"{roll:.0f} pupils on roll ({_year_label(yr)})"
    if group == "school":
        kind = r.get("establishment_type") or r.get("phase") or "school"
        age = _num(r.get("school_age_years"))
        return f"{kind}" + (f", opened {age:.0f} years before" if age is not None and age < 5 else "")
    # Measure groups: the code with the weakest percentile (by its polarity) among those held.
    best: tuple[float, str] | None = None
    for c in (measure_codes if measure_codes is not None else _codes_by_group(model)).get(group, []):
        polarity = model.measure_meta.get(c, (c, "other", "neutral"))[2]
        pct = _num(r.get(f"{c}_pct"))
        if pct is None:
            continue
        weak = pct if polarity == "high" else 1 - pct
        if best is None or weak < best[0]:
            best = (weak, c)
    if best is None:
        return None
    c = best[1]
    label, _topic, polarity = model.measure_meta.get(c, (c, "", "neutral"))
    pct = _num(r.get(f"{c}_pct")) or 0.0
    value = _num(r.get(f"{c}__value"))
    shown = f"{value:.1f}" if value is not None else "?"
    text = f"{label}: {shown} in {_year_label(r.get(f'{c}__year'))}"
    if polarity == "neutral":
        text += f", higher than {pct:.0%} of schools"
    else:
        good = pct if polarity == "high" else 1 - pct
        text += f", {'bottom' if good < 0.5 else 'top'} {max(good if good < 0.5 else 1 - good, 0.01):.0%} of schools"
        chg = _num(r.get(f"{c}_chg"))
        if chg is not None and (chg if polarity == "high" else -chg) <= -0.15:
            text += ", falling against other schools"
    return text


def _occlusion_naive(model: TrainedModel, X: np.ndarray, p: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Reference implementation of the occlusion attribution: one full re-scoring per feature group."""
    groups = model.groups()
    names = list(groups)
    contrib = np.zeros((X.shape[0], len(names)))
    for j, g in enumerate(names):
        Xr = X.copy()
        Xr[:, groups[g]] = model.reference[groups[g]]
        contrib[:, j] = p - model.predict(Xr)
    return names, contrib


def _trees(model: TrainedModel) -> list[Any] | None:
    """The boosted trees of a binary estimator, one per iteration (None: an estimator this module cannot
    read tree by tree; callers then use the estimator's own methods)."""
    est = model.estimator
    predictors = getattr(est, "_predictors", None)
    if predictors is None or est.n_trees_per_iteration_ != 1:
        return None
    return [it[0] for it in predictors]


def _columns_first(est: HistGradientBoostingClassifier, X: np.ndarray) -> np.ndarray:
    """`X` as the estimator's trees read it (categorical columns first, categories encoded), each column
    contiguous (Fortran order). A tree reads a few columns for every school in turn: column by column, the
    values it compares for consecutive schools are adjacent in memory; row by row (C order) each school's
    value is a cache line of its own. The same values, so the same outputs bit for bit: 4x faster on the
    national schools (0.8 s to 0.2 s for 150 trees)."""
    return np.asfortranarray(est._preprocess_X(X, reset=False))


def tree_outputs(model: TrainedModel, X: np.ndarray) -> np.ndarray | None:
    """Each tree's raw output for each school (schools x trees), or None (see `_trees`). Read once, it
    gives the probabilities (`predict_from_trees`) and the attribution (`occlusion`) without scoring twice."""
    trees = _trees(model)
    if trees is None:
        return None
    est = model.estimator
    bitsets, f_idx_map = est._bin_mapper.make_known_categories_bitsets()
    Xp = _columns_first(est, X)
    # One thread: deterministic and, on a shared machine, faster than OpenMP per small tree.
    cols = [np.asarray(t.predict(Xp, bitsets, f_idx_map, 1)) for t in trees]
    return np.column_stack(cols) if cols else np.zeros((X.shape[0], 0))


def _raw_from_trees(model: TrainedModel, per_tree: np.ndarray) -> np.ndarray:
    # Summed tree by tree from the baseline, as the estimator's own prediction sums them (same order,
    # so the same floating-point result).
    raw = np.zeros(per_tree.shape[0]) + float(np.ravel(model.estimator._baseline_prediction)[0])
    for k in range(per_tree.shape[1]):
        raw += per_tree[:, k]
    return raw


def predict_from_trees(model: TrainedModel, per_tree: np.ndarray) -> np.ndarray:
    """`model.predict(X)` from `tree_outputs(model, X)`: the same numbers, bit for bit."""
    prob = expit(_raw_from_trees(model, per_tree))
    return np.asarray(model.calibrator.predict_proba(_logit(prob).reshape(-1, 1))[:, 1])


def occlusion(
    model: TrainedModel, X: np.ndarray, p: np.ndarray, per_tree: np.ndarray | None = None
) -> tuple[list[str], np.ndarray]:
    """The same attribution as `_occlusion_naive` (the fall in probability when a feature group takes the
    training reference), computed without re-scoring what cannot change: the boosted trees' outputs are
    held per tree, and for each group only the trees that split on one of its features are re-evaluated,
    only for the schools whose values differ from the reference. Equal to the naive result up to
    floating-point summation order (issue 12 item 5: scoring with reasons within 10 s). `per_tree`:
    `tree_outputs(model, X)` when the caller already has it."""
    trees = _trees(model)
    if trees is None:
        return _occlusion_naive(model, X, p)
    est = model.estimator
    groups = model.groups()
    names = list(groups)
    contrib = np.zeros((X.shape[0], len(names)))
    if X.shape[0] == 0:
        return names, contrib
    # The estimator's preprocessor puts categorical columns first: map tree feature indices back.
    is_cat = est.is_categorical_
    orig = (
        np.arange(X.shape[1])
        if is_cat is None
        else np.concatenate([np.flatnonzero(is_cat), np.flatnonzero(~is_cat)])
    )
    split_on = [set(orig[t.nodes["feature_idx"][t.nodes["is_leaf"] == 0]].tolist()) for t in trees]
    bitsets, f_idx_map = est._bin_mapper.make_known_categories_bitsets()

    def tree_out(k: int, Xp: np.ndarray) -> np.ndarray:
        # One thread: deterministic and, on a shared machine, faster than OpenMP per small tree.
        return np.asarray(trees[k].predict(Xp, bitsets, f_idx_map, 1))

    if per_tree is None:
        per_tree = tree_outputs(model, X)
    assert per_tree is not None
    raw = float(np.ravel(est._baseline_prediction)[0]) + per_tree.sum(axis=1)
    # The features as the trees read them, and the reference likewise, prepared once: the estimator prepares
    # each column on its own (categories encoded, numbers as they are), so a school's row with a group set
    # to the reference, prepared, is its prepared row with the group's columns set to the prepared
    # reference; the same values bit for bit as preparing each group's copy again (a ColumnTransformer pass
    # per group).
    Xp = _columns_first(est, X)
    ref_p = _columns_first(est, model.reference.reshape(1, -1))[0]
    position = np.empty(X.shape[1], dtype=np.intp)
    position[orig] = np.arange(X.shape[1])
    for j, g in enumerate(names):
        cols = groups[g]
        touched = [k for k, f in enumerate(split_on) if f.intersection(cols)]
        ref = model.reference[cols]
        sub = X[:, cols]
        same = ((sub == ref) | (np.isnan(sub) & np.isnan(ref))).all(axis=1)
        rows = np.flatnonzero(~same)
        if not touched or rows.size == 0:
            continue  # the group cannot move these scores: contribution 0
        at = position[cols]
        Xrp = np.asfortranarray(Xp[rows])
        Xrp[:, at] = ref_p[at]
        raw_r = raw[rows].copy()
        for k in touched:
            raw_r += tree_out(k, Xrp) - per_tree[rows, k]
        prob_r = expit(raw_r)
        cal = np.asarray(model.calibrator.predict_proba(_logit(prob_r).reshape(-1, 1))[:, 1])
        contrib[rows, j] = p[rows] - cal
    return names, contrib


class _Columns:
    """A frame's columns as Python lists, each converted the first time a reason reads it (the reasons read
    a few dozen of the frame's ~360 columns: converting every row to a dict cost more than the reasons)."""

    def __init__(self, F: pl.DataFrame) -> None:
        self.frame = F
        self.names = set(F.columns)
        self.lists: dict[str, list[Any]] = {}

    def value(self, name: str, i: int, default: Any = None) -> Any:
        col = self.lists.get(name)
        if col is None:
            if name not in self.names:
                return default
            col = self.lists[name] = self.frame[name].to_list()
        return col[i]


class _Row(Mapping[str, Any]):
    """Row `i` of `_Columns`, read like the dict `F.to_dicts()` gives (the values are the same objects)."""

    __slots__ = ("cols", "i")

    def __init__(self, cols: _Columns, i: int) -> None:
        self.cols, self.i = cols, i

    def get(self, key: str, default: Any = None) -> Any:
        return self.cols.value(key, self.i, default)

    def __getitem__(self, key: str) -> Any:
        if key not in self.cols.names:
            raise KeyError(key)
        return self.cols.value(key, self.i)

    def __iter__(self) -> Iterator[str]:
        return iter(self.cols.frame.columns)

    def __len__(self) -> int:
        return len(self.cols.frame.columns)


def explain(
    model: TrainedModel,
    F: pl.DataFrame,
    X: np.ndarray,
    p: np.ndarray,
    top: int = 3,
    per_tree: np.ndarray | None = None,
) -> list[list[str]]:
    """Occlusion attribution by feature group: how far the probability falls when the group's values are
    replaced by the training reference (median; most common category). The groups that raise the
    probability most, in plain words. Every school gets at least one reason (its strongest group).
    `per_tree`: `tree_outputs(model, X)` when the caller already has it."""
    names, contrib = occlusion(model, X, p, per_tree)
    measure_codes = _codes_by_group(model)
    cols = _Columns(F)
    orders = np.argsort(-contrib, axis=1, kind="stable") if contrib.size else contrib.astype(int)
    out: list[list[str]] = []
    for i in range(F.height):
        r = _Row(cols, i)
        reasons: list[str] = []
        for j in orders[i]:
            if len(reasons) >= top or (reasons and contrib[i, j] <= 0.002):
                break
            t = reason_text(names[j], r, model, measure_codes)
            if t:
                reasons.append(t)
        out.append(reasons or ["No single factor stands out; the probability is close to the average"])
    return out


def model_digest(model: TrainedModel) -> str:
    """The model's content digest (joblib's hash). Take it where the model was loaded from its artefact: a
    copy of the model sent to a worker process hashes differently (some of the estimator's arrays come back
    from pickle with other memory flags), so the worker is given this digest (decision 0028)."""
    return str(joblib.hash(model))


def fingerprints(model: TrainedModel, F: pl.DataFrame, digest: str | None = None) -> list[str]:
    """Per row of `F`: a digest (BLAKE2b, 16 bytes) of the model (its pickled content: `digest`, or
    `model_digest(model)`) and the row's every feature and reason column. Equal digests mean the same
    probability and reasons (each school's are computed from its own row and the model only), so an
    unchanged school need not be scored again. polars' row hashes (two, 64 bits each) are stable for one
    polars version; an upgrade changes every digest once, and every school is then scored again."""
    body = F.drop("row_id") if "row_id" in F.columns else F
    prefix = hashlib.blake2b(digest_size=16)
    prefix.update(f"{digest or model_digest(model)}|{','.join(body.columns)}".encode())
    first = body.hash_rows(seed=0).to_list()
    second = body.hash_rows(seed=0x5EED_BEAC0).to_list()
    out: list[str] = []
    for a, b in zip(first, second, strict=True):
        h = prefix.copy()
        h.update(a.to_bytes(8, "little") + b.to_bytes(8, "little"))
        out.append(h.hexdigest())
    return out


Known = dict[int, tuple[str, float, list[str]]]
"""school_id -> (fingerprint, probability, reasons) of a score already computed (e.g. stored)."""


def score(
    model: TrainedModel,
    src: Sources,
    as_of: dt.date,
    *,
    la_code: int | None = None,
    reasons: bool = True,
    known: Known | None = None,
    digest: str | None = None,
) -> pl.DataFrame:
    """school_id, urn, la_code, phase, probability, rank, reasons (list[str]), inputs (the fingerprint of the
    model and the school's features; empty without reasons) for schools open on `as_of`. `known`: scores
    already computed; a school whose fingerprint is the one given keeps that probability and those reasons
    instead of being scored again (with reasons only). `digest`: `model_digest(model)`, taken by the caller
    (see there)."""
    if as_of < model.as_of:
        raise ValueError(f"Model trained on data to {model.as_of} cannot score as of the earlier {as_of}.")
    pop = (
        population(src, as_of, la_code).with_row_index("row_id").with_columns(pl.col("row_id").cast(pl.Int64))
    )
    F = build_features(src, pop, model.codes)
    X = model.matrix(F)
    n = F.height
    inputs = fingerprints(model, F, digest) if reasons and n else [""] * n
    p = np.zeros(n)
    why: list[list[str]] = [[] for _ in range(n)]
    todo = np.arange(n)
    if reasons and known:
        held = [known.get(s) for s in F["school_id"].to_list()]
        same = [k is not None and k[0] == fp for k, fp in zip(held, inputs, strict=True)]
        for i in np.flatnonzero(same):
            k = held[i]
            assert k is not None
            p[i], why[i] = k[1], list(k[2])
        todo = np.flatnonzero(~np.asarray(same, dtype=bool))
    if todo.size:
        Xt, Ft = (X, F) if todo.size == n else (X[todo], F[todo])
        per_tree = tree_outputs(model, Xt)
        # = model.predict(X), without scoring every tree twice (the attribution reads the same outputs).
        pt = predict_from_trees(model, per_tree) if per_tree is not None else model.predict(Xt)
        p[todo] = pt
        if reasons:
            for j, r in zip(todo.tolist(), explain(model, Ft, Xt, pt, per_tree=per_tree), strict=True):
                why[j] = r
    df = F.select("school_id", "urn", "la_code", "phase", "last_overall", "last_below").with_columns(
        pl.Series("probability", p, dtype=pl.Float64),
        pl.Series("reasons", why, dtype=pl.List(pl.Utf8)),
        pl.Series("inputs", inputs, dtype=pl.Utf8),
    )
    # Rank by probability (Platt scaling is strictly monotone, so only identical feature rows tie and
    # share a rank: no URN tie-break).
    df = df.with_columns(pl.col("probability").rank("min", descending=True).cast(pl.Int64).alias("rank"))
    return df.sort("rank", "urn")


SCHOOL_FEATURES = SCHOOL_NUMERIC
