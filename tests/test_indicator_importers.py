"""Indicator importers on the real files in ../shared/data (Camden-filtered), with worked values.

Expected values were read by hand from the raw files (quoted beside each assertion) or are recomputed
here from the raw file with polars, independently of the importer.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from beacon.imports.framework import run_import
from beacon.imports.models import RunStatus
from beacon.indicators.importers import lait_year
from beacon.indicators.models import Area, AreaMeasure, AreaType, SchoolMeasure, StatisticalNeighbour
from beacon.schools.models import School
from tests.conftest import CAMDEN

LAIT = "dfe-lait/bds_long_0.parquet"
SN_2025 = "dfe-lait/sn_may_2025.xlsx"
SN_2021 = "dfe-lait/sn_april_2021.xlsx"
KS2_2018 = "waiky8-schools-data/ks2_perf_2018.csv"  # summer 2018 = academic year 2017/18 (stored 2017)
KS2_FINAL = "waiky8-eng-schools/england_ks2final.csv"  # 2018/19, no year column
KS4_2018 = "waiky8-schools-data/ks4_perf_2018.csv"
KS4_FINAL = "waiky8-eng-schools/england_ks4final.csv"
KS4_PROV = "kspdeveloper-csp-2018-19/england_ks4provisional.csv"
CENSUS = "kspdeveloper-csp-2018-19/england_census.csv"
ABSENCE = "kspdeveloper-csp-2018-19/england_abs.csv"

GOSPEL_OAK = 100025
ELEANOR_PALMER = 100027
THOMAS_CORAM = 100005
FRANK_BARNES = 100091
HAVERSTOCK = 100049
CATS_COLLEGE = 137333


def school_value(urn: int, code: str, year: int) -> tuple[float | None, str]:
    row = SchoolMeasure.objects.filter(school__urn=urn, measure__code=code, year=year).values_list(
        "value", "status"
    )
    assert row, f"no {code} {year} for {urn}"
    return row[0]


def area_series(code: int, measure: str) -> list[tuple[int, str, float | None, str]]:
    return list(
        AreaMeasure.objects.filter(area__code=code, measure__code=measure)
        .order_by("year")
        .values_list("year", "period_label", "value", "status")
    )


# ---------------------------------------------------------------------------------------------
# LAIT


def test_lait_year_labels() -> None:
    labels = [
        "2019",
        "2018 (Rev)",
        "2025 (prov)",
        "2020 (Final)",
        "2016/17",
        "2022-23 (OT)",
        "2014-16",
        "2014/15-16/17",
        "0",
        "2019 (Draft)",
    ]
    out = pl.DataFrame({"p": labels}).select(
        *[e.alias(n) for e, n in zip(lait_year(pl.col("p")), ("y", "r"), strict=True)]
    )
    assert out["y"].to_list() == [2018, 2017, 2024, 2019, 2016, 2022, 2015, 2016, None, None]
    assert out["r"].to_list()[:4] == [1, 2, 0, 2]
    assert out["r"].to_list()[-1] == -1


def test_lait_camden_filtered(db: None, data_dir: Path) -> None:
    run = run_import("lait_benchmarks", data_dir / LAIT, la_code=CAMDEN)
    assert run.status == RunStatus.SUCCEEDED, (run.message, run.errors[:3])

    # Camden KS2 RWM expected, labels 2016-2025 (README: 61,67,72,73,-,-,71,70,72,73)
    series = area_series(CAMDEN, "ks2_rwm_expected")
    assert [s[0] for s in series] == list(range(2015, 2025))
    assert [s[1] for s in series] == [str(y) for y in range(2016, 2026)]
    assert [s[2] for s in series] == [61, 67, 72, 73, None, None, 71, 70, 72, 73]
    assert [s[3] for s in series][4:6] == ["not_available", "not_available"]
    assert all(s[3] == "ok" for i, s in enumerate(series) if i not in (4, 5))
    # the same series recomputed from the parquet
    raw = (
        pl.read_parquet(data_dir / LAIT)
        .filter((pl.col("Short Desc") == "KS2RWM_Expected_STD") & (pl.col("LA Number") == CAMDEN))
        .sort("Years")
    )
    assert [s[1] for s in series] == raw["Years"].to_list()
    assert [s[2] for s in series] == [None if v == "-" else float(v) for v in raw["Values"].to_list()]

    assert area_series(970, "ks2_rwm_expected")[-1][1:3] == ("2025", 63.0)  # England 2025
    assert area_series(986, "ks2_rwm_expected")[-1][1:3] == ("2025", 70.0)  # London 2025
    # float noise '7.0000000000000007E-2' (P8 '2018') -> 0.07; '2025 (prov)' phonics kept as label
    assert (2017, "2018", 0.07, "ok") in area_series(CAMDEN, "ks4_progress8")
    assert area_series(CAMDEN, "phonics_y1")[-1] == (2024, "2025 (prov)", 84.0, "ok")
    assert area_series(CAMDEN, "eyfs_gld")[-1][2] == 69.8
    assert area_series(CAMDEN, "ks4_attainment8")[-1][2] == 46.9
    assert area_series(CAMDEN, "absence_persistent")[-1] == (2024, "2025", 23.23, "ok")
    # exclusions use academic-year labels: '2023/24' -> 2023
    assert area_series(CAMDEN, "permanent_exclusion_rate")[-1][:2] == (2023, "2023/24")

    camden = Area.objects.get(code=CAMDEN)
    assert (camden.area_type, camden.region, camden.sub_region) == (AreaType.LA, "London", "Inner London")
    assert Area.objects.get(code=987).area_type == AreaType.INNER_OUTER
    assert Area.objects.get(code=970).area_type == AreaType.NATIONAL
    assert Area.objects.filter(area_type=AreaType.REGION).count() == 9
    # every London borough and the City (33), no LA outside London (Camden's neighbours are all London)
    assert Area.objects.filter(area_type=AreaType.LA, region="London").count() == 33
    assert not Area.objects.filter(area_type=AreaType.LA).exclude(region="London").exists()
    # only mapped indicators: nothing from the children's social care measures
    assert not AreaMeasure.objects.exclude(measure__code__in=_lait_codes()).exists()


def _lait_codes() -> list[str]:
    from beacon.indicators.importers import LAIT_MEASURES

    return list(LAIT_MEASURES.values())


LAIT_HEADER = "Short Desc,Data item,Years,LA and Regions,Values,LA Number,Region\n"


def test_lait_revised_figure_wins_and_reimport_is_idempotent(db: None, tmp_path: Path) -> None:
    path = tmp_path / "lait.csv"
    path.write_text(
        LAIT_HEADER
        + "KS2RWM_Expected_STD,KS2 RWM,2018,Camden,70,202,Inner London\n"
        + "KS2RWM_Expected_STD,,2018 (Rev),Camden,72,202,Inner London\n"
        + "KS2RWM_Expected_STD,,2018,England,64,970,NA\n"
        + "LAC,Children looked after,2018,Camden,50,202,Inner London\n"
    )
    run = run_import("lait_benchmarks", path)
    assert run.status == RunStatus.SUCCEEDED, run.errors
    assert area_series(CAMDEN, "ks2_rwm_expected") == [(2017, "2018 (Rev)", 72.0, "ok")]
    assert AreaMeasure.objects.count() == 2  # the unmapped LAC row is not imported
    again = run_import("lait_benchmarks", path)
    assert again.status == RunStatus.DUPLICATE
    forced = run_import("lait_benchmarks", path, force=True)
    assert forced.status == RunStatus.SUCCEEDED
    assert (forced.rows_inserted, forced.rows_updated) == (0, 2)
    assert AreaMeasure.objects.count() == 2 and Area.objects.count() == 2


def test_lait_bad_value_rejected(db: None, tmp_path: Path) -> None:
    path = tmp_path / "lait_bad.csv"
    path.write_text(
        LAIT_HEADER
        + "KS2RWM_Expected_STD,KS2 RWM,2019,Camden,73,202,Inner London\n"
        + "KS2RWM_Expected_STD,,2019,England,abc,970,NA\n"
    )
    run = run_import("lait_benchmarks", path)
    assert run.status == RunStatus.REJECTED
    assert [(e["row"], e["column"], e["value"]) for e in run.errors] == [(3, "Values", "abc")]
    assert AreaMeasure.objects.count() == 0 and Area.objects.count() == 0


# ---------------------------------------------------------------------------------------------
# Statistical neighbours


def test_statistical_neighbours_camden(db: None, data_dir: Path) -> None:
    run = run_import("statistical_neighbours", data_dir / SN_2025, year=2025, la_code=CAMDEN)
    assert run.status == RunStatus.SUCCEEDED, (run.message, run.errors[:3])
    rows = list(
        StatisticalNeighbour.objects.filter(area__code=CAMDEN, model_year=2025)
        .order_by("rank")
        .values_list("rank", "neighbour__code", "closeness")
    )
    assert [r[1] for r in rows] == [206, 213, 205, 210, 208, 207, 209, 309, 204, 302]
    assert [r[0] for r in rows] == list(range(1, 11))
    assert [r[2] for r in rows] == ["Close"] * 2 + ["Somewhat close"] * 7 + ["Not close"]
    assert Area.objects.get(code=206).name == "Islington"
    # every London LA's neighbours were kept (33 LAs x 10)
    count = StatisticalNeighbour.objects.count()
    assert count == 330
    again = run_import("statistical_neighbours", data_dir / SN_2025, year=2025, la_code=CAMDEN)
    assert again.status == RunStatus.DUPLICATE
    assert StatisticalNeighbour.objects.count() == count

    # 2021 model (year from the file name): Westminster first, 'Very Close'
    old = run_import("statistical_neighbours", data_dir / SN_2021, la_code=CAMDEN)
    assert old.status == RunStatus.SUCCEEDED, old.errors[:3]
    first = StatisticalNeighbour.objects.get(area__code=CAMDEN, model_year=2021, rank=1)
    assert (first.neighbour.code, first.closeness) == (213, "Very close")
    assert StatisticalNeighbour.objects.filter(area__code=CAMDEN, model_year=2025).count() == 10


# ---------------------------------------------------------------------------------------------
# KS2


@pytest.mark.usefixtures("camden_register")
def test_ks2_results_camden(data_dir: Path) -> None:
    run = run_import("ks2_results", data_dir / KS2_2018, la_code=CAMDEN)
    assert run.status == RunStatus.SUCCEEDED, (run.message, run.errors[:3])
    # ks2_perf_2018.csv, URN 100025 Gospel Oak: Overall Meet Std 72%, Exceed 12%, Reading Progress 0.8,
    # Reading Score 106, KS2 Pupils 60; 'Academic Year' 2018 = 2017/18 -> stored as 2017
    assert school_value(GOSPEL_OAK, "ks2_rwm_expected", 2017) == (72.0, "ok")
    assert school_value(GOSPEL_OAK, "ks2_rwm_higher", 2017) == (12.0, "ok")
    assert school_value(GOSPEL_OAK, "ks2_reading_progress", 2017) == (0.8, "ok")
    assert school_value(GOSPEL_OAK, "ks2_reading_score", 2017) == (106.0, "ok")
    assert school_value(GOSPEL_OAK, "ks2_pupils", 2017) == (60.0, "ok")
    # every Camden school's RWM expected, recomputed from the CSV
    raw = pl.read_csv(data_dir / KS2_2018, infer_schema_length=0)
    camden = set(School.objects.filter(la_code=CAMDEN).values_list("urn", flat=True))
    expected = {
        int(u): float(v.rstrip("%"))
        for u, v in raw.select("URN", "Overall Meet Std").iter_rows()
        if int(u) in camden and v
    }
    stored = dict(
        SchoolMeasure.objects.filter(measure__code="ks2_rwm_expected", year=2017).values_list(
            "school__urn", "value"
        )
    )
    assert stored == expected and len(stored) > 30

    count = SchoolMeasure.objects.count()
    again = run_import("ks2_results", data_dir / KS2_2018, la_code=CAMDEN)
    assert again.status == RunStatus.DUPLICATE
    forced = run_import("ks2_results", data_dir / KS2_2018, la_code=CAMDEN, force=True)
    assert forced.status == RunStatus.SUCCEEDED and forced.rows_inserted == 0
    assert SchoolMeasure.objects.count() == count


@pytest.mark.usefixtures("camden_register")
def test_ks2_final_needs_a_year_and_keeps_supp(data_dir: Path) -> None:
    rejected = run_import("ks2_results", data_dir / KS2_FINAL, la_code=CAMDEN)
    assert rejected.status == RunStatus.REJECTED
    assert "academic year" in rejected.errors[0]["reason"]
    assert SchoolMeasure.objects.filter(measure__code__startswith="ks2_").count() == 0

    run = run_import("ks2_results", data_dir / KS2_FINAL, year=2018, la_code=CAMDEN)
    assert run.status == RunStatus.SUCCEEDED, run.errors[:3]
    # england_ks2final.csv: 100025 READPROG 4, WRITPROG 1.2, MATPROG 3; 100091 Frank Barnes: SUPP
    assert school_value(GOSPEL_OAK, "ks2_reading_progress", 2018) == (4.0, "ok")
    assert school_value(GOSPEL_OAK, "ks2_writing_progress", 2018) == (1.2, "ok")
    assert school_value(FRANK_BARNES, "ks2_maths_progress", 2018) == (None, "suppressed")
    # the file has no attainment columns: nothing else is written for 2018
    assert not SchoolMeasure.objects.filter(year=2018, measure__code="ks2_rwm_expected").exists()


@pytest.mark.usefixtures("camden_register")
def test_ks2_bad_number_rejected(data_dir: Path, tmp_path: Path) -> None:
    lines = (data_dir / KS2_2018).read_text().splitlines()
    header = lines[0]
    good = next(line for line in lines if line.startswith(f"{GOSPEL_OAK},"))
    bad = good.replace(",72%,", ",abc,")
    path = tmp_path / "ks2_bad.csv"
    path.write_text("\n".join([header, good, bad]) + "\n")
    before = SchoolMeasure.objects.count()
    run = run_import("ks2_results", path, la_code=CAMDEN)
    assert run.status == RunStatus.REJECTED
    assert [(e["row"], e["column"], e["value"]) for e in run.errors] == [(3, "Overall Meet Std", "abc")]
    assert SchoolMeasure.objects.count() == before


# ---------------------------------------------------------------------------------------------
# KS4


@pytest.mark.usefixtures("camden_register")
def test_ks4_results_camden(data_dir: Path) -> None:
    for rel, year in ((KS4_2018, None), (KS4_PROV, 2018), (KS4_FINAL, 2018)):
        run = run_import("ks4_results", data_dir / rel, year=year, la_code=CAMDEN)
        assert run.status == RunStatus.SUCCEEDED, (rel, run.message, run.errors[:3])
    # ks4_perf_2018.csv (2017/18) 100049 Haverstock: P8 -0.1, A8 44.9, EM5 41%, EBacc entry 12%, APS 3.82
    assert school_value(HAVERSTOCK, "ks4_progress8", 2017) == (-0.1, "ok")
    assert school_value(HAVERSTOCK, "ks4_attainment8", 2017) == (44.9, "ok")
    assert school_value(HAVERSTOCK, "ks4_em_grade5", 2017) == (41.0, "ok")
    assert school_value(HAVERSTOCK, "ks4_ebacc_aps", 2017) == (3.82, "ok")
    # england_ks4final.csv (2018/19, loaded after the provisional file): P8 -0.11, A8 42.4, EM5 43%
    assert school_value(HAVERSTOCK, "ks4_progress8", 2018) == (-0.11, "ok")
    assert school_value(HAVERSTOCK, "ks4_attainment8", 2018) == (42.4, "ok")
    assert school_value(HAVERSTOCK, "ks4_ebacc_entry", 2018) == (24.0, "ok")
    # grade 4+ only in the provisional file (PTL2BASICS_94), read from the CSV
    prov = pl.read_csv(data_dir / KS4_PROV, infer_schema_length=0).filter(pl.col("URN") == str(HAVERSTOCK))
    assert school_value(HAVERSTOCK, "ks4_em_grade4", 2018) == (
        float(prov["PTL2BASICS_94"][0].rstrip("%")),
        "ok",
    )
    # CATS College: P8MEA NP, ATT8SCR NE
    assert school_value(CATS_COLLEGE, "ks4_progress8", 2018) == (None, "not_published")
    assert school_value(CATS_COLLEGE, "ks4_attainment8", 2018) == (None, "no_entries")


# ---------------------------------------------------------------------------------------------
# Census and absence (CSP 2018-19)


@pytest.mark.usefixtures("camden_register")
def test_csp_census_camden(data_dir: Path) -> None:
    assert run_import("csp_census", data_dir / CENSUS, la_code=CAMDEN).status == RunStatus.REJECTED  # no year
    run = run_import("csp_census", data_dir / CENSUS, year=2018, la_code=CAMDEN)
    assert run.status == RunStatus.SUCCEEDED, run.errors[:3]
    # england_census.csv 100025: NOR 459, PSENELSE 2.4, PSENELK 13.3, PNUMEAL 47.7, PNUMFSMEVER 38.3
    assert school_value(GOSPEL_OAK, "pupils", 2018) == (459.0, "ok")
    assert school_value(GOSPEL_OAK, "sen_ehcp", 2018) == (2.4, "ok")
    assert school_value(GOSPEL_OAK, "sen_support", 2018) == (13.3, "ok")
    assert school_value(GOSPEL_OAK, "eal", 2018) == (47.7, "ok")
    assert school_value(GOSPEL_OAK, "fsm_ever6", 2018) == (38.3, "ok")
    # Thomas Coram (nursery): PNUMFSMEVER 'NA'
    assert school_value(THOMAS_CORAM, "fsm_ever6", 2018) == (None, "not_applicable")
    # no other LA's schools
    assert not SchoolMeasure.objects.exclude(school__la_code=CAMDEN).exists()


@pytest.mark.usefixtures("camden_register")
def test_csp_absence_camden(data_dir: Path) -> None:
    run = run_import("csp_absence", data_dir / ABSENCE, year=2018, la_code=CAMDEN)
    assert run.status == RunStatus.SUCCEEDED, run.errors[:3]
    # england_abs.csv: 202,2775,100025,3.7,8.2 and 202,2841,100027,2.2,SUPP
    assert school_value(GOSPEL_OAK, "absence_overall", 2018) == (3.7, "ok")
    assert school_value(GOSPEL_OAK, "absence_persistent", 2018) == (8.2, "ok")
    assert school_value(ELEANOR_PALMER, "absence_persistent", 2018) == (None, "suppressed")
    raw = pl.read_csv(data_dir / ABSENCE, infer_schema_length=0).filter(pl.col("LA") == str(CAMDEN))
    in_register = set(School.objects.filter(la_code=CAMDEN).values_list("urn", flat=True))
    assert SchoolMeasure.objects.filter(measure__code="absence_overall").count() == len(
        [u for u in raw["URN"].to_list() if int(u) in in_register]
    )


def test_lait_areas_are_created_in_code_order_whatever_the_file_order() -> None:
    """The national import gives every area the same id each time: areas are made in code order."""
    import polars as pl

    from beacon.indicators.importers import area_rows

    df = pl.DataFrame(
        {
            "area_code": [970, 202, 986, 202, 201],
            "area_name": ["England", "Camden", "London", "Camden", "City of London"],
            "region": ["NA", "Inner London", "NA", "Inner London", "Inner London"],
        }
    )
    assert [a.code for a in area_rows(df)] == [201, 202, 970, 986]
