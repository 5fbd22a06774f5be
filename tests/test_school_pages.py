"""School list, school page and LA overview (Django test client; SQLite and PostgreSQL).

Schools are the real Camden register (census 2022/23 + GIAS). Results and inspections are written
through the ORM here with literal values, so each expected figure below is worked by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from beacon.core import charts
from tests.conftest import CAMDEN, make_user

ARGYLE = 100008  # Argyle Primary School, community primary, WC1H 9EG
ACLAND = 100053  # Acland Burghley School, community secondary, NW5 1UJ
BRECKNOCK = 100010  # Brecknock Primary School, NW1 9AL
HAVERSTOCK = 100049  # Haverstock School, secondary
HAMPSTEAD = 100050  # Hampstead School, secondary
BROOKFIELD = 100011  # Brookfield Primary School, N19 5DH


# ---------------------------------------------------------------------------------------------
# helpers


class _Tables(HTMLParser):
    """Collects every <table>: its attributes and rows of cell texts (th and td)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self._stack: list[dict[str, Any]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._stack.append({"attrs": dict(attrs), "rows": []})
        elif tag == "tr" and self._stack:
            self._stack[-1]["rows"].append([])
        elif tag in {"td", "th"} and self._stack:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._stack:
            self.tables.append(self._stack.pop())
        elif tag in {"td", "th"} and self._cell is not None and self._stack:
            self._stack[-1]["rows"][-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> list[dict[str, Any]]:
    p = _Tables()
    p.feed(html)
    return p.tables


def table_by(html: str, attr: str, value: str) -> list[list[str]]:
    found = [t["rows"] for t in tables(html) if t["attrs"].get(attr) == value]
    assert found, f"no table with {attr}={value}"
    return found[0]


def summary_rows(html: str) -> dict[str, str]:
    """govukSummaryList rows: key text -> value HTML (whitespace collapsed)."""
    pairs = re.findall(
        r'<dt class="govuk-summary-list__key">\s*(.*?)\s*</dt>\s*<dd class="govuk-summary-list__value">\s*(.*?)\s*</dd>',
        html,
        re.S,
    )
    return {unescape(k): " ".join(v.split()) for k, v in pairs}


def result_urns(html: str) -> set[int]:
    return {int(u) for u in re.findall(r'href="/schools/(\d+)/"', html)}


def signed_in(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def camden_open_state_funded() -> list[Any]:
    from beacon.schools.models import School

    return [s for s in School.objects.filter(la_code=CAMDEN) if s.is_open and s.is_state_funded]


def measure_id(code: str) -> int:
    from beacon.indicators.catalogue import ensure_measures

    return ensure_measures()[code]


def school_value(urn: int, code: str, year: int, value: float | None, status: str = "ok") -> None:
    from beacon.indicators.models import SchoolMeasure
    from beacon.schools.models import School

    SchoolMeasure.objects.create(
        school=School.objects.get(urn=urn), measure_id=measure_id(code), year=year, value=value, status=status
    )


def area(code: int, name: str, area_type: str, region: str = "", sub_region: str = "") -> Any:
    from beacon.indicators.models import Area

    return Area.objects.get_or_create(
        code=code,
        defaults={"name": name, "area_type": area_type, "region": region, "sub_region": sub_region},
    )[0]


def area_value(code: int, measure: str, year: int, value: float | None, status: str = "ok") -> None:
    from beacon.indicators.models import Area, AreaMeasure

    AreaMeasure.objects.create(
        area=Area.objects.get(code=code),
        measure_id=measure_id(measure),
        year=year,
        value=value,
        status=status,
    )


def inspect(urn: int, framework: str, start: dt.date, oe: int | None = None, **kw: Any) -> Any:
    from beacon.inspections.models import Inspection
    from beacon.schools.models import School

    grades = kw.pop("grades", {})
    i = Inspection.objects.create(
        school=School.objects.get(urn=urn),
        framework=framework,
        start_date=start,
        overall_effectiveness=oe,
        **kw,
    )
    for a, g in grades.items():
        i.grades.create(area=a, grade=g)
    return i


@pytest.fixture
def director(camden_register: None) -> Any:
    return make_user("dana", "director")


@pytest.fixture
def inspections(camden_register: None) -> dict[str, set[int]]:
    """One school per judgement category; expected categories worked out by hand."""
    inspect(ARGYLE, "legacy", dt.date(2019, 3, 5), 2)  # Good
    inspect(BRECKNOCK, "legacy", dt.date(2015, 1, 1), 3)
    inspect(BRECKNOCK, "legacy", dt.date(2018, 6, 1), 1)  # later: Outstanding
    inspect(
        BRECKNOCK, "ungraded", dt.date(2023, 2, 1), outcome_text="School remains outstanding"
    )  # no change
    inspect(ACLAND, "legacy", dt.date(2017, 1, 1), 4)  # Inadequate, later report card with a weak area
    inspect(
        ACLAND,
        "report_card",
        dt.date(2025, 12, 2),
        safeguarding_met=True,
        grades={"inclusion": 3, "achievement": 2, "curriculum_and_teaching": 4},
    )
    inspect(
        HAVERSTOCK,
        "report_card",
        dt.date(2026, 1, 14),
        safeguarding_met=True,
        grades={"inclusion": 3, "achievement": 4, "leadership_and_governance": 5},
    )
    inspect(HAMPSTEAD, "report_card", dt.date(2026, 2, 3), safeguarding_met=False, grades={"inclusion": 3})
    inspect(BROOKFIELD, "legacy", dt.date(2022, 11, 8), 3)  # Requires improvement
    return {
        "outstanding": {BRECKNOCK},
        "good": {ARGYLE},
        "requires_improvement": {BROOKFIELD},
        "inadequate": set(),
        "report_card_concern": {ACLAND, HAMPSTEAD},
        "report_card_ok": {HAVERSTOCK},
    }


# ---------------------------------------------------------------------------------------------
# School list: search and filters


@pytest.mark.django_db
def test_list_defaults_to_open_state_funded_schools(director: Any) -> None:
    html = signed_in(director).get("/schools/?page=1").content.decode()
    expected = camden_open_state_funded()
    assert f"{len(expected)} schools" in html
    # Camden's register has independent schools too (e.g. Broadhurst School, 100081): not by default.
    assert 100081 not in result_urns(html)
    with_independent = signed_in(director).get("/schools/?include=independent").content.decode()
    from beacon.schools.models import School

    all_open = School.objects.filter(la_code=CAMDEN, is_open=True).count()
    assert all_open > len(expected)
    assert f"{all_open} schools match" in with_independent


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("argyle", {ARGYLE}),
        ("ARGYLE primary", {ARGYLE}),
        (str(ACLAND), {ACLAND}),
        ("NW5 1UJ", {ACLAND}),
        ("nw51uj", {ACLAND}),
    ],
)
def test_search_by_name_urn_or_postcode(director: Any, q: str, expected: set[int]) -> None:
    html = signed_in(director).get("/schools/", {"q": q}).content.decode()
    assert result_urns(html) == expected


@pytest.mark.django_db
def test_search_by_postcode_district_matches_an_independent_count(director: Any) -> None:
    expected = {s.urn for s in camden_open_state_funded() if s.postcode.replace(" ", "").startswith("NW5")}
    assert len(expected) > 1
    html = signed_in(director).get("/schools/", {"q": "NW5"}).content.decode()
    assert result_urns(html) == expected


@pytest.mark.django_db
def test_phase_and_type_filters_narrow_results(director: Any) -> None:
    c = signed_in(director)
    schools = camden_open_state_funded()
    secondary = {s.urn for s in schools if s.phase == "secondary"}
    assert ACLAND in secondary and ARGYLE not in secondary
    assert result_urns(c.get("/schools/", {"phase": "secondary"}).content.decode()) == secondary
    both = {s.urn for s in schools if s.phase in {"secondary", "special"}}
    assert result_urns(c.get("/schools/?phase=secondary&phase=special").content.decode()) == both
    va = {s.urn for s in schools if s.establishment_type == "Voluntary aided school"}
    assert len(va) > 5
    html = c.get("/schools/", {"type": "Voluntary aided school", "page": 1}).content.decode()
    assert result_urns(html) == va
    # Filters combine: voluntary aided secondaries only
    combined = {
        s.urn for s in schools if s.phase == "secondary" and s.establishment_type == "Voluntary aided school"
    }
    html = c.get("/schools/", {"type": "Voluntary aided school", "phase": "secondary"}).content.decode()
    assert result_urns(html) == combined


def test_filter_options_are_listed_once_each(director: Any) -> None:
    """Each establishment type, phase and LA is offered once: DISTINCT ignores the model's ordering by name
    (which made it one option per school: 25,000 options on a national database)."""
    import re
    from html import unescape as html_unescape

    html = signed_in(director).get("/schools/").content.decode()
    from beacon.schools.models import School

    select = html.split('name="type"', 1)[1].split("</select>", 1)[0]
    types = [html_unescape(t) for t in re.findall(r'<option value="([^"]+)"', select)]
    held = set(
        School.objects.filter(la_code=202)
        .exclude(establishment_type="")
        .values_list("establishment_type", flat=True)
    )
    assert len(held) > 3
    assert len(types) == len(set(types))
    assert set(types) == held


@pytest.mark.django_db
def test_each_la_is_offered_once_by_the_name_most_of_its_schools_carry(camden_register: None) -> None:
    """Some registers name a school's district, not its LA (nationally, LA 208's schools say Lambeth and a
    few Southwark): the LA filter still lists each LA once, by the areas' name where they hold it."""
    from beacon.indicators.models import Area, AreaType
    from beacon.schools.models import School
    from beacon.schools.selectors import filter_options, la_choices

    camden = School.objects.filter(la_code=202)
    assert camden.values("la_name").distinct().count() == 1
    name = camden.values_list("la_name", flat=True).first()
    School.objects.filter(pk=camden.order_by("urn").first().pk).update(la_name="Westminster")
    assert camden.values("la_name").distinct().count() == 2
    assert la_choices(camden) == [(202, name)]
    assert filter_options(School.objects.all()).las == [(202, name)]
    Area.objects.update_or_create(
        code=202, defaults={"name": "London Borough of Camden", "area_type": AreaType.LA}
    )
    assert la_choices(camden) == [(202, "London Borough of Camden")]


@pytest.mark.django_db
def test_local_authority_filter(camden_register: None) -> None:
    from beacon.schools.models import School

    School.objects.create(
        urn=999001, name="Other LA Primary", la_code=201, la_name="City of London", phase="primary"
    )
    user = make_user("ceo", "ceo", la_code=None)  # an LA-wide role without an LA sees every LA
    c = signed_in(user)
    html = c.get("/schools/", {"la": 201}).content.decode()
    assert result_urns(html) == {999001}
    html = c.get("/schools/", {"la": CAMDEN, "q": "primary"}).content.decode()
    assert 999001 not in result_urns(html) and ARGYLE in result_urns(html)
    assert 'value="201"' in c.get("/schools/").content.decode()  # offered as a choice


@pytest.mark.django_db
def test_ofsted_filter_uses_current_judgement(director: Any, inspections: dict[str, set[int]]) -> None:
    c = signed_in(director)
    for key, expected in inspections.items():
        html = c.get("/schools/", {"ofsted": key}).content.decode()
        assert result_urns(html) == expected, key
    inspected = set().union(*inspections.values())
    not_inspected = {s.urn for s in camden_open_state_funded()} - inspected
    html = c.get("/schools/", {"ofsted": "not_inspected", "page": 1}).content.decode()
    page_urns = result_urns(html)
    assert page_urns <= not_inspected and page_urns.isdisjoint(inspected)
    assert f"{len(not_inspected)} schools match" in html
    html = c.get("/schools/?ofsted=good&ofsted=outstanding").content.decode()
    assert result_urns(html) == {ARGYLE, BRECKNOCK}
    # The table shows the judgement and its date
    html = c.get("/schools/", {"q": "argyle"}).content.decode()
    assert "Good" in html and "5 March 2019" in html


@pytest.mark.django_db
def test_pagination_keeps_filters(director: Any) -> None:
    from beacon.schools.selectors import PAGE_SIZE

    schools = camden_open_state_funded()
    assert len(schools) > PAGE_SIZE  # Camden has about 59 open state-funded schools
    c = signed_in(director)
    first = c.get("/schools/").content.decode()
    assert "?page=2" in first
    second = c.get("/schools/?page=2").content.decode()
    assert len(result_urns(first)) == PAGE_SIZE
    assert result_urns(first) | result_urns(second) == {s.urn for s in schools}
    primary = c.get("/schools/?phase=primary").content.decode()
    n_primary = sum(1 for s in schools if s.phase == "primary")
    assert f"{n_primary} schools match" in primary
    assert "phase=primary&amp;page=2" not in primary or n_primary > PAGE_SIZE


# ---------------------------------------------------------------------------------------------
# Scoping


@pytest.mark.django_db
def test_headteacher_sees_only_their_school(camden_register: None) -> None:
    head = make_user("hana", "headteacher", schools=(ARGYLE,))
    c = signed_in(head)
    html = c.get("/schools/").content.decode()
    assert result_urns(html) == {ARGYLE}
    assert "1 school" in html
    assert c.get(f"/schools/{ARGYLE}/").status_code == 200
    assert c.get(f"/schools/{ACLAND}/").status_code == 403
    assert c.get("/schools/local-authority/").status_code == 403
    # A search cannot reach other schools either
    assert result_urns(c.get("/schools/", {"q": "Acland"}).content.decode()) == set()


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_sign_in(camden_register: None) -> None:
    for path in ("/schools/", f"/schools/{ARGYLE}/", "/schools/local-authority/"):
        resp = Client().get(path)
        assert resp.status_code == 302 and "/account/sign-in/" in resp["Location"]


# ---------------------------------------------------------------------------------------------
# School page


@pytest.fixture
def argyle_results(camden_register: None) -> None:
    area(CAMDEN, "Camden", "la", "London")
    area(986, "London", "region")
    area(970, "England", "national")
    for year, school, la, london, england in (
        (2021, 61.0, 58.0, 65.0, 59.0),
        (2022, None, 60.0, 66.0, 60.0),  # the school's figure is suppressed
        (2023, 55.0, 62.0, 67.0, 61.0),
    ):
        status = "ok" if school is not None else "suppressed"
        school_value(ARGYLE, "ks2_rwm_expected", year, school, status)
        area_value(CAMDEN, "ks2_rwm_expected", year, la)
        area_value(986, "ks2_rwm_expected", year, london)
        area_value(970, "ks2_rwm_expected", year, england)
    school_value(ARGYLE, "absence_overall", 2023, 5.2)
    area_value(CAMDEN, "absence_overall", 2023, 6.1)
    school_value(ARGYLE, "pupils", 2023, 211)
    school_value(ARGYLE, "fsm", 2023, None, "not_published")
    school_value(ARGYLE, "eal", 2023, 48.3)
    # LA gap context (no school-level disadvantaged figures for Argyle)
    area_value(CAMDEN, "ks2_rwm_expected_disadvantaged", 2023, 50.0)
    area_value(CAMDEN, "ks2_rwm_expected_other", 2023, 71.5)


@pytest.mark.django_db
def test_school_page_shows_withheld_values_as_their_status(director: Any, argyle_results: None) -> None:
    html = signed_in(director).get(f"/schools/{ARGYLE}/").content.decode()
    rows = table_by(html, "data-measure", "ks2_rwm_expected")
    assert rows[0] == ["Year", "Argyle Primary School", "Camden", "London", "England"]
    assert rows[1:] == [
        ["2021/22", "61.0%", "58.0%", "65.0%", "59.0%"],
        ["2022/23", "Suppressed", "60.0%", "66.0%", "60.0%"],
        ["2023/24", "55.0%", "62.0%", "67.0%", "61.0%"],
    ]
    # Context: FSM not published, EAL published; never a 0
    context = next(t["rows"] for t in tables(html) if any("First language" in " ".join(r) for r in t["rows"]))
    fsm = next(r for r in context if r[0].startswith("Pupils eligible for free school meals"))
    assert fsm[2] == "Not published"
    eal = next(r for r in context if r[0].startswith("First language"))
    assert eal[1:3] == ["2023/24", "48.3%"]
    assert not re.search(r"[^\d.,]0(\.0)?%", html)  # no withheld figure became a zero


@pytest.mark.django_db
def test_chart_svg_and_table_carry_the_same_figures(director: Any, argyle_results: None) -> None:
    html = signed_in(director).get(f"/schools/{ARGYLE}/").content.decode()
    svg = re.search(r'<svg class="beacon-chart"[^>]*"chart-ks2_rwm_expected-title.*?</svg>', html, re.S)
    assert svg
    chart = svg.group(0)
    assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", chart, re.S)
    assert desc
    text = desc.group(1)
    assert "Argyle Primary School: 2021/22: 61.0%; 2022/23: no figure; 2023/24: 55.0%." in text
    assert "Camden: 2021/22: 58.0%; 2022/23: 60.0%; 2023/24: 62.0%." in text
    # Every figure in the description is in the table that follows
    rows = table_by(html, "data-measure", "ks2_rwm_expected")
    table_figures = {cell for r in rows[1:] for cell in r[1:] if cell.endswith("%")}
    assert set(re.findall(r"\d+\.\d%", text)) == table_figures
    # The school's series is broken at the suppressed year: two markers, no line joining them
    school_series = re.search(r'<g class="series series-0">(.*?)</g>', chart, re.S)
    assert school_series
    assert school_series.group(1).count("<circle") == 2
    assert "<polyline" not in school_series.group(1)
    assert "style=" not in chart and "<script" not in chart


@pytest.mark.django_db
def test_disadvantaged_gap_falls_back_to_the_la(director: Any, argyle_results: None) -> None:
    html = signed_in(director).get(f"/schools/{ARGYLE}/").content.decode()
    assert "School-level figures for disadvantaged pupils are not in the data held" in html
    assert "21.5 percentage points" in html  # 71.5 - 50.0


@pytest.mark.django_db
def test_disadvantaged_gap_for_the_school(director: Any, argyle_results: None) -> None:
    school_value(ARGYLE, "ks2_rwm_expected_disadvantaged", 2023, 40.0)
    school_value(ARGYLE, "ks2_rwm_expected_other", 2023, 62.5)
    school_value(ARGYLE, "ks2_rwm_expected_disadvantaged", 2022, None, "suppressed")
    school_value(ARGYLE, "ks2_rwm_expected_other", 2022, 70.0)
    html = signed_in(director).get(f"/schools/{ARGYLE}/").content.decode()
    assert "School-level figures for disadvantaged pupils are not in the data held" not in html
    gap = next(t["rows"] for t in tables(html) if t["rows"] and t["rows"][0][-1] == "Gap")
    assert gap[1:] == [
        ["2022/23", "Suppressed", "70.0%", "Cannot be calculated (a figure is withheld)"],
        ["2023/24", "40.0%", "62.5%", "22.5 percentage points"],
    ]


@pytest.mark.django_db
def test_school_page_report_card_and_history(director: Any, inspections: dict[str, set[int]]) -> None:
    html = signed_in(director).get(f"/schools/{ACLAND}/").content.decode()
    assert "Report card from the inspection that started on 2 December 2025" in html
    grades = summary_rows(html)
    assert grades["Achievement"] == '<strong class="govuk-tag govuk-tag--orange">Needs attention</strong>'
    assert (
        grades["Curriculum and teaching"]
        == '<strong class="govuk-tag govuk-tag--turquoise">Strong standard</strong>'
    )
    assert grades["Inclusion"] == '<strong class="govuk-tag govuk-tag--blue">Expected standard</strong>'
    assert grades["Safeguarding"] == '<strong class="govuk-tag govuk-tag--green">Met</strong>'
    history = next(t["rows"] for t in tables(html) if t["rows"] and t["rows"][0][0] == "Inspection started")
    assert [r[0] for r in history[1:]] == ["2 December 2025", "1 January 2017"]
    assert history[2][2] == "Inadequate"
    assert "1 area at needs attention or worse; safeguarding met" in history[1][2]
    # Safeguarding not met is shown as such
    html = signed_in(director).get(f"/schools/{HAMPSTEAD}/").content.decode()
    assert summary_rows(html)["Safeguarding"] == '<strong class="govuk-tag govuk-tag--red">Not met</strong>'


@pytest.mark.django_db
def test_school_page_legacy_judgement_survives_ungraded_inspection(
    director: Any, inspections: dict[str, set[int]]
) -> None:
    html = signed_in(director).get(f"/schools/{BRECKNOCK}/").content.decode()
    assert "Graded inspection that started on 1 June 2018" in html
    assert summary_rows(html)["Overall effectiveness"] == (
        '<strong class="govuk-tag govuk-tag--green">Outstanding</strong>'
    )
    assert "School remains outstanding" in html  # the ungraded visit is in the history


@pytest.mark.django_db
def test_school_page_key_facts_and_sources(director: Any, argyle_results: None) -> None:
    from beacon.schools.models import School

    s = School.objects.get(urn=ARGYLE)
    html = unescape(signed_in(director).get(f"/schools/{ARGYLE}/").content.decode())
    for text in (
        str(s.laestab),
        s.establishment_type,
        s.postcode,
        s.ward,
        s.head_name,
        "211 (2023/24 census)",
    ):
        assert text and text in html
    assert "Data sources" in html
    assert "spc_school_level_underlying_data_2022_23.csv" in html  # the census ImportRun of the register


# ---------------------------------------------------------------------------------------------
# LA overview


@pytest.mark.django_db
def test_la_overview_numbers(director: Any, inspections: dict[str, set[int]]) -> None:
    from beacon.indicators.models import Area, StatisticalNeighbour

    camden = area(CAMDEN, "Camden", "la", "London", sub_region="Inner London")
    area(986, "London", "region")
    area(987, "London (Inner)", "sub_region", "London")
    area(988, "London (Outer)", "sub_region", "London")
    area(970, "England", "national")
    neighbours = [area(206, "Islington", "la"), area(213, "Westminster", "la"), area(209, "Hackney", "la")]
    for rank, n in enumerate(neighbours, 1):
        StatisticalNeighbour.objects.create(area=camden, neighbour=n, rank=rank, model_year=2025)
    area_value(CAMDEN, "ks4_attainment8", 2022, 50.1)
    area_value(CAMDEN, "ks4_attainment8", 2023, 51.3)
    area_value(986, "ks4_attainment8", 2023, 50.0)
    area_value(987, "ks4_attainment8", 2023, 49.5)
    area_value(970, "ks4_attainment8", 2023, 45.9)
    area_value(206, "ks4_attainment8", 2023, 48.0)
    area_value(213, "ks4_attainment8", 2023, 53.0)
    area_value(209, "ks4_attainment8", 2023, None, "suppressed")  # left out of the average
    area_value(CAMDEN, "absence_overall", 2023, 6.8)
    assert Area.objects.count() == 8

    html = signed_in(director).get("/schools/local-authority/").content.decode()
    schools = camden_open_state_funded()
    # School count and counts by phase, computed independently
    assert re.search(rf'id="stat-schools">{len(schools)}<', html)
    by_phase = Counter(s.phase for s in schools)
    for phase, n in by_phase.items():
        assert f'data-phase="{phase}">{n}<' in html
    # Judgements: good or better = outstanding (Brecknock) + good (Argyle) + report card OK (Haverstock)
    judged = sum(len(v) for v in inspections.values())
    assert judged == 6
    assert 'id="stat-good">50%<' in html  # 3 / 6
    assert "3 of 6 schools with a current judgement" in html
    assert f'data-judgement="not_inspected">{len(schools) - 6}<' in html
    assert 'data-judgement="report_card_concern">2<' in html
    # Headline: LA, London, Inner London, England, neighbour mean (48.0 + 53.0) / 2 = 50.5
    row = next(r for r in table_by(html, "id", "headline-table") if r[0] == "Attainment 8 score")
    assert row == ["Attainment 8 score", "2023/24", "51.3", "50.0", "49.5", "45.9", "50.5"]
    row = next(r for r in table_by(html, "id", "headline-table") if r[0] == "Overall absence rate")
    assert row[1:4] == ["2023/24", "6.8%", "No data"]
    assert "Islington, Westminster, Hackney" in html
    # Trend table for Attainment 8 (2 years)
    trend = table_by(html, "data-measure", "ks4_attainment8")
    assert trend[1] == ["2022/23", "50.1", "No data", "No data", "No data", "No data"]
    assert trend[2] == ["2023/24", "51.3", "50.0", "49.5", "45.9", "50.5"]


@pytest.mark.django_db
def test_la_overview_school_table_is_scoped_and_has_latest_figures(camden_register: None) -> None:
    school_value(ACLAND, "ks4_attainment8", 2022, 47.2)
    school_value(ACLAND, "ks4_attainment8", 2023, 49.9)
    school_value(ACLAND, "ks4_progress8", 2023, 0.12)
    adviser = make_user("ade", "adviser", schools=(ACLAND, ARGYLE))
    html = signed_in(adviser).get("/schools/local-authority/").content.decode()
    rows = [
        r for t in tables(html) if "beacon-table--wide" in (t["attrs"].get("class") or "") for r in t["rows"]
    ]
    names = [r[0] for r in rows[1:]]
    assert names == ["Acland Burghley School", "Argyle Primary School"]  # only the caseload
    acland = rows[1]
    assert acland[4] == "49.9 2023/24"  # latest year, not 2022's 47.2
    assert acland[5] == "+0.12 2023/24"


# ---------------------------------------------------------------------------------------------
# Chart unit tests


def test_line_chart_is_accessible_svg_without_styles() -> None:
    svg = charts.line_chart(
        chart_id="t",
        title="Progress 8 score",
        x_labels=["2021/22", "2022/23", "2023/24"],
        series=[
            charts.Series("School <A>", [-0.35, None, 0.2]),
            charts.Series("England", [0.0, 0.01, -0.02]),
        ],
        unit="score",
        decimals=2,
    )
    assert svg.startswith('<svg class="beacon-chart"') and 'role="img"' in svg
    assert 'aria-labelledby="t-title t-desc"' in svg
    assert "School &lt;A&gt;: 2021/22: -0.35; 2022/23: no figure; 2023/24: 0.20." in svg
    assert "style" not in svg and "<script" not in svg
    assert 'class="line dash-1"' in svg  # the second series has its own dash pattern
    assert svg.count('class="axis"') >= 3  # y axis, x axis and the zero line for negative scores


def test_axis_range_is_round() -> None:
    assert charts.axis_range([52.1, 66.3], include_zero=False) == (50.0, 70.0, 5.0)
    assert charts.axis_range([6.2, 7.1], include_zero=True) == (0.0, 8.0, 2.0)
