"""The schools the LA serves (issue 11 item 3): the January 2025 census and 2024/25 school list join the
register, independent and closed schools leave current lists, GIAS links join an academy's history.

Worked values read by hand from the shared files: calvinchankf england_census.csv (Argyle 100008: NOR 278,
PSENELSE 3.96%, PNUMEAL 83.80%, PNUMFSMEVER 61.96%; Odyssey House School 149566, independent, NOR 18),
england_school_coords.csv, the helios 2022/23 census (St Michael's CofE Primary 100044: 0 pupils; St
Dominic's 100039: 46), the GIAS links file (Pooles Park Primary 150522 succeeded 131741 from 1 February 2024)
and the Ofsted 2025 statistics (Pooles Park: Academy Sponsor Led, opened 1 November 2024).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from django.test import Client

from beacon import permissions
from beacon.assessments import selectors as assessment_selectors
from beacon.imports.framework import run_import
from beacon.imports.models import ImportRun, RunStatus
from beacon.indicators.models import SchoolMeasure, ValueStatus
from beacon.inspections.models import Framework, Inspection
from beacon.risk.models import Term
from beacon.schools.models import School, SchoolLink
from tests.conftest import CAMDEN, make_user

CENSUS_2025 = "calvinchankf-csp-2024-25/england_census.csv"
COORDS = "calvinchankf-csp-2024-25/england_school_coords.csv"
LINKS = "pvhee-london-schools/links_edubasealldata.csv"
CENSUS_2022 = "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv"
OFSTED_2025 = "ofsted-official-statistics-2025/state_funded_schools_inspections_and_outcomes_as_at_31_august_2025_extract.csv"
ARGYLE, ST_MICHAELS, ST_DOMINICS, ODYSSEY, INDEPENDENT = 100008, 100044, 100039, 149566, 100061
ISLINGTON, POOLES_PARK, POOLES_PARK_OLD = 206, 150522, 131741

pytestmark = pytest.mark.django_db


def load(
    source: str, path: Path, *, la: int = CAMDEN, year: int | None = None, force: bool = False
) -> ImportRun:
    run = run_import(source, path, la_code=la, year=year, force=force)
    assert run.status == RunStatus.SUCCEEDED, (run.message, run.errors[:5])
    return run


def value(urn: int, code: str, year: int = 2024) -> tuple[float | None, str]:
    m = SchoolMeasure.objects.get(school__urn=urn, measure__code=code, year=year)
    return m.value, m.status


@pytest.fixture
def camden_2025(camden_register: None, data_dir: Path) -> dict[str, ImportRun]:
    return {
        "census": load("csp_census_register", data_dir / CENSUS_2025, year=2024),
        "links": load("gias_links", data_dir / LINKS),
        "list": load("csp_school_register", data_dir / COORDS, year=2024),
    }


def test_census_2025_values_and_new_schools_join_the_register(camden_2025: dict[str, ImportRun]) -> None:
    assert value(ARGYLE, "pupils") == (278.0, ValueStatus.OK)
    assert value(ARGYLE, "sen_ehcp") == (3.96, ValueStatus.OK)
    assert value(ARGYLE, "eal") == (83.8, ValueStatus.OK)
    assert value(ARGYLE, "fsm_ever6") == (61.96, ValueStatus.OK)
    # Independent schools: FSM ever 6 has no base (NORFSMEVER 'NA'): not the file's 0.00%.
    assert value(INDEPENDENT, "fsm_ever6") == (None, ValueStatus.NOT_AVAILABLE)
    # Odyssey House School opened after the 2022 register: added, named from the 2024/25 list.
    odyssey = School.objects.get(urn=ODYSSEY)
    assert (odyssey.name, odyssey.postcode, odyssey.la_code, odyssey.laestab) == (
        "Odyssey House School - Bloomsbury",
        "WC1B 4JP",
        CAMDEN,
        2026008,
    )
    assert (odyssey.is_state_funded, odyssey.is_open, odyssey.la_name) == (False, True, "Camden")
    assert value(ODYSSEY, "pupils") == (18.0, ValueStatus.OK)
    assert any("2 school(s) opened or re-registered" in n for n in camden_2025["census"].notes)


def test_closed_school_marked_with_evidence(camden_2025: dict[str, ImportRun]) -> None:
    st_michaels = School.objects.get(urn=ST_MICHAELS)
    assert st_michaels.is_open is False
    assert st_michaels.closure_evidence == (
        "Absent from the January 2025 school census; absent from the 2024/25 CSP school list; "
        "0 pupils on roll in the 2022/23 census."
    )
    st_dominics = School.objects.get(urn=ST_DOMINICS)
    assert not st_dominics.is_open
    assert "last census headcount 46 (2022/23), none since" in st_dominics.closure_evidence
    # The change is in the register's history, with the run as the reason.
    last = st_michaels.history.first()
    assert last is not None and last.history_change_reason.startswith(f"Import run {camden_2025['list'].pk}")
    # The page says so, and the school is no longer in the default list (the filter brings it back).
    client = Client()
    client.force_login(make_user("director", "director"))
    html = client.get(f"/schools/{ST_MICHAELS}/").content.decode()
    assert 'id="closed-school"' in html and "0 pupils on roll in the 2022/23 census" in html
    link = f'href="/schools/{ST_MICHAELS}/"'
    assert link not in client.get("/schools/", {"q": "St Michael"}).content.decode()
    assert link in client.get("/schools/", {"q": "St Michael", "include": "closed"}).content.decode()


def test_closure_check_waits_for_the_census(camden_register: None, data_dir: Path) -> None:
    run = load("csp_school_register", data_dir / COORDS, year=2024)
    assert School.objects.get(urn=ST_MICHAELS).is_open  # absence from a census never read is no evidence
    assert any(n.startswith("Closure check skipped") for n in run.notes)


def test_risk_register_and_lists_hold_only_served_schools(camden_2025: dict[str, ImportRun]) -> None:
    director = make_user("director", "director")
    served = School.objects.filter(la_code=CAMDEN, is_open=True, is_state_funded=True)
    rows = assessment_selectors.register_rows(
        permissions.current_risk_register_schools(director), Term.parse("autumn-2026")
    )
    assert {r.school.urn for r in rows} == set(served.values_list("urn", flat=True))
    assert INDEPENDENT not in {r.school.urn for r in rows}
    assert ST_MICHAELS not in {r.school.urn for r in rows}
    assert School.objects.filter(la_code=CAMDEN, is_state_funded=False).count() > 30  # held, not listed
    assert set(permissions.served_schools(director)) == set(served)
    assert set(permissions.public_schools()) == set(served)
    # Historical pages stay reachable: the independent school's own page opens.
    client = Client()
    client.force_login(director)
    page = client.get(f"/schools/{INDEPENDENT}/")
    assert page.status_code == 200 and 'id="independent-school"' in page.content.decode()


def test_reimport_is_idempotent(camden_2025: dict[str, ImportRun], data_dir: Path) -> None:
    counts = (School.objects.count(), SchoolMeasure.objects.count(), SchoolLink.objects.count())
    again = load("csp_census_register", data_dir / CENSUS_2025, year=2024, force=True)
    load("gias_links", data_dir / LINKS, force=True)
    load("csp_school_register", data_dir / COORDS, year=2024, force=True)
    assert again.rows_inserted == 0
    assert (School.objects.count(), SchoolMeasure.objects.count(), SchoolLink.objects.count()) == counts


def test_malformed_census_rejected_with_row_and_column(
    camden_register: None, data_dir: Path, tmp_path: Path
) -> None:
    with (data_dir / CENSUS_2025).open(encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [r for r in reader if r[1] == str(CAMDEN)][:5]
    rows[2][0] = "10O011"  # a letter O in the URN
    rows[3][header.index("NOR")] = "many"
    path = tmp_path / "england_census.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    before = (School.objects.count(), SchoolMeasure.objects.count())
    run = run_import("csp_census_register", path, la_code=CAMDEN, year=2024)
    assert run.status == RunStatus.REJECTED
    assert {(e["row"], e["column"]) for e in run.errors} == {(5, "NOR")}  # cell types are checked first
    rows[3][header.index("NOR")] = "201"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    run = run_import("csp_census_register", path, la_code=CAMDEN, year=2024)
    assert run.status == RunStatus.REJECTED
    assert [(e["row"], e["column"], e["value"]) for e in run.errors] == [(4, "URN", "10O011")]
    assert (School.objects.count(), SchoolMeasure.objects.count()) == before


def test_academy_conversion_joined_up(db: None, data_dir: Path) -> None:
    """Islington: Pooles Park Primary re-registered as a sponsored academy (150522) in 2024."""
    load("school_census", data_dir / CENSUS_2022, la=ISLINGTON)
    load("csp_census_register", data_dir / CENSUS_2025, la=ISLINGTON, year=2024)
    load("gias_links", data_dir / LINKS, la=ISLINGTON)
    load("csp_school_register", data_dir / COORDS, la=ISLINGTON, year=2024)
    load("ofsted_official_statistics", data_dir / OFSTED_2025, la=ISLINGTON)
    academy = School.objects.get(urn=POOLES_PARK)
    assert (academy.name, academy.establishment_type, academy.open_date, academy.laestab, academy.phase) == (
        "Pooles Park Primary School",
        "Academy Sponsor Led",
        dt.date(2024, 11, 1),
        2062004,
        "primary",
    )
    assert value(POOLES_PARK, "pupils") == (153.0, ValueStatus.OK)
    # Its latest graded inspection (9 November 2022, Inadequate) was of the predecessor URN.
    insp = Inspection.objects.get(school=academy, framework=Framework.LEGACY, start_date=dt.date(2022, 11, 9))
    assert (insp.overall_effectiveness, insp.urn_at_time) == (4, POOLES_PARK_OLD)
    # The predecessor is closed (still named in the 2024/25 list, but succeeded in the census).
    old = School.objects.get(urn=POOLES_PARK_OLD)
    assert not old.is_open
    assert "succeeded by Pooles Park Primary School (URN 150522) from 1 February 2024" in old.closure_evidence
    # The academy's page links to the predecessor, whose page holds the older figures.
    client = Client()
    client.force_login(make_user("director", "director", la_code=ISLINGTON))
    html = client.get(f"/schools/{POOLES_PARK}/").content.decode()
    links = html[html.index('id="school-links"') :]
    assert f'href="/schools/{POOLES_PARK_OLD}/"' in links and "Predecessor" in links
    assert "figures 2022/23 to 2022/23" in links
    assert client.get(f"/schools/{POOLES_PARK_OLD}/").status_code == 200
