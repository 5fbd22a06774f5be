"""What the school pages read from the register alone: the filter choices and the files behind a school's
figures. Every function takes a queryset that already came from `beacon.permissions` (visible_schools /
require_school); nothing here decides who may see a school.

The pages themselves combine the register with indicators and inspections, which sit above schools: that
composition is in the web tier (`beacon.schools.presenters`, decision 0022); the judgements are in
`beacon.inspections.judgements`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from beacon.core.formatting import academic_year, govuk_date
from beacon.imports.models import ImportRun
from beacon.schools.figures import figures
from beacon.schools.models import Phase, School

PAGE_SIZE = 50


@dataclass(frozen=True)
class FilterOptions:
    phases: list[tuple[str, str]]
    types: list[str]
    las: list[tuple[int, str]]


def la_choices(visible: QuerySet[School]) -> list[tuple[int, str]]:
    """(LA code, name) of the schools given: one per LA, by name. An LA is named by the areas held (LAIT's
    names), else as most of its schools name it: a school's name can be its district's (GIAS's renamed
    extract gives only the district; the register keeps the census's LA name, but a school it held no name
    for takes the district: LA 208's schools say Lambeth, a few once said Southwark), which listed 361
    options for England's 154 LAs."""
    named: dict[int, tuple[int, str]] = {}
    # The final order_by(): the model's default ordering (by name) would group one row per school.
    for c, n, count in visible.values_list("la_code", "la_name").annotate(count=Count("pk")).order_by():
        if c is None:
            continue
        name = n or str(c)
        best = named.get(c)
        if best is None or (count, name) > best:
            named[c] = (count, name)
    areas = figures().la_names() if named else {}
    return sorted(((c, areas.get(c) or n) for c, (_count, n) in named.items()), key=lambda p: (p[1], p[0]))


def filter_options(visible: QuerySet[School]) -> FilterOptions:
    present_phases = set(visible.order_by().values_list("phase", flat=True).distinct())
    types = sorted(
        {t for t in visible.order_by().values_list("establishment_type", flat=True).distinct() if t}
    )
    las = la_choices(visible)
    return FilterOptions(
        phases=[(v, label) for v, label in Phase.choices if v in present_phases],
        types=types,
        las=las,
    )


@dataclass(frozen=True)
class DataSource:
    label: str
    file_name: str
    imported: dt.datetime | None
    year: int | None  # the latest academic year of this school's figures from the file
    as_at: dt.date | None = None  # a snapshot's date (from the file name, e.g. Ofsted "as at 31 August 2025")

    @property
    def period_text(self) -> str:
        if self.year is not None:
            return academic_year(self.year)
        return f"as at {govuk_date(self.as_at)}" if self.as_at else ""


def data_sources(run_ids: Iterable[int | None], years: Mapping[int, int] | None = None) -> list[DataSource]:
    """The files behind a school's figures; `years`: run id -> latest academic year of the school's
    figures from that run (from the data, not the run's label)."""
    from beacon.imports.framework import load_all_sources
    from beacon.imports.freshness import as_at_from_name

    labels = {k: s.label for k, s in load_all_sources().items()}
    years = years or {}
    runs = ImportRun.objects.filter(pk__in=[r for r in set(run_ids) if r]).order_by("source", "-year")
    return [
        DataSource(
            label=labels.get(r.source, r.source),
            file_name=r.file_name,
            imported=r.finished_at or r.created_at,
            year=years.get(r.pk),
            as_at=as_at_from_name(r.file_name) if r.pk not in years else None,
        )
        for r in runs
    ]
