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


def latest_probabilities(on_or_before: dt.date, school_ids: list[int] | None = None) -> dict[int, float]:
    """school_id -> probability of its newest stored score dated on or before `on_or_before` (None: every
    school), as `latest_scores` picks it, in one query of plain values."""
    qs = RiskScore.objects.filter(as_of__lte=on_or_before)
    if school_ids is not None:
        qs = qs.filter(school_id__in=school_ids)
    return dict(qs.order_by("as_of", "pk").values_list("school_id", "probability"))


def is_watch(probability: float | None, rag: str, level: str, threshold: float) -> bool:
    """A school the Appendix A rules leave green / universal but the model finds likely below good."""
    return probability is not None and probability >= threshold and (rag == "green" or level == "universal")


def ranking_probability(probability: float | None, judged: bool, threshold: float) -> float | None:
    """The probability the register ranks a school by (issue 12 item 2: judgement criteria recorded by
    people count in the ranking as well as in the proposal).

    The model's probability, except that a school where people recorded a judgement criterion as applying
    this term ranks at least at the watch threshold: the probability at which the service already treats
    the model's view alone as a concern. A person's recorded judgement is no weaker evidence than that, but
    the model cannot see it (it learns only from published data). A judged school the model already rates
    higher keeps its own probability; a school without a score but with a judgement ranks at the threshold.
    The probability shown stays the model's."""
    if not judged:
        return probability
    return threshold if probability is None else max(probability, threshold)
