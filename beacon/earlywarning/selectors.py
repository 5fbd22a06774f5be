"""Read the stored early-warning scores (never computes or writes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from beacon.earlywarning.models import RiskScore, WatchThreshold

DEFAULT_WATCH_PROBABILITY = 0.5


def watch_probability() -> float:
    row = WatchThreshold.objects.first()
    return row.probability if row else DEFAULT_WATCH_PROBABILITY


def latest_scores(school_ids: Iterable[int], on_or_before: dt.date) -> dict[int, RiskScore]:
    """Each school's newest stored score dated on or before `on_or_before` (the term's start)."""
    out: dict[int, RiskScore] = {}
    for s in RiskScore.objects.filter(school_id__in=list(school_ids), as_of__lte=on_or_before).order_by(
        "as_of", "pk"
    ):
        out[s.school_id] = s
    return out


def is_watch(probability: float | None, rag: str, level: str, threshold: float) -> bool:
    """A school the Appendix A rules leave green / universal but the model finds likely below good."""
    return probability is not None and probability >= threshold and (rag == "green" or level == "universal")
