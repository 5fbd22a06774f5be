"""Reading measure values for pages: school and area series, comparisons, statistical-neighbour averages.

A value the DfE withheld keeps its status all the way to the page ("Suppressed", "Not published"...);
nothing here turns a missing figure into 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import fmean

from django.db.models import Max
from markupsafe import Markup

from beacon.core import charts
from beacon.core.formatting import academic_year
from beacon.indicators.catalogue import BY_CODE, MeasureDef
from beacon.indicators.models import (
    Area,
    AreaMeasure,
    AreaType,
    SchoolMeasure,
    StatisticalNeighbour,
    ValueStatus,
)

ENGLAND = 970
LONDON = 986
INNER_LONDON = 987
OUTER_LONDON = 988

# Short words for a withheld figure, as a reader sees them in a table cell.
STATUS_TEXT: dict[str, str] = {
    ValueStatus.SUPPRESSED: "Suppressed",
    ValueStatus.LOW: "Low (under 0.5)",
    ValueStatus.NOT_APPLICABLE: "Not applicable",
    ValueStatus.NOT_AVAILABLE: "Not available",
    ValueStatus.NO_ENTRIES: "No entries",
    ValueStatus.NOT_PUBLISHED: "Not published",
    ValueStatus.LOW_COVERAGE: "Low coverage",
    ValueStatus.MISSING: "Not published",
}
NO_DATA = "No data"


def school_measures_held() -> int:
    """About how many school measures the database holds: the largest id (the end of the primary key, not a
    count of 1.6 million rows). The size of the database by its largest table: the termly pass reads a
    national one's frames beside itself, an LA's in-process (decision 0032)."""
    return SchoolMeasure.objects.aggregate(last=Max("pk"))["last"] or 0


def format_number(value: float, unit: str, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if unit == "score" and value > 0 and decimals >= 2:
        text = f"+{text}"  # Progress 8 style: +0.25
    return f"{text}%" if unit == "%" else text


@dataclass(frozen=True)
class Value:
    year: int
    value: float | None
    status: str = ValueStatus.OK

    @property
    def is_published(self) -> bool:
        return self.status == ValueStatus.OK and self.value is not None

    @property
    def chart_value(self) -> float | None:
        return self.value if self.is_published else None

    @property
    def year_label(self) -> str:
        """The academic year the figure is for, e.g. '2022/23' (issue 11: every figure with its year)."""
        return academic_year(self.year)

    def dated_text(self, unit: str = "", decimals: int = 1) -> str:
        """The figure with its academic year: '312 (2022/23)', 'Suppressed (2018/19)'."""
        return f"{self.text(unit, decimals)} ({self.year_label})"

    def export_value(self) -> float | str:
        """For CSV / XLSX: the number when published, else the status words (never a blank or 0)."""
        if self.is_published:
            assert self.value is not None
            return self.value
        return self.text()

    def text(self, unit: str = "", decimals: int = 1) -> str:
        if self.is_published:
            assert self.value is not None
            return format_number(self.value, unit, decimals)
        if self.status == ValueStatus.OK:  # a published row with no number
            return STATUS_TEXT[ValueStatus.MISSING]
        return STATUS_TEXT.get(self.status, self.status)


Series = dict[int, Value]  # year -> value


def measure_def(code: str) -> MeasureDef:
    return BY_CODE[code]


def school_values(school_ids: Iterable[int], codes: Iterable[str]) -> dict[tuple[int, str], Series]:
    """(school id, measure code) -> {year: Value} for every row held."""
    out: dict[tuple[int, str], Series] = defaultdict(dict)
    rows = SchoolMeasure.objects.filter(
        school_id__in=list(school_ids), measure__code__in=list(codes)
    ).values_list("school_id", "measure__code", "year", "value", "status")
    for school_id, code, year, value, status in rows:
        out[(school_id, code)][year] = Value(year, value, status)
    return out


def area_values(area_codes: Iterable[int], codes: Iterable[str]) -> dict[tuple[int, str], Series]:
    """(area DfE code, measure code) -> {year: Value}."""
    out: dict[tuple[int, str], Series] = defaultdict(dict)
    rows = AreaMeasure.objects.filter(
        area__code__in=list(area_codes), measure__code__in=list(codes)
    ).values_list("area__code", "measure__code", "year", "value", "status")
    for area_code, code, year, value, status in rows:
        out[(area_code, code)][year] = Value(year, value, status)
    return out


def area_name(code: int, default: str = "") -> str:
    return Area.objects.filter(code=code).values_list("name", flat=True).first() or default or str(code)


def region_code_for(la_code: int) -> int:
    """The region an LA belongs to, by the region name LAIT gives it; London if unknown."""
    region = Area.objects.filter(code=la_code).values_list("region", flat=True).first()
    if region:
        code = (
            Area.objects.filter(area_type=AreaType.REGION, name__iexact=region)
            .values_list("code", flat=True)
            .first()
        )
        if code:
            return code
    return LONDON


def sub_region_for(la_code: int) -> tuple[str, int] | None:
    """('Inner London', 987) or ('Outer London', 988) for a London borough, else None."""
    sub = Area.objects.filter(code=la_code).values_list("sub_region", flat=True).first()
    if not sub:
        return None
    code = (
        Area.objects.filter(area_type=AreaType.INNER_OUTER, region__iexact="London")
        .filter(name__icontains=sub.split()[0])
        .values_list("code", flat=True)
        .first()
    )
    if code is None:
        code = INNER_LONDON if sub.lower().startswith("inner") else OUTER_LONDON
    return sub, code


@dataclass(frozen=True)
class NeighbourAverage:
    """Mean of the statistical neighbours' published values, with how many contributed."""

    series: Series
    counts: dict[int, int]
    neighbours: list[str]
    model_year: int | None


def statistical_neighbours(la_code: int) -> tuple[list[int], int | None]:
    """The LA's statistical neighbours (DfE codes, by rank) in the latest model year held."""
    qs = StatisticalNeighbour.objects.filter(area__code=la_code)
    model_year = qs.order_by("-model_year").values_list("model_year", flat=True).first()
    if model_year is None:
        return [], None
    codes = list(qs.filter(model_year=model_year).order_by("rank").values_list("neighbour__code", flat=True))
    return codes, model_year


def neighbour_averages(la_code: int, codes: Sequence[str]) -> dict[str, NeighbourAverage]:
    neighbours, model_year = statistical_neighbours(la_code)
    names = dict(Area.objects.filter(code__in=neighbours).values_list("code", "name"))
    values = area_values(neighbours, codes)
    out: dict[str, NeighbourAverage] = {}
    for code in codes:
        by_year: dict[int, list[float]] = defaultdict(list)
        for n in neighbours:
            for year, v in values.get((n, code), {}).items():
                if v.is_published and v.value is not None:
                    by_year[year].append(v.value)
        out[code] = NeighbourAverage(
            series={y: Value(y, fmean(vs)) for y, vs in by_year.items()},
            counts={y: len(vs) for y, vs in by_year.items()},
            neighbours=[names.get(n, str(n)) for n in neighbours],
            model_year=model_year,
        )
    return out


@dataclass
class ComparisonRow:
    label: str
    values: list[Value | None]  # one per year of the comparison; None = no row held
    is_subject: bool = False


@dataclass
class Comparison:
    """One measure over years for a subject (a school or an LA) and its comparators."""

    measure: MeasureDef
    years: list[int]
    rows: list[ComparisonRow] = field(default_factory=list)
    chart_id: str = ""

    @property
    def has_data(self) -> bool:
        return bool(self.years) and any(v is not None for r in self.rows for v in r.values)

    @property
    def subject_has_figures(self) -> bool:
        return bool(self.rows) and any(v is not None and v.is_published for v in self.rows[0].values)

    @property
    def year_labels(self) -> list[str]:
        return [academic_year(y) for y in self.years]

    def cell(self, value: Value | None) -> str:
        return NO_DATA if value is None else value.text(self.measure.unit, self.measure.decimals)

    def latest(self, row: int = 0) -> Value | None:
        """The newest value of a row (published or not)."""
        for v in reversed(self.rows[row].values):
            if v is not None:
                return v
        return None

    @property
    def chart(self) -> Markup:
        return charts.line_chart(
            chart_id=self.chart_id or f"chart-{self.measure.code}",
            title=f"{self.measure.label}, {self.year_labels[0]} to {self.year_labels[-1]}"
            if self.years
            else self.measure.label,
            x_labels=self.year_labels,
            series=[
                charts.Series(r.label, [v.chart_value if v is not None else None for v in r.values])
                for r in self.rows
            ],
            unit=self.measure.unit,
            decimals=self.measure.decimals,
            include_zero=self.measure.unit == "score" and self.measure.decimals >= 2,
        )

    def legend(self) -> list[tuple[Markup, str]]:
        return [(charts.legend_key(i), r.label) for i, r in enumerate(self.rows)]


def compare(
    code: str,
    subject: tuple[str, Series],
    comparators: Sequence[tuple[str, Series]],
    *,
    years: Sequence[int] | None = None,
    max_years: int = 8,
    chart_id: str = "",
) -> Comparison:
    """Line the subject up against comparators over the subject's years (or the given years)."""
    label, series = subject
    if years is None:
        years = sorted(series)
    years = list(years)[-max_years:]
    rows = [ComparisonRow(label, [series.get(y) for y in years], is_subject=True)]
    rows += [ComparisonRow(lbl, [s.get(y) for y in years]) for lbl, s in comparators]
    return Comparison(measure=measure_def(code), years=years, rows=rows, chart_id=chart_id or f"chart-{code}")


def latest_value(series: Series) -> Value | None:
    """The newest value held, published or withheld."""
    return series[max(series)] if series else None


def latest_published(series: Series) -> Value | None:
    for year in sorted(series, reverse=True):
        if series[year].is_published:
            return series[year]
    return None
