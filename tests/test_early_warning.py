"""Early-warning model (issue 12) on a small real slice: Camden, Islington and Westminster imported from the
shared files (register, Ofsted history to 2018 and the 2025 official statistics, KS2/KS4 results, census,
absence). The slice is imported once for the module inside a transaction rolled back at the end."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.db import transaction

from tests.conftest import DATA

LAS = (202, 206, 213)
FILES = (
    ("school_census", "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv", None),
    ("gias_establishments", "clarelgibson-england-school-admissions/dim_school.csv", None),
    ("csp_census", "kspdeveloper-csp-2018-19/england_census.csv", 2018),
    ("ks2_results", "waiky8-schools-data/ks2_perf_2016.csv", None),
    ("ks2_results", "waiky8-schools-data/ks2_perf_2017.csv", None),
    ("ks2_results", "waiky8-schools-data/ks2_perf_2018.csv", None),
    ("ks4_results", "waiky8-schools-data/ks4_perf_2018.csv", None),
    ("csp_absence", "kspdeveloper-csp-2018-19/england_abs.csv", 2018),
    ("ofsted_inspection_history", "waiky8-schools-data/ofsted_ratings_2018.csv", None),
    (
        "ofsted_official_statistics",
        "ofsted-official-statistics-2025/"
        "state_funded_schools_inspections_and_outcomes_as_at_31_august_2025_extract.csv",
        None,
    ),
)
AS_OF = dt.date(2018, 9, 1)


def _stored_scores(as_of: dt.date) -> dict[int, tuple[int, float, int, list[str], str]]:
    """school_id -> (pk, probability, rank, reasons, inputs) of the scores stored as of the date."""
    from beacon.earlywarning.models import RiskScore

    return {
        s: (pk, prob, rank, reasons, inputs)
        for pk, s, prob, rank, reasons, inputs in RiskScore.objects.filter(as_of=as_of).values_list(
            "pk", "school_id", "probability", "rank", "reasons", "inputs"
        )
    }


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def slice_db(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    from beacon.imports.framework import run_import
    from beacon.imports.models import RunStatus

    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                for la in LAS:
                    for source, rel, year in FILES:
                        run = run_import(source, DATA / rel, year=year, la_code=la)
                        assert run.status == RunStatus.SUCCEEDED, (source, la, run.message)
                yield
                raise _Rollback
        except _Rollback:
            pass


def _probabilities(as_of: dt.date, seed: int = 0) -> dict[int, float]:
    from beacon.earlywarning.features import load_sources
    from beacon.earlywarning.model import fit, score

    src = load_sources()
    s = score(fit(src, as_of, seed=seed), src, as_of, reasons=False)
    return dict(zip(s["urn"].to_list(), s["probability"].to_list(), strict=True))


def test_no_leakage_and_determinism(slice_db: None, db: None) -> None:
    from beacon.earlywarning.features import available_from
    from beacon.indicators.models import Measure, SchoolMeasure
    from beacon.inspections.models import Inspection

    before = _probabilities(AS_OF)
    assert len(before) > 100
    assert _probabilities(AS_OF) == before  # same seed, same data: the same scores

    # Change every value dated on or after the as-of date: measures published since, inspections since.
    later = [
        sm.pk
        for sm in SchoolMeasure.objects.select_related("measure").only("pk", "year", "measure__topic")
        if available_from(sm.measure.topic, sm.year) >= AS_OF
    ]
    assert later
    for sm in SchoolMeasure.objects.filter(pk__in=later):
        sm.value = (sm.value or 0) * 0.3 + 11
        sm.save(update_fields=["value"])
    changed = Inspection.objects.filter(start_date__gte=AS_OF, overall_effectiveness__isnull=False)
    assert changed.exists()
    for i in changed:
        i.overall_effectiveness = 5 - i.overall_effectiveness
        i.save(update_fields=["overall_effectiveness"])
    assert _probabilities(AS_OF) == before

    # The test can fail: the same change to inspections before the date does move scores.
    for i in Inspection.objects.filter(
        start_date__lt=AS_OF - dt.timedelta(days=60), overall_effectiveness__in=[2, 3]
    ):
        i.overall_effectiveness = 5 - i.overall_effectiveness
        i.save(update_fields=["overall_effectiveness"])
    assert _probabilities(AS_OF) != before
    assert Measure.objects.exists()


def test_calibration_on_held_back_years(slice_db: None, db: None) -> None:
    """Trained on what was published before September 2016; checked on the graded inspections of
    2016/17-2018/19 that training never saw."""
    from beacon.earlywarning.features import first_graded_after, load_sources
    from beacon.earlywarning.model import fit, score

    as_of = dt.date(2016, 9, 1)
    src = load_sources()
    s = score(fit(src, as_of), src, as_of, reasons=False)
    out = first_graded_after(src, as_of, dt.date(2019, 9, 1))
    df = s.join(out.select("school_id", "below"), on="school_id", how="inner")
    assert df.height > 30
    p = df["probability"].to_numpy()
    y = df["below"].cast(int).to_numpy()
    assert ((p > 0) & (p < 1)).all()
    # Mean predicted close to the observed rate of years the model never saw. (On ~40 London schools the
    # ranking itself is noise - the national backtest in docs/EARLY_WARNING.md measures it.)
    assert abs(p.mean() - y.mean()) < 0.15, (p.mean(), y.mean())
    low = p < np.median(p)
    assert abs(p[low].mean() - y[low].mean()) < 0.25 and abs(p[~low].mean() - y[~low].mean()) < 0.25


def test_export_csv_and_reasons_for_every_school(slice_db: None, db: None, tmp_path: Path) -> None:
    from beacon.schools.models import School

    out = tmp_path / "scores.csv"
    call_command("export_risk_scores", "--as-of", "2019-09-01", "--output", str(out), "--la", "202")
    with out.open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["urn", "probability", "rank", "top_reasons"]
    body = rows[1:]
    camden = set(School.objects.filter(la_code=202, is_state_funded=True).values_list("urn", flat=True))
    assert body and {int(r[0]) for r in body} <= camden
    assert all(0 < float(r[1]) < 1 and r[3].strip() for r in body)
    probs = [float(r[1]) for r in body]
    ranks = [int(r[2]) for r in body]
    assert probs == sorted(probs, reverse=True) and ranks[0] == 1 and ranks == sorted(ranks)


def test_fast_occlusion_equals_the_naive_one(slice_db: None, db: None) -> None:
    """The reasons' attribution re-evaluates only the trees and schools a feature group can move (issue 12
    item 5, scoring with reasons within 10 s): it must equal one full re-scoring per group."""
    import polars as pl

    from beacon.earlywarning.features import build_features, load_sources, population
    from beacon.earlywarning.model import _occlusion_naive, fit, occlusion

    src = load_sources()
    as_of = dt.date(2019, 9, 1)
    model = fit(src, as_of)
    pop = population(src, as_of).with_row_index("row_id").with_columns(pl.col("row_id").cast(pl.Int64))
    X = model.matrix(build_features(src, pop, model.codes))
    p = model.predict(X)
    names, fast = occlusion(model, X, p)
    naive_names, naive = _occlusion_naive(model, X, p)
    assert names == naive_names and fast.shape == naive.shape == (X.shape[0], len(names))
    assert np.abs(naive).max() > 0.01  # the groups do move scores
    np.testing.assert_allclose(fast, naive, atol=1e-9)


def test_backtest_reports_the_appendix_a_count_baseline_without_writing(slice_db: None, db: None) -> None:
    """Issue 12 item 4: the Appendix A count (the rules as of the date, in memory) is ranked beside the model
    and the prior grade; computing it stores no criterion result."""
    from beacon.earlywarning.features import load_sources
    from beacon.earlywarning.services import appendix_a_scores, backtest
    from beacon.risk.models import CriterionResult

    before = CriterionResult.objects.count()
    aa = appendix_a_scores(dt.date(2019, 9, 1))
    assert aa.height and aa["appendix_a"].min() >= 0 and aa["appendix_a"].max() > 0
    # Criteria on later data or inspections cannot be met earlier: the 2016 count differs.
    assert appendix_a_scores(dt.date(2016, 9, 1))["appendix_a"].to_list() != aa["appendix_a"].to_list()
    res = backtest(dt.date(2018, 9, 1), dt.date(2025, 8, 31), src=load_sources())
    fig = res.figures["Appendix A count|all"]
    assert 0 < fig["auc"] < 1 and 0 <= fig["recall20"] <= 1
    assert "Appendix A count" in res.text and "model|all" in res.figures
    assert CriterionResult.objects.count() == before


def test_train_command_saves_artefact_and_stores_scores(slice_db: None, db: None, tmp_path: Path) -> None:
    from beacon.earlywarning.models import RiskScore
    from beacon.earlywarning.services import load

    path = tmp_path / "m.joblib"
    call_command("train_risk_model", "--as-of", "2019-09-01", "--output", str(path))
    model = load(path)
    assert str(model.as_of) == "2019-09-01" and model.library.startswith("scikit-learn")
    assert "last_overall" in model.names and model.metrics["training_rows"] > 100
    stored = RiskScore.objects.filter(as_of=dt.date(2019, 9, 1))
    assert stored.count() > 100
    assert all(r.reasons for r in stored)
    top = stored.order_by("rank").first()
    assert top is not None and top.probability == max(stored.values_list("probability", flat=True))


def test_history_complete_until_ends_training_labels(slice_db: None, db: None) -> None:
    from beacon.earlywarning.features import load_sources
    from beacon.earlywarning.model import training_rows

    src = load_sources()
    full = training_rows(src, dt.date(2019, 9, 1))
    cut = training_rows(src, dt.date(2019, 9, 1), history_until=dt.date(2016, 9, 1))
    assert max(full["as_of"].to_list()) == dt.date(2018, 9, 1)
    # Eight yearly snapshots ending before the cut (2008-2015) instead of before the as-of date (2011-2018).
    assert sorted(set(cut["as_of"].to_list())) == [dt.date(y, 9, 1) for y in range(2008, 2016)]
    assert sorted(set(full["as_of"].to_list())) == [dt.date(y, 9, 1) for y in range(2011, 2019)]
    # Every label of the cut set is an inspection before the cut, found independently in the table.
    from beacon.inspections.models import Inspection

    graded_before = set(
        Inspection.objects.filter(
            start_date__lt=dt.date(2016, 9, 1), overall_effectiveness__isnull=False
        ).values_list("school_id", flat=True)
    )
    assert set(cut["school_id"].to_list()) <= graded_before


def test_evaluate_risk_scores_every_school_with_the_saved_model(
    slice_db: None, db: None, tmp_path: Path
) -> None:
    """The termly pass (`evaluate_risk`) scores the LA's open schools with the saved model as of the term's
    first day, and the register's stored probability on each assessment is that score (issue 16 item 2)."""
    import io

    from beacon.assessments.models import TermlyAssessment
    from beacon.earlywarning.models import RiskScore
    from beacon.risk.models import Term

    path = tmp_path / "m.joblib"
    call_command("train_risk_model", "--term", "autumn-2019", "--output", str(path), "--no-store")
    assert not RiskScore.objects.exists()
    term = Term.parse("autumn-2019")
    out = io.StringIO()
    call_command(
        "evaluate_risk", "--term", "autumn-2019", "--la", "202", "--scores-from", str(path), stdout=out
    )
    stored = {s.school_id: s.probability for s in RiskScore.objects.filter(as_of=term.start_date)}
    assert len(stored) > 20
    assert set(RiskScore.objects.values_list("school__la_code", flat=True)) == {202}
    assert f"{len(stored)} scores" in out.getvalue()
    assessments = TermlyAssessment.objects.filter(term=Term.parse("autumn-2019"))
    assert assessments.count() > 20
    assert {a.school.la_code for a in assessments.select_related("school")} == {202}
    assert all(a.probability == stored.get(a.school_id) for a in assessments)
    assert sum(a.probability is not None for a in assessments) > 20

    with pytest.raises(FileNotFoundError):
        call_command("evaluate_risk", "--term", "autumn-2019", "--scores-from", str(tmp_path / "none.joblib"))


def _reference_reasons(model: Any, F: Any, X: np.ndarray, p: np.ndarray, top: int = 3) -> list[list[str]]:
    """The reasons as first written (test oracle): a dict of every column per school, one sort per school."""
    from beacon.earlywarning.model import _codes_by_group, occlusion, reason_text

    names, contrib = occlusion(model, X, p)
    measure_codes = _codes_by_group(model)
    out: list[list[str]] = []
    for i, r in enumerate(F.to_dicts()):
        order = np.argsort(-contrib[i], kind="stable")
        reasons: list[str] = []
        for j in order:
            if len(reasons) >= top or (reasons and contrib[i, j] <= 0.002):
                break
            t = reason_text(names[j], r, model, measure_codes)
            if t:
                reasons.append(t)
        out.append(reasons or ["No single factor stands out; the probability is close to the average"])
    return out


def test_scores_and_reasons_equal_the_reference_implementation(slice_db: None, db: None) -> None:
    """The pass reads each tree once for both the probabilities and the attribution, and the reasons read
    columns lazily: the same probabilities (bit for bit) and the same reasons as the estimator's own
    prediction and a dict per school."""
    import polars as pl

    from beacon.earlywarning.features import build_features, load_sources, population
    from beacon.earlywarning.model import explain, fit, predict_from_trees, score, tree_outputs

    src = load_sources()
    as_of = dt.date(2019, 9, 1)
    model = fit(src, as_of)
    pop = population(src, as_of).with_row_index("row_id").with_columns(pl.col("row_id").cast(pl.Int64))
    F = build_features(src, pop, model.codes)
    X = model.matrix(F)
    p = model.predict(X)
    per_tree = tree_outputs(model, X)
    assert per_tree is not None and per_tree.shape == (X.shape[0], len(model.estimator._predictors))
    assert np.array_equal(predict_from_trees(model, per_tree), p)
    reference = _reference_reasons(model, F, X, p)
    assert len({tuple(r) for r in reference}) > 10  # the reasons differ between schools
    assert explain(model, F, X, p, per_tree=per_tree) == reference
    scored = score(model, src, as_of)
    by_school = dict(zip(F["school_id"].to_list(), zip(p.tolist(), reference, strict=True), strict=True))
    assert {
        s: (prob, reasons)
        for s, prob, reasons in scored.select("school_id", "probability", "reasons").iter_rows()
    } == by_school


def test_store_scores_rewrites_only_what_changed(slice_db: None, db: None) -> None:
    """Stored scores are those of a delete-and-insert of every score; unchanged rows keep their id."""
    from beacon.earlywarning.features import load_sources
    from beacon.earlywarning.model import fit, score
    from beacon.earlywarning.models import RiskScore
    from beacon.earlywarning.services import store_scores
    from beacon.schools.models import School

    src = load_sources()
    as_of = dt.date(2019, 9, 1)
    model = fit(src, as_of)

    n = store_scores(model, as_of, src=src)
    first = _stored_scores(as_of)
    assert len(first) == n > 100
    # What is stored is what the model scored, read back through the ORM (the rows are written from the
    # scores' frame, column by column), with one creation time for the write.
    scored = score(model, src, as_of).select("school_id", "probability", "rank", "reasons", "inputs")
    assert {s: v[1:] for s, v in first.items()} == {
        s: (prob, rank, reasons, inputs) for s, prob, rank, reasons, inputs in scored.iter_rows()
    }
    stored = RiskScore.objects.filter(as_of=as_of)
    assert stored.order_by().values("created_at").distinct().count() == 1
    assert stored.filter(created_at__isnull=True).count() == 0
    assert store_scores(model, as_of, src=src) == n and _stored_scores(as_of) == first  # nothing rewritten

    # A stored row that differs from the model's score is replaced; a school not scored loses its row.
    changed = next(iter(first))
    RiskScore.objects.filter(school_id=changed, as_of=as_of).update(
        probability=0.5, reasons=["stale"], inputs="computed from other features"
    )
    unscored = School.objects.exclude(pk__in=list(first)).first()
    assert unscored is not None
    RiskScore.objects.create(
        school=unscored, as_of=as_of, probability=0.9, rank=1, reasons=["x"], model_version=model.version
    )
    store_scores(model, as_of, src=src)
    after = _stored_scores(as_of)
    assert set(after) == set(first)
    assert after[changed][1:] == first[changed][1:] and after[changed][0] != first[changed][0]
    assert {s: v for s, v in after.items() if s != changed} == {
        s: v for s, v in first.items() if s != changed
    }


def test_training_refuses_with_the_reason_when_a_fold_has_no_value_of_a_feature(
    slice_db: None, db: None
) -> None:
    """A feature held only in the LAs one cross-validation fold holds out cannot be binned when that fold
    trains (numpy's "window shape cannot be larger than input array shape", as when training on the
    national files as of autumn 2026): the error says so and names the labelled rows per snapshot."""
    import polars as pl

    from beacon.earlywarning.features import load_sources
    from beacon.earlywarning.model import fit

    src = load_sources()
    camden = src.schools.filter(pl.col("la_code") == 202)["school_id"].to_list()
    assert len(camden) > 0.03 * src.schools.height  # enough schools to be a feature
    extra = pl.DataFrame(
        {
            "school_id": [s for s in camden for _y in range(2010, 2018)],
            "measure_id": [-1] * (8 * len(camden)),
            "year": [y for _s in camden for y in range(2010, 2018)],
            "value": [float(i % 7) for i in range(8 * len(camden))],
            "code": ["zz_camden_only"] * (8 * len(camden)),
        },
    )
    # A KS2 measure: published on 15 December after its year (`available_from`).
    src.measure_meta["zz_camden_only"] = ("Camden only", "ks2", "high")
    src.values = pl.concat([src.values, extra.select(src.values.columns)], how="vertical_relaxed")
    assert src.measures.filter(pl.col("code") == "zz_camden_only")["avail"].min() == dt.date(2011, 12, 15)
    with pytest.raises(ValueError, match=r"Cannot train as of 2019-09-01: .*zz_camden_only_pct") as info:
        fit(src, dt.date(2019, 9, 1))
    assert "labelled rows per snapshot: 2011-09-01:" in str(info.value)


def test_unchanged_schools_are_not_scored_again(slice_db: None, db: None) -> None:
    """A school whose fingerprint (the model and its feature row) is the one given keeps the probability
    and reasons given; the others are scored. The fingerprint moves with the school's own features only."""
    import polars as pl

    from beacon.earlywarning.features import build_features, load_sources, population
    from beacon.earlywarning.model import fingerprints, fit, score

    src = load_sources()
    as_of = dt.date(2019, 9, 1)
    model = fit(src, as_of)
    full = score(model, src, as_of)
    rows = {
        s: (i, p, r)
        for s, i, p, r in full.select("school_id", "inputs", "probability", "reasons").iter_rows()
    }
    assert len({i for i, _p, _r in rows.values()}) == len(rows) and all(
        len(i) == 32 for i, _p, _r in rows.values()
    )

    # Everything known: the same frame, nothing scored again (the known values are taken as they are).
    assert score(model, src, as_of, known=rows).equals(full)
    marked = {s: (i, p, [*r, "known"]) for s, (i, p, r) in rows.items()}
    again = score(model, src, as_of, known=marked)
    assert all(r[-1] == "known" for r in again["reasons"].to_list())
    # A fingerprint that differs: that school is scored again, the others are taken as known.
    first = next(iter(rows))
    marked[first] = ("another fingerprint", 0.0, ["wrong"])
    again = score(model, src, as_of, known=marked)
    reasons = dict(zip(again["school_id"].to_list(), again["reasons"].to_list(), strict=True))
    assert reasons[first] == rows[first][2]
    assert all(r[-1] == "known" for s, r in reasons.items() if s != first)

    # One school's feature changes: its fingerprint alone changes.
    pop = population(src, as_of).with_row_index("row_id").with_columns(pl.col("row_id").cast(pl.Int64))
    F = build_features(src, pop, model.codes)
    before = fingerprints(model, F)
    F2 = F.with_columns(
        pl.when(pl.col("row_id") == 0).then(pl.lit(9.5)).otherwise(pl.col("roll")).alias("roll")
    )
    after = fingerprints(model, F2)
    assert after[0] != before[0] and after[1:] == before[1:]
    assert fingerprints(model, F) == before


def test_scores_from_a_worker_process_are_those_computed_here(slice_db: None, db: None) -> None:
    """The termly pass scores a national population in a worker process beside its rules (decision 0028):
    the stored scores, their reasons and fingerprints are those of scoring in the pass's own process, so a
    later pass in either process rewrites nothing."""
    from beacon.earlywarning.features import load_sources
    from beacon.earlywarning.model import fit, model_digest, score
    from beacon.earlywarning.services import finish_scores, start_scores, store_scores, warm_worker

    src = load_sources()
    as_of = dt.date(2019, 9, 1)
    model = fit(src, as_of)
    here = score(model, src, as_of, digest=model_digest(model))

    # In a worker started ahead (as the pass starts it before reading its frames).
    pending = start_scores(model, as_of, src=src, in_worker=True, warm=warm_worker())
    with pending.job:
        n = finish_scores(pending)
    assert pending.job.in_worker and n == here.height > 100
    unused = warm_worker()  # a worker started for scores that then run here is closed
    with start_scores(model, as_of, src=src, in_worker=False, warm=unused).job as job:
        assert not job.in_worker
    assert unused.pool is None

    first = _stored_scores(as_of)
    assert {s: v[1:] for s, v in first.items()} == {
        s: (p, r, reasons, inputs)
        for s, p, r, reasons, inputs in here.select(
            "school_id", "probability", "rank", "reasons", "inputs"
        ).iter_rows()
    }
    # Scored again in this process: the same fingerprints, nothing rewritten.
    assert store_scores(model, as_of, src=src) == n and _stored_scores(as_of) == first


def test_a_saved_model_has_a_card_and_a_worker_scores_from_the_file(
    slice_db: None, db: None, tmp_path: Path
) -> None:
    """`save` writes the card beside the artefact (its version and the file's SHA-256): `read_card` knows the
    model by it without reading the model, and only while the card is the file's. Given the card, the
    scores' worker reads the model from the file: the same scores, reasons and fingerprints as scoring the
    saved model here (decision 0033)."""
    import json

    from beacon.earlywarning.artefact import Artefact, card_path, read_card, save, warm_worker
    from beacon.earlywarning.features import load_sources
    from beacon.earlywarning.model import fit, model_digest, score
    from beacon.earlywarning.scoring import finish_scores, start_scores
    from beacon.earlywarning.services import load

    src = load_sources()
    as_of = dt.date(2019, 9, 1)
    path = save(fit(src, as_of), tmp_path / "m.joblib")
    card = json.loads(card_path(path).read_text())
    assert card["version"] and card["data_cut_off"] == "2019-09-01" and len(card["sha256"]) == 64
    assert read_card(path) == Artefact(path, card["version"])

    saved = load(path)
    here = score(saved, src, as_of, digest=model_digest(saved))
    pending = start_scores(
        Artefact(path, card["version"]), as_of, src=src, in_worker=True, warm=warm_worker()
    )
    with pending.job:
        assert finish_scores(pending) == here.height > 100
    assert pending.job.in_worker
    assert {s: v[1:] for s, v in _stored_scores(as_of).items()} == {
        s: (p, r, reasons, inputs)
        for s, p, r, reasons, inputs in here.select(
            "school_id", "probability", "rank", "reasons", "inputs"
        ).iter_rows()
    }

    # A card that is not this file's is not believed: the file changed, the card is gone, or unreadable.
    path.write_bytes(path.read_bytes() + b"\0")
    assert read_card(path) is None
    card_path(path).write_text("{not json")
    assert read_card(path) is None
    card_path(path).unlink()
    assert read_card(path) is None


def test_the_termly_pass_scores_in_a_worker_beside_its_rules(
    slice_db: None, db: None, tmp_path: Path, settings: Any
) -> None:
    """With a worker (a population at least `BEACON_SCORING_WORKER_MIN_SCHOOLS`), the pass stores the scores
    the worker computed and the register's assessments carry them; a pass scoring in its own process then
    finds every score unchanged and rewrites none."""
    import io

    from beacon.assessments.models import TermlyAssessment
    from beacon.risk.models import Term

    path = tmp_path / "m.joblib"
    call_command("train_risk_model", "--term", "autumn-2019", "--output", str(path), "--no-store")
    term = Term.parse("autumn-2019")

    def run(min_schools: int) -> str:
        settings.BEACON_SCORING_WORKER_MIN_SCHOOLS = min_schools
        out = io.StringIO()
        call_command(
            "evaluate_risk", "--term", "autumn-2019", "--la", "202", "--scores-from", str(path), stdout=out
        )
        return out.getvalue()

    assert "beside the rules" in run(0)
    stored = _stored_scores(term.start_date)
    assert len(stored) > 20 and all(v[4] for v in stored.values())
    assessments = TermlyAssessment.objects.filter(term=term)
    assert all(a.probability == stored[a.school_id][1] for a in assessments if a.school_id in stored)

    assert "beside the rules" not in run(10**9)
    assert _stored_scores(term.start_date) == stored

    # The pass read the card train_risk_model saved; with a card that is not the file's, it reads the model
    # itself and hands it to the worker: the same scores.
    from beacon.earlywarning.artefact import card_path, read_card
    from beacon.earlywarning.model import MODEL_VERSION

    assert read_card(path) is not None
    card_path(path).write_text(f'{{"version": "{MODEL_VERSION}", "sha256": "not this file"}}')
    assert read_card(path) is None
    out = run(0)
    assert "beside the rules" in out and f"(model {MODEL_VERSION})" in out
    assert _stored_scores(term.start_date) == stored
