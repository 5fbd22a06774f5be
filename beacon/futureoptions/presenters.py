"""Display classes for the vulnerability flags (see beacon.core.presenters)."""

from __future__ import annotations

from beacon.core.presenters import presenter, tag_for
from beacon.futureoptions.selectors import CLEAR, FLAG, NO_DATA, NOT_ASSESSED, WARNING

FLAG_TAGS = {
    FLAG: "govuk-tag--red",
    WARNING: "govuk-tag--orange",
    CLEAR: "govuk-tag--green",
    NO_DATA: "govuk-tag--grey",
    NOT_ASSESSED: "govuk-tag--grey",
}


@presenter
def flag_tag(status: str) -> str:
    """A vulnerability flag's status (flagged, watch, not flagged, no data, not assessed) as a tag colour."""
    return tag_for(FLAG_TAGS, status)
