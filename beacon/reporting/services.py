"""System targets and group gaps computed from the imported LA-level data (LAIT) and inspections.

Rules (all of them read the target's own data: kind, comparators, direction, threshold, gap_change_points):

* a year's status is `met`, `not_met` or `no_data` (the LA's figure or a comparator figure the rule needs
  is not published for that year); a target's status is the status of the latest year the LA has a
  published figure for, or `no_data` when it has none;
* `beat`: better than every comparator named (strictly; with a threshold t, within t points counts);
* `top_quartile`: rank among London LAs with a published figure, 1 = best given the direction (ties share
  the better rank: rank = 1 + number of LAs strictly better), met when rank <= ceil(n / 4);
* `threshold`: at or better than the threshold; `good_or_better`: the % of the LA's open state-funded
  schools whose latest graded inspection by 31 August of the year (or today) was good or better (or a
  report card with every area at expected standard or above and safeguarding met), at the threshold;
* `improving`: better than the previous year held;
* `gap`: gap = comparison group - group (positive: the group is behind); the trend flag compares the first
  and last years with a gap: a change of more than `gap_change_points` is widening / narrowing, otherwise
  no clear change; met when the LA's gap is no wider than every named comparator's gap in the latest year
  AND the gap is not widening (the kind's rule: "narrowing, and at most the comparator's gap"), so a
  target is never shown "widening" and "met" at once.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from markupsafe import Markup

from beacon.core import charts
from beacon.core.formatting import academic_year
from beacon.core.terms import academic_year_of
from beacon.core.versioning import update_versioned
from beacon.indicators import selectors as ind
from beacon.indicators.catalogue import MeasureDef
from beacon.indicators.models import Area, AreaType, ValueStatus
from beacon.reporting.measures import measure_def
from beacon.reporting.models import Comparator, Direction, SystemTarget, TargetKind
from beacon.schools.models import served

MET, NOT_MET, NO_DATA = "met", "not_met", "no_data"
STATUS_LABELS = {MET: "Met", NOT_MET: "Not met", NO_DATA: "No data"}
WIDENING, NARROWING, STABLE = "widening", "narrowing", "stable"
TREND_LABELS = {WIDENING: "Widening", NARROWING: "Narrowing", STABLE: "No clear change", NO_DATA: "No data"}
COMPARATOR_ORDER = (Comparator.LONDON, Comparator.INNER_LONDON, Comparator.NEIGHBOURS, Comparator.ENGLAND)
GOOD_OR_BETTER_DEF = MeasureDef(
    "schools_good_or_better", "Schools good or better at their latest graded inspection", "ofsted", "%"
)
MAX_YEARS = 10


# ---------------------------------------------------------------------------------------------
# Context: the LA, its comparators and their series


@dataclass
class Context:
    la_code: int
    la_name: str
    comparator_codes: dict[str, int]  # comparator key -> area code (not neighbours)
    comparator_labels: dict[str, str]
    neighbours: list[int]
    neighbour_names: list[str]
    neighbour_model_year: int | None
    london_las: dict[int, str]


def context_for(la_code: int) -> Context:
    la_name = ind.area_name(la_code)
    region = ind.region_code_for(la_code)
    codes: dict[str, int] = {Comparator.LONDON: region, Comparator.ENGLAND: ind.ENGLAND}
    labels: dict[str, str] = {
        Comparator.LONDON: "London" if region == ind.LONDON else ind.area_name(region),
        Comparator.ENGLAND: "England",
        Comparator.NEIGHBOURS: "Statistical neighbours (average)",
    }
    sub = ind.sub_region_for(la_code)
    if sub is not None:
        labels[Comparator.INNER_LONDON], codes[Comparator.INNER_LONDON] = sub
    neighbours, model_year = ind.statistical_neighbours(la_code)
    names = dict(Area.objects.filter(code__in=neighbours).values_list("code", "name"))
    london = dict(
        Area.objects.filter(area_type=AreaType.LA, region__iexact="London").values_list("code", "name")
    )
    return Context(
        la_code=la_code,
        la_name=la_name,
        comparator_codes=codes,
        comparator_labels=labels,
        neighbours=neighbours,
        neighbour_names=[names.get(n, str(n)) for n in neighbours],
        neighbour_model_year=model_year,
        london_las=london,
    )


@dataclass
class Data:
    """Every series the targets need, read in three queries."""

    ctx: Context
    area: dict[tuple[int, str], ind.Series]
    neighbours: dict[str, ind.Series]

    def la(self, code: str) -> ind.Series:
        return self.area.get((self.ctx.la_code, code), {})

    def comparator(self, key: str, code: str) -> ind.Series:
        if key == Comparator.NEIGHBOURS:
            return self.neighbours.get(code, {})
        area_code = self.ctx.comparator_codes.get(key)
        return self.area.get((area_code, code), {}) if area_code is not None else {}


def load_data(ctx: Context, codes: Iterable[str]) -> Data:
    codes = sorted({c for c in codes if c})
    areas = {ctx.la_code, *ctx.comparator_codes.values(), *ctx.london_las}
    values = ind.area_values(areas, codes)
    sn = ind.neighbour_averages(ctx.la_code, codes) if ctx.neighbours else {}
    return Data(ctx=ctx, area=values, neighbours={c: a.series for c, a in sn.items()})


# ---------------------------------------------------------------------------------------------
# Rules


def better(a: float, b: float, direction: str) -> bool:
    return a > b if direction == Direction.HIGHER else a < b


def london_rank(data: Data, code: str, year: int, direction: str) -> tuple[int | None, int]:
    """(rank of the LA among London LAs with a published figure, how many were ranked)."""
    values = []
    for la in data.ctx.london_las:
        v = data.area.get((la, code), {}).get(year)
        if v is not None and v.is_published and v.value is not None:
            values.append((la, v.value))
    mine = next((val for la, val in values if la == data.ctx.la_code), None)
    if mine is None:
        return None, len(values)
    return 1 + sum(1 for _la, val in values if better(val, mine, direction)), len(values)


def top_quartile_cutoff(n: int) -> int:
    return math.ceil(n / 4)


def _published(v: ind.Value | None) -> float | None:
    return v.value if v is not None and v.is_published else None


@dataclass(frozen=True)
class YearResult:
    year: int
    la: ind.Value | None
    comparators: dict[str, ind.Value | None]
    rank: int | None
    ranked: int
    status: str
    reason: str = ""

    @property
    def year_label(self) -> str:
        return academic_year(self.year)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def rank_text(self) -> str:
        return f"{self.rank} of {self.ranked}" if self.rank is not None else "No data"


def _year_status(
    target: SystemTarget,
    la: float | None,
    comps: dict[str, float | None],
    rank: int | None,
    ranked: int,
    previous: float | None,
) -> tuple[str, str]:
    d = target.direction
    if la is None:
        return NO_DATA, f"{target.measure_code or 'The measure'} is not published for the LA this year"
    if target.kind == TargetKind.BEAT_COMPARATORS:
        needed = [c for c in target.comparators if c in comps]
        missing = [c for c in target.comparators if comps.get(c) is None]
        if missing or not needed:
            return NO_DATA, "A comparator figure is not published this year"
        margin = target.threshold
        for c in needed:
            other = comps[c]
            assert other is not None
            if margin is None:
                if not better(la, other, d):
                    return NOT_MET, ""
            else:
                shifted = other - margin if d == Direction.HIGHER else other + margin
                if better(shifted, la, d):
                    return NOT_MET, ""
        return MET, ""
    if target.kind == TargetKind.LONDON_TOP_QUARTILE:
        if rank is None or ranked == 0:
            return NO_DATA, "No London ranking this year"
        return (MET if rank <= top_quartile_cutoff(ranked) else NOT_MET), ""
    if target.kind in (TargetKind.THRESHOLD, TargetKind.GOOD_OR_BETTER):
        if target.threshold is None:
            return NO_DATA, "No threshold set"
        return (MET if la == target.threshold or better(la, target.threshold, d) else NOT_MET), ""
    if target.kind == TargetKind.IMPROVING:
        if previous is None:
            return NO_DATA, "No earlier year to compare with"
        return (MET if better(la, previous, d) else NOT_MET), ""
    return NO_DATA, target.no_data_reason


@dataclass
class TargetResult:
    target: SystemTarget
    measure: MeasureDef | None
    years: list[YearResult]
    comparator_labels: dict[str, str]
    la_name: str
    reason: str = ""
    gap: GapResult | None = None

    @property
    def latest(self) -> YearResult | None:
        for y in reversed(self.years):
            if _published(y.la) is not None:
                return y
        return None

    @property
    def status(self) -> str:
        if self.gap is not None:
            return self.gap.status
        latest = self.latest
        return latest.status if latest is not None else NO_DATA

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def no_data_reason(self) -> str:
        if self.status != NO_DATA:
            return ""
        if self.reason:
            return self.reason
        latest = self.latest
        return latest.reason if latest is not None else "No published figures for the LA"

    def fmt(self, v: ind.Value | None) -> str:
        if v is None:
            return ind.NO_DATA
        m = self.measure
        return v.text(m.unit, m.decimals) if m else v.text()

    @property
    def comparator_keys(self) -> list[str]:
        return [k for k in COMPARATOR_ORDER if k in self.comparator_labels]

    def chart(self, chart_id: str = "") -> Markup:
        m = self.measure
        years = [y.year for y in self.years]
        labels = [academic_year(y) for y in years]
        series = [charts.Series(self.la_name, [_published(y.la) for y in self.years])]
        series += [
            charts.Series(self.comparator_labels[k], [_published(y.comparators.get(k)) for y in self.years])
            for k in self.comparator_keys
        ]
        if self.target.threshold is not None and self.target.kind in (
            TargetKind.THRESHOLD,
            TargetKind.GOOD_OR_BETTER,
        ):
            series.append(charts.Series("Target", [self.target.threshold] * len(years)))
        title = m.label if m else self.target.title
        if labels:
            title = f"{title}, {labels[0]} to {labels[-1]}"
        return charts.line_chart(
            chart_id=chart_id or f"chart-{self.target.ref}",
            title=title,
            x_labels=labels,
            series=series,
            unit=m.unit if m else "",
            decimals=m.decimals if m else 1,
            include_zero=bool(m and m.unit == "score" and m.decimals >= 2),
        )

    def legend(self) -> list[tuple[Markup, str]]:
        labels = [self.la_name, *(self.comparator_labels[k] for k in self.comparator_keys)]
        if self.target.threshold is not None and self.target.kind in (
            TargetKind.THRESHOLD,
            TargetKind.GOOD_OR_BETTER,
        ):
            labels.append("Target")
        return [(charts.legend_key(i), lbl) for i, lbl in enumerate(labels[: charts.MAX_SERIES])]


def evaluate_target(
    target: SystemTarget, data: Data, *, good_or_better: ind.Series | None = None
) -> TargetResult:
    ctx = data.ctx
    labels = dict(ctx.comparator_labels)
    if not ctx.neighbours:
        labels.pop(Comparator.NEIGHBOURS, None)
    if target.kind == TargetKind.GAP:
        gap = evaluate_gap(target, data)
        return TargetResult(target, gap.measure, [], labels, ctx.la_name, gap.reason, gap=gap)
    if target.kind == TargetKind.NOT_MEASURED:
        return TargetResult(target, None, [], labels, ctx.la_name, target.no_data_reason or "Not measured")
    if target.kind == TargetKind.GOOD_OR_BETTER:
        series = good_or_better or {}
        years = sorted(series)[-MAX_YEARS:]
        out = []
        for y in years:
            val = series[y]
            status, reason = _year_status(target, _published(val), {}, None, 0, None)
            out.append(YearResult(y, val, {}, None, 0, status, reason))
        return TargetResult(
            target,
            GOOD_OR_BETTER_DEF,
            out,
            {},
            ctx.la_name,
            "" if out else "No inspections held for the LA's schools",
        )
    m = measure_def(target.measure_code)
    if m is None:
        return TargetResult(target, None, [], labels, ctx.la_name, f"Unknown measure '{target.measure_code}'")
    la_series = data.la(target.measure_code)
    comp_series = {k: data.comparator(k, target.measure_code) for k in labels}
    years = sorted(set(la_series) | {y for s in comp_series.values() for y in s})[-MAX_YEARS:]
    out = []
    previous: float | None = None
    for y in years:
        la_v = la_series.get(y)
        comps = {k: s.get(y) for k, s in comp_series.items()}
        rank, ranked = london_rank(data, target.measure_code, y, target.direction)
        status, reason = _year_status(
            target, _published(la_v), {k: _published(v) for k, v in comps.items()}, rank, ranked, previous
        )
        out.append(YearResult(y, la_v, comps, rank, ranked, status, reason))
        if _published(la_v) is not None:
            previous = _published(la_v)
    reason = "" if la_series else f"No figures held for {m.label}"
    return TargetResult(target, m, out, labels, ctx.la_name, reason)


# ---------------------------------------------------------------------------------------------
# Group gaps


@dataclass(frozen=True)
class GapYear:
    year: int
    group: ind.Value | None
    other: ind.Value | None
    gap: float | None
    comparator_gaps: dict[str, float | None]

    @property
    def year_label(self) -> str:
        return academic_year(self.year)


@dataclass
class SchoolGap:
    urn: int
    name: str
    years: list[GapYear]
    trend: str
    change: float | None

    @property
    def trend_label(self) -> str:
        return TREND_LABELS[self.trend]


@dataclass
class GapResult:
    target: SystemTarget
    measure: MeasureDef | None
    other_measure: MeasureDef | None
    years: list[GapYear]
    comparator_labels: dict[str, str]
    la_name: str
    trend: str
    change: float | None
    status: str
    reason: str = ""
    schools: list[SchoolGap] = field(default_factory=list)

    @property
    def trend_label(self) -> str:
        return TREND_LABELS[self.trend]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def unit_suffix(self) -> str:
        return " percentage points" if self.measure and self.measure.unit == "%" else " points"

    @property
    def decimals(self) -> int:
        return self.measure.decimals if self.measure else 1

    def value_text(self, v: ind.Value | None) -> str:
        if v is None:
            return ind.NO_DATA
        m = self.measure
        return v.text(m.unit, m.decimals) if m else v.text()

    def gap_text(self, gap: float | None) -> str:
        return ind.NO_DATA if gap is None else f"{gap:,.{self.decimals}f}"

    @property
    def change_text(self) -> str:
        if self.change is None:
            return ind.NO_DATA
        return f"{self.change:+,.{self.decimals}f}{self.unit_suffix}"

    @property
    def comparator_keys(self) -> list[str]:
        return [k for k in COMPARATOR_ORDER if k in self.comparator_labels]

    def chart(self) -> Markup:
        labels = [y.year_label for y in self.years]
        series = [charts.Series(f"{self.la_name} gap", [y.gap for y in self.years])]
        series += [
            charts.Series(f"{self.comparator_labels[k]} gap", [y.comparator_gaps.get(k) for y in self.years])
            for k in self.comparator_keys
        ]
        return charts.line_chart(
            chart_id=f"gap-chart-{self.target.ref}",
            title=f"{self.target.title}: gap by year" + (f", {labels[0]} to {labels[-1]}" if labels else ""),
            x_labels=labels,
            series=series,
            decimals=self.decimals,
            include_zero=True,
        )

    def legend(self) -> list[tuple[Markup, str]]:
        labels = [f"{self.la_name} gap", *(f"{self.comparator_labels[k]} gap" for k in self.comparator_keys)]
        return [(charts.legend_key(i), lbl) for i, lbl in enumerate(labels)]


def gap_of(
    group: ind.Value | None, other: ind.Value | None, direction: str = Direction.HIGHER
) -> float | None:
    g, o = _published(group), _published(other)
    if g is None or o is None:
        return None
    return round(o - g if direction == Direction.HIGHER else g - o, 6)


def gap_trend(gaps: Sequence[tuple[int, float | None]], points: float | None) -> tuple[str, float | None]:
    """(widening / narrowing / stable / no_data, change from the first to the last year with a gap)."""
    held = [(y, g) for y, g in gaps if g is not None]
    if len(held) < 2:
        return NO_DATA, None
    change = round(held[-1][1] - held[0][1], 6)
    limit = points if points is not None else 0.0
    if change > limit:
        return WIDENING, change
    if change < -limit:
        return NARROWING, change
    return STABLE, change


def evaluate_gap(target: SystemTarget, data: Data) -> GapResult:
    ctx = data.ctx
    labels = {k: v for k, v in ctx.comparator_labels.items() if k != Comparator.NEIGHBOURS}
    m = measure_def(target.measure_code) if target.measure_code else None
    other_m = measure_def(target.other_measure_code) if target.other_measure_code else None
    if m is None or other_m is None:
        return GapResult(
            target, m, other_m, [], labels, ctx.la_name, NO_DATA, None, NO_DATA,
            target.no_data_reason or "No measures held for this group",
        )  # fmt: skip
    group, other = data.la(target.measure_code), data.la(target.other_measure_code)
    years = sorted(set(group) | set(other))[-MAX_YEARS:]
    rows = []
    for y in years:
        comp_gaps = {
            k: gap_of(
                data.comparator(k, target.measure_code).get(y),
                data.comparator(k, target.other_measure_code).get(y),
                target.direction,
            )
            for k in labels
        }
        rows.append(
            GapYear(
                y, group.get(y), other.get(y), gap_of(group.get(y), other.get(y), target.direction), comp_gaps
            )
        )
    trend, change = gap_trend([(r.year, r.gap) for r in rows], target.gap_change_points)
    latest = next((r for r in reversed(rows) if r.gap is not None), None)
    status, reason = NO_DATA, ""
    if latest is None:
        reason = target.no_data_reason or "No LA-level figures for this group in the data held"
    else:
        needed = [c for c in target.comparators if c in labels] or [Comparator.ENGLAND]
        comp = [latest.comparator_gaps.get(c) for c in needed]
        if any(c is None for c in comp):
            reason = "A comparator's gap cannot be calculated for the latest year"
        else:
            assert latest.gap is not None
            within = all(latest.gap <= c for c in comp if c is not None)
            # The kind's own rule: "narrowing, and at most the comparator's gap". A gap that is
            # widening (by more than the target's gap_change_points) is never met, however it
            # compares with London or England; no clear change within those points does not fail it.
            status = MET if within and trend != WIDENING else NOT_MET
            if within and trend == WIDENING:
                suffix = " percentage points" if m.unit == "%" else " points"
                first = next(r.year for r in rows if r.gap is not None)
                reason = (
                    f"Not met because the gap is widening ({change:+,.{m.decimals}f}{suffix} since "
                    f"{academic_year(first)}), although in {academic_year(latest.year)} it is no wider "
                    "than the comparators' gaps"
                )
    return GapResult(target, m, other_m, rows, labels, ctx.la_name, trend, change, status, reason)


def school_gaps(target: SystemTarget, schools: QuerySet[Any]) -> list[SchoolGap]:
    """The gap in each school (from `schools`, already scoped by beacon.permissions) that has both
    figures in at least one year."""
    if not (target.measure_code and target.other_measure_code):
        return []
    rows = list(schools.values_list("pk", "urn", "name"))
    values = ind.school_values([pk for pk, _u, _n in rows], [target.measure_code, target.other_measure_code])
    out = []
    for pk, urn, name in sorted(rows, key=lambda r: r[2]):
        group = values.get((pk, target.measure_code), {})
        other = values.get((pk, target.other_measure_code), {})
        years = sorted(set(group) | set(other))
        gy = [
            GapYear(y, group.get(y), other.get(y), gap_of(group.get(y), other.get(y), target.direction), {})
            for y in years
        ]
        if not any(g.gap is not None for g in gy):
            continue
        trend, change = gap_trend([(g.year, g.gap) for g in gy], target.gap_change_points)
        out.append(SchoolGap(urn, name, gy, trend, change))
    return out


# ---------------------------------------------------------------------------------------------
# Schools good or better, by year, from the inspection history


def good_or_better_by_year(schools: QuerySet[Any], *, today: dt.date | None = None) -> ind.Series:
    """% of `schools` (scoped by the caller) good or better at their latest graded inspection on or before
    31 August ending each academic year (today for the current one). Schools never inspected by then are
    left out, as on the LA overview."""
    from beacon.inspections.models import Framework, Inspection, InspectionGrade, ReportCardGrade

    today = today or dt.date.today()
    ids = list(schools.values_list("pk", flat=True))
    inspections = list(
        Inspection.objects.filter(school_id__in=ids)
        .graded()
        .values_list(
            "pk",
            "school_id",
            "framework",
            "start_date",
            "overall_effectiveness",
            "safeguarding_met",
            "outcome_text",
        )
    )
    weak = set(
        InspectionGrade.objects.filter(
            inspection_id__in=[i[0] for i in inspections if i[2] == Framework.REPORT_CARD],
            grade__lte=ReportCardGrade.NEEDS_ATTENTION,
            not_applicable=False,
        ).values_list("inspection_id", flat=True)
    )
    # good: True / False; None for a graded inspection without an overall grade ('Not judged', September 2024
    # on), which, as on the LA overview, takes the school out of the count until its next judgement.
    by_school: dict[int, list[tuple[dt.date, int, int, bool | None]]] = defaultdict(list)
    for pk, school_id, framework, start, oe, safeguarding, outcome in inspections:
        good: bool | None
        if framework == Framework.REPORT_CARD:
            good = pk not in weak and safeguarding is not False
        elif oe is not None:
            good = oe in (1, 2)
        elif (outcome or "").strip().lower() == "not judged":
            good = None
        else:
            continue  # a legacy inspection without a grade leaves the previous judgement standing
        rank = 1 if framework == Framework.REPORT_CARD else 0  # report card wins on the same date
        by_school[school_id].append((start, rank, pk, good))
    current = academic_year_of(today)
    first = min((s[0] for rows in by_school.values() for s in rows), default=None)
    out: ind.Series = {}
    if first is None:
        return out
    start_year = academic_year_of(first)
    for year in range(start_year, current + 1):
        cutoff = min(dt.date(year + 1, 8, 31), today)
        judged = good_count = 0
        for rows in by_school.values():
            held = [r for r in rows if r[0] <= cutoff]
            if not held:
                continue
            latest = max(held, key=lambda r: (r[0], r[1], r[2]))[3]
            if latest is None:
                continue
            judged += 1
            good_count += 1 if latest else 0
        if judged:
            out[year] = ind.Value(year, round(100.0 * good_count / judged, 6), ValueStatus.OK)
    return out


# ---------------------------------------------------------------------------------------------
# The dashboard


@dataclass
class Dashboard:
    ctx: Context
    framework: str
    results: list[TargetResult]

    @property
    def counts(self) -> dict[str, int]:
        out = {MET: 0, NOT_MET: 0, NO_DATA: 0}
        for r in self.results:
            out[r.status] += 1
        return out

    @property
    def comparator_keys(self) -> list[str]:
        return [
            k
            for k in COMPARATOR_ORDER
            if k in self.ctx.comparator_labels and (k != Comparator.NEIGHBOURS or self.ctx.neighbours)
        ]


def targets_for(framework: str, *, kinds: Iterable[str] | None = None) -> list[SystemTarget]:
    qs = SystemTarget.objects.filter(is_active=True, framework=framework)
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return list(qs.order_by("sort_order", "ref"))


def dashboard(framework: str, la_code: int, schools: QuerySet[Any]) -> Dashboard:
    """`schools`: the user's visible schools (beacon.permissions); only the LA's open state-funded
    schools count towards the share good or better."""
    targets = targets_for(framework)
    ctx = context_for(la_code)
    codes = {t.measure_code for t in targets} | {t.other_measure_code for t in targets}
    data = load_data(ctx, codes)
    gob: ind.Series | None = None
    if any(t.kind == TargetKind.GOOD_OR_BETTER for t in targets):
        gob = good_or_better_by_year(served(schools.filter(la_code=la_code)))
    return Dashboard(ctx, framework, [evaluate_target(t, data, good_or_better=gob) for t in targets])


def target_detail(target: SystemTarget, la_code: int, schools: QuerySet[Any]) -> TargetResult:
    ctx = context_for(la_code)
    data = load_data(ctx, [target.measure_code, target.other_measure_code])
    gob = None
    if target.kind == TargetKind.GOOD_OR_BETTER:
        gob = good_or_better_by_year(served(schools.filter(la_code=la_code)))
    result = evaluate_target(target, data, good_or_better=gob)
    if result.gap is not None:
        result.gap.schools = school_gaps(target, schools.filter(la_code=la_code))
    return result


@dataclass
class GapsPage:
    ctx: Context
    gaps: list[GapResult]


def gaps_page(la_code: int, schools: QuerySet[Any]) -> GapsPage:
    targets = [t for f in ("camden", "cambridgeshire") for t in targets_for(f, kinds=[TargetKind.GAP])]
    ctx = context_for(la_code)
    data = load_data(ctx, {t.measure_code for t in targets} | {t.other_measure_code for t in targets})
    la_schools = schools.filter(la_code=la_code)
    gaps = []
    for t in targets:
        g = evaluate_gap(t, data)
        g.schools = school_gaps(t, la_schools)
        gaps.append(g)
    return GapsPage(ctx, gaps)


# ---------------------------------------------------------------------------------------------
# Editing a target (optimistic locking, history with the change reason)

EDITABLE_FIELDS = (
    "title",
    "comparators",
    "direction",
    "threshold",
    "gap_change_points",
    "no_data_reason",
    "is_active",
)


def update_target(
    target_id: int, *, expected_version: int, reason: str, user: Any, **changes: Any
) -> SystemTarget:
    """Save changes only if nobody else saved the target since `expected_version` was read (StaleEdit)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be edited"))
    if not reason.strip():
        raise ValidationError({"reason": "Enter the reason for the change"})
    bad = [c for c in changes.get("comparators", []) if c not in Comparator.values]
    if bad:
        raise ValidationError({"comparators": f"Unknown comparator: {', '.join(bad)}"})
    target = SystemTarget.objects.get(pk=target_id)
    return update_versioned(target, expected_version, changes, reason=reason.strip()[:100], user=user)
