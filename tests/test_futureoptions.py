"""Future options (issue 6 item 2) on real Camden rows: roll series from three files, projection
arithmetic, surplus places, vulnerability flags from thresholds held as data, the grid-reference
conversion, partner suggestions, and the pages (scoping, optimistic locking, history)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from beacon.futureoptions import geo, selectors, services
from beacon.futureoptions.models import (
    FutureOptionsSummary,
    IntakeYear,
    Partnership,
    RollRecord,
    SystemLeaderInterest,
    Threshold,
)
from beacon.imports.framework import run_import
from beacon.imports.models import RunStatus
from beacon.schools.models import School
from tests.conftest import CAMDEN, make_user

ADMISSIONS = "clarelgibson-england-school-admissions"
BRECKNOCK = 100010  # primary, school_key 4 in the admissions star schema
ARGYLE = 100008
CHRIST_CHURCH = 100028
TORRIANO = 100023
HAVERSTOCK = 100049


def _import(data_dir: Path, source: str, rel: str, year: int | None = None) -> None:
    run = run_import(source, data_dir / rel, year=year, la_code=CAMDEN)
    assert run.status == RunStatus.SUCCEEDED, (source, run.message, run.errors[:3])


@pytest.fixture
def fo_data(camden_register: None, data_dir: Path) -> None:
    """Register (census 2022/23 + GIAS 2022), CSP census 2018/19, GIAS roll/capacity (January 2022
    census) and the admissions offers 2014-2022."""
    _import(data_dir, "csp_census", "kspdeveloper-csp-2018-19/england_census.csv", 2018)
    _import(data_dir, "gias_roll_capacity", f"{ADMISSIONS}/fct_school.csv", 2021)
    _import(data_dir, "admissions_offers", f"{ADMISSIONS}/fct_school_year.csv")


def _csv_rows(path: Path, key: str, value: str) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [r for r in csv.DictReader(fh) if r[key] == value]


def _school_key(data_dir: Path, urn: int) -> str:
    return _csv_rows(data_dir / ADMISSIONS / "dim_school.csv", "urn", str(urn))[0]["school_key"]


# --------------------------------------------------------------------------------------------
# Arithmetic


def test_linear_trend_and_projection_worked_example() -> None:
    # Brecknock's three headcounts. Mean year 2020.333, mean roll 370; Sxx = 8.667, Sxy = -137.0,
    # slope = -15.81 pupils a year; 370 - 15.81 * 2.667 = 327.8 -> 328 in 2023, 312 in 2024, 296 in 2025.
    points = [(2018, 405), (2021, 367), (2022, 338)]
    slope, intercept = selectors.linear_trend(points) or (0.0, 0.0)
    assert slope == pytest.approx(-137.0 / (26 / 3), rel=1e-9)
    assert slope * 2018 + intercept == pytest.approx(
        370 + 2.3333333 * 15.8077, abs=0.01
    )  # fitted 2018 value 406.9
    assert selectors.project(points) == [(2023, 328), (2024, 312), (2025, 296)]
    assert selectors.linear_trend([(2022, 338)]) is None
    assert selectors.project([(2020, 10), (2021, 4)]) == [(2022, 0), (2023, 0), (2024, 0)]  # never negative
    s = selectors.surplus(583, 338)
    assert s is not None and (s.places, s.percent) == (245, 42.0)
    assert selectors.surplus(None, 338) is None
    assert selectors.surplus(210, 226) == selectors.Surplus(210, 226, -16, -7.6)


# --------------------------------------------------------------------------------------------
# Roll series, flags and projections on real rows


def test_roll_series_projection_and_flags_on_real_rows(fo_data: None, data_dir: Path) -> None:
    # The three headcounts, read from the files independently of the importers.
    csp = _csv_rows(data_dir / "kspdeveloper-csp-2018-19" / "england_census.csv", "URN", str(BRECKNOCK))[0]
    census = _csv_rows(
        data_dir / "helios-census-2022-23" / "spc_school_level_underlying_data_2022_23.csv",
        "urn",
        str(BRECKNOCK),
    )[0]
    gias = _csv_rows(
        data_dir / ADMISSIONS / "fct_school.csv", "school_key", _school_key(data_dir, BRECKNOCK)
    )[0]
    assert (csp["NOR"], gias["number_of_pupils"], census["headcount of pupils"], gias["school_capacity"]) == (
        "405",
        "367",
        "338",
        "583",
    )

    school = School.objects.get(urn=BRECKNOCK)
    fo = selectors.for_school(school)
    assert {y: p.pupils for y, p in fo.series.items()} == {2018: 405, 2021: 367, 2022: 338}
    assert fo.series[2021].capacity == 583 and "GIAS" in fo.series[2021].source
    assert fo.series[2022].source.startswith("School census")
    assert (fo.capacity, fo.capacity_year) == (583, 2021)
    assert fo.projection == [(2023, 328), (2024, 312), (2025, 296)]
    assert fo.surplus == selectors.Surplus(583, 338, 245, 42.0)
    flags = {f.code: f for f in fo.flags}
    # 405 -> 338 is -16.5%: more than the 10% threshold.
    assert flags["falling_roll"].status == selectors.FLAG
    assert "405 pupils in 2018/19 to 338 in 2022/23: -16.5%" in flags["falling_roll"].evidence
    assert flags["surplus"].status == selectors.FLAG  # 42.0% >= 25%
    assert flags["small_school"].status == selectors.CLEAR  # 338 >= 210
    assert flags["finance"].status == selectors.NO_DATA and "No data" in flags["finance"].evidence

    # Argyle: capacity 432, 350 on roll -> 82 places, 19.0%: a warning, not high.
    argyle = selectors.for_school(School.objects.get(urn=ARGYLE))
    assert argyle.surplus == selectors.Surplus(432, 350, 82, 19.0)
    assert {f.code: f.status for f in argyle.flags}["surplus"] == selectors.WARNING
    # Christ Church Primary: 192 on roll (census 2022/23) is below the one-form-entry 210.
    cc = {f.code: f for f in selectors.for_school(School.objects.get(urn=CHRIST_CHURCH)).flags}
    assert cc["small_school"].status == selectors.FLAG
    assert "192 pupils on roll in 2022/23" in cc["small_school"].evidence

    # Thresholds are data: lowering "high" to 15% turns Argyle's warning into a flag.
    Threshold.objects.filter(code="surplus_high").update(value=15.0)
    argyle = selectors.for_school(School.objects.get(urn=ARGYLE))
    assert {f.code: f.status for f in argyle.flags}["surplus"] == selectors.FLAG
    Threshold.objects.filter(code="small_school", phase="primary").update(value=180.0)
    cc = {f.code: f for f in selectors.for_school(School.objects.get(urn=CHRIST_CHURCH)).flags}
    assert cc["small_school"].status == selectors.CLEAR


def test_falling_demand_from_admissions_rows(fo_data: None, data_dir: Path) -> None:
    key = _school_key(data_dir, BRECKNOCK)
    firsts: dict[int, float] = {}
    for r in _csv_rows(data_dir / ADMISSIONS / "fct_school_year.csv", "school_key", key):
        firsts[int(r["year_key"])] = firsts.get(int(r["year_key"]), 0) + float(
            r["times_put_as_1st_preference"]
        )
    intakes = list(IntakeYear.objects.filter(school__urn=BRECKNOCK).order_by("year"))
    assert [i.year for i in intakes] == sorted(firsts)
    assert {i.year: i.first_preferences for i in intakes} == {y: round(v) for y, v in firsts.items()}
    assert {i.entry_year for i in intakes} == {"Reception"}
    first, last = round(firsts[2017]), round(firsts[2022])  # window: 5 years before 2022
    change = round(100 * (last - first) / first, 1)
    # Roll implied by recent intakes: the mean of the last three years' offers times 7 year groups.
    offers: dict[int, float] = {}
    for r in _csv_rows(data_dir / ADMISSIONS / "fct_school_year.csv", "school_key", key):
        offers[int(r["year_key"])] = offers.get(int(r["year_key"]), 0) + float(
            r["total_number_places_offered"]
        )
    recent = [round(offers[y]) for y in (2020, 2021, 2022)]
    implied = selectors.intake_implied_roll("primary", intakes)
    assert implied is not None and implied.years == (2020, 2021, 2022)
    assert implied.roll == round(sum(recent) / 3 * 7) and implied.year_groups == 7
    assert selectors.intake_implied_roll("special", intakes) is None
    flag = selectors.falling_demand_flag(intakes, selectors.thresholds())
    assert f"{first} first preferences for entry in 2017 to {last} in 2022: {change:+.1f}%" in flag.evidence
    assert flag.status == (selectors.FLAG if change < -20 else selectors.CLEAR)


def test_la_trend_sums_schools_reporting_every_year(fo_data: None) -> None:
    rows = selectors.future_options(School.objects.filter(la_code=CAMDEN, is_open=True, is_state_funded=True))
    trend = selectors.la_trend(rows)
    assert [y.year for y in trend.years] == [2018, 2021, 2022]
    common = [
        r for r in rows if all(y in r.series and r.series[y].pupils is not None for y in (2018, 2021, 2022))
    ]
    assert trend.common_schools == len(common) > 40
    for y in trend.years:
        assert y.pupils == sum(r.series[y.year].pupils or 0 for r in common)
    assert trend.projection == selectors.project([(y.year, y.pupils) for y in trend.years])


# --------------------------------------------------------------------------------------------
# Grid references to latitude/longitude


def test_osgb36_to_wgs84_within_10m_of_published_positions(data_dir: Path) -> None:
    """Published latitude/longitude (pvhee London schools, Ofsted Dec 2024) against our conversion of the
    GIAS 2022 easting/northing, for schools whose site has not been re-geocoded since (checked by hand:
    Haverstock 2.5 m, Notre Dame 0.2 m)."""
    published = {
        r["URN"]: r
        for r in csv.DictReader(
            (data_dir / "pvhee-london-schools" / "schools_london_complete.csv").open(encoding="utf-8")
        )
    }
    for urn in ("100049", "100859"):
        grid = _csv_rows(data_dir / ADMISSIONS / "dim_school.csv", "urn", urn)[0]
        lat, lon = geo.to_wgs84(float(grid["easting"]), float(grid["northing"]))
        want = published[urn]
        d = geo.haversine_m(lat, lon, float(want["Latitude"]), float(want["Longitude"]))
        assert d < 10, (urn, d)
    # OSGB36 and WGS84 differ by ~100 m in London: an identity "conversion" would fail the test above.
    lat, lon = geo.to_wgs84(528159, 184498)
    assert 51.54 < lat < 51.55 and -0.16 < lon < -0.15
    assert geo.grid_distance_m((0, 0), (3000, 4000)) == 5000


# --------------------------------------------------------------------------------------------
# Partner suggestions


def test_partner_suggestions_explained_on_real_rows(fo_data: None, data_dir: Path) -> None:
    _import(data_dir, "ofsted_inspection_history", "waiky8-schools-data/ofsted_ratings_2018.csv")
    _import(data_dir, "ks2_results", "waiky8-schools-data/ks2_perf_2018.csv")
    rows = selectors.future_options(School.objects.filter(la_code=CAMDEN, is_open=True, is_state_funded=True))
    target = next(r for r in rows if r.school.urn == BRECKNOCK)
    assert target.judgement == "good"  # latest: Good, 19 November 2013
    suggestions = selectors.partner_suggestions(target, rows)
    assert len(suggestions) == 10
    assert all(s.school.urn != BRECKNOCK for s in suggestions)
    assert [s.score for s in suggestions] == sorted((s.score for s in suggestions), reverse=True)

    torriano = next(s for s in suggestions if s.school.urn == TORRIANO)
    grid = {
        u: _csv_rows(data_dir / ADMISSIONS / "dim_school.csv", "urn", str(u))[0]
        for u in (BRECKNOCK, TORRIANO)
    }
    d = math.hypot(
        float(grid[BRECKNOCK]["easting"]) - float(grid[TORRIANO]["easting"]),
        float(grid[BRECKNOCK]["northing"]) - float(grid[TORRIANO]["northing"]),
    )
    assert torriano.distance_m == pytest.approx(d)
    texts = [r.text for r in torriano.reasons]
    assert texts[0] == f"{d / 1000:.1f} km away (straight line)"
    assert "Same phase (primary)" in texts
    assert "Neither school has a religious character" in texts
    assert "Stronger current Ofsted judgement (Outstanding against Good)" in texts
    # KS2 'Overall Meet Std' 2017/18: Torriano 86%, Brecknock 67% (ks2_perf_2018.csv).
    assert (
        "Better KS2 reading, writing and maths at the expected standard: 86% (2017/18) against 67% (2017/18)"
        in texts
    )
    expected = round(30 * (1 - d / 4000), 1) + 20 + 15 + 15 + 10 + 5
    assert torriano.score == round(expected)
    # Leadership register adds its points.
    services.record_interest(user=None, school=torriano.school, headteacher="A Head", interests=["mentoring"])
    again = next(s for s in selectors.partner_suggestions(target, rows) if s.school.urn == TORRIANO)
    assert again.score == round(expected + 5)


# --------------------------------------------------------------------------------------------
# Import pipeline


def test_admissions_fact_table_needs_its_dimensions(fo_data: None, data_dir: Path, tmp_path: Path) -> None:
    lonely = tmp_path / "fct_school.csv"
    with (data_dir / ADMISSIONS / "fct_school.csv").open(encoding="utf-8") as fh:
        lonely.write_text("".join(fh.readline() for _ in range(100)), encoding="utf-8")  # a slice, alone
    run = run_import("gias_roll_capacity", lonely, year=2021, la_code=CAMDEN)
    assert run.status == RunStatus.REJECTED
    assert "dim_school.csv, dim_la.csv" in run.errors[0]["reason"]
    before = RollRecord.objects.count()
    again = run_import(
        "gias_roll_capacity", data_dir / ADMISSIONS / "fct_school.csv", year=2021, la_code=CAMDEN
    )
    assert again.status == RunStatus.DUPLICATE and RollRecord.objects.count() == before
    # Only Camden rows, one per Camden school in the fact table (50 in dim_la 202's key).
    assert before == 50 and not RollRecord.objects.exclude(school__la_code=CAMDEN).exists()
    # The same source reads the wrm65 GIAS extract (numeric-coded headers, no capacity).
    rel = "wrm65-gias-ofsted-2024/school_ofsted_rating.csv"
    _import(data_dir, "gias_roll_capacity", rel, 2023)
    want = _csv_rows(data_dir / rel, "unique_reference_number", str(BRECKNOCK))[0]["pupil_number"]
    rec = RollRecord.objects.get(school__urn=BRECKNOCK, year=2023)
    assert (rec.pupils, rec.capacity) == (int(want), None)


# --------------------------------------------------------------------------------------------
# Pages: scoping, JSON, summary with optimistic locking, registers with history


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_pages_are_scoped_to_la_wide_improvement_roles(fo_data: None) -> None:
    director = _client(make_user("fo-director", "director"))
    for path in ("/future-options/", "/future-options/map/", f"/future-options/schools/{BRECKNOCK}/",
                 f"/future-options/schools/{BRECKNOCK}/partners/", "/future-options/partnerships/",
                 "/future-options/system-leaders/", f"/future-options/schools/{BRECKNOCK}/summary/"):  # fmt: skip
        assert director.get(path).status_code == 200, path
    sras = _client(make_user("fo-sras", "sras"))
    assert sras.get("/future-options/").status_code == 200
    assert sras.get(f"/future-options/schools/{BRECKNOCK}/summary/").status_code == 403
    for role in ("headteacher", "adviser", "data_manager", "chair"):
        c = _client(make_user(f"fo-{role}", role, schools=(BRECKNOCK,) if role != "data_manager" else ()))
        assert c.get("/future-options/").status_code == 403, role
        assert c.get(f"/future-options/schools/{BRECKNOCK}/").status_code == 403, role
        assert c.get("/future-options/map/schools.json").status_code == 403, role
    other_la = _client(make_user("fo-other", "director", la_code=201))
    assert other_la.get(f"/future-options/schools/{BRECKNOCK}/").status_code == 403
    assert other_la.get("/future-options/map/schools.json").json() == {"schools": []}
    assert Client().get("/future-options/").status_code == 302  # sign in first


def test_index_filters_and_map_json(fo_data: None) -> None:
    c = _client(make_user("fo-ceo", "ceo"))
    page = c.get("/future-options/?phase=primary&flag=small_school").content.decode()
    assert "Christ Church Primary School" in page and "Brecknock Primary School" not in page
    assert "Linear trend" in page  # the method is stated
    data = c.get("/future-options/map/schools.json").json()["schools"]
    brecknock = next(s for s in data if s["urn"] == BRECKNOCK)
    lat, lon = geo.to_wgs84(529912, 184835)  # Brecknock's GIAS grid reference
    assert (brecknock["lat"], brecknock["lon"]) == (round(lat, 6), round(lon, 6))
    assert brecknock["flags"] == ["falling_roll", "surplus"] and brecknock["surplus_pct"] == 42.0
    assert brecknock["pupils"] == 338 and brecknock["url"] == f"/future-options/schools/{BRECKNOCK}/"
    assert (
        len(data)
        == School.objects.filter(
            la_code=CAMDEN, is_open=True, is_state_funded=True, easting__isnull=False
        ).count()
    )
    only_secondary = c.get("/future-options/map/schools.json?phase=secondary").json()["schools"]
    assert only_secondary and {s["phase"] for s in only_secondary} == {"secondary"}


def test_summary_edit_uses_optimistic_locking_and_is_audited(fo_data: None) -> None:
    user = make_user("fo-dir2", "director")
    c = _client(user)
    url = f"/future-options/schools/{BRECKNOCK}/summary/"
    blank = dict.fromkeys(services.SUMMARY_FIELDS, "")
    r = c.post(url, {**blank, "place_planning": "Consult on reducing PAN from 60 to 45.", "version": "0"})
    assert r.status_code == 302
    s = FutureOptionsSummary.objects.get(school__urn=BRECKNOCK)
    assert (s.version, s.place_planning, s.updated_by) == (1, "Consult on reducing PAN from 60 to 45.", user)
    # A second editor who opened the form at version 0 is refused and told so; nothing is overwritten.
    other = _client(make_user("fo-ceo2", "ceo"))
    r = other.post(url, {**blank, "place_planning": "Close the nursery.", "version": "0"})
    assert r.status_code == 409
    assert "Someone else saved this summary" in r.content.decode()
    assert "Consult on reducing PAN" in r.content.decode()  # their version is shown
    s.refresh_from_db()
    assert (s.version, s.place_planning) == (1, "Consult on reducing PAN from 60 to 45.")
    r = other.post(
        url,
        {**blank, "place_planning": "Close the nursery.", "succession": "Head retires 2026.", "version": "1"},
    )
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.version == 2
    history = list(s.history.order_by("history_date"))
    assert [h.version for h in history] == [1, 2]
    assert history[-1].history_user.username == "fo-ceo2"
    assert history[-1].history_change_reason == "Notes changed: place_planning, succession"
    page = c.get(f"/future-options/schools/{BRECKNOCK}/").content.decode()
    assert "Head retires 2026." in page and "Notes changed: place_planning, succession" in page


def test_partnership_and_leadership_registers(fo_data: None) -> None:
    c = _client(make_user("fo-dir3", "director"))
    ids = {s.urn: s.pk for s in School.objects.filter(urn__in=[BRECKNOCK, TORRIANO])}
    r = c.post("/future-options/partnerships/new/", {"name": "Kentish Town Federation", "kind": "federation",
               "status": "forming", "schools": [ids[BRECKNOCK]], "version": ""})  # fmt: skip
    assert r.status_code == 200 and "Select at least two schools" in r.content.decode()
    r = c.post("/future-options/partnerships/new/", {"name": "Kentish Town Federation", "kind": "federation",
               "status": "forming", "schools": list(ids.values()), "executive_head": "J Smith",
               "started_on": "2025-09-01", "version": ""})  # fmt: skip
    assert r.status_code == 302
    p = Partnership.objects.get(name="Kentish Town Federation")
    assert set(p.schools.values_list("urn", flat=True)) == {BRECKNOCK, TORRIANO} and p.version == 0
    edit = {
        "name": p.name,
        "kind": "federation",
        "status": "active",
        "schools": list(ids.values()),
        "version": "0",
    }
    assert c.post(f"/future-options/partnerships/{p.pk}/edit/", edit).status_code == 302
    assert c.post(f"/future-options/partnerships/{p.pk}/edit/", edit).status_code == 409  # stale version 0
    p.refresh_from_db()
    assert (p.status, p.version) == ("active", 1)
    reasons = [h.history_change_reason for h in p.history.order_by("history_date")]
    assert reasons[0] == "Partnership recorded" and reasons[-1] == "Partnership changed"
    assert [h.status for h in p.history.order_by("history_date")][-1] == "active"
    assert "Kentish Town Federation" in c.get(f"/future-options/schools/{BRECKNOCK}/").content.decode()
    detail = c.get(f"/future-options/partnerships/{p.pk}/").content.decode()
    assert "Partnership changed" in detail and "Partnership recorded" in detail
    # SRAS members read the register but cannot change it.
    sras = _client(make_user("fo-sras2", "sras"))
    assert sras.get(f"/future-options/partnerships/{p.pk}/").status_code == 200
    assert sras.post(f"/future-options/partnerships/{p.pk}/edit/", edit).status_code == 403

    r = c.post("/future-options/system-leaders/", {"school": ids[TORRIANO], "headteacher": "Ms T Head",
               "interests": ["executive_head", "mentoring"], "strengths": "Early reading"})  # fmt: skip
    assert r.status_code == 302
    entry = SystemLeaderInterest.objects.get(headteacher="Ms T Head")
    page = c.get("/future-options/system-leaders/").content.decode()
    assert "Executive headship, Mentoring a new or acting head" in page
    assert (
        c.post("/future-options/system-leaders/", {"withdraw": entry.pk, "version": "0"}).status_code == 302
    )
    entry.refresh_from_db()
    assert entry.withdrawn and entry.history.count() == 2
