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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
from django.conf import settings
from django.db import transaction

from beacon.core import workers
from beacon.core.bulk import Prototype
from beacon.earlywarning.artefact import Artefact, load, score_artefact
from beacon.earlywarning.features import Sources, population
from beacon.earlywarning.models import RiskScore
from beacon.imports.framework import bulk_upsert

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
    decision 0027). The stored rows are read again here, in the write's transaction."""
    scores = pending.job.result()
    stored = _stored_scores(pending.version, pending.as_of, pending.la_code)
    doomed: list[int] = []
    new: list[RiskScore] = []
    unsaved = Prototype(RiskScore(as_of=pending.as_of, model_version=pending.version))
    for school_id, probability, rank, reasons, inputs in scores.select(
        "school_id", "probability", "rank", "reasons", "inputs"
    ).iter_rows():
        held = stored.pop(school_id, None)
        if held is not None:
            if held[1:] == (probability, rank, reasons, inputs):
                continue
            doomed.append(held[0])
        score_row = unsaved.new()
        score_row.school_id, score_row.probability, score_row.rank = school_id, probability, rank
        score_row.reasons, score_row.inputs = reasons, inputs
        new.append(score_row)
    doomed.extend(pk for pk, *_ in stored.values())  # schools no longer scored on this date
    for chunk in itertools.batched(doomed, 900):
        RiskScore.objects.filter(pk__in=chunk).delete()
    # The imports' bulk insert (decision 0026): database-ready tuples, not the ORM's per-row SQL compilation.
    bulk_upsert(RiskScore, new, unique_fields=["school", "as_of", "model_version"], update_fields=[])
    return scores.height
