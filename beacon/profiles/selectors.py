"""What the public school profile shows. Read-only, and only ever from published sources:

* the school register (GIAS/census: name, type, address...),
* DfE measures (`beacon.indicators`), every figure through `beacon.profiles.suppression`,
* Ofsted's published judgements (`beacon.inspections`),
* the school's *published* narrative (`SchoolNarrative.published`, never the draft).

Nothing here imports the risk, assessments, support or interventions apps: internal judgements can't
reach a public page by accident. Schools come from `beacon.permissions.public_schools()`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models import Value as V
from django.db.models.functions import Replace, Upper

from beacon.core.formatting import academic_year
from beacon.indicators import selectors as ind
from beacon.indicators.catalogue import MeasureDef
from beacon.inspections import selectors as inspections
from beacon.profiles import suppression
from beacon.profiles.measures import DESTINATION_CODES as SCHOOL_DESTINATION_CODES
from beacon.profiles.measures import measure_def
from beacon.profiles.models import SECTIONS, SchoolNarrative
from beacon.profiles.suppression import PublicFigure
from beacon.schools.models import Phase, School

PAGE_SIZE = 20
PUBLIC_PHASES: tuple[str, ...] = (
    Phase.NURSERY,
    Phase.PRIMARY,
    Phase.SECONDARY,
    Phase.ALL_THROUGH,
    Phase.SPECIAL,
    Phase.ALTERNATIVE,
)
# The latest school-level results the data holds (school performance data ends in 2018/19).
LATEST_RESULTS_YEAR = 2018

# ---------------------------------------------------------------------------------------------
# The four groups of the Camden School Profile (Building Back Stronger, Goal 10)


@dataclass(frozen=True)
class Group:
    slug: str
    title: str
    summary: str
    narrative_field: str


GROUPS: tuple[Group, ...] = (
    Group(
        "school-and-community",
        "School and community context",
        "Pupils on roll, places, the community the school serves and its context.",
        "community",
    ),
    Group(
        "pupil-support",
        "Pupil support",
        "Special educational needs, attendance and how pupils are supported.",
        "support",
    ),
    Group(
        "achievement-and-destinations",
        "Achievement and destinations",
        "Results at the end of primary and secondary school, and what young people in Camden go on to do.",
        "achievement",
    ),
    Group(
        "curriculum-and-teaching",
        "Curriculum and teaching and learning",
        "The school's curriculum, the subjects pupils take and its latest Ofsted inspection.",
        "curriculum",
    ),
)
GROUP_BY_SLUG: dict[str, Group] = {g.slug: g for g in GROUPS}

# ---------------------------------------------------------------------------------------------
# Search

_POSTCODE_DISTRICT = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")
_POSTCODE_PART = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\d?[A-Z]{0,2}$")


@dataclass
class PublicSearch:
    name: str = ""
    area: str = ""
    phases: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> PublicSearch:
        getlist = getattr(params, "getlist", lambda k: [params[k]] if k in params else [])
        return cls(
            name=" ".join(str(params.get("name") or "").split())[:100],
            area=" ".join(str(params.get("area") or "").split())[:60],
            phases=[p for p in getlist("phase") if p in PUBLIC_PHASES],
        )

    @property
    def active(self) -> bool:
        return bool(self.name or self.area or self.phases)


def area_q(area: str) -> Q:
    """A postcode district ('NW5'), a partial or full postcode ('NW5 1', 'NW51UJ'), or a place name
    (locality, town, ward or street: 'Kentish Town', 'Hampstead')."""
    text = area.strip()
    compact = text.replace(" ", "").upper()
    if _POSTCODE_DISTRICT.match(compact) and " " not in text.strip():
        # A whole district: 'NW1' must not match 'NW10'; a district with sub-districts ('WC1', 'EC1')
        # matches them all ('WC1A' ... 'WC1X').
        q = Q(postcode__istartswith=f"{compact} ") | Q(postcode__iexact=compact)
        if compact[-1].isdigit():
            q |= Q(postcode__iregex=rf"^{re.escape(compact)}[A-Z] ")
        return q
    if _POSTCODE_PART.match(compact):
        return Q(postcode_compact__startswith=compact)
    return (
        Q(locality__icontains=text)
        | Q(town__icontains=text)
        | Q(ward__icontains=text)
        | Q(street__icontains=text)
    )


def search(schools: QuerySet[School], f: PublicSearch) -> QuerySet[School]:
    """Filter the public schools (from permissions.public_schools()) by name, area and phase."""
    qs = schools.annotate(postcode_compact=Upper(Replace("postcode", V(" "), V(""))))
    for word in f.name.split():
        qs = qs.filter(name__icontains=word)
    if f.area:
        qs = qs.filter(area_q(f.area))
    if f.phases:
        qs = qs.filter(phase__in=f.phases)
    return qs.order_by("name", "urn")


def phase_options(schools: QuerySet[School]) -> list[tuple[str, str]]:
    present = set(schools.order_by().values_list("phase", flat=True).distinct())
    return [(v, Phase(v).label) for v in PUBLIC_PHASES if v in present]


@dataclass(frozen=True)
class ResultRow:
    school: School
    phase_label: str
    pupils: PublicFigure
    has_narrative: bool


def result_rows(schools: Sequence[School]) -> list[ResultRow]:
    values = ind.school_values([s.pk for s in schools], ["pupils"])
    published = set(
        SchoolNarrative.objects.published()
        .filter(school__in=[s.pk for s in schools])
        .exclude(published={})
        .values_list("school_id", flat=True)
    )
    rows = []
    for s in schools:
        v = ind.latest_value(values.get((s.pk, "pupils"), {}))
        rows.append(
            ResultRow(
                school=s,
                phase_label=Phase(s.phase).label if s.phase in Phase.values else s.phase,
                pupils=suppression.public_count(v.value, v.status, v.year) if v else suppression.no_data(),
                has_narrative=s.pk in published,
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Figures and comparisons


@dataclass(frozen=True)
class FigureRow:
    """One measure for one year: the school and its comparators (same year), all suppressed as needed."""

    code: str
    label: str
    year: int | None
    school: PublicFigure
    areas: list[tuple[str, PublicFigure]]
    note: str = ""

    @property
    def year_label(self) -> str:
        return academic_year(self.year)


@dataclass(frozen=True)
class Trend:
    """A measure over years for the school, with the same years for its comparators."""

    code: str
    label: str
    rows: list[FigureRow]  # one per year, oldest first
    area_names: list[str] = field(default_factory=list)  # comparator columns (none for counts)


COHORT_FOR: dict[str, str] = {"ks2": "ks2_pupils", "ks4": "ks4_pupils", "ks4dest": "ks4dest_cohort"}
COHORT_FOR_CODE: dict[str, str] = {"ks4dest_overall_disadvantaged": "ks4dest_cohort_disadvantaged"}
WHOLE_SCHOOL_TOPICS = frozenset({"context", "attendance", "behaviour"})


def has_area_figures(code: str) -> bool:
    """Counts (cohort sizes, pupils on roll) are not compared with areas, the sizes are not alike; and
    school destinations have no area source of the same definition."""
    m = measure_def(code)
    return m.unit != "count" and m.topic != "ks4dest"


SPECIAL_PEERS = -1  # the comparator key for "special schools in the LA (average)"
MIN_PEERS = 2


def special_school_averages(school: School, codes: Sequence[str]) -> dict[tuple[int, str], ind.Series]:
    """(SPECIAL_PEERS, code) -> {year: mean of the published values of the LA's public special schools that
    year}, for years at least MIN_PEERS special schools have a figure (rates only; counts are not averaged)."""
    from beacon.schools.lookup import public_schools

    peers = list(
        public_schools().filter(la_code=school.la_code, phase=Phase.SPECIAL).values_list("pk", flat=True)
    )
    rates = [c for c in codes if measure_def(c).unit != "count"]
    values = ind.school_values(peers, rates)
    by: dict[tuple[str, int], list[float]] = {}
    for (_sid, code), series in values.items():
        for year, v in series.items():
            if v.is_published and v.value is not None:
                by.setdefault((code, year), []).append(float(v.value))
    out: dict[tuple[int, str], ind.Series] = {}
    for (code, year), vals in by.items():
        if len(vals) >= MIN_PEERS:
            out.setdefault((SPECIAL_PEERS, code), {})[year] = ind.Value(year, sum(vals) / len(vals))
    return out


SPECIAL_CONTEXT = (
    "This is a special school: its pupils have education, health and care plans, and many take "
    "different qualifications or sit tests at a different time, so results and attendance are not "
    "comparable with all schools. Figures are compared with the average of the other special schools in the "
    "same local authority, for the same year; a figure of 0% often means pupils were not entered, not that "
    "they did not achieve."
)


class _Data:
    """Every value a profile page needs, read once: the school's series and its comparators'."""

    def __init__(self, school: School, codes: Sequence[str]) -> None:
        self.school = school
        la = school.la_code
        region = ind.region_code_for(la) if la else ind.LONDON
        la_name = school.la_name or (ind.area_name(la) if la else "")
        self.special = school.phase == Phase.SPECIAL
        self.areas: list[tuple[str, int]] = [(la_name or "Local authority", la)] if la else []
        self.areas += [("London" if region == ind.LONDON else ind.area_name(region), region)]
        self.areas += [("England", ind.ENGLAND)]
        cohort_codes = {"pupils", *COHORT_FOR.values(), *COHORT_FOR_CODE.values()}
        wanted = sorted(set(codes) | cohort_codes)
        sv = ind.school_values([school.pk], wanted)
        self.mine: dict[str, ind.Series] = {c: sv.get((school.pk, c), {}) for c in wanted}
        self.geo_areas = list(self.areas)  # LA, region, England: for LA-wide figures (area_only)
        self.area_series = ind.area_values([c for _n, c in self.areas], codes)
        if self.special:
            # A special school is compared with the average of its LA's special schools, not with all
            # schools (whose pupils are not alike): issue 14.
            self.areas = [(f"{la_name or 'Local authority'} special schools (average)", SPECIAL_PEERS)]
            self.area_series.update(special_school_averages(school, codes))

    def cohort(self, m: MeasureDef, year: int) -> ind.Value | None:
        if m.unit == "count":
            return None
        code = (
            COHORT_FOR_CODE.get(m.code)
            or COHORT_FOR.get(m.topic)
            or ("pupils" if m.topic in WHOLE_SCHOOL_TOPICS else None)
        )
        return self.mine.get(code, {}).get(year) if code else None

    def school_figure(self, code: str, year: int | None) -> PublicFigure:
        m = measure_def(code)
        v = self.mine.get(code, {}).get(year) if year is not None else None
        if v is None:
            return suppression.no_data(year)
        c = self.cohort(m, year) if year is not None else None
        return suppression.public_figure(
            m,
            v.value,
            v.status,
            v.year,
            cohort=c.value if c is not None and c.status == "ok" else None,
            cohort_status=c.status if c is not None else "ok",
        )

    def area_figure(self, code: str, area: int, year: int | None) -> PublicFigure:
        m = measure_def(code)
        v = self.area_series.get((area, code), {}).get(year) if year is not None else None
        if v is None:
            return suppression.no_data(year)
        return suppression.public_figure(m, v.value, v.status, v.year)

    def row(self, code: str, year: int | None, *, with_areas: bool = True, note: str = "") -> FigureRow:
        with_areas = with_areas and has_area_figures(code)
        return FigureRow(
            code=code,
            label=measure_def(code).label,
            year=year,
            school=self.school_figure(code, year),
            areas=[(name, self.area_figure(code, c, year)) for name, c in self.areas] if with_areas else [],
            note=note,
        )

    def latest_year(self, code: str) -> int | None:
        """The newest year the school has a row for this measure (published or withheld)."""
        series = self.mine.get(code, {})
        return max(series) if series else None

    def latest(self, code: str, *, with_areas: bool = True) -> FigureRow | None:
        year = self.latest_year(code)
        return None if year is None else self.row(code, year, with_areas=with_areas)

    def trend(self, code: str) -> Trend | None:
        years = sorted(self.mine.get(code, {}))
        if not years:
            return None
        with_areas = has_area_figures(code)
        return Trend(
            code,
            measure_def(code).label,
            [self.row(code, y, with_areas=with_areas) for y in years],
            [n for n, _c in self.areas] if with_areas else [],
        )

    def area_only(self, code: str, *, years: int = 3) -> Trend | None:
        """An LA-wide measure (no school figure): the LA's last `years` years with London and England."""
        la = self.geo_areas[0][1] if self.geo_areas else None
        series = self.area_series.get((la, code), {}) if la else {}
        held = sorted(y for y, v in series.items() if v.status == "ok" and v.value is not None)[-years:]
        if not held:
            return None
        return Trend(
            code,
            measure_def(code).label,
            [
                FigureRow(
                    code=code,
                    label=measure_def(code).label,
                    year=y,
                    school=suppression.no_data(y),
                    areas=[(name, self.area_figure(code, c, y)) for name, c in self.geo_areas],
                )
                for y in held
            ],
            [n for n, _c in self.geo_areas],
        )


# ---------------------------------------------------------------------------------------------
# The profile


@dataclass(frozen=True)
class Fact:
    label: str
    text: str
    year_label: str = ""


@dataclass(frozen=True)
class Inspection:
    """The standing Ofsted judgement, as Ofsted publishes it."""

    date: dt.date | None
    is_report_card: bool
    overall: str
    grades: list[tuple[str, str]]
    safeguarding: str
    report_url: str
    later: str = (
        ""  # a later inspection of another kind, as published (e.g. an ungraded 'School remains Good')
    )


@dataclass(frozen=True)
class Paragraphs:
    title: str
    paragraphs: list[str]


def paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def published_narrative(school: School) -> dict[str, list[str]]:
    """The school's *published* sections as paragraphs (empty when nothing is published)."""
    row = SchoolNarrative.objects.published().filter(school=school).first()
    if row is None or not isinstance(row.published, dict):
        return {}
    return {f: paragraphs(str(row.published.get(f, ""))) for f, _l, _h in SECTIONS if row.published.get(f)}


def _later_inspection(cj: dict[str, Any]) -> str:
    latest = cj.get("latest_any")
    if not latest or latest["inspection_id"] == cj["inspection_id"]:
        return ""
    return f"{latest['kind']}, {latest['date'].strftime('%-d %B %Y')}: {latest['outcome']}"


def public_inspection(school: School) -> Inspection | None:
    cj = inspections.current_judgement(school)
    if cj["framework"] is None:
        return None
    return Inspection(
        date=cj["date"],
        is_report_card=bool(cj["is_report_card"]),
        overall=cj["overall_label"] or "",
        grades=[
            (g["area_label"].replace(" (legacy)", ""), g["label"])
            for g in cj["grades"]
            if not (cj["is_report_card"] and g["area"] == "safeguarding")
        ],
        safeguarding=cj["safeguarding_label"] or "",
        report_url=f"https://reports.ofsted.gov.uk/provider/21/{school.urn}",
        later=_later_inspection(cj),
    )


HOME_CODES = ("ks2_rwm_expected", "ks4_attainment8", "ks4_progress8", "ks4dest_overall", "absence_overall")
CONTEXT_CODES = ("pupils", "capacity", "fsm", "fsm_ever6", "eal")
SUPPORT_CODES = ("sen_support", "sen_ehcp", "absence_overall", "absence_persistent")
KS2_CODES = (
    "ks2_rwm_expected",
    "ks2_rwm_higher",
    "ks2_reading_expected",
    "ks2_writing_expected",
    "ks2_maths_expected",
    "ks2_reading_progress",
    "ks2_writing_progress",
    "ks2_maths_progress",
)
KS4_CODES = ("ks4_attainment8", "ks4_progress8", "ks4_em_grade5", "ks4_em_grade4")
CURRICULUM_CODES = ("ks4_ebacc_entry", "ks4_ebacc_aps")
AREA_DESTINATION_CODES = ("participation_16_17", "neet_16_17", "level3_age19")
ALL_CODES = tuple(
    dict.fromkeys(
        (
            *HOME_CODES,
            *CONTEXT_CODES,
            *SUPPORT_CODES,
            *KS2_CODES,
            "ks2_pupils",
            *KS4_CODES,
            "ks4_pupils",
            *CURRICULUM_CODES,
            *AREA_DESTINATION_CODES,
            *SCHOOL_DESTINATION_CODES,
        )
    )
)


@dataclass
class Profile:
    school: School
    phase_label: str
    facts: list[Fact]
    narrative: dict[str, list[str]]
    headline: list[FigureRow]
    inspection: Inspection | None
    area_names: list[str]
    groups: tuple[Group, ...] = GROUPS
    context_note: str = ""


@dataclass(frozen=True)
class Snapshot:
    """Several measures of one year, one table (e.g. the destinations of one year 11 cohort)."""

    heading: str
    caption: str
    year: int
    rows: list[FigureRow]

    @property
    def year_label(self) -> str:
        return academic_year(self.year)


@dataclass
class Section:
    """A detail page under one of the four groups."""

    group: Group
    narrative: list[str]
    facts: list[Fact] = field(default_factory=list)
    tables: list[tuple[str, list[FigureRow]]] = field(default_factory=list)  # (caption, rows)
    trends: list[tuple[str, list[Trend]]] = field(default_factory=list)  # (heading, trends)
    area_only: list[Trend] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    inspection: Inspection | None = None
    area_names: list[str] = field(default_factory=list)


def _is_primary(school: School) -> bool:
    return school.phase in {Phase.PRIMARY, Phase.MIDDLE, Phase.ALL_THROUGH}


def _is_secondary(school: School) -> bool:
    return school.phase in {Phase.SECONDARY, Phase.MIDDLE, Phase.ALL_THROUGH}


def _facts(school: School, data: _Data) -> list[Fact]:
    facts = [
        Fact("Type of school", school.establishment_type or Phase(school.phase).label),
        Fact("Ages", school.age_range) if school.age_range else None,
        Fact("Boys and girls", school.gender) if school.gender else None,
        Fact("Religious character", school.religious_character)
        if school.religious_character and school.religious_character.lower() not in {"none", "does not apply"}
        else None,
    ]
    pupils = data.latest("pupils", with_areas=False)
    if pupils is not None:
        facts.append(Fact("Pupils on roll", pupils.school.text, pupils.year_label))
    capacity = data.latest("capacity", with_areas=False)
    if capacity is not None:
        facts.append(Fact("Places (capacity)", capacity.school.text, capacity.year_label))
    elif school.capacity:
        cap = suppression.public_count(float(school.capacity))
        facts.append(Fact("Places (capacity)", cap.text, "as registered"))
    fsm = data.latest("fsm", with_areas=False)
    if fsm is not None:
        facts.append(Fact("Pupils eligible for free school meals", fsm.school.text, fsm.year_label))
    return [f for f in facts if f is not None]


def profile(school: School) -> Profile:
    data = _Data(school, ALL_CODES)
    headline: list[FigureRow] = []
    for code in HOME_CODES:
        if code.startswith("ks2") and not _is_primary(school):
            continue
        if code.startswith("ks4") and not _is_secondary(school):
            continue
        row = data.latest(code)
        if row is not None:
            headline.append(row)
    return Profile(
        school=school,
        phase_label=Phase(school.phase).label,
        facts=_facts(school, data),
        narrative=published_narrative(school),
        headline=headline,
        inspection=public_inspection(school),
        area_names=[n for n, _c in data.areas],
        context_note=SPECIAL_CONTEXT if data.special else "",
    )


def section(school: School, group: Group) -> Section:
    data = _Data(school, ALL_CODES)
    narrative = published_narrative(school).get(group.narrative_field, [])
    out = Section(group=group, narrative=narrative, area_names=[n for n, _c in data.areas])
    if group.slug == "school-and-community":
        out.facts = [
            *_facts(school, data),
            Fact("Address", school.address),
            *([Fact("Ward", school.ward)] if school.ward else []),
            *([Fact("Admissions policy", school.admissions_policy)] if school.admissions_policy else []),
            *([Fact("Trust", school.trust_name)] if school.trust_name else []),
        ]
        out.trends = [
            ("Pupils", [t for t in (data.trend(c) for c in CONTEXT_CODES) if t is not None]),
        ]
    elif group.slug == "pupil-support":
        out.trends = [
            ("Special educational needs", [t for t in (data.trend(c) for c in SUPPORT_CODES[:2]) if t]),
            ("Attendance", [t for t in (data.trend(c) for c in SUPPORT_CODES[2:]) if t]),
        ]
    elif group.slug == "achievement-and-destinations":
        if _is_primary(school) or data.mine.get("ks2_pupils") or data.mine.get("ks2_reading_progress"):
            out.trends.append(
                (
                    "End of primary school (key stage 2)",
                    [t for t in (data.trend(c) for c in ("ks2_pupils", *KS2_CODES)) if t],
                )
            )
        if _is_secondary(school) or data.mine.get("ks4_pupils"):
            out.trends.append(
                (
                    "GCSEs (key stage 4)",
                    [t for t in (data.trend(c) for c in ("ks4_pupils", *KS4_CODES)) if t],
                )
            )
        year = data.latest_year("ks4dest_cohort")
        if year is not None:
            out.snapshots.append(
                Snapshot(
                    "Where pupils went after year 11",
                    f"Pupils who finished year 11 in {academic_year(year - 1)}: "
                    f"where they were in {academic_year(year)}",
                    year,
                    [data.row(c, year) for c in SCHOOL_DESTINATION_CODES],
                )
            )
        out.area_only = [t for t in (data.area_only(c) for c in AREA_DESTINATION_CODES) if t]
    elif group.slug == "curriculum-and-teaching":
        out.inspection = public_inspection(school)
        if _is_secondary(school) or data.mine.get("ks4_ebacc_entry"):
            out.trends.append(
                ("Subjects taken at GCSE", [t for t in (data.trend(c) for c in CURRICULUM_CODES) if t])
            )
    out.trends = [(h, ts) for h, ts in out.trends if ts]
    return out


# ---------------------------------------------------------------------------------------------
# Signed-in narrative workflow (schools come from permissions.profile_narrative_schools)


@dataclass(frozen=True)
class NarrativeRow:
    school: School
    status: str
    status_label: str
    submitted_at: dt.datetime | None
    published_at: dt.datetime | None


def narrative_rows(schools: QuerySet[School]) -> list[NarrativeRow]:
    from beacon.profiles.models import NarrativeStatus

    by_school = {n.school_id: n for n in SchoolNarrative.objects.filter(school__in=schools)}
    rows = []
    for s in schools.order_by("name"):
        n = by_school.get(s.pk)
        status = n.status if n is not None else ""
        rows.append(
            NarrativeRow(
                school=s,
                status=status,
                status_label=NarrativeStatus(status).label if status else "Not started",
                submitted_at=n.submitted_at if n is not None else None,
                published_at=n.published_at if n is not None else None,
            )
        )
    return rows


@dataclass(frozen=True)
class HistoryEntry:
    when: dt.datetime
    who: str
    what: str


def narrative_history(narrative: SchoolNarrative) -> list[HistoryEntry]:
    """Every saved change of the narrative (django-simple-history), newest first."""
    if narrative.pk is None:
        return []
    return [
        HistoryEntry(
            when=h.history_date,
            who=str(h.history_user) if h.history_user else "System",
            what=h.history_change_reason or {"+": "Created", "~": "Changed", "-": "Deleted"}[h.history_type],
        )
        for h in narrative.history.select_related("history_user").order_by("-history_date", "-history_id")
    ]
