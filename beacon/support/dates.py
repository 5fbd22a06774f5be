"""Date arithmetic used by the support cadence, the 18-month alert and warning-notice deadlines."""

from __future__ import annotations

import calendar
import datetime as dt

from beacon.core.terms import academic_year_bounds as academic_year_bounds
from beacon.core.terms import academic_year_of, end_of_term_containing


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day of the month `months` later, clamped to the month's last day (31 Aug + 6 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def academic_year(day: dt.date) -> int:
    """Academic years are stored by their starting year: 1 Sep 2025 .. 31 Aug 2026 is 2025 (beacon.core.terms)."""
    return academic_year_of(day)


def term_end(day: dt.date) -> dt.date:
    """Last day of the school term containing `day` (beacon.core.terms: autumn to 31 Dec, spring to 14 April,
    summer to 31 Aug)."""
    return end_of_term_containing(day)


def next_term_end(day: dt.date) -> dt.date:
    """End of the term after the one containing `day`."""
    return term_end(term_end(day) + dt.timedelta(days=1))
