"""The early-warning model's artefact: where it is kept, saving and reading it, and its card.

Light on purpose: importing this module imports neither scikit-learn nor the model's code, and nor does
reading a card. Unpickling the model does (about 1.3 s of a process's CPU), so the termly pass, which scores
in a worker process, does not read the model itself: it reads the card saved beside the artefact (the model's
version, and the artefact's SHA-256 to know the card is this artefact's) and the worker reads the artefact
(`score_artefact`, which the worker imports without Django's models; decision 0033).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
from django.conf import settings

from beacon.core import workers

if TYPE_CHECKING:
    import datetime as dt

    import polars as pl

    from beacon.earlywarning.features import Sources
    from beacon.earlywarning.model import Known, TrainedModel

DEFAULT_ARTEFACT = Path(settings.BASE_DIR) / "var" / "models" / "early_warning.joblib"


@dataclass(frozen=True)
class Artefact:
    """A saved model known by its card: where it is and its version (what the stored scores are filed under),
    not yet read."""

    path: Path
    version: str


def artefact_card(model: TrainedModel) -> dict[str, Any]:
    return {
        "version": model.version,
        "data_cut_off": str(model.as_of),
        "library": model.library,
        "seed": model.seed,
        "params": model.params,
        "features": model.names,
        "metrics": model.metrics,
    }


def card_path(path: Path) -> Path:
    return path.with_name(path.name + ".card.json")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save(model: TrainedModel, path: Path = DEFAULT_ARTEFACT) -> Path:
    """Save the model (joblib) and its card beside it (`artefact_card` and the artefact's SHA-256)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    card = artefact_card(model) | {"sha256": _sha256(path)}
    card_path(path).write_text(json.dumps(card, indent=1, default=str))
    return path


def load(path: Path = DEFAULT_ARTEFACT) -> TrainedModel:
    model: TrainedModel = joblib.load(path)
    return model


def read_card(path: Path) -> Artefact | None:
    """The artefact at `path` as its card describes it, without reading the model; None if it has no card,
    or the card is not this artefact's (the file was replaced since: its SHA-256 differs) or cannot be read.
    The caller then reads the model itself (`load`)."""
    try:
        card = json.loads(card_path(path).read_text())
        if card.get("sha256") != _sha256(path) or not isinstance(card.get("version"), str):
            return None
    except (OSError, ValueError):
        return None
    return Artefact(path, card["version"])


def score_artefact(
    path: Path, src: Sources, as_of: dt.date, *, la_code: int | None = None, known: Known | None = None
) -> pl.DataFrame:
    """`model.score` with the model read from its artefact here, and its digest taken from what was read (as
    the pass's process took it when it read the artefact itself): what the termly pass's worker runs."""
    from beacon.earlywarning.model import model_digest, score

    model = load(path)
    return score(model, src, as_of, la_code=la_code, known=known, digest=model_digest(model))


def warm_worker() -> workers.Warm:
    """A worker process for `scoring.start_scores`, started now with the modules scoring imports
    (decision 0028)."""
    return workers.Warm(
        "beacon.earlywarning.model", "beacon.earlywarning.features", "beacon.earlywarning.artefact"
    )
