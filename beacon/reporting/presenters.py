"""Display classes for targets and gaps (see beacon.core.presenters)."""

from __future__ import annotations

from beacon.core.presenters import presenter, tag_for
from beacon.reporting.services import MET, NARROWING, NO_DATA, NOT_MET, STABLE, WIDENING

STATUS_TAGS = {MET: "govuk-tag--green", NOT_MET: "govuk-tag--red", NO_DATA: "govuk-tag--grey"}
TREND_TAGS = {
    WIDENING: "govuk-tag--red",
    NARROWING: "govuk-tag--green",
    STABLE: "govuk-tag--blue",
    NO_DATA: "govuk-tag--grey",
}


@presenter
def target_status_tag(status: str) -> str:
    """A target's or a gap's status (met, not met, no data) as a tag colour."""
    return tag_for(STATUS_TAGS, status)


@presenter
def gap_trend_tag(trend: str) -> str:
    """A gap's trend (widening, narrowing, no clear change) as a tag colour."""
    return tag_for(TREND_TAGS, trend)
