"""Display helpers shared by every page (numbers, years, dates) in GOV.UK style."""

from __future__ import annotations

import datetime as dt

from beacon.core.terms import academic_year_label


def academic_year(start_year: int | None) -> str:
    """2018 -> '2018/19' (academic years are stored by the calendar year they start in)."""
    return academic_year_label(start_year)


def govuk_date(value: dt.date | dt.datetime | None) -> str:
    """GOV.UK style dates: 5 January 2026."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def format_measure(value: float | None, unit: str = "", decimals: int = 1) -> str:
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    if unit == "%":
        return f"{text}%"
    return text
