"""Read side of future options: roll series, projections, surplus places, vulnerability flags with
evidence, map points and partner suggestions. Pure functions over rows the caller has already scoped
through beacon.core.permissions (callers pass `visible_schools(user)` querysets)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from beacon.futureoptions import geo
from beacon.futureoptions.models import (
    IntakeYear,
    Partnership,
    PartnershipStatus,
    RollRecord,
    SystemLeaderInterest,
    Threshold,
)
from beacon.indicators.models import SchoolMeasure, ValueStatus
from beacon.schools.models import Phase, School
from beacon.schools.selectors import JUDGEMENT_LABELS, Judgement, judgement_key, with_current_judgement

PROJECTION_YEARS = 3
PROJECTION_METHOD = (
    "Linear trend: an ordinary least-squares straight line through every January census headcount held "
    "for the school (or the sum for the local authority), extended {n} years beyond the latest census. "
    "It assumes the recent rate of change continues; it is not a substitute for the GLA pupil projections "
    "or the school place planning forecast."
)

# --------------------------------------------------------------------------------------------
# Roll series


@dataclass(frozen=True)
class RollPoint:
    year: int
    pupils: int | None
    capacity: int | None
    source: str

    @property
    def year_label(self) -> str:
        return f"{self.year}/{str(self.year + 1)[-2:]}"


def year_label(year: int) -> str:
    return f"{year}/{str(year + 1)[-2:]}"


def roll_series(school_ids: Iterable[int]) -> dict[int, dict[int, RollPoint]]:
    """school id -> {academic year: RollPoint}: census headcounts (`pupils` measure) and the GIAS years
    of RollRecord. Where both give a year, the census headcount wins and RollRecord adds capacity."""
    ids = list(school_ids)
    out: dict[int, dict[int, RollPoint]] = defaultdict(dict)
    for r in RollRecord.objects.filter(school_id__in=ids).order_by("year"):
        out[r.school_id][r.year] = RollPoint(r.year, r.pupils, r.capacity, r.source)
    census = SchoolMeasure.objects.filter(
        school_id__in=ids, measure__code="pupils", status=ValueStatus.OK, value__isnull=False
    ).values_list("school_id", "year", "value")
    for school_id, year, value in census:
        if not value:
            continue  # a zero headcount is a closed or not-yet-open school, not a roll
        old = out[school_id].get(year)
        out[school_id][year] = RollPoint(
            year, round(value), old.capacity if old else None, "School census (January headcount)"
        )
    return {k: dict(sorted(v.items())) for k, v in out.items()}


def pupils_points(series: dict[int, RollPoint]) -> list[tuple[int, int]]:
    return [(y, p.pupils) for y, p in series.items() if p.pupils is not None]


def latest_capacity(
    series: dict[int, RollPoint], school: School | None = None
) -> tuple[int | None, int | None]:
    """(capacity, year) from the latest record holding one, else the register's capacity."""
    for year in sorted(series, reverse=True):
        if series[year].capacity:
            return series[year].capacity, year
    if school is not None and school.capacity:
        return school.capacity, None
    return None, None


# --------------------------------------------------------------------------------------------
# Arithmetic: linear trend, projection, surplus


def linear_trend(points: Sequence[tuple[int, float]]) -> tuple[float, float] | None:
    """Least-squares (slope per year, intercept) through (year, value) points; None under 2 years."""
    if len({x for x, _ in points}) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    slope = sxy / sxx
    return slope, my - slope * mx


def project(points: Sequence[tuple[int, float]], years: int = PROJECTION_YEARS) -> list[tuple[int, int]]:
    """(year, projected headcount) for the `years` after the latest point, never below zero."""
    fit = linear_trend(points)
    if fit is None:
        return []
    slope, intercept = fit
    last = max(x for x, _ in points)
    return [(y, max(0, round(slope * y + intercept))) for y in range(last + 1, last + years + 1)]


@dataclass(frozen=True)
class Surplus:
    capacity: int
    pupils: int
    places: int
    percent: float


def surplus(capacity: int | None, pupils: int | None) -> Surplus | None:
    """Surplus places = capacity - pupils on roll; % of capacity, to one decimal place."""
    if not capacity or pupils is None:
        return None
    places = capacity - pupils
    return Surplus(capacity, pupils, places, round(100 * places / capacity, 1))


# Year groups fed by one entry point: Reception to Year 6; Year 7 to Year 11 (sixth form not fed by Year 7).
YEAR_GROUPS: dict[str, int] = {Phase.PRIMARY: 7, Phase.SECONDARY: 5}
INTAKE_METHOD = (
    "Roll implied by recent intakes: if every year group were the size of the average entry (places offered "
    "on national offer day) over the last three years held, the roll would settle at that average times the "
    "number of year groups fed by the entry point (7 for Reception to Year 6, 5 for Year 7 to Year 11)."
)


@dataclass(frozen=True)
class IntakeImplied:
    years: tuple[int, ...]
    mean_intake: float
    year_groups: int
    roll: int


def intake_implied_roll(phase: str, intakes: Sequence[IntakeYear], last: int = 3) -> IntakeImplied | None:
    """Steady-state roll from the mean of the last `last` years' offers (a cohort view of where the roll is
    heading); None for phases without a single entry point or with no offers held."""
    groups = YEAR_GROUPS.get(phase)
    offers = [(i.year, i.places_offered) for i in intakes if i.places_offered is not None]
    if groups is None or not offers:
        return None
    recent = sorted(offers)[-last:]
    mean = sum(v for _, v in recent) / len(recent)
    return IntakeImplied(tuple(y for y, _ in recent), round(mean, 1), groups, round(mean * groups))


def percent_change(old: float, new: float) -> float:
    return round(100 * (new - old) / old, 1)


# --------------------------------------------------------------------------------------------
# Thresholds (data, not constants): seeded by migration 0002, editable in the admin with history

# Seeded by migrations/0002_seed_thresholds.py (codes: falling_roll_pct, falling_roll_years, small_school
# per phase, surplus_warning, surplus_high, falling_preferences_pct).


def thresholds() -> dict[tuple[str, str], float]:
    return {(t.code, t.phase): t.value for t in Threshold.objects.all()}


def threshold(values: dict[tuple[str, str], float], code: str, phase: str = "") -> float | None:
    return values.get((code, phase), values.get((code, "")))


# --------------------------------------------------------------------------------------------
# Vulnerability flags with evidence

FLAG = "flag"
WARNING = "warning"
CLEAR = "clear"
NO_DATA = "no_data"
STATUS_LABELS = {FLAG: "Flagged", WARNING: "Watch", CLEAR: "Not flagged", NO_DATA: "No data"}
STATUS_TAGS = {
    FLAG: "govuk-tag--red",
    WARNING: "govuk-tag--orange",
    CLEAR: "govuk-tag--green",
    NO_DATA: "govuk-tag--grey",
}


@dataclass(frozen=True)
class Flag:
    code: str
    label: str
    status: str
    evidence: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def tag(self) -> str:
        return STATUS_TAGS[self.status]

    @property
    def raised(self) -> bool:
        return self.status in {FLAG, WARNING}


def falling_roll_flag(points: Sequence[tuple[int, int]], th: dict[tuple[str, str], float]) -> Flag:
    label = "Falling roll"
    pct = threshold(th, "falling_roll_pct") or 10.0
    window = int(threshold(th, "falling_roll_years") or 5)
    if len(points) < 2:
        return Flag("falling_roll", label, NO_DATA, "Fewer than two census headcounts held.")
    last_year, last = points[-1]
    earlier = [(y, v) for y, v in points if last_year - window <= y < last_year]
    if not earlier:
        return Flag(
            "falling_roll",
            label,
            NO_DATA,
            f"No census headcount in the {window} years before {year_label(last_year)}.",
        )
    first_year, first = earlier[0]
    change = percent_change(first, last)
    text = (
        f"{first} pupils in {year_label(first_year)} to {last} in {year_label(last_year)}: "
        f"{change:+.1f}% (threshold: a fall of more than {pct:g}% within {window} years)."
    )
    return Flag("falling_roll", label, FLAG if change < -pct else CLEAR, text)


def small_school_flag(
    phase: str, pupils: int | None, year: int | None, th: dict[tuple[str, str], float]
) -> Flag:
    label = "Small school"
    limit = th.get(("small_school", phase))
    if limit is None:
        return Flag(
            "small_school", label, NO_DATA, f"No size threshold set for {Phase(phase).label.lower()} schools."
        )
    if pupils is None or year is None:
        return Flag("small_school", label, NO_DATA, "No pupils on roll held.")
    text = f"{pupils} pupils on roll in {year_label(year)}; threshold for this phase: fewer than {limit:g}."
    return Flag("small_school", label, FLAG if pupils < limit else CLEAR, text)


def surplus_flag(s: Surplus | None, cap_year: int | None, th: dict[tuple[str, str], float]) -> Flag:
    label = "Surplus places"
    warn = threshold(th, "surplus_warning") or 10.0
    high = threshold(th, "surplus_high") or 25.0
    if s is None:
        return Flag("surplus", label, NO_DATA, "No capacity held for the school.")
    when = f" (capacity as at {year_label(cap_year)})" if cap_year else ""
    text = (
        f"{s.places} surplus places: {s.percent:.1f}% of a capacity of {s.capacity}{when} with {s.pupils} on roll "
        f"(watch at {warn:g}%, high at {high:g}%)."
    )
    status = FLAG if s.percent >= high else WARNING if s.percent >= warn else CLEAR
    return Flag("surplus", label, status, text)


def falling_demand_flag(intakes: Sequence[IntakeYear], th: dict[tuple[str, str], float]) -> Flag:
    label = "Falling demand (first preferences)"
    pct = threshold(th, "falling_preferences_pct") or 20.0
    window = int(threshold(th, "falling_roll_years") or 5)
    pts = [(i.year, i.first_preferences) for i in intakes if i.first_preferences is not None]
    if len(pts) < 2:
        return Flag("falling_demand", label, NO_DATA, "No admissions preferences held.")
    last_year, last = pts[-1]
    earlier = [(y, v) for y, v in pts if last_year - window <= y < last_year and v]
    if not earlier:
        return Flag("falling_demand", label, NO_DATA, "No earlier first preferences in the window.")
    first_year, first = earlier[0]
    change = percent_change(first, last)
    text = (
        f"{first} first preferences for entry in {first_year} to {last} in {last_year}: {change:+.1f}% "
        f"(threshold: a fall of more than {pct:g}%)."
    )
    return Flag("falling_demand", label, FLAG if change < -pct else CLEAR, text)


def finance_flag() -> Flag:
    return Flag(
        "finance",
        "Finance (deficit or reserves)",
        NO_DATA,
        "No data: no school finance (CFR/AAR) file has been imported, so finances are not assessed here.",
    )


# --------------------------------------------------------------------------------------------
# One school's picture


@dataclass
class SchoolFutureOptions:
    school: School
    series: dict[int, RollPoint]
    intakes: list[IntakeYear]
    projection: list[tuple[int, int]]
    capacity: int | None
    capacity_year: int | None
    surplus: Surplus | None
    flags: list[Flag]
    judgement: str = Judgement.NOT_INSPECTED

    @property
    def latest(self) -> RollPoint | None:
        pts = [p for p in self.series.values() if p.pupils is not None]
        return pts[-1] if pts else None

    @property
    def raised(self) -> list[Flag]:
        return [f for f in self.flags if f.raised]

    @property
    def judgement_label(self) -> str:
        return JUDGEMENT_LABELS.get(self.judgement, "")

    @property
    def intake_implied(self) -> IntakeImplied | None:
        return intake_implied_roll(self.school.phase, self.intakes)

    @property
    def projected_surplus(self) -> Surplus | None:
        if not self.projection:
            return None
        return surplus(self.capacity, self.projection[-1][1])


def _intakes(school_ids: list[int]) -> dict[int, list[IntakeYear]]:
    out: dict[int, list[IntakeYear]] = defaultdict(list)
    for i in IntakeYear.objects.filter(school_id__in=school_ids).order_by("year", "entry_year"):
        out[i.school_id].append(i)
    return out


def future_options(schools: QuerySet[School]) -> list[SchoolFutureOptions]:
    """The picture for every school given (already scoped), in name order. A handful of queries."""
    annotated = list(with_current_judgement(schools).order_by("name"))
    ids = [s.pk for s in annotated]
    series = roll_series(ids)
    intakes = _intakes(ids)
    th = thresholds()
    out = []
    for school in annotated:
        s = series.get(school.pk, {})
        pts = pupils_points(s)
        cap, cap_year = latest_capacity(s, school)
        latest = pts[-1] if pts else None
        sur = surplus(cap, latest[1]) if latest else None
        flags = [
            falling_roll_flag(pts, th),
            small_school_flag(school.phase, latest[1] if latest else None, latest[0] if latest else None, th),
            surplus_flag(sur, cap_year, th),
            falling_demand_flag(intakes.get(school.pk, []), th),
            finance_flag(),
        ]
        out.append(
            SchoolFutureOptions(
                school=school,
                series=s,
                intakes=intakes.get(school.pk, []),
                projection=project(pts),
                capacity=cap,
                capacity_year=cap_year,
                surplus=sur,
                flags=flags,
                judgement=judgement_key(school),
            )
        )
    return out


def for_school(school: School) -> SchoolFutureOptions:
    return future_options(School.objects.filter(pk=school.pk))[0]


# --------------------------------------------------------------------------------------------
# Local-authority totals


@dataclass(frozen=True)
class LAYear:
    year: int
    pupils: int
    schools: int
    capacity: int | None = None

    @property
    def label(self) -> str:
        return year_label(self.year)


@dataclass
class LATrend:
    years: list[LAYear]
    projection: list[tuple[int, int]]
    common_schools: int
    surplus: Surplus | None
    note: str = ""


def la_trend(rows: Sequence[SchoolFutureOptions]) -> LATrend:
    """Pupils on roll summed over the schools with a headcount in *every* year shown (so that a year is
    not higher only because more schools reported), projected by the same linear trend."""
    years = sorted({y for r in rows for y, p in r.series.items() if p.pupils is not None})
    # Keep years that most schools report (a year held for only a few schools is left out).
    counts = {y: sum(1 for r in rows if r.series.get(y) and r.series[y].pupils is not None) for y in years}
    most = max(counts.values(), default=0)
    years = [y for y in years if counts[y] >= 0.5 * most]
    common = [r for r in rows if all(r.series.get(y) and r.series[y].pupils is not None for y in years)]
    totals = [LAYear(y, sum(r.series[y].pupils or 0 for r in common), len(common)) for y in years]
    pts = [(t.year, t.pupils) for t in totals]
    with_cap = [r for r in common if r.capacity]
    sur = None
    if with_cap and years:
        sur = surplus(
            sum(r.capacity or 0 for r in with_cap), sum(r.series[years[-1]].pupils or 0 for r in with_cap)
        )
    return LATrend(
        years=totals,
        projection=project(pts),
        common_schools=len(common),
        surplus=sur,
        note=f"{len(common)} schools have a census headcount in every year shown; {len(with_cap)} of them have a capacity.",
    )


# --------------------------------------------------------------------------------------------
# Map


def map_points(rows: Sequence[SchoolFutureOptions]) -> list[dict[str, Any]]:
    """GeoJSON-ready points for schools with a grid reference."""
    out = []
    for r in rows:
        s = r.school
        if not s.easting or not s.northing:
            continue
        lat, lon = geo.to_wgs84(s.easting, s.northing)
        latest = r.latest
        out.append(
            {
                "urn": s.urn,
                "name": s.name,
                "phase": s.phase,
                "phase_label": s.get_phase_display(),
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "pupils": latest.pupils if latest else None,
                "surplus_pct": r.surplus.percent if r.surplus else None,
                "flags": [f.code for f in r.raised],
                "flag_labels": [f.label for f in r.raised],
                "url": reverse("futureoptions:school", args=[s.urn]),
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# Partner suggestions

JUDGEMENT_STRENGTH = {
    Judgement.OUTSTANDING: 4.0,
    Judgement.GOOD: 3.0,
    Judgement.REPORT_CARD_OK: 3.0,
    Judgement.REQUIRES_IMPROVEMENT: 2.0,
    Judgement.REPORT_CARD_CONCERN: 1.5,
    Judgement.INADEQUATE: 1.0,
}
HEADLINE: dict[str, tuple[str, str, str]] = {
    Phase.PRIMARY: ("ks2_rwm_expected", "KS2 reading, writing and maths at the expected standard", "%"),
    Phase.SECONDARY: ("ks4_progress8", "Progress 8", ""),
    Phase.ALL_THROUGH: ("ks4_progress8", "Progress 8", ""),
}
# Points for each reason (the score is their sum, out of 100).
WEIGHTS = {
    "distance": 30,
    "phase": 20,
    "faith": 15,
    "inspection": 15,
    "results": 10,
    "leader": 5,
    "stable": 5,
}
NEAR_M = 4000.0  # distance points fall linearly to zero at 4 km
NO_FAITH = {"", "none", "does not apply", "no religious character"}


@dataclass
class Reason:
    text: str
    points: float


@dataclass
class Suggestion:
    school: School
    distance_m: float
    reasons: list[Reason] = field(default_factory=list)

    @property
    def score(self) -> int:
        return round(sum(r.points for r in self.reasons))

    @property
    def distance_km(self) -> str:
        return f"{self.distance_m / 1000:.1f}"


def _faith(school: School) -> str:
    rc = (school.religious_character or "").strip()
    return "" if rc.lower() in NO_FAITH else rc


def _headline(school_ids: list[int], code: str) -> dict[int, tuple[int, float]]:
    out: dict[int, tuple[int, float]] = {}
    rows = SchoolMeasure.objects.filter(
        school_id__in=school_ids, measure__code=code, status=ValueStatus.OK, value__isnull=False
    ).values_list("school_id", "year", "value")
    for sid, year, value in rows:
        if sid not in out or year > out[sid][0]:
            out[sid] = (year, float(value or 0))
    return out


def partner_suggestions(
    target: SchoolFutureOptions, candidates: Sequence[SchoolFutureOptions], limit: int = 10
) -> list[Suggestion]:
    """Rank possible partners for `target` and say why: near (straight-line distance from the grid
    reference), same phase, same religious character (diocese), complementary strengths (a stronger
    current Ofsted judgement, better headline results), a head on the system-leadership register, and
    not itself vulnerable. Schools without a grid reference cannot be ranked by distance and are left out."""
    t = target.school
    if not t.easting or not t.northing:
        return []
    pool = [
        c
        for c in candidates
        if c.school.pk != t.pk and c.school.easting and c.school.northing and c.school.is_open
    ]
    ids = [t.pk, *(c.school.pk for c in pool)]
    head = HEADLINE.get(t.phase)
    results = _headline(ids, head[0]) if head else {}
    leaders = set(
        SystemLeaderInterest.objects.filter(school_id__in=ids, withdrawn=False).values_list(
            "school_id", flat=True
        )
    )
    t_faith = _faith(t)
    t_strength = JUDGEMENT_STRENGTH.get(target.judgement)
    out = []
    for c in pool:
        s = c.school
        d = geo.grid_distance_m((t.easting, t.northing), (s.easting, s.northing))  # type: ignore[arg-type]
        sug = Suggestion(s, d)
        near = WEIGHTS["distance"] * max(0.0, 1 - d / NEAR_M)
        sug.reasons.append(Reason(f"{d / 1000:.1f} km away (straight line)", round(near, 1)))
        if s.phase == t.phase:
            sug.reasons.append(Reason(f"Same phase ({s.get_phase_display().lower()})", WEIGHTS["phase"]))
        c_faith = _faith(s)
        if t_faith and c_faith == t_faith:
            sug.reasons.append(
                Reason(
                    f"Same religious character ({c_faith}): the same diocese or faith body", WEIGHTS["faith"]
                )
            )
        elif not t_faith and not c_faith:
            sug.reasons.append(Reason("Neither school has a religious character", WEIGHTS["faith"]))
        c_strength = JUDGEMENT_STRENGTH.get(c.judgement)
        if c_strength is not None and (t_strength is None or c_strength > t_strength):
            sug.reasons.append(
                Reason(
                    f"Stronger current Ofsted judgement ({c.judgement_label} against {target.judgement_label or 'none'})",
                    WEIGHTS["inspection"],
                )
            )
        if head and s.pk in results and t.pk in results and results[s.pk][1] > results[t.pk][1]:
            (cy, cv), (ty, tv) = results[s.pk], results[t.pk]
            sug.reasons.append(
                Reason(
                    f"Better {head[1]}: {cv:g}{head[2]} ({year_label(cy)}) against {tv:g}{head[2]} ({year_label(ty)})",
                    WEIGHTS["results"],
                )
            )
        if s.pk in leaders:
            sug.reasons.append(Reason("Headteacher on the system-leadership register", WEIGHTS["leader"]))
        if not any(f.status == FLAG for f in c.flags):
            sug.reasons.append(Reason("Not itself flagged as vulnerable", WEIGHTS["stable"]))
        out.append(sug)
    out.sort(key=lambda x: (-x.score, x.distance_m, x.school.name))
    return out[:limit]


def active_partnerships(school: School) -> list[Partnership]:
    return list(school.partnerships.exclude(status=PartnershipStatus.ENDED).order_by("name"))
