"""Date arithmetic used by the support cadence, the 18-month alert and warning-notice deadlines."""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day of the month `months` later, clamped to the month's last day (31 Aug + 6 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def academic_year(day: dt.date) -> int:
    """Academic years are stored by their starting year: 1 Sep 2025 .. 31 Aug 2026 is 2025."""
    return day.year if day.month >= 9 else day.year - 1


def academic_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 9, 1), dt.date(year + 1, 8, 31)


def term_end(day: dt.date) -> dt.date:
    """Last day of the school term containing `day` (autumn to 31 Dec, spring to 31 Mar, summer to 31 Aug)."""
    if day.month >= 9:
        return dt.date(day.year, 12, 31)
    if day.month <= 3:
        return dt.date(day.year, 3, 31)
    return dt.date(day.year, 8, 31)


def next_term_end(day: dt.date) -> dt.date:
    """End of the term after the one containing `day`."""
    return term_end(term_end(day) + dt.timedelta(days=1))
