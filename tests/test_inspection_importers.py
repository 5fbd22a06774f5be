"""Ofsted importers (beacon.inspections.importers) and selectors, on the real files in shared/data.

Expected values are either computed here from the raw CSV with polars or are literals checked by hand
against the file (the MI sample: row 19 is Gospel Oak Primary, row 4 Heath School, row 3 Thomas Coram).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from beacon.imports.framework import run_import
from beacon.imports.models import ImportRun, RunStatus
from beacon.inspections import selectors
from beacon.inspections.models import EvaluationArea, Framework, Inspection, InspectionGrade
from beacon.schools.models import School
from tests.conftest import CAMDEN
from tests.replay import load_once

HISTORY = "waiky8-schools-data/ofsted_ratings_2018.csv"
LATEST = "pvhee-london-schools/schools_london_complete.csv"
MI = "hemaleed-ofsted-mi-2026-sample/ofsted_mi_state_funded_schools_2026_first18rows.csv"
GOSPEL_OAK, HEATH, THOMAS_CORAM, ALDGATE = 100025, 100006, 100005, 100000


def load(source: str, path: Path, *, force: bool = False) -> ImportRun:
    run = run_import(source, path, la_code=CAMDEN, force=force)
    assert run.status == RunStatus.SUCCEEDED, (run.message, run.errors[:5])
    return run


def read_text(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=0)


def inspection(urn: int, framework: str, start: dt.date) -> Inspection:
    return Inspection.objects.get(school__urn=urn, framework=framework, start_date=start)


def grades(insp: Inspection) -> dict[str, tuple[int | None, bool]]:
    return {g.area: (g.grade, g.not_applicable) for g in InspectionGrade.objects.filter(inspection=insp)}


# ---------------------------------------------------------------------------------------------
# 1. Inspection history


@pytest.mark.django_db
def test_history_keeps_every_graded_inspection_of_register_schools(
    camden_register: None, data_dir: Path
) -> None:
    run = load("ofsted_inspection_history", data_dir / HISTORY)
    raw = read_text(data_dir / HISTORY).with_columns(
        pl.col("URN").cast(pl.Int64), pl.col("Inspection Date").str.strptime(pl.Date, "%Y%m%d").alias("date")
    )
    register = list(School.objects.filter(la_code=CAMDEN).values_list("urn", flat=True))
    camden = raw.filter(pl.col("URN").is_in(register))
    expected = camden.select("URN", "date").n_unique()
    assert Inspection.objects.filter(framework=Framework.LEGACY).count() == expected
    assert run.rows_inserted == expected
    assert run.rows_skipped == raw.height - expected  # other LAs (and exact repeats)
    assert any("not in LA 202's register" in n for n in run.notes)

    # Gospel Oak: count and latest date straight from the CSV
    gospel = camden.filter(pl.col("URN") == GOSPEL_OAK)
    school = School.objects.get(urn=GOSPEL_OAK)
    assert school.inspections.count() == gospel.height == 3
    latest = school.inspections.order_by("-start_date").first()
    assert latest is not None
    assert latest.start_date == gospel["date"].max() == dt.date(2016, 1, 27)
    assert (latest.overall_effectiveness, latest.outcome_text) == (1, "Outstanding")

    # 'Satisfactory' (before September 2012) is grade 3 with the published word kept
    satisfactory = camden.filter(pl.col("Rating") == "Satisfactory").sort("URN", "date").row(0, named=True)
    stored = inspection(satisfactory["URN"], Framework.LEGACY, satisfactory["date"])
    assert (stored.overall_effectiveness, stored.outcome_text) == (3, "Satisfactory")


@pytest.mark.django_db
def test_history_twice_adds_nothing(camden_register: None, data_dir: Path) -> None:
    load("ofsted_inspection_history", data_dir / HISTORY)
    before = Inspection.objects.count(), Inspection.history.count()
    again = run_import("ofsted_inspection_history", data_dir / HISTORY, la_code=CAMDEN)
    assert again.status == RunStatus.DUPLICATE
    forced = load("ofsted_inspection_history", data_dir / HISTORY, force=True)
    assert forced.rows_inserted == 0 and forced.rows_updated == before[0]
    # nothing changed, so no new rows and no new audit rows either
    assert (Inspection.objects.count(), Inspection.history.count()) == before


@pytest.mark.django_db
def test_history_with_unknown_rating_word_is_rejected(
    camden_register: None, data_dir: Path, tmp_path: Path
) -> None:
    raw = read_text(data_dir / HISTORY).head(50)
    bad = raw.with_columns(
        pl.when(pl.int_range(pl.len()) == 9)
        .then(pl.lit("Brilliant"))
        .otherwise(pl.col("Rating"))
        .alias("Rating")
    )
    bad.write_csv(tmp_path / "history.csv")
    run = run_import("ofsted_inspection_history", tmp_path / "history.csv", la_code=CAMDEN)
    assert run.status == RunStatus.REJECTED
    assert run.errors == [
        {
            "row": 11,  # header is row 1, so the 10th data row
            "column": "Rating",
            "value": "Brilliant",
            "reason": "Not a recognised Ofsted rating (expected 'outstanding', 'good', 'requires improvement', "
            "'satisfactory', 'inadequate')",
        }
    ]
    assert Inspection.objects.count() == 0


# ---------------------------------------------------------------------------------------------
# 2. Latest graded inspection (official statistics layout)


@pytest.mark.django_db
def test_latest_graded_inspection_and_not_judged(camden_register: None, data_dir: Path) -> None:
    run = load("ofsted_latest", data_dir / LATEST)
    raw = read_text(data_dir / LATEST)
    register = [str(u) for u in School.objects.filter(la_code=CAMDEN).values_list("urn", flat=True)]
    camden = raw.filter(pl.col("URN").is_in(register) & pl.col("Inspection start date").is_not_null())
    assert Inspection.objects.count() == camden.height == 9
    assert run.rows_skipped == raw.height - camden.height

    parliament_hill = camden.filter(pl.col("URN") == "100050").row(0, named=True)
    assert (parliament_hill["Overall effectiveness"], parliament_hill["Inspection start date"]) == (
        "1",
        "22/05/2024",
    )
    stored = inspection(100050, Framework.LEGACY, dt.date(2024, 5, 22))
    assert (stored.overall_effectiveness, stored.outcome_text) == (1, "Outstanding")

    # William Ellis: graded inspection from October 2024, overall effectiveness no longer given
    william_ellis = inspection(100056, Framework.LEGACY, dt.date(2024, 10, 8))
    assert (william_ellis.overall_effectiveness, william_ellis.outcome_text) == (None, "Not judged")


@pytest.mark.django_db
def test_latest_with_rating_that_disagrees_is_rejected(
    camden_register: None, data_dir: Path, tmp_path: Path
) -> None:
    raw = read_text(data_dir / LATEST)
    row = raw.with_row_index().filter(pl.col("URN") == "100050")["index"][
        0
    ]  # Parliament Hill, '1' Outstanding
    raw.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit("Good"))
        .otherwise(pl.col("Ofsted Rating"))
        .alias("Ofsted Rating")
    ).write_csv(tmp_path / "latest.csv")
    run = run_import("ofsted_latest", tmp_path / "latest.csv", la_code=CAMDEN)
    assert run.status == RunStatus.REJECTED
    assert [(e["row"], e["column"], e["value"]) for e in run.errors] == [(row + 2, "Ofsted Rating", "Good")]
    assert Inspection.objects.count() == 0


# ---------------------------------------------------------------------------------------------
# 3. Ofsted management information (report cards)


@pytest.mark.django_db
def test_mi_report_card_oeif_and_ungraded(camden_register: None, data_dir: Path) -> None:
    run = load("ofsted_management_information", data_dir / MI)
    # The Aldgate School (City of London) is not in Camden's register
    assert run.rows_skipped == 1 and not Inspection.objects.filter(school__urn=ALDGATE).exists()
    assert not School.objects.filter(urn=ALDGATE).exists()

    # (a) Gospel Oak's report card, inspected 13/01/2026, published 09/02/2026
    card = inspection(GOSPEL_OAK, Framework.REPORT_CARD, dt.date(2026, 1, 13))
    assert card.safeguarding_met is True
    assert card.publication_date == dt.date(2026, 2, 9)
    assert (card.inspection_number, card.overall_effectiveness) == ("10428056", None)
    assert grades(card) == {
        EvaluationArea.INCLUSION: (4, False),
        EvaluationArea.CURRICULUM: (4, False),
        EvaluationArea.ACHIEVEMENT: (4, False),
        EvaluationArea.ATTENDANCE_BEHAVIOUR: (3, False),
        EvaluationArea.PERSONAL_DEVELOPMENT: (4, False),
        EvaluationArea.EARLY_YEARS: (4, False),
        EvaluationArea.POST16: (None, True),
        EvaluationArea.LEADERSHIP: (4, False),
    }
    # ... and its earlier ungraded inspection of 20/10/2021
    assert inspection(GOSPEL_OAK, Framework.UNGRADED, dt.date(2021, 10, 20)).outcome_text == (
        "School remains Outstanding"
    )

    # (b) Heath School's latest OEIF graded inspection, 05/06/2024: overall 2, early years code 9
    raw = read_text(data_dir / MI).filter(pl.col("URN") == str(HEATH)).row(0, named=True)
    assert raw["Inspection start date of latest OEIF graded inspection"] == "05/06/2024"
    assert raw["Latest OEIF overall effectiveness"] == "2"
    assert raw["Latest OEIF early years provision (where applicable)"] == "9"
    heath = inspection(HEATH, Framework.LEGACY, dt.date(2024, 6, 5))
    assert (heath.overall_effectiveness, heath.safeguarding_met, heath.inspection_type) == (
        2,
        True,
        "S5 Inspection",
    )
    assert grades(heath) == {
        EvaluationArea.QUALITY_OF_EDUCATION: (2, False),
        EvaluationArea.BEHAVIOUR_ATTITUDES: (1, False),
        EvaluationArea.PERSONAL_DEVELOPMENT: (1, False),
        EvaluationArea.LEADERSHIP_MANAGEMENT: (1, False),
        EvaluationArea.EARLY_YEARS: (None, True),
        EvaluationArea.POST16: (None, True),
    }

    # (c) Thomas Coram Centre: ungraded 23/05/2024, 'School remains Outstanding', nothing graded
    coram = Inspection.objects.get(school__urn=THOMAS_CORAM)
    assert (coram.framework, coram.start_date, coram.outcome_text) == (
        Framework.UNGRADED,
        dt.date(2024, 5, 23),
        "School remains Outstanding",
    )
    assert coram.publication_date == dt.date(2024, 6, 26) and coram.overall_effectiveness is None

    # 17 Camden rows: 1 report card + 9 OEIF graded + 9 ungraded (from the file's filled columns)
    camden = read_text(data_dir / MI).filter(pl.col("Local authority") == "Camden")
    expected = sum(
        (camden[col].is_not_null() & (camden[col] != "NULL")).sum()
        for col in (
            "Inspection start date",
            "Inspection start date of latest OEIF graded inspection",
            "Date of latest ungraded inspection",
        )
    )
    assert Inspection.objects.count() == expected == 19


@pytest.mark.django_db
def test_mi_twice_adds_nothing_and_merges_with_history(camden_register: None, data_dir: Path) -> None:
    load("ofsted_inspection_history", data_dir / HISTORY)
    history_rows = Inspection.objects.count()
    load("ofsted_management_information", data_dir / MI)
    # Richard Cobden's OEIF inspection of 16/10/2019 is also in the history file: one row, enriched
    cobden = inspection(100022, Framework.LEGACY, dt.date(2019, 10, 16))
    assert (cobden.overall_effectiveness, cobden.inspection_number, cobden.inspection_type) == (
        1,
        "10110169",
        "Exempt School Inspection",
    )
    counts = Inspection.objects.count(), InspectionGrade.objects.count()
    assert counts == (history_rows + 18, 62)  # 19 MI inspections, one already in the history
    load("ofsted_management_information", data_dir / MI, force=True)
    assert (Inspection.objects.count(), InspectionGrade.objects.count()) == counts


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("Inclusion", "Brilliant", "Not a report-card grade"),
        ("Inspection start date", "31/02/2026", "Not a date"),
        ("Safeguarding standards", "Partly met", "Not a safeguarding outcome"),
        ("Latest OEIF early years provision (where applicable)", "5", "Not a key judgement grade"),
    ],
)
@pytest.mark.django_db
def test_mi_bad_cell_is_rejected_with_row_and_column(
    camden_register: None, data_dir: Path, tmp_path: Path, column: str, value: str, reason: str
) -> None:
    path = data_dir / MI
    raw = read_text(path)
    urn = GOSPEL_OAK if column != "Latest OEIF early years provision (where applicable)" else HEATH
    index = raw.with_row_index().filter(pl.col("URN") == str(urn))["index"][0]
    bad = raw.with_columns(
        pl.when(pl.int_range(pl.len()) == index).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
    )
    bad.write_csv(tmp_path / "mi.csv")
    assert read_text(tmp_path / "mi.csv").columns == raw.columns  # the real header, untouched
    run = run_import("ofsted_management_information", tmp_path / "mi.csv", la_code=CAMDEN)
    assert run.status == RunStatus.REJECTED
    assert [(e["row"], e["column"], e["value"]) for e in run.errors] == [(index + 2, column, value)]
    assert run.errors[0]["reason"].startswith(reason)
    assert (Inspection.objects.count(), InspectionGrade.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_mi_grades_without_a_date_are_rejected(camden_register: None, data_dir: Path, tmp_path: Path) -> None:
    raw = read_text(data_dir / MI)
    col = "Inspection start date of latest OEIF graded inspection"
    raw.with_columns(
        pl.when(pl.col("URN") == str(HEATH)).then(pl.lit("NULL")).otherwise(pl.col(col)).alias(col)
    ).write_csv(tmp_path / "mi.csv")
    run = run_import("ofsted_management_information", tmp_path / "mi.csv", la_code=CAMDEN)
    assert run.status == RunStatus.REJECTED
    assert [(e["row"], e["column"]) for e in run.errors] == [(4, col)]
    assert Inspection.objects.count() == 0


# ---------------------------------------------------------------------------------------------
# Selectors


@pytest.fixture
def camden_inspections(camden_register: None, data_dir: Path) -> None:
    def load_all() -> None:
        for source, rel in (
            ("ofsted_inspection_history", HISTORY),
            ("ofsted_latest", LATEST),
            ("ofsted_management_information", MI),
        ):
            load(source, data_dir / rel)

    load_once("inspections:camden_inspections", load_all)


@pytest.mark.django_db
def test_current_judgement_report_card(camden_inspections: None) -> None:
    school = School.objects.get(urn=GOSPEL_OAK)
    latest = selectors.latest_inspection(school)
    assert latest is not None and (latest.framework, latest.start_date) == (
        "report_card",
        dt.date(2026, 1, 13),
    )
    judgement = selectors.current_judgement(school)
    assert judgement["is_report_card"] and judgement["framework"] == "report_card"
    assert (judgement["date"], judgement["safeguarding_met"], judgement["safeguarding_label"]) == (
        dt.date(2026, 1, 13),
        True,
        "Met",
    )
    assert judgement["overall_label"] is None
    assert [(g["area"], g["label"]) for g in judgement["grades"]] == [
        ("inclusion", "Strong standard"),
        ("curriculum_and_teaching", "Strong standard"),
        ("achievement", "Strong standard"),
        ("attendance_and_behaviour", "Expected standard"),
        ("personal_development_and_wellbeing", "Strong standard"),
        ("early_years", "Strong standard"),
        ("post16", "Not applicable"),
        ("leadership_and_governance", "Strong standard"),
    ]
    assert judgement["latest_ungraded"] is None  # the 2021 ungraded inspection came before it
    history = selectors.inspection_history(school)
    assert [(i.framework, i.start_date) for i in history] == [
        ("report_card", dt.date(2026, 1, 13)),
        ("ungraded", dt.date(2021, 10, 20)),
        ("legacy", dt.date(2016, 1, 27)),
        ("legacy", dt.date(2011, 6, 15)),
        ("legacy", dt.date(2008, 7, 14)),
    ]


@pytest.mark.django_db
def test_current_judgement_legacy_with_later_ungraded(camden_inspections: None) -> None:
    # Richard Cobden: OEIF graded 16/10/2019 (Outstanding), ungraded 18/12/2024 'Standards maintained'
    school = School.objects.get(urn=100022)
    latest_any = selectors.latest_inspection(school)
    assert latest_any is not None and latest_any.framework == Framework.UNGRADED
    graded = selectors.latest_inspection(school, graded_only=True)
    assert graded is not None and graded.start_date == dt.date(2019, 10, 16)
    judgement = selectors.current_judgement(school)
    assert (judgement["framework"], judgement["overall_effectiveness"], judgement["overall_label"]) == (
        "legacy",
        1,
        "Outstanding",
    )
    assert judgement["safeguarding_label"] == "Effective"
    assert judgement["latest_ungraded"] == {"date": dt.date(2024, 12, 18), "outcome": "Standards maintained"}
    # a school with only an ungraded inspection has no current judgement
    coram = selectors.current_judgement(School.objects.get(urn=THOMAS_CORAM))
    assert coram["framework"] is None and coram["latest_ungraded"]["outcome"] == "School remains Outstanding"


@pytest.mark.django_db
def test_same_day_graded_wins_over_ungraded(camden_inspections: None) -> None:
    school = School.objects.get(urn=HEATH)
    Inspection.objects.create(
        school=school, framework=Framework.UNGRADED, start_date=dt.date(2024, 6, 5), outcome_text="Monitoring"
    )
    latest = selectors.latest_inspection(school)
    assert latest is not None and latest.framework == Framework.LEGACY


@pytest.mark.django_db
def test_latest_grades_frame(camden_inspections: None, data_dir: Path) -> None:
    ids = dict(School.objects.values_list("urn", "id"))
    frame = selectors.latest_grades_frame()
    graded_schools = (
        Inspection.objects.filter(framework__in=["legacy", "report_card"])
        .values("school_id")
        .distinct()
        .count()
    )
    assert frame.height == graded_schools == frame["school_id"].n_unique()

    gospel = frame.filter(pl.col("school_id") == ids[GOSPEL_OAK]).row(0, named=True)
    assert (gospel["framework"], gospel["latest_graded_date"], gospel["safeguarding_met"]) == (
        "report_card",
        dt.date(2026, 1, 13),
        True,
    )
    assert (gospel["grade_inclusion"], gospel["grade_attendance_and_behaviour"], gospel["grade_post16"]) == (
        4,
        3,
        None,
    )
    assert gospel["overall_effectiveness"] is None
    # previous graded judgement: the history file's latest for 100025 (20160127, Outstanding)
    raw = read_text(data_dir / HISTORY).filter(pl.col("URN") == str(GOSPEL_OAK)).sort("Inspection Date")
    assert raw.row(-1) == ("100025", "Outstanding", "20160127")
    assert (gospel["previous_graded_date"], gospel["previous_overall_effectiveness"]) == (
        dt.date(2016, 1, 27),
        1,
    )

    heath = selectors.latest_grades_frame([ids[HEATH]])
    assert heath.height == 1
    row = heath.row(0, named=True)
    assert (row["overall_effectiveness"], row["grade_quality_of_education"], row["grade_early_years"]) == (
        2,
        2,
        None,
    )
    cobden = frame.filter(pl.col("school_id") == ids[100022]).row(0, named=True)
    assert cobden["latest_ungraded_outcome"] == "Standards maintained"
    assert cobden["last_inspection_date"] == dt.date(2024, 12, 18)
    assert selectors.latest_grades_frame([]).height == 0
