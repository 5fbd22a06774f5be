"""Scoring the schools with a saved model and storing the scores, as the termly pass does (decision 0028).

Light on purpose, like `artefact`: importing it imports neither scikit-learn nor the model's code. Given a
saved model known by its card (`artefact.read_card`), `start_scores` hands the artefact's path to the worker
process, which reads the model (`artefact.score_artefact`); the pass's own process then never imports
scikit-learn, about 1.3 s of CPU at the start of a pass (decision 0033). Given a model already read, or
scoring in this process, the model's code is imported here when needed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from beacon.core import workers
from beacon.earlywarning.artefact import Artefact, load, score_artefact
from beacon.earlywarning.features import Sources, population
from beacon.earlywarning.models import RiskScore
from beacon.imports.framework import upsert_rows

if TYPE_CHECKING:
    from beacon.earlywarning.model import TrainedModel


def _stored_scores(
    version: str, as_of: dt.date, la_code: int | None
) -> dict[int, tuple[int, float, int, list[str], str]]:
    """school_id -> (pk, probability, rank, reasons, inputs) of the scores stored for the date and version."""
    qs = RiskScore.objects.filter(as_of=as_of, model_version=version)
    if la_code is not None:
        qs = qs.filter(school__la_code=la_code)
    return {
        school_id: (pk, probability, rank, reasons, inputs)
        for pk, school_id, probability, rank, reasons, inputs in qs.values_list(
            "pk", "school_id", "probability", "rank", "reasons", "inputs"
        )
    }


@dataclass
class PendingScores:
    """Scores being computed (`start_scores`), to be stored by `finish_scores`."""

    version: str
    as_of: dt.date
    la_code: int | None
    job: workers.Job[pl.DataFrame]


def start_scores(
    model: TrainedModel | Artefact,
    as_of: dt.date,
    *,
    src: Sources,
    la_code: int | None = None,
    in_worker: bool | None = None,
    warm: workers.Warm | None = None,
) -> PendingScores:
    """Start scoring the schools open on `as_of` (decision 0028): in a worker process when at least
    `settings.BEACON_SCORING_WORKER_MIN_SCHOOLS` schools are to be scored (`in_worker` None), so the
    caller's own work (the termly pass's rules and their write) goes on beside it; at once, in this process,
    otherwise. A school whose stored fingerprint is unchanged is not scored again. `warm`: a worker already
    started for this (`warm_worker`), used if the scores go to a worker and closed otherwise.

    `model` may be a saved model known by its card (`artefact.read_card`): a worker then reads it from its
    file, and this process never imports scikit-learn (decision 0033); scoring here reads it here."""
    stored = _stored_scores(model.version, as_of, la_code)
    known = {s: (v[4], v[1], v[3]) for s, v in stored.items() if v[4]}
    if in_worker is None:  # by the schools to be scored (an LA's, on a national database, are few)
        in_worker = population(src, as_of, la_code).height >= settings.BEACON_SCORING_WORKER_MIN_SCHOOLS
    if not in_worker and warm is not None:
        warm.close()
        warm = None
    if isinstance(model, Artefact):
        if in_worker:
            job = workers.start_in(
                warm or workers.Warm(), score_artefact, model.path, src, as_of, la_code=la_code, known=known
            )
            return PendingScores(model.version, as_of, la_code, job)
        model = load(model.path)
    from beacon.earlywarning.model import model_digest, score  # scikit-learn: where the model is read

    digest = model_digest(model)
    if in_worker:
        job = workers.start_in(
            warm or workers.Warm(), score, model, src, as_of, la_code=la_code, known=known, digest=digest
        )
    else:
        job = workers.run_here(score, model, src, as_of, la_code=la_code, known=known, digest=digest)
    return PendingScores(model.version, as_of, la_code, job)


@transaction.atomic
def finish_scores(pending: PendingScores) -> int:
    """Wait for the scores and store them: replace the stored scores of this date and model version (all or
    nothing). A school whose probability, rank, reasons and inputs are those already stored keeps its row;
    changed rows are replaced, new ones added, and the rows of schools no longer scored removed (the same
    rows as deleting them all and inserting every score, without rewriting 23,000 unchanged rows each term:
    decision 0027). The stored rows are read again here, in the write's transaction. The rows written go
    to the database column by column (`upsert_rows` given a frame), with one creation time, the write's."""
    scores = pending.job.result()
    stored = _stored_scores(pending.version, pending.as_of, pending.la_code)
    doomed: list[int] = []
    written: list[bool] = []
    for school_id, probability, rank, reasons, inputs in scores.select(
        "school_id", "probability", "rank", "reasons", "inputs"
    ).iter_rows():
        held = stored.pop(school_id, None)
        if held is not None:
            if held[1:] == (probability, rank, reasons, inputs):
                written.append(False)
                continue
            doomed.append(held[0])
        written.append(True)
    doomed.extend(pk for pk, *_ in stored.values())  # schools no longer scored on this date
    for chunk in itertools.batched(doomed, 900):
        RiskScore.objects.filter(pk__in=chunk).delete()
    new = scores.filter(pl.Series(written, dtype=pl.Boolean))
    if new.height:
        _insert_scores(new, pending)
    return scores.height


# RiskScore's columns as `_insert_scores` writes them.
_SCORE_FIELDS = ["school", "as_of", "probability", "rank", "reasons", "model_version", "inputs", "created_at"]


def _insert_scores(new: pl.DataFrame, pending: PendingScores) -> None:
    """Insert scores (school_id, probability, rank, reasons, inputs) of the pending date and version as the
    imports' bulk insert does (decision 0026), from a frame: no model instance or tuple per score. Each
    value as the ORM would store it: the date and time as the backend's text, the reasons as JSON text."""
    conn = connections[router.db_for_write(RiskScore)]
    now = timezone.now()
    created = now.isoformat() if conn.vendor == "postgresql" else conn.ops.adapt_datetimefield_value(now)
    reasons = RiskScore._meta.get_field("reasons")
    frame = new.select(
        "school_id",
        pl.lit(str(conn.ops.adapt_datefield_value(pending.as_of))).alias("as_of"),
        pl.col("probability").cast(pl.Float64),
        pl.col("rank").cast(pl.Int64),
        pl.Series(
            "reasons", [json.dumps(r, cls=reasons.encoder) for r in new["reasons"].to_list()], dtype=pl.Utf8
        ),
        pl.lit(pending.version).alias("model_version"),
        pl.col("inputs").cast(pl.Utf8),
        pl.lit(str(created)).alias("created_at"),
    )
    upsert_rows(
        RiskScore, _SCORE_FIELDS, frame, unique_fields=["school", "as_of", "model_version"], update_fields=[]
    )
