"""Freshness of the data held (issue 11 item 4): `manage.py data_freshness` and the selector behind it,
on real imports for Camden. Expected years are worked from the raw files with the csv module."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from django.core.management import call_command

from beacon.imports.framework import load_all_sources, run_import
from beacon.imports.freshness import as_at_from_name, current_academic_year, source_freshness
from beacon.imports.models import ImportRun, RunStatus
from tests.conftest import CAMDEN

KS2_2018 = "waiky8-schools-data/ks2_perf_2018.csv"  # exam series 2018 = 2017/18, stored 2017
CENSUS = "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv"
OFSTED_2025 = (
    "ofsted-official-statistics-2025/"
    "state_funded_schools_inspections_and_outcomes_as_at_31_august_2025_extract.csv"
)
HISTORY = "waiky8-schools-data/ofsted_ratings_2018.csv"
ON = dt.date(2026, 11, 30)  # autumn 2026: the current academic year is 2026/27


def freshness(la: int | None = CAMDEN) -> dict[str, Any]:
    out = io.StringIO()
    call_command("data_freshness", "--la", str(la or 0), "--json", "--on", ON.isoformat(), stdout=out)
    return json.loads(out.getvalue())


def by_source(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["source"]: s for s in data["sources"]}


def imported(source: str, path: Path, **kw: Any) -> ImportRun:
    run = run_import(source, path, la_code=CAMDEN, **kw)
    assert run.status == RunStatus.SUCCEEDED, run.message
    return run


def camden_urns(path: Path) -> set[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return {r["urn"] for r in csv.DictReader(f) if r["la_code"] == str(CAMDEN)}


def test_as_at_from_file_names() -> None:
    assert as_at_from_name(Path(OFSTED_2025).name) == dt.date(2025, 8, 31)
    assert as_at_from_name("Ofsted schools as at 31 December 2024.csv") == dt.date(2024, 12, 31)
    assert as_at_from_name("register-as-at-2026-01-15.xlsx") == dt.date(2026, 1, 15)
    assert as_at_from_name("as_at_31_february_2025.csv") is None  # not a date
    assert as_at_from_name("ks2_perf_2018.csv") is None
    assert current_academic_year(dt.date(2026, 8, 31)) == 2025
    assert current_academic_year(dt.date(2026, 9, 1)) == 2026


def test_data_freshness_json_on_real_imports(camden_register: None, data_dir: Path) -> None:
    ks2 = imported("ks2_results", data_dir / KS2_2018)
    # Latest year worked from the raw file: 'Academic Year' 2018 for every Camden row -> 2017 (2017/18).
    census_run = ImportRun.objects.get(source="school_census")
    data = freshness()
    assert data["la"] == CAMDEN and data["current_academic_year"] == 2026
    rows = by_source(data)
    # Every registered source is listed, imported or not, in a stable order.
    assert [s["source"] for s in data["sources"]] == sorted(load_all_sources())
    k = rows["ks2_results"]
    assert (k["latest_year"], k["latest_year_label"], k["as_at"]) == (2017, "2017/18", None)
    assert k["file"] == "ks2_perf_2018.csv"
    ks2.refresh_from_db()
    assert k["rows"] == ks2.rows_inserted + ks2.rows_updated > 0
    assert k["imported_at"] == ks2.finished_at.isoformat()
    assert k["stale"] is True  # 2017/18 is more than two academic years before 2026/27
    assert "progress" in k["lacks"]
    # The held rows are Camden's only: one SchoolMeasure per (school, measure, year).
    from beacon.indicators.models import SchoolMeasure

    assert (
        k["rows_held"]
        == SchoolMeasure.objects.filter(source_run__source="ks2_results", school__la_code=CAMDEN).count()
    )
    # The census of January 2023 = 2022/23.
    c = rows["school_census"]
    assert (c["latest_year"], c["latest_year_label"]) == (2022, "2022/23")
    assert c["file"] == census_run.file_name == Path(CENSUS).name
    # A source never imported says so.
    n = rows["csp_absence"]
    assert (n["latest_year"], n["as_at"], n["file"], n["runs"]) == (None, None, None, 0)
    assert "2018/19" in n["lacks"]

    # A second, older KS2 file does not make KS2 look older, and the file shown is the one with 2017/18.
    imported("ks2_results", data_dir / "waiky8-schools-data/ks2_perf_2016.csv")
    k = by_source(freshness())["ks2_results"]
    assert (k["latest_year"], k["file"]) == (2017, "ks2_perf_2018.csv")

    # Another LA's view holds none of Camden's rows: derived from the data, not the runs' labels.
    other = by_source(freshness(213))
    assert other["ks2_results"]["latest_year"] is None and other["ks2_results"]["rows_held"] == 0

    # The human-readable default.
    out = io.StringIO()
    call_command("data_freshness", "--la", "202", "--on", ON.isoformat(), stdout=out)
    text = out.getvalue()
    assert (
        "KS2 results by school (Compare School Performance) [ks2_results]: 2017/18 (old); ks2_perf_2018.csv"
        in text
    )
    assert "[csp_absence]: not imported" in text


def test_as_at_parsed_from_the_ofsted_file_name(
    camden_register: None, data_dir: Path, tmp_path: Path
) -> None:
    """A few real Camden rows of Ofsted's 'as at 31 August 2025' file, in a file named like the original."""
    src = data_dir / OFSTED_2025
    with src.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        laestab = header.index("LAESTAB")
        start = header.index("Inspection start date")
        camden = [r for r in reader if r[laestab][:3] == "202" and r[start]][:6]
    assert len(camden) == 6
    copy = tmp_path / Path(OFSTED_2025).name
    with copy.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(camden)
    run = imported("ofsted_latest", copy)
    o = by_source(freshness())["ofsted_latest"]
    assert o["as_at"] == "2025-08-31" and o["latest_year"] is None
    assert o["file"] == copy.name and o["rows"] == run.rows_inserted + run.rows_updated
    assert o["stale"] is False  # 2024/25 is within two academic years of 2026/27


def test_as_at_falls_back_to_the_newest_inspection(camden_register: None, data_dir: Path) -> None:
    """A file without an as-at date in its name: the newest publication (else start) date it wrote."""
    from beacon.inspections.models import Inspection

    imported("ofsted_inspection_history", data_dir / HISTORY)
    held = Inspection.objects.filter(source_run__source="ofsted_inspection_history", school__la_code=CAMDEN)
    assert not any(held.values_list("publication_date", flat=True))  # this file has start dates only
    # Worked from the raw file: the newest 'Inspection Date' of a Camden school in the register.
    urns = {str(u) for u in held.values_list("school__urn", flat=True)}
    with (data_dir / HISTORY).open(encoding="utf-8-sig", newline="") as f:
        raw = max(r["Inspection Date"] for r in csv.DictReader(f) if r["URN"] in urns)
    newest = dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    h = by_source(freshness())["ofsted_inspection_history"]
    assert (h["as_at"], h["latest_year"]) == (newest.isoformat(), None)
    assert h["stale"] is True


def test_freshness_reads_only(camden_register: None, data_dir: Path) -> None:
    from beacon.indicators.models import SchoolMeasure

    before = (ImportRun.objects.count(), SchoolMeasure.objects.count())
    result = source_freshness(CAMDEN, today=ON)
    assert result and (ImportRun.objects.count(), SchoolMeasure.objects.count()) == before


def test_data_page_for_la_staff_only(camden_register: None, data_dir: Path, client: Any) -> None:
    import time_machine

    from tests.conftest import make_user

    imported("ks2_results", data_dir / KS2_2018)
    users = {
        name: make_user(name, role, schools=(100008,) if role in ("adviser", "headteacher", "chair") else ())
        for name, role in (
            ("director", "director"),
            ("adviser", "adviser"),
            ("head", "headteacher"),
            ("chair", "chair"),
            ("data", "data_manager"),
        )
    }
    with time_machine.travel(dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC), tick=False):
        for username in ("director", "adviser", "data"):
            client.force_login(users[username])
            page = client.get("/imports/data/")
            assert page.status_code == 200, username
            html = page.content.decode()
            row = html[html.index('data-source="ks2_results"') :]
            row = row[: row.index("</tr>")]
            assert "2017/18" in row and "Old" in row and "ks2_perf_2018.csv" in row
            census = html[html.index('data-source="school_census"') :]
            census = census[: census.index("</tr>")]
            assert "2022/23" in census and "Old" in census  # 2022/23 is more than two years before 2026/27
            gias = html[html.index('data-source="gias_establishments"') :]
            assert "Undated (the file carries no year or date)" in gias[: gias.index("</tr>")]
            absence = html[html.index('data-source="csp_absence"') :]
            assert "Not imported" in absence[: absence.index("</tr>")]
            assert "School-level absence and persistent absence end in 2018/19" in html
            assert "2026/27 academic year" in html
            assert 'href="/imports/data/"' in html  # linked from the navigation
            client.logout()
        for username in ("head", "chair"):
            client.force_login(users[username])
            assert client.get("/imports/data/").status_code in (403, 404), username
            assert 'href="/imports/data/"' not in client.get("/schools/").content.decode()
            client.logout()
        assert client.get("/imports/data/").status_code == 302  # anonymous: sign in first
        # The imports page links to it.
        client.force_login(users["data"])
        assert 'href="/imports/data/"' in client.get("/imports/").content.decode()


def test_years_next_to_figures_on_the_school_page_and_in_the_export(
    camden_register: None, data_dir: Path, client: Any
) -> None:
    """Argyle Primary School (URN 100008): ks2_perf_2018.csv and the 2022/23 census, each figure with its year."""
    import re

    from tests.conftest import make_user

    imported("ks2_results", data_dir / KS2_2018)
    with (data_dir / KS2_2018).open(encoding="utf-8-sig", newline="") as f:
        argyle = next(r for r in csv.DictReader(f) if r["URN"] == "100008")
    with (data_dir / CENSUS).open(encoding="utf-8-sig", newline="") as f:
        census = next(r for r in csv.DictReader(f) if r["urn"] == "100008")
    pupils = int(float(census["headcount of pupils"]))
    client.force_login(make_user("dir", "director"))
    html = client.get("/schools/100008/").content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert f"{pupils:,} (2022/23 census)" in text
    # Capacity: the register's figure says so, a census figure its year (not held for Argyle here).
    assert re.search(r"Capacity ([\d,]+ \((as registered|\d{4}/\d{2})\)|Not recorded)", text)
    # KS2 'other measures' table: each row carries the year of its figure (exam series 2018 = 2017/18).
    reading = argyle["Reading Meet Std"].rstrip("%")
    assert re.search(rf"KS2 reading: expected standard[^<]*?2017/18 {reading}(\.0)?%", text), text
    # The sources list gives each file's latest year of this school's figures, from the data.
    assert "KS2 results by school (Compare School Performance) (2017/18): ks2_perf_2018.csv" in text
    assert "(2022/23): spc_school_level_underlying_data_2022_23.csv" in text
    # The school list shows the census year beside the pupil count, and the export has a year column.
    listing = " ".join(
        re.sub(r"<[^>]+>", " ", client.get("/schools/", {"q": "Argyle"}).content.decode()).split()
    )
    assert f"{pupils:,} 2022/23" in listing
    rows = list(
        csv.reader(io.StringIO(client.get("/schools/", {"format": "csv"}).content.decode("utf-8-sig")))
    )
    header = rows[0]
    row = next(r for r in rows[1:] if r[0] == "100008")
    assert header[header.index("Pupils") + 1] == "Pupils: academic year"
    assert row[header.index("Pupils")] in (str(pupils), f"{pupils}.0")
    assert row[header.index("Pupils: academic year")] == "2022/23"


def test_attendance_says_its_latest_year(camden_register: None, data_dir: Path, client: Any) -> None:
    """School-level absence ends in 2018/19 in the shared data: the school page says so beside the figure."""
    from tests.conftest import make_user

    imported("csp_absence", data_dir / "kspdeveloper-csp-2018-19/england_abs.csv", year=2018)
    client.force_login(make_user("dir", "director"))
    html = client.get("/schools/100049/").content.decode()
    # kspdeveloper england_abs.csv row `202,4104,100049,6.9,18.8`: Haverstock, 2018/19.
    assert 'data-latest-year="2018">Latest for Haverstock School: 6.9% (2018/19).' in html
    assert 'data-latest-year="2018">Latest for Haverstock School: 18.8% (2018/19).' in html


def test_latest_by_kind_of_data(camden_register: None, data_dir: Path) -> None:
    """The issue's acceptance: KS2 2024, KS4 2024, census 2024 and Ofsted as at 2025-08-31, each from the
    source that holds the newest (older sources of the same kind do not hide it)."""
    imported("ks2_results", data_dir / KS2_2018, year=2017)
    imported(
        "ks2_results_matched", data_dir / "charleskk6-ks2-ks4-2023-25/ks2_2024-2025_school_level_with_urn.csv"
    )
    imported(
        "ks4_results_matched", data_dir / "charleskk6-ks2-ks4-2023-25/ks4_2024-2025_school_level_with_urn.csv"
    )
    imported("csp_census_register", data_dir / "calvinchankf-csp-2024-25/england_census.csv", year=2024)
    imported("ofsted_official_statistics", data_dir / OFSTED_2025)
    kinds = freshness()["by_kind"]
    assert kinds["ks2"] == {
        "latest_year": 2024,
        "latest_year_label": "2024/25",
        "source": "ks2_results_matched",
    }
    assert kinds["ks4"]["latest_year"] == 2024
    assert kinds["census"]["latest_year"] == 2024 and kinds["census"]["source"] == "csp_census_register"
    assert kinds["ofsted"] == {"as_at": "2025-08-31", "source": "ofsted_official_statistics"}
    assert kinds["absence"]["latest_year"] is None  # nothing imported: null, never a guess
