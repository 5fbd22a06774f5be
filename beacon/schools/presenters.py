"""Display classes for Ofsted judgements and grades on the school pages (see beacon.core.presenters)."""

from __future__ import annotations

from beacon.core.presenters import GREY, presenter, tag_for
from beacon.inspections.models import OverallEffectiveness, ReportCardGrade
from beacon.schools.selectors import Judgement

REPORT_CARD_TAG = {
    ReportCardGrade.EXCEPTIONAL: "govuk-tag--green",
    ReportCardGrade.STRONG_STANDARD: "govuk-tag--turquoise",
    ReportCardGrade.EXPECTED_STANDARD: "govuk-tag--blue",
    ReportCardGrade.NEEDS_ATTENTION: "govuk-tag--orange",
    ReportCardGrade.URGENT_IMPROVEMENT: "govuk-tag--red",
}
LEGACY_TAG = {
    OverallEffectiveness.OUTSTANDING: "govuk-tag--green",
    OverallEffectiveness.GOOD: "govuk-tag--turquoise",
    OverallEffectiveness.REQUIRES_IMPROVEMENT: "govuk-tag--orange",
    OverallEffectiveness.INADEQUATE: "govuk-tag--red",
}
JUDGEMENT_TAG = {
    Judgement.OUTSTANDING: "govuk-tag--green",
    Judgement.GOOD: "govuk-tag--turquoise",
    Judgement.REQUIRES_IMPROVEMENT: "govuk-tag--orange",
    Judgement.INADEQUATE: "govuk-tag--red",
    Judgement.REPORT_CARD_CONCERN: "govuk-tag--orange",
    Judgement.REPORT_CARD_OK: "govuk-tag--blue",
    Judgement.NO_OVERALL_GRADE: GREY,
    Judgement.NOT_INSPECTED: GREY,
}


@presenter
def judgement_tag(key: str) -> str:
    """A school's current judgement (`schools.selectors.Judgement`) as a tag colour."""
    return tag_for(JUDGEMENT_TAG, key)


@presenter
def grade_tag(is_report_card: bool, grade: int | None, not_applicable: bool = False) -> str:
    """A report-card or legacy grade as a tag colour; grey where not applicable or not graded."""
    if not_applicable or grade is None:
        return GREY
    return tag_for(REPORT_CARD_TAG if is_report_card else LEGACY_TAG, grade)
