"""System targets and group gaps (beacon.reporting) on the real LAIT rows for Camden (LA 202).

Expected values, ranks and statuses are worked here straight from the raw files: the LAIT parquet is read
with polars (no Beacon code: plain filters on 'Short Desc', 'Years' and 'LA Number'), the statistical
neighbour list and the KS4 school results with the csv module. SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from pathlib import Path
from statistics import fmean

import polars as pl
import pytest
from django.test import Client
from openpyxl import load_workbook

from beacon.core.versioning import StaleEdit
from beacon.reporting import services
from beacon.reporting.models import SystemTarget
from tests.conftest import CAMDEN, DATA, make_user
from tests.replay import load_once

LAIT = DATA / "dfe-lait" / "bds_long_0.parquet"
_RAW: pl.DataFrame | None = None


@pytest.fixture(autouse=True)
def _targets(db: None) -> None:
    """The seeded targets (data migration 0002); re-seeded in case a transactional test flushed them."""
    from beacon.reporting.seeds import seed_targets

    seed_targets(SystemTarget)


def raw_lait() -> pl.DataFrame:
    global _RAW
    if _RAW is None:
        _RAW = pl.read_parquet(LAIT)
    return _RAW


def lait_value(indicator: str, label: str, la_number: int) -> float | None:
    """The published number for one LAIT row ('-' and other codes: None)."""
    rows = raw_lait().filter(
        (pl.col("Short Desc") == indicator) & (pl.col("Years") == label) & (pl.col("LA Number") == la_number)
    )
    assert rows.height == 1, (indicator, label, la_number, rows.height)
    try:
        return float(rows["Values"][0])
    except (TypeError, ValueError):
        return None


def london_values(indicator: str, label: str) -> dict[str, float]:
    """LA name -> published value for every London borough (LAIT Region Inner / Outer London)."""
    rows = raw_lait().filter(
        (pl.col("Short Desc") == indicator)
        & (pl.col("Years") == label)
        & pl.col("Region").is_in(["Inner London", "Outer London"])
        & (pl.col("LA Number") < 900)
    )
    out = {}
    for name, value in rows.select("LA and Regions", "Values").iter_rows():
        try:
            out[name] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def camden_neighbour_names() -> list[str]:
    with open(DATA / "d2i-stat-neighbours" / "stat_neighbours.csv", encoding="utf-8-sig", newline="") as f:
        return [row["Camden"] for row in csv.DictReader(f) if row["Camden"]]


@pytest.fixture
def lait_loaded(db: None, data_dir: Path) -> None:
    from beacon.imports.framework import run_import
    from beacon.imports.models import RunStatus

    def load() -> None:
        for source, rel, year in (
            ("lait_benchmarks", "dfe-lait/bds_long_0.parquet", None),
            ("statistical_neighbours", "dfe-lait/sn_may_2025.xlsx", 2025),
            ("lait_group_breakdowns", "dfe-lait/bds_long_0.parquet", None),
        ):
            run = run_import(source, data_dir / rel, year=year, la_code=CAMDEN)
            assert run.status == RunStatus.SUCCEEDED, run.message

    load_once("reporting:lait_loaded", load)


def result_for(d: services.Dashboard, ref: str) -> services.TargetResult:
    return next(r for r in d.results if r.target.ref == ref)


def test_targets_on_real_camden_rows(lait_loaded: None) -> None:
    from beacon.schools.models import School

    d = services.dashboard("camden", CAMDEN, School.objects.none())

    # CLC-04 KS2 RWM expected standard, top quartile of London LAs. LAIT '2025' = 2024/25 (stored 2024).
    r = result_for(d, "CLC-04")
    london = london_values("KS2RWM_Expected_STD", "2025")
    camden = london["Camden"]
    assert camden == 73.0
    rank = 1 + sum(1 for v in london.values() if v > camden)
    latest = r.latest
    assert latest is not None and latest.year == 2024
    assert latest.la is not None and latest.la.value == camden
    assert (latest.rank, latest.ranked) == (rank, len(london))
    assert latest.comparators["london"] is not None
    assert latest.comparators["london"].value == lait_value("KS2RWM_Expected_STD", "2025", 986) == 70.0
    assert latest.comparators["england"].value == lait_value("KS2RWM_Expected_STD", "2025", 970) == 63.0
    expected = services.MET if rank <= math.ceil(len(london) / 4) else services.NOT_MET
    assert r.status == expected == services.MET  # 8th of 32 boroughs, cut-off 8

    # The statistical-neighbour average: mean of the 10 neighbours' published figures.
    names = camden_neighbour_names()
    assert len(names) == 10
    sn = [v for n in names if (v := london_values("KS2RWM_Expected_STD", "2025").get(n)) is not None]
    assert latest.comparators["neighbours"].value == pytest.approx(fmean(sn))

    # CLC-06 Attainment 8 above London: 46.9 against 50.5 -> not met; Camden ranks 26th of 32.
    r = result_for(d, "CLC-06")
    a8 = london_values("AVG_Attain8_Score", "2025")
    assert r.latest is not None and r.latest.la is not None
    assert r.latest.la.value == a8["Camden"] == 46.9
    assert r.latest.comparators["london"].value == lait_value("AVG_Attain8_Score", "2025", 986) == 50.5
    assert r.latest.rank == 1 + sum(1 for v in a8.values() if v > a8["Camden"])
    assert r.status == services.NOT_MET

    # CLC-16 suspensions below London AND England (lower is better). LAIT '2023/24' -> 2023.
    r = result_for(d, "CLC-16")
    assert r.latest is not None and r.latest.year == 2023
    cam, lon, eng = (lait_value("TotFixedEx", "2023/24", c) for c in (202, 986, 970))
    assert cam is not None and lon is not None and eng is not None
    assert r.latest.la.value == pytest.approx(cam)
    susp = london_values("TotFixedEx", "2023/24")
    assert r.latest.rank == 1 + sum(1 for v in susp.values() if v < cam)  # rank 1 = fewest suspensions
    assert r.status == (services.MET if cam < lon and cam < eng else services.NOT_MET) == services.NOT_MET
    # 2021/22: London's figure is '-' in LAIT, so that year has no data rather than a guess.
    y2021 = next(y for y in r.years if y.year == 2021)
    assert lait_value("TotFixedEx", "2021/22", 986) is None
    assert y2021.status == services.NO_DATA

    # CLC-11 HE entry at or near London (within 2 points); LAIT's latest label '2023-24' -> 2023.
    r = result_for(d, "CLC-11")
    cam_he, lon_he = lait_value("HE_19_All", "2023-24", 202), lait_value("HE_19_All", "2023-24", 986)
    assert cam_he is not None and lon_he is not None
    assert r.latest is not None and r.latest.year == 2023 and r.latest.la.value == cam_he
    assert r.status == (services.MET if cam_he >= lon_he - 2.0 else services.NOT_MET)

    # Targets the data cannot measure say so, with the reason.
    r = result_for(d, "CLC-22")
    assert r.status == services.NO_DATA and "Governor" in r.no_data_reason
    assert d.counts[services.MET] + d.counts[services.NOT_MET] + d.counts[services.NO_DATA] == len(d.results)


def test_gaps_and_flags_on_real_rows(lait_loaded: None) -> None:
    from beacon.schools.models import School

    page = services.gaps_page(CAMDEN, School.objects.none())
    gaps = {g.target.ref: g for g in page.gaps}

    # GAP-02 Attainment 8, disadvantaged vs others: gap = others - disadvantaged, per LAIT year.
    g = gaps["GAP-02"]
    labels = sorted(
        raw_lait()
        .filter((pl.col("Short Desc") == "DAP_KS4_ATT8") & (pl.col("LA Number") == 202))["Years"]
        .to_list()
    )
    expected = []
    for label in labels:
        dis, other = lait_value("DAP_KS4_ATT8", label, 202), lait_value("NonDAP_KS4_ATT8", label, 202)
        if dis is not None and other is not None:
            expected.append((int(label[:4]) - 1, round(other - dis, 6)))
    held = [(y.year, y.gap) for y in g.years if y.gap is not None]
    assert held == expected[-len(held) :]
    change = held[-1][1] - held[0][1]
    assert g.change == pytest.approx(change)
    rule = SystemTarget.objects.get(ref="GAP-02").gap_change_points
    assert rule == 2.0
    assert g.trend == (
        services.WIDENING if change > rule else services.NARROWING if change < -rule else services.STABLE
    )
    # latest year: Camden's gap against London's and England's
    last = g.years[-1]
    lon = lait_value("NonDAP_KS4_ATT8", "2025", 986) - lait_value("DAP_KS4_ATT8", "2025", 986)  # type: ignore[operator]
    assert last.year == 2024 and last.comparator_gaps["london"] == pytest.approx(lon)

    # GAP-03 KS2 RWM FSM vs non-FSM (reporting's own LAIT source): 2024/25 81 - 64 = 17 points.
    g = gaps["GAP-03"]
    last = next(y for y in reversed(g.years) if y.gap is not None)
    assert last.year == 2024
    assert (
        last.gap
        == lait_value("NonFSM_NEW_KS2_RWM", "2025", 202) - lait_value("FSM_NEW_KS2_RWM", "2025", 202)
        == 17.0
    )  # type: ignore[operator]
    # 2019/20 and 2020/21 were not published ('-'): no gap, never zero.
    assert [y.gap for y in g.years if y.year in (2019, 2020)] == [None, None]

    # EAL and gender at LA level: no data, said honestly.
    assert gaps["GAP-10"].status == services.NO_DATA and "EAL" in gaps["GAP-10"].reason
    assert gaps["GAP-09"].years == [] or all(y.gap is None for y in gaps["GAP-09"].years)


def test_gap_trend_rule() -> None:
    assert services.gap_trend([(2016, 10.0), (2017, 12.0), (2018, 13.5)], 3.0) == (services.WIDENING, 3.5)
    assert services.gap_trend([(2016, 10.0), (2018, 7.0)], 3.0) == (services.STABLE, -3.0)
    assert services.gap_trend([(2016, 10.0), (2017, None), (2018, 6.9)], 3.0)[0] == services.NARROWING
    assert services.gap_trend([(2016, 10.0)], 3.0) == (services.NO_DATA, None)


def test_school_level_gender_gap_from_ks4_results(camden_register: None, data_dir: Path) -> None:
    from beacon.imports.framework import run_import
    from beacon.imports.models import RunStatus
    from beacon.schools.models import School

    run = run_import(
        "ks4_results_by_gender", data_dir / "waiky8-schools-data/ks4_perf_2018.csv", la_code=CAMDEN
    )
    assert run.status == RunStatus.SUCCEEDED, run.message
    with open(data_dir / "waiky8-schools-data/ks4_perf_2018.csv", encoding="utf-8-sig", newline="") as f:
        rows = {r["URN"]: r for r in csv.DictReader(f)}
    acland = rows["100053"]  # Acland Burghley: boys 46.5, girls 51.6
    target = SystemTarget.objects.get(ref="GAP-09")
    gaps = {s.urn: s for s in services.school_gaps(target, School.objects.filter(la_code=CAMDEN))}
    s = gaps[100053]
    assert [y.year for y in s.years] == [2017]  # exam series 2018 = 2017/18
    expected = float(acland["Attainment 8 Girls"]) - float(acland["Attainment 8 Boys"])
    assert s.years[0].gap == pytest.approx(expected) and expected == pytest.approx(5.1)
    # Hampstead School's boys' figure is blank in the file: no gap for it, so it is not listed.
    assert rows["100050"]["Attainment 8 Boys"] == ""
    assert 100050 not in gaps
    # Scoping: only the schools passed in are read.
    assert services.school_gaps(target, School.objects.filter(urn=100049))[0].urn == 100049


def test_good_or_better_by_year_from_inspections(camden_register: None) -> None:
    from beacon.inspections.models import Framework, Inspection
    from beacon.schools.models import School

    a, b, c = (School.objects.get(urn=u) for u in (100008, 100053, 100010))
    Inspection.objects.create(
        school=a, framework=Framework.LEGACY, start_date=dt.date(2019, 3, 1), overall_effectiveness=3
    )
    Inspection.objects.create(
        school=a, framework=Framework.LEGACY, start_date=dt.date(2022, 5, 1), overall_effectiveness=2
    )
    Inspection.objects.create(
        school=b, framework=Framework.LEGACY, start_date=dt.date(2020, 1, 10), overall_effectiveness=1
    )
    Inspection.objects.create(
        school=c, framework=Framework.LEGACY, start_date=dt.date(2021, 6, 1), overall_effectiveness=4
    )
    series = services.good_or_better_by_year(
        School.objects.filter(pk__in=[a.pk, b.pk, c.pk]), today=dt.date(2026, 11, 23)
    )
    # 2018/19: only a (RI) -> 0%; 2019/20: a RI, b outstanding -> 50%; 2020/21: + c inadequate -> 1 of 3;
    # 2021/22: a good, b outstanding, c inadequate -> 2 of 3 ... up to 2026/27 (today).
    assert series[2018].value == 0.0
    assert series[2019].value == 50.0
    assert series[2020].value == pytest.approx(100 / 3)
    assert series[2021].value == pytest.approx(200 / 3)
    assert max(series) == 2026 and series[2026].value == pytest.approx(200 / 3)
    # A graded inspection from September 2024 without an overall grade ('Not judged') takes b out of the
    # count, as on the LA overview, instead of leaving its 2020 'outstanding' standing: a good, c inadequate.
    Inspection.objects.create(
        school=b, framework=Framework.LEGACY, start_date=dt.date(2024, 11, 5), outcome_text="Not judged"
    )
    series = services.good_or_better_by_year(
        School.objects.filter(pk__in=[a.pk, b.pk, c.pk]), today=dt.date(2026, 11, 23)
    )
    assert series[2023].value == pytest.approx(200 / 3)  # before it: b still outstanding
    assert series[2024].value == 50.0 and series[2026].value == 50.0
    target = SystemTarget.objects.get(ref="CLC-01")
    assert target.threshold == 100.0
    assert services._year_status(target, 200 / 3, {}, None, 0, None)[0] == services.NOT_MET


def test_edit_target_optimistic_locking_and_history(db: None) -> None:
    director = make_user("dir", "director")
    target = SystemTarget.objects.get(ref="CLC-11")
    assert target.version == 0 and target.threshold == 2.0
    updated = services.update_target(
        target.pk, expected_version=0, reason="Tighter margin agreed", user=director, threshold=1.0
    )
    assert updated.version == 1 and updated.threshold == 1.0
    h = updated.history.latest("history_date")
    assert h.history_change_reason == "Tighter margin agreed" and h.history_user_id == director.pk
    with pytest.raises(StaleEdit):
        services.update_target(target.pk, expected_version=0, reason="late", user=director, threshold=5.0)
    assert SystemTarget.objects.get(pk=target.pk).threshold == 1.0

    client = Client()
    client.force_login(director)
    form = {"title": "HE entry near London", "comparators": ["london"], "direction": "higher", "threshold": "1.5",
            "gap_change_points": "", "no_data_reason": "", "is_active": "on", "reason": "Commission review", "version": "1"}  # fmt: skip
    r = client.post("/reporting/targets/CLC-11/edit/", form)
    assert r.status_code == 302
    t = SystemTarget.objects.get(pk=target.pk)
    assert (t.version, t.threshold, t.title) == (2, 1.5, "HE entry near London")
    r = client.post("/reporting/targets/CLC-11/edit/", {**form, "threshold": "9", "version": "1"})
    assert r.status_code == 409 and SystemTarget.objects.get(pk=target.pk).threshold == 1.5
    assert "This target was changed by someone else" in r.content.decode()
    assert 'value="9"' in r.content.decode() and 'name="version" value="2"' in r.content.decode()  # kept
    r = client.post("/reporting/targets/CLC-11/edit/", {**form, "reason": "", "version": "2"})
    assert r.status_code == 400 and "Enter the reason for the change" in r.content.decode()
    page = client.get("/reporting/targets/CLC-11/").content.decode()
    assert "Commission review" in page and "Tighter margin agreed" in page

    adviser = make_user("adv", "adviser")
    client.force_login(adviser)
    assert client.get("/reporting/targets/CLC-11/").status_code == 200
    assert client.get("/reporting/targets/CLC-11/edit/").status_code == 403
    head = make_user("head", "headteacher")
    client.force_login(head)
    assert client.get("/reporting/").status_code == 403
    assert client.get("/reporting/gaps/").status_code == 403


def test_dashboard_page_and_exports(lait_loaded: None) -> None:
    client = Client()
    client.force_login(make_user("ceo", "ceo"))
    html = client.get("/reporting/").content.decode()
    assert 'data-ref="CLC-04"' in html and "8 of 32" in html
    r = client.get("/reporting/?format=csv")
    assert r["Content-Type"].startswith("text/csv") and "attachment" in r["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header, body = rows[0], {row[0]: row for row in rows[1:]}
    assert header[:6] == ["Reference", "Area", "Target", "Measure", "Year", "Camden"]
    row = body["CLC-04"]
    assert row[4] == "2024/25" and float(row[5]) == 73.0 and row[header.index("London")] == "70.0"
    assert row[header.index("Rank among London LAs")] == "8" and row[header.index("Status")] == "Met"
    assert body["CLC-22"][header.index("Status")] == "No data"

    r = client.get("/reporting/?framework=cambridgeshire&format=xlsx")
    ws = load_workbook(io.BytesIO(r.content)).active
    values = list(ws.iter_rows(values_only=True))
    refs = [v[0] for v in values[1:]]
    assert refs[0] == "CAM-01" and all(ref.startswith("CAM-") for ref in refs)

    r = client.get("/reporting/targets/CLC-06/?format=xlsx")
    ws = load_workbook(io.BytesIO(r.content)).active
    by_year = {row[0]: row for row in ws.iter_rows(values_only=True)}
    assert by_year["2024/25"][1] == 46.9 and by_year["2024/25"][2] == 50.5
    assert by_year["2024/25"][-1] == "Not met"

    r = client.get("/reporting/gaps/?format=csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    gap03 = [row for row in rows if row[0] == "GAP-03" and row[5] == "2024/25"]
    assert gap03 and float(gap03[0][8]) == 17.0
    page = client.get("/reporting/targets/GAP-02/")
    assert page.status_code == 200 and "gap-chart-GAP-02" in page.content.decode()


def test_gap_04_widening_is_never_met(lait_loaded: None) -> None:
    """Issue 13: GAP-04 (Attainment 8, FSM vs non-FSM) was shown "widening" and "met" at once. Its kind's
    rule is "narrowing, and at most the comparator's gap": a widening gap is not met."""
    from beacon.reporting.models import TargetKind
    from beacon.schools.models import School

    target = SystemTarget.objects.get(ref="GAP-04")
    assert target.kind == TargetKind.GAP and target.gap_change_points == 2.0
    assert "narrowing" in TargetKind(target.kind).label
    # Worked from the raw LAIT rows: LAIT '2016' = 2015/16 ... '2025' = 2024/25.
    labels = [str(y) for y in range(2016, 2026)]
    cam = {
        lab: lait_value("NonFSM_AVG_Attain8_Score", lab, 202) - lait_value("FSM_AVG_Attain8_Score", lab, 202)  # type: ignore[operator]
        for lab in labels
    }
    change = cam["2025"] - cam["2016"]
    assert change == pytest.approx(53.2 - 40.9 - (53.6 - 43.9))  # 12.3 - 9.7 = +2.6 points: widening
    lon = lait_value("NonFSM_AVG_Attain8_Score", "2025", 986) - lait_value(
        "FSM_AVG_Attain8_Score", "2025", 986
    )  # type: ignore[operator]
    eng = lait_value("NonFSM_AVG_Attain8_Score", "2025", 970) - lait_value(
        "FSM_AVG_Attain8_Score", "2025", 970
    )  # type: ignore[operator]
    assert cam["2025"] <= lon and cam["2025"] <= eng  # on the comparator test alone it would be "met"

    g = {x.target.ref: x for x in services.gaps_page(CAMDEN, School.objects.none()).gaps}["GAP-04"]
    assert g.change == pytest.approx(change)
    assert g.trend == services.WIDENING
    assert g.status == services.NOT_MET
    assert "widening" in g.reason and "2015/16" in g.reason
    # The dashboard and the target page read the same result.
    d = services.dashboard("camden", CAMDEN, School.objects.none())
    assert result_for(d, "GAP-04").status == services.NOT_MET
    # Every gap target: never widening and met at once.
    for ref, res in {x.target.ref: x for x in services.gaps_page(CAMDEN, School.objects.none()).gaps}.items():
        assert not (res.trend == services.WIDENING and res.status == services.MET), ref

    # Within the rule's points the gap counts as "no clear change" and can be met (target data, not code).
    target.gap_change_points = 3.0
    target.save()
    g = {x.target.ref: x for x in services.gaps_page(CAMDEN, School.objects.none()).gaps}["GAP-04"]
    assert (g.trend, g.status) == (services.STABLE, services.MET)
