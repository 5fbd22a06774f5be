"""The school pages (list, school profile, LA overview): display classes for Ofsted judgements and grades
(see beacon.core.presenters), and the pages' composition.

Web tier (decision 0022): a school page combines the register (`beacon.schools.selectors`), indicators'
figures (`beacon.indicators.selectors`) and inspections' judgements (`beacon.inspections.judgements`), two
apps above schools, so the composition lives here with the views rather than in a schools domain module.
Every function takes a queryset that already came from `beacon.permissions` (visible_schools /
require_school); nothing here decides who may see a school.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.db.models import Value as V
from django.db.models.functions import Replace, Upper

from beacon.core.formatting import academic_year
from beacon.core.presenters import GREY, presenter, tag_for
from beacon.core.validation import query_int
from beacon.indicators import selectors as ind
from beacon.inspections import selectors as inspection_selectors
from beacon.inspections.judgements import (
    GOOD_OR_BETTER,
    JUDGEMENT_CHOICES,
    JUDGEMENT_LABELS,
    MEDIUM_JUDGEMENT,
    SHORT_JUDGEMENT,
    CurrentJudgement,
    HistoryRow,
    Judgement,
    current_judgement,
    inspection_history,
    judgement_key,
    judgement_q,
    latest_inspection_text,
    with_current_judgement,
)
from beacon.inspections.models import Inspection, OverallEffectiveness, ReportCardGrade
from beacon.schools.models import Phase, School, served
from beacon.schools.selectors import DataSource, data_sources

REPORT_CARD_TAG = {
    ReportCardGrade.EXCEPTIONAL: "govuk-tag--green",
    ReportCardGrade.STRONG_STANDARD: "govuk-tag--turquoise",
    ReportCardGrade.EXPECTED_STANDARD: "govuk-tag--blue",
    ReportCardGrade.NEEDS_ATTENTION: "govuk-tag--orange",
    ReportCardGrade.URGENT_IMPROVEMENT: "govuk-tag--red",
}
LEGACY_TAG = {
    OverallEffectiveness.OUTSTANDING: "govuk-tag--green",
    OverallEffectiveness.GOOD: "govuk-tag--turquoise",
    OverallEffectiveness.REQUIRES_IMPROVEMENT: "govuk-tag--orange",
    OverallEffectiveness.INADEQUATE: "govuk-tag--red",
}
JUDGEMENT_TAG = {
    Judgement.OUTSTANDING: "govuk-tag--green",
    Judgement.GOOD: "govuk-tag--turquoise",
    Judgement.REQUIRES_IMPROVEMENT: "govuk-tag--orange",
    Judgement.INADEQUATE: "govuk-tag--red",
    Judgement.REPORT_CARD_CONCERN: "govuk-tag--orange",
    Judgement.REPORT_CARD_OK: "govuk-tag--blue",
    Judgement.NO_OVERALL_GRADE: GREY,
    Judgement.NOT_INSPECTED: GREY,
}


@presenter
def judgement_tag(key: str) -> str:
    """A school's current judgement (`inspections.judgements.Judgement`) as a tag colour."""
    return tag_for(JUDGEMENT_TAG, key)


@presenter
def grade_tag(is_report_card: bool, grade: int | None, not_applicable: bool = False) -> str:
    """A report-card or legacy grade as a tag colour; grey where not applicable or not graded."""
    if not_applicable or grade is None:
        return GREY
    return tag_for(REPORT_CARD_TAG if is_report_card else LEGACY_TAG, grade)


# ---------------------------------------------------------------------------------------------
# School list: search and filters


@dataclass
class SchoolFilters:
    q: str = ""
    phases: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    las: list[int] = field(default_factory=list)
    judgements: list[str] = field(default_factory=list)
    include_closed: bool = False
    include_independent: bool = False

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> SchoolFilters:
        getlist = getattr(params, "getlist", lambda k: [params[k]] if k in params else [])
        return cls(
            q=(params.get("q") or "").strip()[:100],
            phases=[p for p in getlist("phase") if p in Phase.values],
            types=[t for t in getlist("type") if t][:50],
            las=[n for c in getlist("la") if (n := query_int(str(c), hi=9999)) is not None],
            judgements=[j for j in getlist("ofsted") if j in JUDGEMENT_LABELS],
            include_closed="closed" in getlist("include"),
            include_independent="independent" in getlist("include"),
        )

    @property
    def active(self) -> bool:
        return bool(
            self.q
            or self.phases
            or self.types
            or self.las
            or self.judgements
            or self.include_closed
            or self.include_independent
        )


def search_schools(visible: QuerySet[School], f: SchoolFilters) -> QuerySet[School]:
    """Apply search and filters to the schools a user may see; annotated with current judgement."""
    # Default view: the served schools (School.objects.served(): open, state-funded); the filters add
    # closed and independent schools back.
    qs = visible
    if not f.include_closed and not f.include_independent:
        qs = served(qs)
    elif not f.include_closed:
        qs = qs.filter(is_open=True)
    elif not f.include_independent:
        qs = qs.filter(is_state_funded=True)
    if f.q:
        text = f.q
        compact = text.replace(" ", "").upper()
        cond = Q(name__icontains=text)
        if compact:
            qs = qs.annotate(postcode_compact=Upper(Replace("postcode", V(" "), V(""))))
            cond |= Q(postcode_compact__startswith=compact)
        number = query_int(text, hi=2**31 - 1)  # plain digits only ("²" is a digit to Python)
        if number is not None:
            cond |= Q(urn=number) | Q(laestab=number)
        qs = qs.filter(cond)
    if f.phases:
        qs = qs.filter(phase__in=f.phases)
    if f.types:
        qs = qs.filter(establishment_type__in=f.types)
    if f.las:
        qs = qs.filter(la_code__in=f.las)
    qs = with_current_judgement(qs)
    if f.judgements:
        qs = qs.filter(judgement_q(f.judgements))
    return qs.order_by("name", "urn")


@dataclass(frozen=True)
class ListRow:
    school: School
    pupils: ind.Value | None
    judgement: str
    judgement_date: dt.date | None
    latest_text: str = ""
    latest_date: dt.date | None = None

    @property
    def latest_differs(self) -> bool:
        """The latest inspection is not the one that set the judgement (e.g. a later ungraded one)."""
        return self.latest_date is not None and self.latest_date != self.judgement_date

    @property
    def judgement_label(self) -> str:
        return SHORT_JUDGEMENT[self.judgement]

    @property
    def is_report_card(self) -> bool:
        return self.judgement in {Judgement.REPORT_CARD_CONCERN, Judgement.REPORT_CARD_OK}


def list_rows(schools: Sequence[Any]) -> list[ListRow]:
    """Rows for the results table: each school with its latest census headcount and judgement."""
    values = ind.school_values([s.pk for s in schools], ["pupils"])
    rows = []
    for s in schools:
        text, date = latest_inspection_text(s)
        rows.append(
            ListRow(
                school=s,
                pupils=ind.latest_value(values.get((s.pk, "pupils"), {})),
                judgement=judgement_key(s),
                judgement_date=s.cj_date,
                latest_text=text,
                latest_date=date,
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# One school's profile


CONTEXT_CODES = ("fsm", "fsm_ever6", "eal", "sen_support", "sen_ehcp")
KS2_CHART_CODES = ("ks2_rwm_expected", "ks2_rwm_higher")
KS2_TABLE_CODES = (
    "ks2_reading_expected",
    "ks2_writing_expected",
    "ks2_maths_expected",
    "ks2_reading_progress",
    "ks2_writing_progress",
    "ks2_maths_progress",
    "ks2_reading_score",
    "ks2_maths_score",
)
KS4_CHART_CODES = ("ks4_attainment8", "ks4_progress8", "ks4_em_grade5")
KS4_TABLE_CODES = ("ks4_em_grade4", "ks4_ebacc_entry", "ks4_ebacc_aps")
ATTENDANCE_CODES = ("absence_overall", "absence_persistent")
GAP_PAIRS = (
    (
        "ks2",
        "KS2 reading, writing and maths: expected standard",
        "ks2_rwm_expected_disadvantaged",
        "ks2_rwm_expected_other",
    ),
    ("ks4", "Attainment 8", "ks4_attainment8_disadvantaged", "ks4_attainment8_other"),
)
SCHOOL_CODES = (
    "pupils",
    "capacity",
    *CONTEXT_CODES,
    *KS2_CHART_CODES,
    *KS2_TABLE_CODES,
    "ks2_pupils",
    *KS4_CHART_CODES,
    *KS4_TABLE_CODES,
    "ks4_pupils",
    *ATTENDANCE_CODES,
    *(c for p in GAP_PAIRS for c in p[2:]),
)


@dataclass(frozen=True)
class LatestRow:
    """A measure's latest school value with the same year's area figures."""

    label: str
    year: int
    school: str
    comparators: list[str]


@dataclass
class KeyStage:
    key: str
    title: str
    comparisons: list[ind.Comparison]
    latest: list[LatestRow]
    cohort: ind.Value | None

    @property
    def has_data(self) -> bool:
        return any(c.has_data for c in self.comparisons) or bool(self.latest)


@dataclass(frozen=True)
class GapRow:
    year: int
    disadvantaged: str
    other: str
    gap: str


@dataclass
class Gap:
    key: str
    title: str
    unit: str
    school_rows: list[GapRow]
    la_rows: list[GapRow]
    england_rows: list[GapRow]


@dataclass
class SchoolProfile:
    school: School
    la_name: str
    comparator_labels: list[str]
    pupils: ind.Value | None
    capacity: int | None
    capacity_when: str  # "2022/23" for a census figure, "as registered" for the register's (GIAS) figure
    context: list[LatestRow]
    key_stages: list[KeyStage]
    gaps: list[Gap]
    attendance: list[ind.Comparison]
    current: CurrentJudgement | None
    history: list[HistoryRow]
    sources: list[DataSource]
    latest_inspection: dict[str, Any] | None = None


def _gap_text(dis: ind.Value | None, other: ind.Value | None, unit: str, decimals: int) -> str:
    if dis is None or other is None:
        return ind.NO_DATA
    if not (dis.is_published and other.is_published):
        return "Cannot be calculated (a figure is withheld)"
    assert dis.value is not None and other.value is not None
    gap = other.value - dis.value
    suffix = " percentage points" if unit == "%" else " points"
    return f"{gap:,.{decimals}f}{suffix}"


def _gap_rows(dis: ind.Series, other: ind.Series, unit: str, decimals: int) -> list[GapRow]:
    years = sorted(set(dis) | set(other))
    return [
        GapRow(
            year=y,
            disadvantaged=dis[y].text(unit, decimals) if y in dis else ind.NO_DATA,
            other=other[y].text(unit, decimals) if y in other else ind.NO_DATA,
            gap=_gap_text(dis.get(y), other.get(y), unit, decimals),
        )
        for y in years
    ]


def school_profile(school: School) -> SchoolProfile:
    la_code = school.la_code
    region = ind.region_code_for(la_code) if la_code else ind.LONDON
    area_codes = [c for c in (la_code, region, ind.ENGLAND) if c]
    names = {c: ind.area_name(c) for c in area_codes}
    la_name = school.la_name or (names.get(la_code, "") if la_code else "")
    if la_code:
        names[la_code] = la_name or names[la_code]
    if region == ind.LONDON:
        names[region] = "London"
    names[ind.ENGLAND] = "England"
    comparators = [(names[c], c) for c in area_codes]

    sv = ind.school_values([school.pk], SCHOOL_CODES)
    mine: dict[str, ind.Series] = {code: sv.get((school.pk, code), {}) for code in SCHOOL_CODES}
    av = ind.area_values(area_codes, SCHOOL_CODES)

    def comparison(code: str) -> ind.Comparison:
        return ind.compare(
            code,
            (school.name, mine[code]),
            [(label, av.get((c, code), {})) for label, c in comparators],
            chart_id=f"chart-{code}",
        )

    def latest_rows(codes: Sequence[str]) -> list[LatestRow]:
        rows = []
        for code in codes:
            v = ind.latest_value(mine[code])
            if v is None:
                continue
            m = ind.measure_def(code)
            rows.append(
                LatestRow(
                    label=m.label,
                    year=v.year,
                    school=v.text(m.unit, m.decimals),
                    comparators=[
                        av[(c, code)][v.year].text(m.unit, m.decimals)
                        if v.year in av.get((c, code), {})
                        else ind.NO_DATA
                        for _label, c in comparators
                    ],
                )
            )
        return rows

    key_stages = []
    primary_like = school.phase in {Phase.PRIMARY, Phase.MIDDLE, Phase.ALL_THROUGH}
    secondary_like = school.phase in {Phase.SECONDARY, Phase.MIDDLE, Phase.ALL_THROUGH}
    ks2 = KeyStage(
        "ks2",
        "Key stage 2 (end of primary)",
        [comparison(c) for c in KS2_CHART_CODES],
        latest_rows(KS2_TABLE_CODES),
        ind.latest_value(mine["ks2_pupils"]),
    )
    ks4 = KeyStage(
        "ks4",
        "Key stage 4 (GCSE)",
        [comparison(c) for c in KS4_CHART_CODES],
        latest_rows(KS4_TABLE_CODES),
        ind.latest_value(mine["ks4_pupils"]),
    )
    for ks, expected in ((ks2, primary_like), (ks4, secondary_like)):
        if ks.has_data or expected:
            key_stages.append(ks)

    gaps = []
    gap_area: dict[tuple[int, str], ind.Series] = {}
    if la_code:
        gap_area = ind.area_values([la_code, ind.ENGLAND], [c for p in GAP_PAIRS for c in p[2:]])
    for key, title, dis_code, other_code in GAP_PAIRS:
        if not any(ks.key == key for ks in key_stages):
            continue
        m = ind.measure_def(dis_code)
        gaps.append(
            Gap(
                key=key,
                title=title,
                unit=m.unit,
                school_rows=_gap_rows(mine[dis_code], mine[other_code], m.unit, m.decimals),
                la_rows=_gap_rows(
                    gap_area.get((la_code, dis_code), {}),
                    gap_area.get((la_code, other_code), {}),
                    m.unit,
                    m.decimals,
                )
                if la_code
                else [],
                england_rows=_gap_rows(
                    gap_area.get((ind.ENGLAND, dis_code), {}),
                    gap_area.get((ind.ENGLAND, other_code), {}),
                    m.unit,
                    m.decimals,
                )
                if la_code
                else [],
            )
        )

    run_ids: set[int | None] = {school.source_run_id}
    run_years: dict[int, int] = dict(
        school.measures.filter(source_run__isnull=False)
        .values("source_run_id")
        .annotate(latest=Max("year"))
        .order_by()
        .values_list("source_run_id", "latest")
    )
    run_ids |= set(run_years)
    run_ids |= set(school.inspections.values_list("source_run_id", flat=True).distinct())
    capacity_value = ind.latest_published(mine["capacity"])
    return SchoolProfile(
        school=school,
        la_name=la_name,
        comparator_labels=[label for label, _c in comparators],
        pupils=ind.latest_value(mine["pupils"]),
        capacity=school.capacity
        if school.capacity is not None
        else (int(capacity_value.value) if capacity_value and capacity_value.value is not None else None),
        capacity_when="as registered"
        if school.capacity is not None
        else (capacity_value.year_label if capacity_value is not None else ""),
        context=latest_rows(CONTEXT_CODES),
        key_stages=key_stages,
        gaps=gaps,
        attendance=[comparison(c) for c in ATTENDANCE_CODES],
        current=current_judgement(school),
        history=inspection_history(school),
        sources=data_sources(run_ids, run_years),
        latest_inspection=inspection_selectors.latest_any_inspection(school),
    )


# ---------------------------------------------------------------------------------------------
# Predecessor and successor schools (GIAS links)


@dataclass(frozen=True)
class LinkRow:
    urn: int
    name: str
    link_type: str
    established: dt.date | None
    reachable: bool  # in the register and visible to the user: its page (results, inspections) opens
    history: str


def school_links(school: School, visible: QuerySet[School]) -> list[LinkRow]:
    """The school's GIAS predecessors and successors, with what the register holds of their history."""
    from beacon.indicators.models import SchoolMeasure
    from beacon.schools.models import SchoolLink

    links = list(SchoolLink.objects.filter(urn=school.urn).order_by("established", "linked_urn"))
    if not links:
        return []
    held = {s.urn: s for s in visible.filter(urn__in=[link.linked_urn for link in links])}
    ids = [s.pk for s in held.values()]
    inspections = Counter(Inspection.objects.filter(school_id__in=ids).values_list("school_id", flat=True))
    years: dict[int, set[int]] = {}
    for school_id, year in SchoolMeasure.objects.filter(school_id__in=ids).values_list("school_id", "year"):
        years.setdefault(school_id, set()).add(year)
    # Inspections of a predecessor recorded against this school (Ofsted's 'URN at the time').
    carried = Counter(school.inspections.exclude(urn_at_time=None).values_list("urn_at_time", flat=True))
    rows = []
    for link in links:
        s = held.get(link.linked_urn)
        parts = []
        if s is not None:
            n = inspections.get(s.pk, 0)
            parts.append(f"{n} inspection{'s' if n != 1 else ''}")
            ys = sorted(years.get(s.pk, set()))
            if ys:
                parts.append(f"figures {academic_year(ys[0])} to {academic_year(ys[-1])}")
        if carried.get(link.linked_urn):
            n = carried[link.linked_urn]
            parts.append(f"{n} inspection{'s' if n != 1 else ''} shown on this page")
        rows.append(
            LinkRow(
                urn=link.linked_urn,
                name=s.name if s is not None else link.linked_name,
                link_type=link.link_type,
                established=link.established,
                reachable=s is not None,
                history="; ".join(parts) if parts else "Not in the register",
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Local authority overview

HEADLINE_CODES = (
    "ks2_rwm_expected",
    "phonics_y1",
    "eyfs_gld",
    "ks4_attainment8",
    "ks4_progress8",
    "absence_overall",
    "absence_persistent",
    "suspension_rate",
)
LA_TABLE_CODES = (
    "pupils",
    "ks2_rwm_expected",
    "ks4_attainment8",
    "ks4_progress8",
    "absence_overall",
    "absence_persistent",
)


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class HeadlineRow:
    label: str
    code: str
    year: int | None
    cells: list[str]  # LA, then each comparator


@dataclass(frozen=True)
class LASchoolRow:
    school: School
    judgement: str
    judgement_label: str
    cells: list[tuple[str, str]]  # (figure, academic year) per LA_TABLE_CODES
    latest_text: str = ""
    latest_date: dt.date | None = None


@dataclass
class LAOverview:
    la_code: int
    la_name: str
    school_count: int
    by_phase: list[Count]
    by_judgement: list[Count]
    judged: int
    good_or_better: int
    comparator_labels: list[str]
    headline: list[HeadlineRow]
    trends: list[ind.Comparison]
    neighbour_names: list[str]
    neighbour_model_year: int | None
    table_columns: list[str]
    schools: list[LASchoolRow]
    newest_judgement: dt.date | None = None  # the newest inspection the judgement counts rest on

    @property
    def no_overall_grade(self) -> int:
        return next((c.count for c in self.by_judgement if c.key == Judgement.NO_OVERALL_GRADE), 0)

    @property
    def good_or_better_pct(self) -> float | None:
        return 100.0 * self.good_or_better / self.judged if self.judged else None


def la_overview(visible: QuerySet[School], la_code: int) -> LAOverview:
    schools_qs = with_current_judgement(served(visible).filter(la_code=la_code))
    schools = list(schools_qs.order_by("name", "urn"))
    la_name = ind.area_name(la_code, default=next((s.la_name for s in schools if s.la_name), str(la_code)))

    phase_counts = Counter(s.phase for s in schools)
    by_phase = [Count(v, label, phase_counts[v]) for v, label in Phase.choices if phase_counts[v]]
    judgements = {s.pk: judgement_key(s) for s in schools}
    j_counts = Counter(judgements.values())
    by_judgement = [Count(k, MEDIUM_JUDGEMENT[k], j_counts[k]) for k, _l in JUDGEMENT_CHOICES]
    # Good or better among schools with an overall grade: a graded inspection from September 2024 has none.
    judged = sum(
        n for k, n in j_counts.items() if k not in {Judgement.NOT_INSPECTED, Judgement.NO_OVERALL_GRADE}
    )
    good = sum(n for k, n in j_counts.items() if k in GOOD_OR_BETTER)

    region = ind.region_code_for(la_code)
    comparators: list[tuple[str, int]] = [
        ("London" if region == ind.LONDON else ind.area_name(region), region)
    ]
    sub_region = ind.sub_region_for(la_code)
    if sub_region is not None:
        comparators.append(sub_region)
    comparators.append(("England", ind.ENGLAND))
    av = ind.area_values([la_code, *(c for _l, c in comparators)], HEADLINE_CODES)
    sn = ind.neighbour_averages(la_code, HEADLINE_CODES)
    neighbours, model_year = ind.statistical_neighbours(la_code)
    labels = [lbl for lbl, _c in comparators] + (["Statistical neighbours (average)"] if neighbours else [])

    headline, trends = [], []
    for code in HEADLINE_CODES:
        m = ind.measure_def(code)
        la_series = av.get((la_code, code), {})
        comp_series = [(lbl, av.get((c, code), {})) for lbl, c in comparators]
        if neighbours:
            comp_series.append(("Statistical neighbours (average)", sn[code].series))
        latest = ind.latest_value(la_series)
        year = latest.year if latest else None
        cells = [latest.text(m.unit, m.decimals) if latest else ind.NO_DATA]
        for _lbl, comp in comp_series:
            cells.append(
                comp[year].text(m.unit, m.decimals) if year is not None and year in comp else ind.NO_DATA
            )
        headline.append(HeadlineRow(label=m.label, code=code, year=year, cells=cells))
        trends.append(ind.compare(code, (la_name, la_series), comp_series, chart_id=f"la-chart-{code}"))

    sv = ind.school_values([s.pk for s in schools], LA_TABLE_CODES)
    rows = []
    for s in schools:
        school_cells: list[tuple[str, str]] = []
        for code in LA_TABLE_CODES:
            m = ind.measure_def(code)
            v = ind.latest_value(sv.get((s.pk, code), {}))
            school_cells.append(
                (v.text(m.unit, m.decimals), academic_year(v.year)) if v else (ind.NO_DATA, "")
            )
        key = judgements[s.pk]
        text, date = latest_inspection_text(s)
        rows.append(LASchoolRow(s, key, SHORT_JUDGEMENT[key], school_cells, text, date))

    return LAOverview(
        la_code=la_code,
        la_name=la_name,
        school_count=len(schools),
        by_phase=by_phase,
        by_judgement=by_judgement,
        judged=judged,
        good_or_better=good,
        comparator_labels=labels,
        headline=headline,
        trends=trends,
        neighbour_names=sn[HEADLINE_CODES[0]].neighbours if neighbours else [],
        neighbour_model_year=model_year,
        table_columns=[ind.measure_def(c).label for c in LA_TABLE_CODES],
        schools=rows,
        newest_judgement=max((d for s in schools if (d := getattr(s, "cj_date", None))), default=None),
    )
