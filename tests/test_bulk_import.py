"""The bulk write path of every import (decision 0026): COPY into a staging table + one upsert on
PostgreSQL, executemany into a staging table + one upsert on SQLite. All or nothing, idempotent, the same rows on both databases, and no per-row history for imported
facts (their provenance is the run and the file's hash)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from beacon.imports import framework
from beacon.imports.framework import run_import, upsert_rows
from beacon.imports.models import ImportRun, RunStatus
from beacon.indicators.models import SchoolMeasure
from beacon.inspections.models import Inspection
from beacon.schools.models import School
from tests.conftest import CAMDEN

KS2_2018 = "waiky8-schools-data/ks2_perf_2018.csv"
HISTORY = "waiky8-schools-data/ofsted_ratings_2018.csv"


def measure_rows() -> list[tuple[Any, ...]]:
    return list(
        SchoolMeasure.objects.order_by("school__urn", "measure__code", "year").values_list(
            "school__urn", "measure__code", "year", "value", "status"
        )
    )


def digest(rows: list[tuple[Any, ...]]) -> str:
    text = "\n".join("|".join("" if v is None else repr(v) for v in row) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.django_db
def test_a_bad_cell_in_the_last_row_writes_nothing(
    camden_register: None, data_dir: Path, tmp_path: Path
) -> None:
    raw = pl.read_csv(data_dir / KS2_2018, infer_schema_length=0)
    header = "Overall Meet Std" if "Overall Meet Std" in raw.columns else "PTRWM_EXP"
    last = raw.height - 1
    bad = raw.with_columns(
        pl.when(pl.int_range(pl.len()) == last).then(pl.lit("ninety")).otherwise(pl.col(header)).alias(header)
    )
    bad.write_csv(tmp_path / "ks2.csv")
    before = measure_rows()  # the census values of the register
    run = run_import("ks2_results", tmp_path / "ks2.csv", la_code=CAMDEN)
    assert run.status == RunStatus.REJECTED
    assert run.errors == [
        {"row": last + 2, "column": header, "value": "ninety", "reason": run.errors[0]["reason"]}
    ]
    assert measure_rows() == before


@pytest.mark.django_db
def test_a_failure_after_the_bulk_write_rolls_it_back(
    camden_register: None, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows are already in the table (COPY + upsert, or executemany) when the load fails: the run's
    transaction takes them out again."""
    from beacon.indicators import services

    written: list[int] = []

    def write_then_fail(*args: Any, **kwargs: Any) -> tuple[int, int]:
        written.append(upsert_rows(*args, **kwargs)[0])
        assert SchoolMeasure.objects.count() == len(before) + written[0] > len(before)
        raise RuntimeError("disk full")

    before = measure_rows()
    monkeypatch.setattr(services, "upsert_rows", write_then_fail)
    run = run_import("ks2_results", data_dir / KS2_2018, la_code=CAMDEN)
    assert run.status == RunStatus.FAILED
    assert "disk full" in run.message and "Nothing was written" in run.message
    assert written and measure_rows() == before


@pytest.mark.django_db
def test_importing_again_changes_nothing_and_same_rows_on_both_databases(
    camden_register: None, data_dir: Path
) -> None:
    first = run_import("ks2_results", data_dir / KS2_2018, la_code=CAMDEN)
    assert first.status == RunStatus.SUCCEEDED, first.message
    rows = [r for r in measure_rows() if r[1].startswith("ks2_")]
    # The same digest is asserted on SQLite and on PostgreSQL (the suite runs on both): the two write paths
    # store identical keys, values and statuses.
    assert (len(rows), digest(rows)) == (EXPECTED_KS2_ROWS, EXPECTED_KS2_DIGEST)
    again = run_import("ks2_results", data_dir / KS2_2018, la_code=CAMDEN)
    assert again.status == RunStatus.DUPLICATE
    forced = run_import("ks2_results", data_dir / KS2_2018, la_code=CAMDEN, force=True)
    assert forced.status == RunStatus.SUCCEEDED, forced.message
    assert (forced.rows_inserted, forced.rows_updated) == (0, first.rows_inserted)
    assert [r for r in measure_rows() if r[1].startswith("ks2_")] == rows
    # Provenance moves to the latest run that wrote them.
    ks2 = SchoolMeasure.objects.filter(measure__code__startswith="ks2_")
    assert set(ks2.values_list("source_run", flat=True)) == {forced.pk}


# Camden KS2 2017/18: 417 values (measured on SQLite; the PostgreSQL run must give the same).
EXPECTED_KS2_ROWS = 417
EXPECTED_KS2_DIGEST = "0ab1d4fe576d281a32685974f72b8c211e4fc145a65aec4ed51f8587d2da52c0"


@pytest.mark.django_db
def test_imported_inspections_have_no_history_rows_but_the_edited_register_does(
    camden_register: None, data_dir: Path
) -> None:
    run = run_import("ofsted_inspection_history", data_dir / HISTORY, la_code=CAMDEN)
    assert run.status == RunStatus.SUCCEEDED, run.message
    assert Inspection.objects.filter(source_run=run).count() > 0
    assert Inspection.history.count() == 0  # provenance: the run and its file hash
    assert ImportRun.objects.get(pk=run.pk).sha256 == framework.file_sha256(data_dir / HISTORY)
    # The register keeps its history (people edit it; head changes are read from it).
    assert School.history.filter(history_type="+").count() == School.objects.count() > 0


@pytest.mark.django_db
def test_upsert_rows_last_row_of_a_repeated_key_wins_and_values_round_trip(camden_register: None) -> None:
    """Direct check of the write path: dates, nulls, floats and text survive both databases unchanged; a
    key repeated in one load keeps its last row (as row-by-row upserts would)."""
    from beacon.indicators.catalogue import ensure_measures

    measure = ensure_measures()["ks2_rwm_expected"]
    school_a, school_b = School.objects.order_by("urn").values_list("pk", flat=True)[:2]
    rows = [
        (school_a, measure, 2020, 61.5, "ok"),
        (school_b, measure, 2020, None, "suppressed"),
        (school_a, measure, 2020, 0.123457, "ok"),  # repeats the first key: this one wins
    ]
    inserted, updated = upsert_rows(
        SchoolMeasure,
        ["school", "measure", "year", "value", "status"],
        rows,
        unique_fields=["school", "measure", "year"],
        update_fields=["value", "status"],
    )
    assert (inserted, updated) == (2, 1)
    stored = set(SchoolMeasure.objects.filter(year=2020).values_list("school_id", "value", "status"))
    assert stored == {(school_a, 0.123457, "ok"), (school_b, None, "suppressed")}

    from django.db import connection

    day = connection.ops.adapt_datefield_value(dt.date(2019, 10, 16))  # database-ready, as loaders pass it
    inspection = [(school_a, "legacy", day, 2, "Good", "", "", "")]
    fields = ["school", "framework", "start_date", "overall_effectiveness", "outcome_text"]
    fields += ["inspection_number", "inspection_type", "category_of_concern"]
    upsert_rows(
        Inspection,
        fields,
        inspection,
        unique_fields=["school", "framework", "start_date"],
        update_fields=["overall_effectiveness"],
    )
    assert list(Inspection.objects.values_list("start_date", "overall_effectiveness")) == [
        (dt.date(2019, 10, 16), 2)
    ]


@pytest.mark.django_db
def test_upsert_rows_of_a_frame_writes_what_the_same_rows_as_tuples_write(camden_register: None) -> None:
    """A frame goes to the staging table column by column (SQLite: `insert_columns`; PostgreSQL: COPY text
    built in polars). Floats to the last bit and infinities, NULL apart from an empty text, text holding a
    backslash, tab, line break, "\\N" and non-ASCII letters, and a repeated key (the last row wins) are
    stored as the same rows given as tuples; a frame of the wrong width is refused."""
    import math

    import polars as pl

    from beacon.indicators.catalogue import ensure_measures

    measures = ensure_measures()
    school_a, school_b = School.objects.order_by("urn").values_list("pk", flat=True)[:2]
    statuses = ["ok", "a\\b\tc\nd\re", "\\N", "", "Ysgol – Ffŵl", "ok", "ok"]
    values = [0.1 + 0.2, None, 1e-300, -2.5e17, math.inf, -math.inf, 1 / 3]

    def rows(measure: int) -> list[tuple[object, ...]]:
        out: list[tuple[object, ...]] = [
            (school_a if i % 2 else school_b, measure, 2000 + i, v, st)
            for i, (v, st) in enumerate(zip(values, statuses, strict=True))
        ]
        out.append((school_b, measure, 2000, 42.0, "last"))  # repeats the first key: this one wins
        return out

    columns = ["school", "measure", "year", "value", "status"]
    schema = {
        "school_id": pl.Int64,
        "measure_id": pl.Int64,
        "year": pl.Int64,
        "value": pl.Float64,
        "status": pl.Utf8,
    }
    by_tuples, by_frame = measures["ks2_rwm_expected"], measures["ks2_rwm_higher"]
    kwargs = {"unique_fields": ["school", "measure", "year"], "update_fields": ["value", "status"]}
    assert upsert_rows(SchoolMeasure, columns, rows(by_tuples), **kwargs) == (7, 1)
    frame = pl.DataFrame(rows(by_frame), schema=schema, orient="row")
    assert upsert_rows(SchoolMeasure, columns, frame, **kwargs) == (7, 1)

    def stored(measure: int) -> list[tuple[object, ...]]:
        return list(
            SchoolMeasure.objects.filter(measure_id=measure, year__lt=2010)
            .order_by("year")
            .values_list("school_id", "year", "value", "status")
        )

    assert stored(by_frame) == stored(by_tuples)
    assert stored(by_frame)[0] == (school_b, 2000, 42.0, "last")
    assert [row[3] for row in stored(by_frame)[1:5]] == statuses[1:5]
    assert [row[2] for row in stored(by_frame)[4:7]] == [math.inf, -math.inf, 1 / 3]
    with pytest.raises(ValueError, match="5 columns named, a frame of 4 given"):
        upsert_rows(SchoolMeasure, columns, frame.drop("status"), **kwargs)


@pytest.mark.django_db(transaction=True)
def test_upsert_rows_keeps_foreign_keys_enforced(camden_register: None) -> None:
    """Every reference of the staged rows is checked: a value for a school the register does not hold, or for
    a measure the catalogue does not hold, fails the transaction on both databases, and nothing of it is
    left. On PostgreSQL (no per-row foreign key triggers on the measures) the write checks each reference
    once and names the ids; SQLite, which keeps the measures' foreign keys, refuses them at commit itself
    (decision 0034), and the write does not probe them a second time."""
    from django.db import IntegrityError, connection, transaction

    from beacon.indicators.catalogue import ensure_measures
    from beacon.indicators.models import AreaMeasure

    measure = ensure_measures()["ks2_rwm_expected"]
    school = School.objects.order_by("urn").values_list("pk", flat=True)[0]
    missing = School.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    no_measure = measure + 100000
    for bad, message in (
        (
            (missing, measure, 2021, 60.0, "ok"),
            f"school_id refers to schools_school rows that do not exist: {missing}",
        ),
        (
            (school, no_measure, 2021, 60.0, "ok"),
            f"measure_id refers to indicators_measure rows that do not exist: {no_measure}",
        ),
    ):
        rows = [(school, measure, 2021, 50.0, "ok"), bad]
        if connection.vendor == "sqlite":
            message = "FOREIGN KEY constraint failed"
        with pytest.raises(IntegrityError, match=message), transaction.atomic():
            upsert_rows(
                SchoolMeasure,
                ["school", "measure", "year", "value", "status"],
                rows,
                unique_fields=["school", "measure", "year"],
                update_fields=["value", "status"],
            )
        assert not SchoolMeasure.objects.filter(year=2021).exists()
    # The check is the write's on PostgreSQL (no constraint left); SQLite keeps its own as well.
    for model in (SchoolMeasure, AreaMeasure):
        with connection.cursor() as cur:
            constraints = connection.introspection.get_constraints(cur, model._meta.db_table)
        references = [c["columns"][0] for c in constraints.values() if c["foreign_key"]]
        assert len(references) == (0 if connection.vendor == "postgresql" else 3), references
    if connection.vendor == "sqlite":
        # Exactly the references SQLite enforces are left to it: the measures' all, the roll counts' none.
        from beacon.futureoptions.models import RollRecord
        from beacon.imports.framework import _enforced_by_sqlite, _unconstrained_references

        qn = connection.ops.quote_name
        with connection.cursor() as cur:
            for model, fields in (
                (SchoolMeasure, ["school", "measure", "source_run"]),
                (RollRecord, ["school"]),
            ):
                refs = _unconstrained_references(model, fields)
                assert refs, model
                enforced = _enforced_by_sqlite(cur, qn, model._meta.db_table, refs)
                assert enforced == (set(refs) if model is SchoolMeasure else set()), (model, refs, enforced)


@pytest.mark.django_db(transaction=True)
def test_future_options_counts_and_inspection_grades_are_checked_by_the_write(camden_register: None) -> None:
    """The roll, intake and year-group counts and the inspection grades have no foreign key constraint on
    either database (PostgreSQL checked them by deferred triggers, up to a second at each file's commit): a
    row for a school or an inspection that does not exist fails the write with the ids named, and nothing of
    it is left."""
    from django.db import IntegrityError, connection, transaction

    from beacon.futureoptions.models import IntakeYear, RollRecord, YearGroupCount
    from beacon.inspections.models import InspectionGrade

    school = School.objects.order_by("urn").values_list("pk", flat=True)[0]
    missing = School.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    refused = f"school_id refers to schools_school rows that do not exist: {missing}"
    with pytest.raises(IntegrityError, match=refused), transaction.atomic():
        upsert_rows(
            YearGroupCount,
            ["school", "year", "group", "pupils"],
            [(school, 2022, "R", 30), (missing, 2022, "R", 31)],
            unique_fields=["school", "year", "group"],
            update_fields=["pupils"],
        )
    assert not YearGroupCount.objects.exists()
    refused = "inspection_id refers to inspections_inspection rows that do not exist: 987654321"
    with pytest.raises(IntegrityError, match=refused), transaction.atomic():
        upsert_rows(
            InspectionGrade,
            ["inspection", "area", "grade", "not_applicable"],
            [(987654321, "quality_of_education", 2, False)],
            unique_fields=["inspection", "area"],
            update_fields=["grade", "not_applicable"],
        )
    assert not InspectionGrade.objects.filter(inspection_id=987654321).exists()
    for model in (RollRecord, IntakeYear, YearGroupCount, InspectionGrade):
        with connection.cursor() as cur:
            constraints = connection.introspection.get_constraints(cur, model._meta.db_table)
        assert not [c for c in constraints.values() if c["foreign_key"]], model.__name__


@pytest.mark.django_db
def test_imported_fact_tables_keep_no_index_another_index_already_covers() -> None:
    """Every index is updated by every import: on the bulk-imported fact tables no index may be a leading
    part of another index or unique key (a foreign key's own index, say, beside a unique key that starts
    with the same column)."""
    from django.db import connection

    from beacon.futureoptions.models import IntakeYear, RollRecord, YearGroupCount
    from beacon.indicators.models import AreaMeasure
    from beacon.inspections.models import InspectionGrade

    for model in (SchoolMeasure, AreaMeasure, IntakeYear, YearGroupCount, RollRecord, InspectionGrade):
        table = model._meta.db_table
        with connection.cursor() as cur:
            constraints = connection.introspection.get_constraints(cur, table)
        indexes = {
            name: tuple(c["columns"])
            for name, c in constraints.items()
            if (c["index"] or c["unique"]) and not c["primary_key"] and c["columns"]
        }
        for name, columns in indexes.items():
            covering = [
                other
                for other, cols in indexes.items()
                if other != name and len(cols) > len(columns) and cols[: len(columns)] == columns
            ]
            assert not covering, f"{table}: index {name} {columns} is covered by {covering}"


@pytest.mark.django_db
def test_snapshot_rows_finds_the_rows_a_write_created_and_changed(camden_register: None) -> None:
    """The register's history after a bulk write: compared inside the database with a snapshot taken before
    it. A school given a new value counts as changed, one rewritten with the same values does not, and a
    school that was not there before counts as created."""
    from beacon.imports.framework import created_and_changed, snapshot_rows, update_rows

    first, second = School.objects.order_by("urn")[:2]
    new_urn = School.objects.order_by("-urn").values_list("urn", flat=True)[0] + 1
    urns = [first.urn, second.urn, new_urn]
    before = snapshot_rows(School, "urn", urns, ["name", "postcode", "phase"])
    update_rows(School, ["name"], [(first.pk, first.name + " (renamed)"), (second.pk, second.name)])
    created = School.objects.create(urn=new_urn, name="A new school")
    assert created_and_changed(before, urns) == ([created.pk], [first.pk])


@pytest.mark.django_db
def test_school_ids_by_urn_gives_the_same_map_for_a_long_list_of_urns(camden_register: None) -> None:
    """Above a few hundred URNs the register is read whole and filtered in Python instead of naming every URN
    in the query: the map is the same either way, with no entry for a URN the register does not hold."""
    from beacon.schools.lookup import _IN_LIST_LIMIT, school_ids_by_urn

    held = dict(School.objects.values_list("urn", "pk"))
    assert len(held) > 20
    unknown = [max(held) + n for n in range(1, _IN_LIST_LIMIT + 10)]  # long enough to take the other path
    short = list(held)[:10] + unknown[:5]
    assert school_ids_by_urn(short) == {u: held[u] for u in list(held)[:10]}
    assert school_ids_by_urn(list(held) + unknown) == held
    assert school_ids_by_urn() == held
    assert school_ids_by_urn([]) == {}
