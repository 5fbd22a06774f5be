"""Read side of future options: roll series, projections, surplus places, vulnerability flags with
evidence, map points and partner suggestions. Pure functions over rows the caller has already scoped
through beacon.permissions (callers pass `visible_schools(user)` querysets)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from beacon.futureoptions import geo
from beacon.futureoptions.models import (
    APPROXIMATE,
    IntakeYear,
    Partnership,
    PartnershipStatus,
    RollRecord,
    SchoolLocation,
    SystemLeaderInterest,
    Threshold,
    YearGroupCount,
)
from beacon.indicators.models import SchoolMeasure, ValueStatus
from beacon.inspections.judgements import JUDGEMENT_LABELS, Judgement, judgement_key, with_current_judgement
from beacon.schools.models import Phase, School

PROJECTION_YEARS = 3
CENSUS_SOURCE = "School census (January headcount)"
PROJECTION_METHOD = (
    "Cohort survival (docs/decisions/0021-roll-projections.md). Where the latest census holds year groups, "
    "each year group moves up, the oldest leaves and each new entry class is the places offered times the "
    "take-up of places by the three youngest cohorts (range: lowest and highest take-up and recent entries); "
    "nursery classes and sixth forms are held. Otherwise a mainstream school's roll is the sum of "
    "the cohorts it holds: the entries (places offered on national offer day) of the last 7 years for "
    "Reception to Year 6, or 5 years for Year 7 to Year 11. The survival ratio is the census headcount "
    "divided by the entries of the cohorts then in the school, for every census year held; the projection "
    "for a later year is the latest ratio times the entries of the cohorts that year (entries not yet known "
    "taken as the mean of the last three), and the range uses the lowest and highest ratio (and the "
    "smallest and largest recent entry). Special schools, pupil referral units and alternative provision "
    "fill by placement, not entry: they are held at the latest headcount with a range from the headcounts "
    "held. Without entries the latest headcount is held. A projection reaches zero only when entries have "
    "fallen to zero."
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
        out[school_id][year] = RollPoint(year, round(value), old.capacity if old else None, CENSUS_SOURCE)
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
# Arithmetic: surplus


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


# --------------------------------------------------------------------------------------------
# Projections by kind of provision (docs/decisions/0021-roll-projections.md)

MAINSTREAM = "mainstream"
SPECIAL = "special"
HOSPITAL = "hospital"
ALTERNATIVE = "alternative"
NURSERY = "nursery"
PROVISION_LABELS = {
    MAINSTREAM: "Mainstream",
    SPECIAL: "Special school",
    HOSPITAL: "Hospital school",
    ALTERNATIVE: "Alternative provision (pupil referral unit)",
    NURSERY: "Nursery school",
}


def provision_kind(school: School) -> str:
    """The kind of provision whose own rules apply: a hospital school is registered as a special school but
    takes pupils while they are in hospital; special and alternative provision fill by placement."""
    text = f"{school.name} {school.establishment_type}".lower()
    if "hospital" in text:
        return HOSPITAL
    if school.phase == Phase.SPECIAL:
        return SPECIAL
    if school.phase == Phase.ALTERNATIVE or "pupil referral" in text or "alternative provision" in text:
        return ALTERNATIVE
    if school.phase == Phase.NURSERY:
        return NURSERY
    return MAINSTREAM


@dataclass(frozen=True)
class ProjectedYear:
    year: int
    pupils: int
    low: int
    high: int


@dataclass
class Projection:
    method: str  # "cohort_survival", "placements", "held"
    years: list[ProjectedYear]
    evidence: str
    ratios: dict[int, float] = field(default_factory=dict)  # census year -> survival ratio

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return [(p.year, p.pupils) for p in self.years]

    @property
    def label(self) -> str:
        return PROJECTION_LABELS[self.method]


PROJECTION_LABELS = {
    "year_groups": "Cohort survival from year groups",
    "cohort_survival": "Cohort survival from entries",
    "placements": "Placements: held at the latest headcount",
    "held": "No entries held: latest headcount held",
}


def _median(values: Sequence[float]) -> float:
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def _cohort_entries(offers: dict[int, int], year: int, groups: int) -> list[int] | None:
    """Entries of the `groups` cohorts in school in `year` (entry years year-groups+1..year); None unless
    every one is held."""
    wanted = range(year - groups + 1, year + 1)
    if any(y not in offers for y in wanted):
        return None
    return [offers[y] for y in wanted]


def cohort_survival(
    phase: str,
    points: Sequence[tuple[int, int]],
    intakes: Sequence[IntakeYear],
    years: int = PROJECTION_YEARS,
) -> Projection | None:
    """Roll projected from entries and survival ratios; None without a single entry point, a headcount or
    the entries of every cohort in school in at least one census year."""
    groups = YEAR_GROUPS.get(phase)
    offers = {i.year: i.places_offered for i in intakes if i.places_offered is not None}
    if groups is None or not offers or not points:
        return None
    ratios: dict[int, float] = {}
    for y, pupils in points:
        entries = _cohort_entries(offers, y, groups)
        if entries and sum(entries):
            ratios[y] = pupils / sum(entries)
    recent = [offers[y] for y in sorted(offers)[-3:]]
    mean_entry = sum(recent) / len(recent)
    last, last_pupils = points[-1]
    estimated = ""
    if last not in ratios and min(offers) <= last - groups + 1 and last > max(offers):
        # A census newer than the entries held: its ratio with the entries not yet held taken as the
        # recent mean, so the projection starts from the latest headcount.
        wanted = range(last - groups + 1, last + 1)
        if all(e in offers or e > max(offers) for e in wanted):
            total = sum(offers.get(e, mean_entry) for e in wanted)
            if total:
                ratios[last] = last_pupils / total
                estimated = (
                    f" ({year_label(last)} with entries after {max(offers)} estimated as the recent mean)"
                )
    if not ratios:
        return None
    latest_year = max(ratios)
    central, low_r, high_r = ratios[latest_year], min(ratios.values()), max(ratios.values())
    out = []
    for y in range(last + 1, last + years + 1):
        known = [offers[e] for e in range(y - groups + 1, y + 1) if e in offers and e <= max(offers)]
        unknown = groups - len(known)
        mid = central * (sum(known) + unknown * mean_entry)
        lo = low_r * (sum(known) + unknown * min(recent))
        hi = high_r * (sum(known) + unknown * max(recent))
        out.append(ProjectedYear(y, round(mid), round(min(lo, mid)), round(max(hi, mid))))
    ratio_text = ", ".join(f"{year_label(y)} {r:.2f}" for y, r in sorted(ratios.items()))
    entries_text = ", ".join(f"{y} {offers[y]}" for y in sorted(offers)[-3:])
    evidence = (
        f"Survival ratios (headcount / entries of the cohorts in school): {ratio_text}{estimated}; the "
        f"projection uses the latest, {central:.2f} ({year_label(latest_year)}), the range the lowest and "
        f"highest. Latest entries: {entries_text}."
    )
    if min(recent) == 0:
        evidence += " Entries have fallen to zero: the projection falls with them."
    return Projection("cohort_survival", out, evidence, ratios)


COHORT_GROUPS: dict[str, tuple[str, ...]] = {
    Phase.PRIMARY: ("R", "1", "2", "3", "4", "5", "6"),
    Phase.SECONDARY: ("7", "8", "9", "10", "11"),
}


COLLAPSE_TAKEUP = 0.5  # median take-up of offers below this: the intake is shown as collapsing


def _group_label(g: str) -> str:
    return "Reception" if g == "R" else f"Year {g}"


def year_group_projection(
    phase: str,
    points: Sequence[tuple[int, int]],
    year_groups: dict[int, dict[str, int]],
    intakes: Sequence[IntakeYear],
    years: int = PROJECTION_YEARS,
) -> Projection | None:
    """Cohort survival from the year groups of the latest census (when that census holds them): each year
    group moves up intact, the oldest leaves, and each new entry class is the places offered times the
    take-up (pupils in a year group / places offered when it entered) of the three youngest cohorts (median;
    range: lowest and highest take-up and recent entries). Pupils outside the phase's year groups (nursery
    classes, a sixth form) are held. None without year groups for the latest census year or without entries."""
    seq = COHORT_GROUPS.get(phase)
    offers = {i.year: i.places_offered for i in intakes if i.places_offered is not None}
    if seq is None or not points or not offers:
        return None
    y0, headcount = points[-1]
    counts = year_groups.get(y0)
    if not counts:
        return None
    in_phase = [counts.get(g, 0) for g in seq]
    if not sum(in_phase):
        return None
    other = max(0, headcount - sum(in_phase))
    takeup = {seq[i]: in_phase[i] / offers[y0 - i] for i in range(min(3, len(seq))) if offers.get(y0 - i)}
    if not takeup:
        return None
    recent = [offers[y] for y in sorted(offers)[-3:]]
    mean_entry = sum(recent) / len(recent)
    mid_r, lo_r, hi_r = _median(list(takeup.values())), min(takeup.values()), max(takeup.values())
    out = []
    for k in range(1, years + 1):
        carried = sum(in_phase[: len(seq) - k]) if k < len(seq) else 0
        new_years = [y0 + j for j in range(1, min(k, len(seq)) + 1)]
        mid = carried + other + sum(mid_r * offers.get(e, mean_entry) for e in new_years)
        lo = carried + other + sum(lo_r * (offers[e] if e in offers else min(recent)) for e in new_years)
        hi = carried + other + sum(hi_r * (offers[e] if e in offers else max(recent)) for e in new_years)
        out.append(ProjectedYear(y0 + k, round(mid), round(min(lo, mid)), round(max(hi, mid))))
    groups_text = ", ".join(f"{_group_label(g)} {n}" for g, n in zip(seq, in_phase, strict=True))
    takeup_text = ", ".join(f"{_group_label(g)} {r:.2f}" for g, r in takeup.items())
    entries_text = ", ".join(f"{y} {offers[y]}" for y in sorted(offers)[-3:])
    evidence = (
        f"Year groups in {year_label(y0)}: {groups_text}"
        + (f"; {other} other pupils (nursery or sixth form) held" if other else "")
        + f". Take-up of places offered at entry: {takeup_text}; median {mid_r:.2f}. Latest entries: "
        f"{entries_text}. Each year group moves up intact and the oldest leaves (one census year of year "
        "groups is held, so year-to-year survival is not measured)."
    )
    if mid_r < COLLAPSE_TAKEUP:
        evidence += (
            f" Fewer than {COLLAPSE_TAKEUP:.0%} of the places offered became pupils in the youngest year groups "
            f"({_group_label(seq[0])}: {in_phase[0]} pupils for {offers[y0]} places offered): a collapsing intake."
        )
    return Projection("year_groups", out, evidence)


def placements_projection(
    points: Sequence[tuple[int, int]], kind: str, years: int = PROJECTION_YEARS
) -> Projection | None:
    """Special, hospital and alternative provision, and schools without entries: the latest headcount held,
    with a range from every headcount held (never zero unless the school reported zero)."""
    if not points:
        return None
    last_year, last = points[-1]
    values = [v for _, v in points]
    lo, hi = min(min(values), last), max(max(values), last)
    method = "placements" if kind in {SPECIAL, HOSPITAL, ALTERNATIVE} else "held"
    if method == "placements":
        evidence = (
            f"{PROVISION_LABELS[kind]}: pupils are placed (commissioned places, hospital admissions or "
            f"referrals), so the roll is not driven by entries; held at {last} ({year_label(last_year)}), "
            f"range {lo} to {hi} from the headcounts held."
        )
    else:
        evidence = f"No entries held: held at {last} ({year_label(last_year)}), range {lo} to {hi} from the headcounts held."
    return Projection(
        method,
        [ProjectedYear(y, last, lo, hi) for y in range(last_year + 1, last_year + years + 1)],
        evidence,
    )


def project_school(
    school: School,
    points: Sequence[tuple[int, int]],
    intakes: Sequence[IntakeYear],
    year_groups: dict[int, dict[str, int]] | None = None,
) -> Projection | None:
    """Year groups where the latest census holds them, else entries, for mainstream schools; placements
    for special, hospital and AP provision and for schools with neither."""
    kind = provision_kind(school)
    if kind == MAINSTREAM:
        cohort = cohort_survival(school.phase, points, intakes)
        by_groups = year_group_projection(school.phase, points, year_groups or {}, intakes)
        if by_groups is not None:
            by_groups.ratios = cohort.ratios if cohort else {}
            return by_groups
        if cohort is not None:
            return cohort
    return placements_projection(points, kind)


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
    def raised(self) -> bool:
        return self.status in {FLAG, WARNING}


NOT_ASSESSED = "not_assessed"
STATUS_LABELS[NOT_ASSESSED] = "Not assessed"


def falling_roll_flag(
    points: Sequence[tuple[int, int]], th: dict[tuple[str, str], float], kind: str = MAINSTREAM
) -> Flag:
    """Mainstream schools use the phase-blank threshold; special, hospital and alternative provision use
    only a threshold set for their own kind (none set = not assessed, e.g. a hospital school, whose roll
    follows admissions to hospital)."""
    label = "Falling roll"
    if kind in (MAINSTREAM, NURSERY):
        pct = threshold(th, "falling_roll_pct") or 10.0
    else:
        own = th.get(("falling_roll_pct", kind))
        if own is None:
            return Flag(
                "falling_roll",
                label,
                NOT_ASSESSED,
                f"Not assessed for a {PROVISION_LABELS[kind].lower()}: no threshold is set for this kind of "
                "provision, whose roll follows placements rather than demand for places.",
            )
        pct = own
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


def roll_against_entries_flag(projection: Projection | None, th: dict[tuple[str, str], float]) -> Flag | None:
    """A headcount far below what the school's own entries imply (e.g. a census return that is incomplete,
    or pupils leaving mid-phase): raised with its evidence rather than projected to zero."""
    if projection is None or len(projection.ratios) < 2:
        return None
    pct = threshold(th, "roll_below_entries_pct") or 40.0
    last_year = max(projection.ratios)
    latest = projection.ratios[last_year]
    others = [r for y, r in projection.ratios.items() if y != last_year]
    typical = _median(others)
    if typical <= 0:
        return None
    gap = round(100 * (typical - latest) / typical, 1)
    text = (
        f"Survival ratio {latest:.2f} in {year_label(last_year)} against {typical:.2f} in earlier years: "
        f"the headcount is {gap:g}% below what the entries imply (threshold: {pct:g}%)."
    )
    return Flag("roll_below_entries", "Headcount below entries", FLAG if gap > pct else CLEAR, text)


def small_school_flag(
    phase: str, pupils: int | None, year: int | None, th: dict[tuple[str, str], float]
) -> Flag:
    label = "Small school"
    limit = th.get(("small_school", phase))
    if limit is None and phase in {Phase.SPECIAL, Phase.ALTERNATIVE, Phase.NURSERY}:
        return Flag(
            "small_school",
            label,
            NOT_ASSESSED,
            f"Not assessed: {Phase(phase).label.lower()} provision is sized by need, not by forms of entry.",
        )
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
    projection_detail: Projection | None = None
    kind: str = MAINSTREAM

    @property
    def kind_label(self) -> str:
        return PROVISION_LABELS[self.kind]

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
    groups: dict[int, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for sid, year, group, pupils in YearGroupCount.objects.filter(school_id__in=ids).values_list(
        "school_id", "year", "group", "pupils"
    ):
        groups[sid][year][group] = pupils
    th = thresholds()
    out = []
    for school in annotated:
        s = series.get(school.pk, {})
        pts = pupils_points(s)
        cap, cap_year = latest_capacity(s, school)
        latest = pts[-1] if pts else None
        sur = surplus(cap, latest[1]) if latest else None
        kind = provision_kind(school)
        proj = project_school(school, pts, intakes.get(school.pk, []), groups.get(school.pk))
        flags = [
            falling_roll_flag(pts, th, kind),
            small_school_flag(school.phase, latest[1] if latest else None, latest[0] if latest else None, th),
            surplus_flag(sur, cap_year, th),
            falling_demand_flag(intakes.get(school.pk, []), th),
            finance_flag(),
        ]
        gap = roll_against_entries_flag(proj, th)
        if gap is not None:
            flags.insert(1, gap)
        out.append(
            SchoolFutureOptions(
                school=school,
                series=s,
                intakes=intakes.get(school.pk, []),
                projection=proj.pairs if proj else [],
                capacity=cap,
                capacity_year=cap_year,
                surplus=sur,
                flags=flags,
                judgement=judgement_key(school),
                projection_detail=proj,
                kind=kind,
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
    projection_range: list[ProjectedYear] = field(default_factory=list)


def la_trend(rows: Sequence[SchoolFutureOptions]) -> LATrend:
    """Pupils on roll summed over the schools with a headcount in *every* year shown (so that a year is
    not higher only because more schools reported), projected as the sum of those schools' projections
    (central, low and high) for the years every one of them is projected."""
    years = sorted({y for r in rows for y, p in r.series.items() if p.pupils is not None})
    # Keep years that most schools report (a year held for only a few schools is left out).
    counts = {y: sum(1 for r in rows if r.series.get(y) and r.series[y].pupils is not None) for y in years}
    most = max(counts.values(), default=0)
    years = [y for y in years if counts[y] >= 0.5 * most]
    common = [r for r in rows if all(r.series.get(y) and r.series[y].pupils is not None for y in years)]
    totals = [LAYear(y, sum(r.series[y].pupils or 0 for r in common), len(common)) for y in years]
    proj_years = sorted({p.year for r in common if r.projection_detail for p in r.projection_detail.years})
    projected = []
    for y in proj_years:
        cells = [
            next((p for p in r.projection_detail.years if p.year == y), None)
            for r in common
            if r.projection_detail
        ]
        held = [c for c in cells if c is not None]
        if len(held) == len(cells):
            projected.append(
                ProjectedYear(
                    y, sum(c.pupils for c in held), sum(c.low for c in held), sum(c.high for c in held)
                )
            )
    with_cap = [r for r in common if r.capacity]
    sur = None
    if with_cap and years:
        sur = surplus(
            sum(r.capacity or 0 for r in with_cap), sum(r.series[years[-1]].pupils or 0 for r in with_cap)
        )
    return LATrend(
        years=totals,
        projection=[(p.year, p.pupils) for p in projected],
        projection_range=projected,
        common_schools=len(common),
        surplus=sur,
        note=f"{len(common)} schools have a census headcount in every year shown; {len(with_cap)} of them have a capacity.",
    )


# --------------------------------------------------------------------------------------------
# Rolls by phase (borough and filter)

PHASE_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("nursery", "Nursery", (Phase.NURSERY,)),
    ("primary", "Primary", (Phase.PRIMARY, Phase.MIDDLE)),
    ("secondary", "Secondary", (Phase.SECONDARY, Phase.POST16)),
    ("all_through", "All-through", (Phase.ALL_THROUGH,)),
    ("special", "Special", (Phase.SPECIAL,)),
    ("alternative", "Alternative provision", (Phase.ALTERNATIVE,)),
    ("other", "Other", (Phase.OTHER,)),
)


@dataclass(frozen=True)
class PhaseCell:
    pupils: int
    schools: int


@dataclass
class PhaseRolls:
    """Census headcounts summed by phase for every census year held: rows[year][group] (groups with no
    school left out); `total[year]` is the sum of the groups, so the phases split the total."""

    groups: list[tuple[str, str]]
    rows: dict[int, dict[str, PhaseCell]]

    @property
    def years(self) -> list[int]:
        return sorted(self.rows)

    def total(self, year: int) -> PhaseCell:
        cells = self.rows[year].values()
        return PhaseCell(sum(c.pupils for c in cells), sum(c.schools for c in cells))

    def change(self, group: str) -> float | None:
        ys = [y for y in self.years if group in self.rows[y]]
        if len(ys) < 2 or not self.rows[ys[0]][group].pupils:
            return None
        return percent_change(self.rows[ys[0]][group].pupils, self.rows[ys[-1]][group].pupils)

    def chart(self, width: int = 600, bar: int = 28) -> list[dict[str, Any]]:
        """Stacked horizontal bars, one per year, as SVG rectangles (the table is the accessible version)."""
        biggest = max((self.total(y).pupils for y in self.years), default=0) or 1
        out = []
        for i, y in enumerate(self.years):
            x = 0.0
            segs = []
            for code, label in self.groups:
                cell = self.rows[y].get(code)
                if not cell:
                    continue
                w = width * cell.pupils / biggest
                segs.append(
                    {"code": code, "label": label, "x": round(x, 1), "w": round(w, 1), "pupils": cell.pupils}
                )
                x += w
            out.append({"year": y, "label": year_label(y), "y": i * (bar + 8), "h": bar, "segments": segs})
        return out


def phase_group(phase: str) -> str:
    return next((code for code, _, phases in PHASE_GROUPS if phase in phases), "other")


def phase_rolls(rows: Sequence[SchoolFutureOptions]) -> PhaseRolls:
    """Every school with a census headcount in a year counts in that year (GIAS-only years are not census
    years and are left out)."""
    table: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        g = phase_group(r.school.phase)
        for y, p in r.series.items():
            if p.pupils is not None and p.source == CENSUS_SOURCE:
                table[y][g].append(p.pupils)
    present = {g for cells in table.values() for g in cells}
    groups = [(code, label) for code, label, _ in PHASE_GROUPS if code in present]
    return PhaseRolls(
        groups,
        {y: {g: PhaseCell(sum(v), len(v)) for g, v in cells.items()} for y, cells in sorted(table.items())},
    )


# --------------------------------------------------------------------------------------------
# Map


def positions(schools: Iterable[School]) -> dict[int, tuple[float, float, str]]:
    """school id -> (latitude, longitude, basis): the GIAS easting/northing converted, else the 2024/25
    school list's latitude/longitude (SchoolLocation); schools with neither are absent."""
    schools = list(schools)
    out: dict[int, tuple[float, float, str]] = {}
    for s in schools:
        if s.easting and s.northing:
            lat, lon = geo.to_wgs84(s.easting, s.northing)
            out[s.pk] = (lat, lon, "GIAS grid reference")
    missing = [s.pk for s in schools if s.pk not in out]
    for loc in SchoolLocation.objects.filter(school_id__in=missing):
        basis = (
            "Approximate position: " + loc.source.removeprefix(APPROXIMATE).strip()
            if loc.source.startswith(APPROXIMATE)
            else "2024/25 school list (postcode)"
        )
        out[loc.school_id] = (loc.latitude, loc.longitude, basis)
    return out


MAP_LAYERS: dict[str, str] = {
    Phase.NURSERY: "nursery",
    Phase.PRIMARY: "primary",
    Phase.MIDDLE: "primary",
    Phase.SECONDARY: "secondary",
    Phase.ALL_THROUGH: "secondary",
    Phase.POST16: "secondary",
    Phase.SPECIAL: "special",
    Phase.ALTERNATIVE: "alternative",
}


def map_points(rows: Sequence[SchoolFutureOptions]) -> list[dict[str, Any]]:
    """GeoJSON-ready points for every school with a position (GIAS grid reference, else the 2024/25
    school list), with the layer it belongs to (nursery, primary, secondary, special, alternative)."""
    out = []
    pos = positions(r.school for r in rows)
    for r in rows:
        s = r.school
        if s.pk not in pos:
            continue
        lat, lon, basis = pos[s.pk]
        latest = r.latest
        out.append(
            {
                "urn": s.urn,
                "name": s.name,
                "phase": s.phase,
                "phase_label": s.get_phase_display(),
                "layer": MAP_LAYERS.get(s.phase, "other"),
                "position_basis": basis,
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


def partner_weights(th: dict[tuple[str, str], float] | None = None) -> dict[str, float]:
    """The points for each reason: Threshold rows `partner_weight` (editable in the admin), else the
    defaults above."""
    th = thresholds() if th is None else th
    return {k: th.get(("partner_weight", k), v) for k, v in WEIGHTS.items()}


def partner_group(school: School) -> str:
    """Who can partner whom: special (and hospital) schools with special schools, alternative provision
    with alternative provision, nursery with nursery, primaries with primaries, secondaries (and
    all-through) with secondaries."""
    kind = provision_kind(school)
    if kind in {SPECIAL, HOSPITAL}:
        return SPECIAL
    if kind in {ALTERNATIVE, NURSERY}:
        return kind
    return (
        "secondary"
        if phase_group(school.phase) in {"secondary", "all_through"}
        else phase_group(school.phase)
    )


def partner_suggestions(
    target: SchoolFutureOptions, candidates: Sequence[SchoolFutureOptions], limit: int = 10
) -> list[Suggestion]:
    """Rank possible partners of the same phase and kind for `target` and say why: near (straight-line
    distance between positions), same religious character (diocese), complementary strengths (a stronger
    current Ofsted judgement; better results in the latest year held, points in proportion to the gap up
    to a threshold), a head on the system-leadership register, and not itself vulnerable. Weights and
    limits are Threshold rows."""
    t = target.school
    group = partner_group(t)
    pool = [
        c for c in candidates if c.school.pk != t.pk and c.school.is_open and partner_group(c.school) == group
    ]
    pos = positions([t, *(c.school for c in pool)])
    if t.pk not in pos:
        return []
    pool = [c for c in pool if c.school.pk in pos]
    th = thresholds()
    weights = partner_weights(th)
    near_m = th.get(("partner_near_m", ""), NEAR_M)
    ids = [t.pk, *(c.school.pk for c in pool)]
    head = HEADLINE.get(t.phase)
    results = _headline(ids, head[0]) if head else {}
    current = max((y for y, _ in results.values()), default=None)
    full_gap = th.get(("partner_results_gap", head[0]), 0.0) if head else 0.0
    leaders = set(
        SystemLeaderInterest.objects.current().filter(school_id__in=ids).values_list("school_id", flat=True)
    )
    t_faith = _faith(t)
    t_strength = JUDGEMENT_STRENGTH.get(target.judgement)
    tlat, tlon, _ = pos[t.pk]
    out = []
    for c in pool:
        s = c.school
        if t.easting and t.northing and s.easting and s.northing:
            d = geo.grid_distance_m((t.easting, t.northing), (s.easting, s.northing))
        else:
            d = geo.haversine_m(tlat, tlon, pos[s.pk][0], pos[s.pk][1])
        sug = Suggestion(s, d)
        near = weights["distance"] * max(0.0, 1 - d / near_m)
        sug.reasons.append(Reason(f"{d / 1000:.1f} km away (straight line)", round(near, 1)))
        sug.reasons.append(Reason(f"Same phase and kind ({s.get_phase_display().lower()})", weights["phase"]))
        c_faith = _faith(s)
        if t_faith and c_faith == t_faith:
            sug.reasons.append(
                Reason(
                    f"Same religious character ({c_faith}): the same diocese or faith body", weights["faith"]
                )
            )
        elif not t_faith and not c_faith:
            sug.reasons.append(Reason("Neither school has a religious character", weights["faith"]))
        c_strength = JUDGEMENT_STRENGTH.get(c.judgement)
        if c_strength is not None and (t_strength is None or c_strength > t_strength):
            sug.reasons.append(
                Reason(
                    f"Stronger current Ofsted judgement ({c.judgement_label} against {target.judgement_label or 'none'})",
                    weights["inspection"],
                )
            )
        if (
            head
            and current is not None
            and results.get(s.pk, (None,))[0] == current
            and results.get(t.pk, (None,))[0] == current
            and results[s.pk][1] > results[t.pk][1]
        ):
            (cy, cv), tv = results[s.pk], results[t.pk][1]
            gap = cv - tv
            share = min(1.0, gap / full_gap) if full_gap else 1.0
            sug.reasons.append(
                Reason(
                    f"Better {head[1]}: {cv:g}{head[2]} against {tv:g}{head[2]} ({year_label(cy)}, the latest "
                    f"year held; a gap of {gap:g}, full points at {full_gap:g})",
                    round(weights["results"] * share, 1),
                )
            )
        if s.pk in leaders:
            sug.reasons.append(Reason("Headteacher on the system-leadership register", weights["leader"]))
        if not any(f.status == FLAG for f in c.flags):
            sug.reasons.append(Reason("Not itself flagged as vulnerable", weights["stable"]))
        out.append(sug)
    out.sort(key=lambda x: (-x.score, x.distance_m, x.school.name))
    return out[:limit]


def active_partnerships(school: School) -> list[Partnership]:
    return list(school.partnerships.exclude(status=PartnershipStatus.ENDED).order_by("name"))
