"""One module for terms and academic years (beacon.core.terms, decision 0022): every page, the risk
register, support deadlines and the commissioner's half-terms agree on which term a date is in."""

from __future__ import annotations

import datetime as dt

import pytest

from beacon.accountability.periods import half_terms_of
from beacon.core import terms
from beacon.core.formatting import academic_year
from beacon.support.dates import next_term_end, term_end

D = dt.date


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2025, 8, 31), ("summer", 2024)),
        (D(2025, 9, 1), ("autumn", 2025)),
        (D(2025, 12, 31), ("autumn", 2025)),
        (D(2026, 1, 1), ("spring", 2025)),
        (D(2026, 3, 31), ("spring", 2025)),
        (D(2026, 4, 14), ("spring", 2025)),
        (D(2026, 4, 15), ("summer", 2025)),
    ],
)
def test_term_of_a_date(day: dt.date, expected: tuple[str, int]) -> None:
    assert terms.term_of(day) == expected
    season, year = expected
    assert terms.term_start(season, year) <= day <= terms.term_end(season, year)
    assert term_end(day) == terms.term_end(season, year)  # support's deadlines use the same terms


def test_terms_tile_the_academic_year_and_labels() -> None:
    first, last = terms.academic_year_bounds(2025)
    assert (first, last) == (D(2025, 9, 1), D(2026, 8, 31))
    assert terms.term_start("autumn", 2025) == first and terms.term_end("summer", 2025) == last
    for earlier, later in zip(terms.SEASONS, terms.SEASONS[1:], strict=False):
        assert terms.term_end(earlier, 2025) + dt.timedelta(days=1) == terms.term_start(later, 2025)
    assert next_term_end(D(2025, 10, 6)) == D(2026, 4, 14)
    assert terms.academic_year_label(2024) == academic_year(2024) == "2024/25"
    assert terms.academic_year_label(1999) == "1999/00" and terms.academic_year_label(None) == ""
    with pytest.raises(ValueError, match="Not a term"):
        terms.term_start("winter", 2025)


def test_half_terms_fall_inside_the_terms() -> None:
    """The commissioner's half-terms split each term in two, never across a term boundary."""
    for period in half_terms_of(2025):
        season = period.slug.split("-")[0]
        assert terms.season_of(period.start) == terms.season_of(period.end) == season
    starts = {p.slug.rsplit("-", 1)[0]: p.start for p in half_terms_of(2025)}
    assert starts["spring-1"] == terms.term_start("spring", 2025)
    assert starts["summer-1"] == terms.term_start("summer", 2025)
