"""School terms and academic years: the one place their boundaries are written (decision 0022).

* An academic year runs 1 September to 31 August and is stored by the year it starts in: 2025 = 2025/26
  (decision 0006).
* Three terms, the strategy's termly cycle (risk assessment, SRAS, support reviews): autumn from
  1 September to 31 December, spring from 1 January to 14 April, summer from 15 April to 31 August.
  15 April stands for the end of the Easter holiday, which moves each year; one fixed date keeps every
  term the same length from year to year and every page agreeing on which term a date is in.

Seasons are the plain strings "autumn", "spring", "summer" (beacon.risk.models.Season is a TextChoices of
the same values).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

SeasonName = Literal["autumn", "spring", "summer"]
SEASONS: tuple[SeasonName, ...] = ("autumn", "spring", "summer")

ACADEMIC_YEAR_START: tuple[int, int] = (9, 1)  # (month, day): 1 September
SPRING_START: tuple[int, int] = (1, 1)  # 1 January
SUMMER_START: tuple[int, int] = (4, 15)  # 15 April


def academic_year_of(day: dt.date) -> int:
    """The academic year containing `day`, by its starting year: 1 Sep 2025 .. 31 Aug 2026 is 2025."""
    return day.year if (day.month, day.day) >= ACADEMIC_YEAR_START else day.year - 1


def academic_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """First and last day of academic year `year` (2025 -> 1 Sep 2025, 31 Aug 2026)."""
    return dt.date(year, *ACADEMIC_YEAR_START), dt.date(year + 1, *ACADEMIC_YEAR_START) - dt.timedelta(days=1)


def academic_year_label(year: int | None) -> str:
    """2024 -> '2024/25'; None -> ''."""
    if year is None:
        return ""
    return f"{year}/{(year + 1) % 100:02d}"


def term_start(season: str, academic_year: int) -> dt.date:
    """First day of a term of academic year `academic_year`."""
    if season == "autumn":
        return dt.date(academic_year, *ACADEMIC_YEAR_START)
    if season == "spring":
        return dt.date(academic_year + 1, *SPRING_START)
    if season == "summer":
        return dt.date(academic_year + 1, *SUMMER_START)
    raise ValueError(f"Not a term: {season!r}")


def term_end(season: str, academic_year: int) -> dt.date:
    """Last day of a term of academic year `academic_year` (the day before the next term starts)."""
    index = SEASONS.index(season)
    if index == len(SEASONS) - 1:
        return academic_year_bounds(academic_year)[1]
    return term_start(SEASONS[index + 1], academic_year) - dt.timedelta(days=1)


def season_of(day: dt.date) -> SeasonName:
    """The term containing `day`: 'autumn', 'spring' or 'summer'."""
    year = academic_year_of(day)
    if day >= term_start("summer", year):
        return "summer"
    if day >= term_start("spring", year):
        return "spring"
    return "autumn"


def term_of(day: dt.date) -> tuple[SeasonName, int]:
    """(season, academic year) of the term containing `day`: 20 Jan 2026 -> ('spring', 2025)."""
    return season_of(day), academic_year_of(day)


def end_of_term_containing(day: dt.date) -> dt.date:
    """Last day of the term containing `day`."""
    return term_end(*term_of(day))
