"""Reporting periods: half-terms (the commissioner's half-termly update) and academic years (the annual
report). Half-term boundaries follow the terms of beacon.core.terms (spring from 1 January, summer from
15 April); tests/test_terms.py holds them together."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from beacon.core import terms
from beacon.risk.models import Season, Term

# (slug, label, (start month, day), (end month, day)); the academic year starts on 1 September.
HALF_TERMS: tuple[tuple[str, str, tuple[int, int], tuple[int, int]], ...] = (
    ("autumn-1", "Autumn first half-term", (9, 1), (10, 31)),
    ("autumn-2", "Autumn second half-term", (11, 1), (12, 31)),
    ("spring-1", "Spring first half-term", (1, 1), (2, 20)),
    ("spring-2", "Spring second half-term", (2, 21), (4, 14)),
    ("summer-1", "Summer first half-term", (4, 15), (5, 31)),
    ("summer-2", "Summer second half-term", (6, 1), (8, 31)),
)


@dataclass(frozen=True)
class Period:
    slug: str
    label: str
    start: dt.date
    end: dt.date
    academic_year: int

    @property
    def year_label(self) -> str:
        return terms.academic_year_label(self.academic_year)

    def __str__(self) -> str:
        return f"{self.label} {self.year_label}"


def academic_year_of(day: dt.date) -> int:
    return terms.academic_year_of(day)


def _half_term(index: int, year: int) -> Period:
    slug, label, (sm, sd), (em, ed) = HALF_TERMS[index]
    start = dt.date(year if sm >= 9 else year + 1, sm, sd)
    end = dt.date(year if em >= 9 else year + 1, em, ed)
    return Period(f"{slug}-{year}", label, start, end, year)


def half_term_for(day: dt.date) -> Period:
    year = academic_year_of(day)
    for i in range(len(HALF_TERMS)):
        p = _half_term(i, year)
        if p.start <= day <= p.end:
            return p
    raise AssertionError(day)  # pragma: no cover - the half-terms cover the whole year


def parse_half_term(slug: str | None, today: dt.date | None = None) -> Period:
    """'autumn-1-2026' -> that half-term; anything else -> the half-term containing `today`."""
    m = re.fullmatch(r"(autumn|spring|summer)-([12])-(\d{4})", slug or "", flags=re.ASCII)
    if m is None or not 2000 <= int(m.group(3)) <= 2100:
        return half_term_for(today or dt.date.today())
    index = [h[0] for h in HALF_TERMS].index(f"{m.group(1)}-{m.group(2)}")
    return _half_term(index, int(m.group(3)))


def previous_half_term(period: Period) -> Period:
    return half_term_for(period.start - dt.timedelta(days=1))


def half_terms_of(year: int) -> list[Period]:
    return [_half_term(i, year) for i in range(len(HALF_TERMS))]


def academic_year_period(year: int) -> Period:
    return Period(f"{year}", "Academic year", *terms.academic_year_bounds(year), year)


def season_of(day: dt.date) -> str:
    return Season(terms.season_of(day))


def term_for(day: dt.date) -> Term | None:
    """The assessment term containing `day`, if it exists (never created here)."""
    return Term.objects.filter(academic_year=academic_year_of(day), term=season_of(day)).first()
