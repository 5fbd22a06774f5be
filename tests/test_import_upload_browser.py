"""Uploading a data file on /imports/upload/ as a data manager, in a real browser; and the
background-thread path that the upload page uses outside tests."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from beacon.imports.models import ImportRun, RunStatus
from beacon.indicators.models import SchoolMeasure
from beacon.schools.models import School
from tests.conftest import CAMDEN, assert_accessible, make_user, sign_in_by_session

CENSUS = "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv"
PUPILS = "headcount of pupils"


def camden_census(data_dir: Path, target: Path, *, bad_row_index: int | None = None) -> Path:
    """The real census rows for Camden (all 268 columns), optionally with one pupil count garbled."""
    df = pl.read_csv(data_dir / CENSUS, infer_schema_length=0).filter(pl.col("old_la_code") == str(CAMDEN))
    assert df.height == 90
    if bad_row_index is not None:
        df = df.with_columns(
            pl.when(pl.int_range(pl.len()) == bad_row_index)
            .then(pl.lit("about 200"))
            .otherwise(pl.col(PUPILS))
            .alias(PUPILS)
        )
    df.write_csv(target)
    return target


def upload(page: Any, live_server: Any, path: Path) -> None:
    page.goto(f"{live_server.url}/imports/upload/")
    page.get_by_label("What is in the file?").select_option("school_census")
    page.get_by_label("Upload a file").set_input_files(str(path))
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_load_state()


@pytest.mark.browser
def test_data_manager_uploads_real_census_rows(
    page: Any, live_server: Any, transactional_db: None, data_dir: Path, tmp_path: Path
) -> None:
    make_user("data", "data_manager")
    sign_in_by_session(page, live_server, "data")
    page.goto(f"{live_server.url}/imports/upload/")
    assert page.get_by_role("heading", level=1).inner_text() == "Import a data file"
    assert_accessible(page)

    upload(page, live_server, camden_census(data_dir, tmp_path / "camden_census.csv"))
    run = ImportRun.objects.get()
    assert page.url == f"{live_server.url}/imports/{run.pk}/"
    assert page.get_by_role("heading", level=1).inner_text() == f"Import {run.pk}: Imported"
    assert "90 added, 0 updated, 0 skipped of 90 rows." in page.content()
    rows = page.locator(".govuk-summary-list__row")
    assert rows.filter(has_text="Rows read").locator("dd").inner_text().strip() == "90"
    assert (
        rows.filter(has_text="Added / updated / skipped").locator("dd").inner_text().strip() == "90 / 0 / 0"
    )
    assert rows.filter(has_text="File").first.locator("dd").inner_text().strip() == "camden_census.csv"
    assert_accessible(page)
    assert (School.objects.count(), SchoolMeasure.objects.count()) == (90, 270)
    assert run.started_by is not None and run.started_by.username == "data"


@pytest.mark.browser
def test_bad_upload_shows_each_problem_with_row_and_column(
    page: Any, live_server: Any, transactional_db: None, data_dir: Path, tmp_path: Path
) -> None:
    make_user("data", "data_manager")
    sign_in_by_session(page, live_server, "data")
    upload(page, live_server, camden_census(data_dir, tmp_path / "bad.csv", bad_row_index=12))
    run = ImportRun.objects.get()
    assert run.status == RunStatus.REJECTED
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == f"Import {run.pk}: Rejected (file has errors, nothing written)"
    table = page.get_by_role("region", name="Problems found").locator("table")
    assert table.locator("caption").inner_text().strip() == "1 problem(s) found"
    cells = [c.strip() for c in table.locator("tbody tr").first.locator("td").all_inner_texts()]
    # Data row index 12 is the 14th line of the file (header = row 1).
    assert cells[:3] == ["14", PUPILS, "about 200"]
    assert_accessible(page)
    assert School.objects.count() == 0 and SchoolMeasure.objects.count() == 0


@pytest.mark.browser
def test_headteacher_gets_403_on_imports(page: Any, live_server: Any, transactional_db: None) -> None:
    make_user("hana", "headteacher")
    sign_in_by_session(page, live_server, "hana")
    for url in ("/imports/", "/imports/upload/"):
        response = page.goto(f"{live_server.url}{url}")
        assert response is not None and response.status == 403, url


def database_sessions() -> int | None:
    """Open connections to the test database on PostgreSQL (None on SQLite, which has no such view)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        row = cur.fetchone()
    return int(row[0]) if row else None


def test_background_import_thread_finishes_and_writes(
    transactional_db: None, data_dir: Path, tmp_path: Path
) -> None:
    """The path the upload page takes outside tests: the import runs in a thread of its own.

    transactional_db, so the run row is committed and the thread's own connection can see it (on
    SQLite the test database is a shared-cache in-memory database, on PostgreSQL a real one)."""
    from beacon.imports.services import start_upload_import

    sessions_before = database_sessions()
    user = make_user("data", "data_manager")
    content = camden_census(data_dir, tmp_path / "camden.csv").read_bytes()
    run = start_upload_import(
        "school_census",
        SimpleUploadedFile("camden.csv", content, content_type="text/csv"),
        year=None,
        la_code=None,
        user=user,
        background=True,
    )
    worker = next(t for t in threading.enumerate() if t.name == f"import-{run.pk}")
    assert worker is not threading.current_thread()
    worker.join(timeout=300)  # waits for the import to end (the timeout only guards a hung worker)
    assert not worker.is_alive()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.message
    assert (run.rows_read, run.rows_inserted) == (90, 90)
    assert School.objects.count() == 90
    assert SchoolMeasure.objects.filter(source_run=run).count() == 270
    # The finished thread gave its database connection back (PostgreSQL shows who is connected).
    assert database_sessions() == sessions_before
