"""Headers and rows for the reporting exports (the same figures the pages show; numbers as numbers)."""

from __future__ import annotations

from typing import Any

from beacon.core.formatting import academic_year
from beacon.indicators import selectors as ind
from beacon.reporting import services

Table = tuple[list[str], list[list[Any]]]


def _num(v: ind.Value | None) -> Any:
    """A published figure as a number; otherwise the reason it is missing, as the page says it."""
    if v is None:
        return ind.NO_DATA
    if v.is_published and v.value is not None:
        return round(v.value, 6)
    return v.text()


def dashboard_table(d: services.Dashboard) -> Table:
    keys = d.comparator_keys
    headers = [
        "Reference",
        "Area",
        "Target",
        "Measure",
        "Year",
        d.ctx.la_name,
        *(d.ctx.comparator_labels[k] for k in keys),
        "Rank among London LAs",
        "London LAs ranked",
        "Status",
        "Why no data",
    ]
    rows = []
    for r in d.results:
        latest = r.latest
        measure = r.measure.label if r.measure else ""
        if r.gap is not None:
            g = next((y for y in reversed(r.gap.years) if y.gap is not None), None)
            rows.append(
                [
                    r.target.ref,
                    r.target.area,
                    r.target.title,
                    f"Gap: {measure}" if measure else "Gap",
                    academic_year(g.year) if g else "",
                    g.gap if g else ind.NO_DATA,
                    *((g.comparator_gaps.get(k) if g and k in g.comparator_gaps else "") for k in keys),
                    "",
                    "",
                    r.status_label,
                    r.no_data_reason,
                ]
            )
            continue
        rows.append(
            [
                r.target.ref,
                r.target.area,
                r.target.title,
                measure,
                academic_year(latest.year) if latest else "",
                _num(latest.la) if latest else ind.NO_DATA,
                *((_num(latest.comparators.get(k)) if latest else "") for k in keys),
                (latest.rank if latest and latest.rank is not None else ""),
                (latest.ranked if latest and latest.rank is not None else ""),
                r.status_label,
                r.no_data_reason,
            ]
        )
    return headers, rows


def target_table(r: services.TargetResult) -> Table:
    if r.gap is not None:
        return gap_rows([r.gap])
    keys = r.comparator_keys
    headers = [
        "Year",
        r.la_name,
        *(r.comparator_labels[k] for k in keys),
        "Rank among London LAs",
        "London LAs ranked",
        "Status",
    ]
    rows = [
        [
            y.year_label,
            _num(y.la),
            *(_num(y.comparators.get(k)) for k in keys),
            y.rank if y.rank is not None else "",
            y.ranked if y.rank is not None else "",
            y.status_label,
        ]
        for y in r.years
    ]
    return headers, rows


def gap_rows(gaps: list[services.GapResult]) -> Table:
    headers = [
        "Reference",
        "Gap",
        "Level",
        "URN",
        "Name",
        "Year",
        "Group",
        "Comparison group",
        "Gap",
        "London gap",
        "England gap",
        "Trend",
    ]
    rows: list[list[Any]] = []
    for g in gaps:
        for y in g.years:
            rows.append(
                [
                    g.target.ref,
                    g.target.title,
                    "Local authority",
                    "",
                    g.la_name,
                    y.year_label,
                    _num(y.group),
                    _num(y.other),
                    y.gap if y.gap is not None else ind.NO_DATA,
                    _opt(y.comparator_gaps.get("london")),
                    _opt(y.comparator_gaps.get("england")),
                    g.trend_label,
                ]
            )
        for s in g.schools:
            for y in s.years:
                rows.append(
                    [
                        g.target.ref,
                        g.target.title,
                        "School",
                        s.urn,
                        s.name,
                        y.year_label,
                        _num(y.group),
                        _num(y.other),
                        y.gap if y.gap is not None else ind.NO_DATA,
                        "",
                        "",
                        services.TREND_LABELS[s.trend],
                    ]
                )
    return headers, rows


def _opt(v: float | None) -> Any:
    return v if v is not None else ind.NO_DATA


def gaps_table(page: services.GapsPage) -> Table:
    return gap_rows(page.gaps)
