"""Small-number suppression for the public school profile.

Everything the public profile shows passes through `public_figure()` (or the two rules below it), so a
small group of pupils can never be identified from a public page. The rules follow the DfE's published
conventions:

* A figure the DfE itself withheld keeps its status all the way to the page: `c` / `SUPP` (suppressed,
  small numbers), `low` (rounds to 0 but is not 0), `x` (not available), `z` (not applicable), `NE`
  (no entries), `NP` (not published). It is never turned into 0 or a blank.
* Counts of pupils (cohort sizes, headcounts) from 1 to 5 are suppressed: `COUNT_THRESHOLD` = 6.
  0 is a real zero and is shown.
* A percentage, average or progress score for a cohort of 5 pupils or fewer is suppressed:
  `COHORT_THRESHOLD` = 6. This is the performance-tables rule (school-level KS2 and KS4 results are
  "SUPP" when 5 or fewer pupils were assessed); tests/test_profiles_suppression.py checks it agrees with
  the DfE's own suppression on every row of the real 2016/17 KS2 and KS4 files.
* A figure whose cohort was itself suppressed is suppressed too (it could otherwise be back-calculated).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from beacon.core.formatting import academic_year
from beacon.imports.parsing import SUPPRESSION_CODES
from beacon.indicators.catalogue import MeasureDef
from beacon.indicators.models import ValueStatus

COUNT_THRESHOLD = 6  # counts 1..COUNT_THRESHOLD-1 are suppressed
COHORT_THRESHOLD = 6  # rates on a cohort of fewer than this many pupils are suppressed


class Shown(StrEnum):
    """What a reader sees in place of a figure."""

    PUBLISHED = "published"
    SUPPRESSED = "suppressed"
    LOW = "low"
    NOT_APPLICABLE = "not_applicable"
    NOT_AVAILABLE = "not_available"
    NO_ENTRIES = "no_entries"
    NO_DATA = "no_data"


SHOWN_TEXT: dict[Shown, str] = {
    Shown.SUPPRESSED: "Suppressed",
    Shown.LOW: "Low (under 0.5)",
    Shown.NOT_APPLICABLE: "Not applicable",
    Shown.NOT_AVAILABLE: "Not available",
    Shown.NO_ENTRIES: "No entries",
    Shown.NO_DATA: "No data",
}

# Beacon's stored status (beacon.indicators.models.ValueStatus) -> what the public sees.
STATUS_SHOWN: dict[str, Shown] = {
    ValueStatus.OK: Shown.PUBLISHED,
    ValueStatus.SUPPRESSED: Shown.SUPPRESSED,
    ValueStatus.LOW: Shown.LOW,
    ValueStatus.NOT_APPLICABLE: Shown.NOT_APPLICABLE,
    ValueStatus.NOT_AVAILABLE: Shown.NOT_AVAILABLE,
    ValueStatus.NO_ENTRIES: Shown.NO_ENTRIES,
    ValueStatus.NOT_PUBLISHED: Shown.NOT_AVAILABLE,
    ValueStatus.LOW_COVERAGE: Shown.NOT_AVAILABLE,
    ValueStatus.MISSING: Shown.NOT_AVAILABLE,
}


@dataclass(frozen=True)
class PublicFigure:
    """One figure as the public profile may show it."""

    shown: Shown
    text: str
    year: int | None = None
    value: float | None = None  # only set when the figure is published
    reason: str = ""

    @property
    def is_published(self) -> bool:
        return self.shown == Shown.PUBLISHED

    @property
    def year_label(self) -> str:
        return academic_year(self.year)


def status_for_code(code: str) -> str:
    """A DfE source code (c, SUPP, low, x, z, NE, NP...) -> Beacon's stored status; ValueError if unknown."""
    status = SUPPRESSION_CODES.get(code.strip())
    if status is None:
        raise ValueError(f"Not a DfE status code: {code!r}")
    return status


def _withheld(status: str, year: int | None) -> PublicFigure:
    shown = STATUS_SHOWN.get(status, Shown.NOT_AVAILABLE)
    if shown == Shown.PUBLISHED:  # a published row with no number in it
        shown = Shown.NOT_AVAILABLE
    reason = "Withheld by the DfE to protect small numbers" if shown == Shown.SUPPRESSED else ""
    return PublicFigure(shown, SHOWN_TEXT[shown], year, reason=reason)


def no_data(year: int | None = None) -> PublicFigure:
    return PublicFigure(Shown.NO_DATA, SHOWN_TEXT[Shown.NO_DATA], year)


def format_figure(value: float, unit: str, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if unit == "score" and decimals >= 2 and value > 0:
        text = f"+{text}"  # progress scores: +0.25
    return f"{text}%" if unit == "%" else text


def public_count(value: float | None, status: str = ValueStatus.OK, year: int | None = None) -> PublicFigure:
    """A count of pupils (or places): 1 to 5 suppressed, 0 shown as 0."""
    if status != ValueStatus.OK or value is None:
        return _withheld(status, year)
    if 0 < value < COUNT_THRESHOLD:
        return PublicFigure(
            Shown.SUPPRESSED,
            SHOWN_TEXT[Shown.SUPPRESSED],
            year,
            reason=f"Fewer than {COUNT_THRESHOLD} pupils",
        )
    return PublicFigure(Shown.PUBLISHED, f"{value:,.0f}", year, value)


def public_rate(
    value: float | None,
    status: str = ValueStatus.OK,
    year: int | None = None,
    *,
    unit: str = "%",
    decimals: int = 1,
    cohort: float | None = None,
    cohort_status: str = ValueStatus.OK,
) -> PublicFigure:
    """A percentage, average or score. Suppressed when the DfE withheld it, when its cohort was
    withheld as suppressed, or when the cohort is 1 to 5 pupils. `cohort=None` means no cohort is held
    for it (whole-school census figures): the DfE's own status then decides."""
    if status != ValueStatus.OK or value is None:
        return _withheld(status, year)
    if cohort_status == ValueStatus.SUPPRESSED or (cohort is not None and 0 < cohort < COHORT_THRESHOLD):
        return PublicFigure(
            Shown.SUPPRESSED,
            SHOWN_TEXT[Shown.SUPPRESSED],
            year,
            reason=f"Fewer than {COHORT_THRESHOLD} pupils in the group",
        )
    return PublicFigure(Shown.PUBLISHED, format_figure(value, unit, decimals), year, value)


def public_figure(
    measure: MeasureDef,
    value: float | None,
    status: str = ValueStatus.OK,
    year: int | None = None,
    *,
    cohort: float | None = None,
    cohort_status: str = ValueStatus.OK,
) -> PublicFigure:
    """The one entry point the profile uses: counts by the count rule, everything else by the rate rule."""
    if measure.unit == "count":
        return public_count(value, status, year)
    return public_rate(
        value,
        status,
        year,
        unit=measure.unit,
        decimals=measure.decimals,
        cohort=cohort,
        cohort_status=cohort_status,
    )
