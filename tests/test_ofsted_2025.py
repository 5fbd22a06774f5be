"""Ofsted official statistics as at 31 August 2025 (beacon.inspections.official_statistics), on real rows.

Worked values are read by hand from the shared file (state_funded_schools_inspections_and_outcomes_as_at_
31_august_2025_extract.csv): Brookfield Primary 100011, Holy Trinity CofE Primary NW3 100032 (Camden), The
Bridge School 143217 (Islington, an academy whose graded inspections were of its predecessor URN 134030).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from django.test import Client

from beacon.imports.framework import run_import
from beacon.imports.models import ImportRun, RunStatus
from beacon.inspections.models import EvaluationArea, Framework, Inspection, InspectionGrade
from beacon.inspections.official_statistics import as_at_from_file_name, snapshot_date
from beacon.schools.models import School
from tests.conftest import CAMDEN, make_user

OFSTED_2025 = "ofsted-official-statistics-2025/state_funded_schools_inspections_and_outcomes_as_at_31_august_2025_extract.csv"
HISTORY = "waiky8-schools-data/ofsted_ratings_2018.csv"
MI = "hemaleed-ofsted-mi-2026-sample/ofsted_mi_state_funded_schools_2026_first18rows.csv"
CENSUS_2022 = "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv"
BROOKFIELD, HOLY_TRINITY, BRIDGE = 100011, 100032, 143217
ISLINGTON = 206

pytestmark = pytest.mark.django_db


def load(source: str, path: Path, *, la: int = CAMDEN, force: bool = False) -> ImportRun:
    run = run_import(source, path, la_code=la, force=force)
    assert run.status == RunStatus.SUCCEEDED, (run.message, run.errors[:5])
    return run


def get(urn: int, framework: str, start: dt.date) -> Inspection:
    return Inspection.objects.get(school__urn=urn, framework=framework, start_date=start)


def grades(insp: Inspection) -> dict[str, tuple[int | None, bool]]:
    return {g.area: (g.grade, g.not_applicable) for g in InspectionGrade.objects.filter(inspection=insp)}


@pytest.fixture
def camden_ofsted(camden_register: None, data_dir: Path) -> ImportRun:
    """The older Ofsted files first (as make run loads them), then the official statistics."""
    load("ofsted_inspection_history", data_dir / HISTORY)
    load("ofsted_management_information", data_dir / MI)
    return load("ofsted_official_statistics", data_dir / OFSTED_2025)


def test_not_judged_overall_keeps_sub_grades_and_no_invented_grade(camden_ofsted: ImportRun) -> None:
    insp = get(HOLY_TRINITY, Framework.LEGACY, dt.date(2024, 11, 19))
    assert insp.overall_effectiveness is None  # 'Not judged': never an invented overall grade
    assert insp.outcome_text == "Not judged"
    assert insp.safeguarding_met is True
    assert insp.inspection_type == "S5 Inspection"
    assert grades(insp) == {
        EvaluationArea.QUALITY_OF_EDUCATION: (1, False),
        EvaluationArea.BEHAVIOUR_ATTITUDES: (1, False),
        EvaluationArea.PERSONAL_DEVELOPMENT: (1, False),
        EvaluationArea.LEADERSHIP_MANAGEMENT: (1, False),
        EvaluationArea.EARLY_YEARS: (1, False),
        EvaluationArea.POST16: (None, True),  # 9 = not applicable
    }
    # Its previous graded inspection (21 November 2013, Good) is kept with its overall grade.
    previous = get(HOLY_TRINITY, Framework.LEGACY, dt.date(2013, 11, 21))
    assert previous.overall_effectiveness == 2
    # Camden: 6 latest graded inspections 'Not judged' in this file.
    assert (
        Inspection.objects.filter(
            school__la_code=CAMDEN,
            framework=Framework.LEGACY,
            outcome_text="Not judged",
            source_run=camden_ofsted,
        ).count()
        == 6
    )


def test_brookfield_graded_previous_and_ungraded_without_duplicates(camden_ofsted: ImportRun) -> None:
    school = School.objects.get(urn=BROOKFIELD)
    latest = get(BROOKFIELD, Framework.LEGACY, dt.date(2014, 6, 5))
    assert (latest.overall_effectiveness, latest.inspection_number, latest.inspection_type) == (
        2,
        "ITS439482",
        "S5 Inspection",
    )
    assert latest.publication_date == dt.date(2014, 6, 25)
    assert latest.safeguarding_met is None  # 9: not judged separately before September 2019
    assert grades(latest)[EvaluationArea.LEADERSHIP_MANAGEMENT] == (2, False)
    assert grades(latest)[EvaluationArea.QUALITY_OF_EDUCATION] == (None, True)
    previous = get(BROOKFIELD, Framework.LEGACY, dt.date(2009, 6, 17))
    assert (previous.overall_effectiveness, previous.inspection_number) == (2, "ITS323210")
    assert grades(previous)[EvaluationArea.EARLY_YEARS] == (2, False)
    ungraded = get(BROOKFIELD, Framework.UNGRADED, dt.date(2023, 9, 20))
    assert ungraded.outcome_text == "School remains Good"
    assert ungraded.converted_to_graded is False
    assert ungraded.inspection_number == "10289760"
    assert ungraded.publication_date == dt.date(2023, 11, 8)
    # The history file already held 2014, 2009 and 2006; the MI the ungraded one: still 4 rows, the
    # two the official statistics give now come from them (precedence).
    assert school.inspections.count() == 4
    assert latest.source_run_id == previous.source_run_id == ungraded.source_run_id == camden_ofsted.pk
    assert latest.urn_at_time is None  # the inspection was of this URN


def test_older_file_never_overwrites_the_official_statistics(
    camden_ofsted: ImportRun, data_dir: Path
) -> None:
    official = Inspection.objects.filter(source_run=camden_ofsted).order_by("pk")
    before = list(official.values_list())
    assert before
    count = Inspection.objects.count()
    grades_before = list(InspectionGrade.objects.order_by("pk").values_list())
    again = load("ofsted_inspection_history", data_dir / HISTORY, force=True)
    load("ofsted_management_information", data_dir / MI, force=True)
    # Every row the official statistics hold is untouched (values, number, type, run); no duplicates.
    assert (
        list(Inspection.objects.filter(pk__in=[r[0] for r in before]).order_by("pk").values_list()) == before
    )
    assert Inspection.objects.count() == count
    assert list(InspectionGrade.objects.order_by("pk").values_list()) == grades_before
    # The history's own older inspection (2006, not in the official file) is still the history's to update.
    assert get(BROOKFIELD, Framework.LEGACY, dt.date(2006, 7, 10)).source_run_id == again.pk


def test_reimport_is_idempotent_and_records_the_snapshot_date(
    camden_ofsted: ImportRun, data_dir: Path
) -> None:
    assert snapshot_date(camden_ofsted) == dt.date(2025, 8, 31)
    assert camden_ofsted.notes[0].startswith("As at 2025-08-31")
    count, grade_count = Inspection.objects.count(), InspectionGrade.objects.count()
    same = run_import("ofsted_official_statistics", data_dir / OFSTED_2025, la_code=CAMDEN)
    assert same.status == RunStatus.DUPLICATE
    forced = load("ofsted_official_statistics", data_dir / OFSTED_2025, force=True)
    assert forced.rows_inserted == 0
    assert forced.rows_updated > 0
    assert (Inspection.objects.count(), InspectionGrade.objects.count()) == (count, grade_count)
    assert as_at_from_file_name("State-funded_schools_inspections_and_outcomes_as_at_31_March_2026.csv") == (
        dt.date(2026, 3, 31)
    )
    assert as_at_from_file_name("ofsted.csv") is None


def test_predecessor_urn_inspection_joined_to_the_academy(db: None, data_dir: Path) -> None:
    load("school_census", data_dir / CENSUS_2022, la=ISLINGTON)
    run = load("ofsted_official_statistics", data_dir / OFSTED_2025, la=ISLINGTON)
    bridge = School.objects.get(urn=BRIDGE)
    latest = get(BRIDGE, Framework.LEGACY, dt.date(2013, 12, 11))
    assert latest.school == bridge
    assert (latest.urn_at_time, latest.name_at_time, latest.overall_effectiveness) == (
        134030,
        "The Bridge School",
        1,
    )
    previous = get(BRIDGE, Framework.LEGACY, dt.date(2008, 11, 11))
    assert previous.urn_at_time == 134030
    assert any("predecessor URN" in n for n in run.notes)
    # --la keeps only rows whose LAESTAB // 10000 is the LA: no Camden school was touched.
    assert not Inspection.objects.filter(school__la_code=CAMDEN).exists()


def _rows(data_dir: Path, urns: set[str]) -> tuple[list[str], list[list[str]]]:
    with (data_dir / OFSTED_2025).open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, [r for r in reader if r[1] in urns]


def test_malformed_file_rejected_with_row_and_column(
    camden_register: None, data_dir: Path, tmp_path: Path
) -> None:
    header, rows = _rows(data_dir, {str(BROOKFIELD), str(HOLY_TRINITY)})
    oe = header.index("Overall effectiveness")
    quality = header.index("Previous quality of education")
    rows[1][oe] = "Great"
    rows[0][quality] = "5"  # 1-4 or 9 only
    path = tmp_path / "state_funded_schools_inspections_and_outcomes_as_at_31_august_2025.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    run = run_import("ofsted_official_statistics", path, la_code=CAMDEN)
    assert run.status == RunStatus.REJECTED
    found = {(e["row"], e["column"], e["value"]) for e in run.errors}
    assert (2, "Previous quality of education", "5") in found
    assert (3, "Overall effectiveness", "Great") in found
    assert not Inspection.objects.exists()

    # A missing required column names it.
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(h for h in header if h != "Inspection start date")
        writer.writerows([v for i, v in enumerate(r) if header[i] != "Inspection start date"] for r in rows)
    run = run_import("ofsted_official_statistics", path, la_code=CAMDEN, force=True)
    assert run.status == RunStatus.REJECTED
    assert any(e["column"] == "g_start" and "Inspection start date" in e["reason"] for e in run.errors)


# ---------------------------------------------------------------------------------------------
# Inspections as they are (issue 11 item 2): the latest inspection of any kind beside the latest graded one


def _director_client() -> Client:
    client = Client()
    client.force_login(make_user("director", "director"))
    return client


def test_brookfield_page_shows_its_ungraded_inspection_as_latest(camden_ofsted: ImportRun) -> None:
    from beacon.inspections import selectors

    latest = selectors.latest_any_inspection(School.objects.get(urn=BROOKFIELD))
    assert latest is not None
    assert (latest["kind"], latest["date"], latest["outcome"]) == (
        "Ungraded inspection",
        dt.date(2023, 9, 20),
        "School remains Good",
    )
    html = _director_client().get(f"/schools/{BROOKFIELD}/").content.decode()
    block = html[html.index('id="latest-inspection"') : html.index("Latest graded judgement")]
    assert "Ungraded inspection" in block and "20 September 2023" in block and "School remains Good" in block
    graded = html[html.index("Latest graded judgement") :]
    assert "Graded inspection that started on 5 June 2014" in graded
    assert ">Good</strong>" in graded


def test_not_judged_school_shows_sub_grades_and_no_overall_grade(camden_ofsted: ImportRun) -> None:
    html = _director_client().get(f"/schools/{HOLY_TRINITY}/").content.decode()
    graded = html[html.index("Latest graded judgement") :]
    assert "19 November 2024" in graded
    assert "No overall grade (from September 2024)" in graded
    assert ">Outstanding</strong>" in graded  # quality of education 1 etc.
    # Its previous overall grade (Good, 2013) is not shown as the judgement.
    head = graded[: graded.index("Inspection history")]
    assert ">Good</strong>" not in head


def test_list_and_la_overview_show_latest_inspection_and_graded_judgement(camden_ofsted: ImportRun) -> None:
    client = _director_client()
    html = client.get("/schools/", {"q": "Brookfield"}).content.decode()
    assert "Latest: Ungraded inspection: School remains Good, 20 September 2023" in html
    assert ">Good</strong>" in html
    html = client.get("/schools/", {"ofsted": "no_overall_grade"}).content.decode()
    assert "Holy Trinity" in html and "Brookfield" not in html
    overview = client.get("/schools/local-authority/").content.decode()
    row = overview[overview.index(f'data-urn="{HOLY_TRINITY}"') :]
    row = row[: row.index("</tr>")]
    assert "No overall grade" in row and "Latest: Graded inspection: No overall grade" in row
