"""`import_files`: several files in order (load_demo, the national refresh). Each file keeps run_import's
guarantees (its own run, validation and transaction); the post-load hook runs once, after the last file
(decision 0026, third amendment)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.db import transaction

from beacon.imports import framework
from beacon.imports.framework import import_files, run_import
from beacon.imports.models import ImportRun, RunStatus
from beacon.indicators.models import SchoolMeasure
from beacon.schools.models import School
from tests.test_imports_pipeline import camden_rows, data_dir, write  # noqa: F401 (module fixtures)

PUPILS = "headcount of pupils"


def run_summary(runs: list[ImportRun]) -> list[tuple[Any, ...]]:
    return [
        (
            r.source,
            r.file_name,
            r.sha256,
            r.status,
            r.rows_read,
            r.rows_inserted,
            r.rows_updated,
            r.rows_skipped,
        )
        for r in runs
    ]


def table_summary() -> tuple[Any, ...]:
    values = sorted(
        SchoolMeasure.objects.values_list("school__urn", "measure__code", "year", "value", "status")
    )
    return School.objects.count(), values


def three_files(camden_rows: pl.DataFrame, tmp_path: Path) -> list[tuple[str, Path, int | None]]:  # noqa: F811
    """The Camden census in two halves, then the whole file again (updates, no new schools)."""
    first = write(camden_rows.head(40), tmp_path / "first.csv")
    second = write(camden_rows.tail(50), tmp_path / "second.csv")
    changed = camden_rows.with_columns(pl.lit("100").alias(PUPILS))
    whole = write(changed, tmp_path / "whole.csv")
    return [("school_census", first, None), ("school_census", second, None), ("school_census", whole, None)]


@pytest.mark.django_db
def test_files_import_as_run_import_would_one_by_one(
    camden_rows: pl.DataFrame,  # noqa: F811
    tmp_path: Path,
) -> None:
    items = three_files(camden_rows, tmp_path)
    # One by one with run_import, then rolled back: what import_files must give.
    with transaction.atomic():
        expected_runs = run_summary([run_import(k, p, year=y) for k, p, y in items])
        expected_tables = table_summary()
        transaction.set_rollback(True)
    assert School.objects.count() == 0

    runs = import_files(items)

    assert run_summary(runs) == expected_runs
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * 3
    assert [(r.rows_inserted, r.rows_updated) for r in runs] == [(40, 0), (50, 0), (0, 90)]
    assert table_summary() == expected_tables
    assert set(SchoolMeasure.objects.filter(measure__code="pupils").values_list("value", flat=True)) == {
        100.0
    }


@pytest.mark.django_db
def test_a_rejected_file_writes_nothing_and_the_others_still_load(
    camden_rows: pl.DataFrame,  # noqa: F811
    tmp_path: Path,
) -> None:
    items = three_files(camden_rows, tmp_path)
    bad = camden_rows.head(40).with_columns(
        pl.when(pl.int_range(pl.len()) == 6).then(pl.lit("lots")).otherwise(pl.col(PUPILS)).alias(PUPILS)
    )
    items[1] = ("school_census", write(bad, tmp_path / "bad.csv"), None)
    runs = import_files(items)
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED, RunStatus.REJECTED, RunStatus.SUCCEEDED]
    rejected = runs[1]
    assert rejected.message.startswith("Rejected") and "Nothing was written" in rejected.message
    # The bad cell by file row (header = 1, so the 7th data row is row 8) and column, as run_import says it.
    assert [(e["row"], e["column"], e["value"]) for e in rejected.errors] == [(8, PUPILS, "lots")]
    assert School.objects.count() == 90  # the first and the last file


@pytest.fixture
def hook_calls() -> Iterator[list[dict[str, Any]]]:
    """The keyword arguments of every `import_succeeded` sent while the test runs."""
    calls: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        calls.append(kwargs)

    framework.import_succeeded.connect(receiver, dispatch_uid="test-import-files")
    try:
        yield calls
    finally:
        framework.import_succeeded.disconnect(dispatch_uid="test-import-files")


@pytest.mark.django_db
def test_the_post_import_hook_runs_once_after_the_last_file(
    camden_rows: pl.DataFrame,  # noqa: F811
    tmp_path: Path,
    hook_calls: list[dict[str, Any]],
) -> None:
    runs = import_files(three_files(camden_rows, tmp_path))
    assert len(hook_calls) == 1
    assert hook_calls[0]["run"] == runs[-1]
    assert hook_calls[0]["runs"] == runs


@pytest.mark.django_db
def test_a_file_that_cannot_be_opened_raises_after_the_hook_for_the_files_loaded(
    camden_rows: pl.DataFrame,  # noqa: F811
    tmp_path: Path,
    hook_calls: list[dict[str, Any]],
) -> None:
    items = three_files(camden_rows, tmp_path)
    items[1] = ("school_census", tmp_path / "gone.csv", None)
    with pytest.raises(FileNotFoundError):
        import_files(items)
    # As run_import would: the first file is loaded, the missing one raises, the third is not reached; the
    # proposals still follow the first file.
    assert School.objects.count() == 40
    assert len(hook_calls) == 1
    assert [r.file_name for r in hook_calls[0]["runs"]] == ["first.csv"]


@pytest.mark.django_db
def test_on_run_reports_each_file_as_it_finishes(camden_rows: pl.DataFrame, tmp_path: Path) -> None:  # noqa: F811
    seen: list[tuple[int, str, bool]] = []
    runs = import_files(
        three_files(camden_rows, tmp_path),
        on_run=lambda run, seconds: seen.append((run.pk, run.status, seconds >= 0)),
    )
    assert seen == [(r.pk, RunStatus.SUCCEEDED, True) for r in runs]
