"""`core.frames.query_frame`: a queryset read through the cursor gives the same values as the ORM, typed."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest


@pytest.mark.django_db
def test_query_frame_matches_the_orm_on_dates_booleans_and_aware_datetimes(camden_register: None) -> None:
    from beacon.core.frames import query_frame
    from beacon.schools.models import School

    qs = School.objects.filter(la_code=202).order_by("pk")
    fields = ("id", "urn", "name", "is_open", "open_date", "capacity")
    df = query_frame(
        qs.values_list(*fields),
        {
            "id": pl.Int64,
            "urn": pl.Int64,
            "name": pl.Utf8,
            "is_open": pl.Boolean,
            "open_date": pl.Date,
            "capacity": pl.Int64,
        },
    )
    expected = list(qs.values_list(*fields))
    assert len(expected) > 50
    assert df.rows() == expected
    assert df.schema["open_date"] == pl.Date and df["open_date"].null_count() < len(expected)

    history = School.history.filter(la_code=202).order_by("history_id")
    frame = query_frame(
        history.values_list("id", "history_date"), {"id": pl.Int64, "history_date": pl.Datetime("us", "UTC")}
    )
    assert frame.rows() == list(history.values_list("id", "history_date"))
    assert frame.schema["history_date"] == pl.Datetime("us", "UTC")


@pytest.mark.django_db
def test_query_frame_of_an_empty_in_list_is_empty() -> None:
    from beacon.core.frames import query_frame
    from beacon.schools.models import School

    df = query_frame(School.objects.filter(pk__in=[]).values_list("id"), {"id": pl.Int64})
    assert df.height == 0 and df.schema == pl.Schema({"id": pl.Int64})


@pytest.mark.django_db
def test_query_frame_of_numbers_and_text_equals_the_rows(camden_register: None) -> None:
    """Numbers and text (read on PostgreSQL as CSV): floats to the last bit, NaN and infinities, NULL apart
    from an empty text, and text holding commas, quotes and line breaks, as the cursor gives them."""
    import math

    from django.db.models import CharField, Value

    from beacon.core.frames import fetch_rows, query_frame
    from beacon.imports.framework import upsert_rows
    from beacon.indicators.models import Measure, SchoolMeasure
    from beacon.schools.models import School

    school = School.objects.order_by("pk").first()
    assert school is not None
    measure = Measure.objects.order_by("pk").first() or Measure.objects.create(
        code="test_measure", label="Test"
    )
    values = [0.1 + 0.2, 1 / 3, None, 1e-300, -2.5e17, math.nan, math.inf, -math.inf]
    statuses = ["ok", 'a, "b"\nc', "", "ok", "ok", "ok", "ok", "ok"]
    upsert_rows(
        SchoolMeasure,
        ["school", "measure", "year", "value", "status"],
        [
            (school.pk, measure.pk, 1990 + i, v, s)
            for i, (v, s) in enumerate(zip(values, statuses, strict=True))
        ],
        unique_fields=["school", "measure", "year"],
        update_fields=["value", "status"],
    )
    qs = (
        SchoolMeasure.objects.filter(school=school, year__lt=2000)
        .annotate(nothing=Value(None, output_field=CharField()))
        .order_by("year")
        .values_list("school_id", "year", "value", "status", "nothing")
    )
    schema = {
        "school_id": pl.Int64,
        "year": pl.Int64,
        "value": pl.Float64,
        "status": pl.Utf8,
        "nothing": pl.Utf8,
    }
    frame = query_frame(qs, schema)
    rows = fetch_rows(qs)
    assert len(rows) == len(values) and frame.schema == pl.Schema(schema)
    for got, expected in zip(frame.rows(), rows, strict=True):
        assert got[:2] == expected[:2] and got[3:] == expected[3:]
        assert got[2] == expected[2] or (math.isnan(got[2]) and math.isnan(expected[2]))
    assert frame["status"].to_list()[1:3] == ['a, "b"\nc', ""]
    assert frame["nothing"].null_count() == len(values)
    assert frame["value"].to_list()[:2] == [0.1 + 0.2, 1 / 3]


# ------------------------------------------------------------------------------------------------
# The separate reader (decision 0032): a SQLite file read in another process, straight into Arrow columns.

READER_SCHEMA = {
    "id": pl.Int64,
    "value": pl.Float64,
    "label": pl.Utf8,
    "count": pl.Int64,
    "day": pl.Date,
    "flag": pl.Boolean,
}


def _sqlite_file(path: Any, rows: list[tuple[Any, ...]]) -> str:
    """A SQLite file in WAL mode (as Beacon's) holding table t with `rows` (dates as ISO text and booleans
    as 0 or 1, as Django stores them); its name."""
    import sqlite3

    name = str(path / "reader.sqlite3")
    con = sqlite3.connect(name)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(
        "CREATE TABLE t (id integer PRIMARY KEY, value real NULL, label text NULL, count integer NULL, "
        "day date NULL, flag bool NULL)"
    )
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
        [
            (*r[:4], None if r[4] is None else r[4].isoformat(), None if r[5] is None else int(r[5]))
            for r in rows
        ],
    )
    con.commit()
    con.close()
    return name


def _never() -> pl.DataFrame:
    raise AssertionError("the separate reader should have read this frame")


def test_the_separate_reader_reads_the_rows_as_they_were_written(tmp_path: Any) -> None:
    """Floats to the last bit and infinities, NULL apart from an empty text, text with quotes, commas, line
    breaks and non-ASCII letters, 2^62, dates and booleans, parameters (a boolean among them), thousands of
    rows (the driver types each column by the first rows it reads), and several queries in one reader, each
    frame in the order asked."""
    import datetime as dt
    import math

    from beacon.core.frames import start_reader

    special = [
        (1, 0.1 + 0.2, 'a, "b"\nc', 2**62, dt.date(2024, 2, 29), True),
        (2, 1 / 3, "", None, None, False),
        (3, None, None, -5, dt.date(1999, 12, 31), None),
        (4, 1e-300, "Ysgol Gymraeg Llundain – Ffŵl", 0, dt.date(2025, 9, 1), True),
        (5, -2.5e17, "x", 7, None, False),
        (6, math.inf, "y", 8, None, None),
        (7, -math.inf, "z", 9, None, None),
    ]
    many = [
        (i, i / 7, f"school {i}", i * 3, dt.date(2000, 1, 1) + dt.timedelta(days=i), i % 2 == 0)
        for i in range(10, 5000)
    ]
    name = _sqlite_file(tmp_path, special + many)
    first, second, third = start_reader(
        name,
        [
            (
                "SELECT id, value, label, count, day, flag FROM t WHERE id < %s ORDER BY id",
                [4000],
                READER_SCHEMA,
                _never,
            ),
            (
                "SELECT id, value, label, count, day, flag FROM t WHERE flag = %s ORDER BY id DESC LIMIT 3",
                [True],
                READER_SCHEMA,
                _never,
            ),
            (  # text and a float as parameters (the pass sends its cut-off date as ISO text)
                "SELECT id, value, label, count, day, flag FROM t WHERE label >= %s AND value > %s ORDER BY id",
                ["x", 4.5],
                READER_SCHEMA,
                _never,
            ),
        ],
    )
    frame = first.result()
    assert first.separately
    expected = pl.DataFrame([r for r in special + many if r[0] < 4000], schema=READER_SCHEMA, orient="row")
    assert frame.schema == pl.Schema(READER_SCHEMA)
    assert frame.height == len(special) + 3990
    assert frame.equals(expected)
    assert frame["value"].to_list()[:2] == [0.1 + 0.2, 1 / 3]
    assert frame["label"].to_list()[1:3] == ["", None]
    assert second.result()["id"].to_list() == [4998, 4996, 4994] and second.separately
    # "x", "y" and "z" (ids 5-7) sort after "x" or on it; of their values (-2.5e17, inf, -inf) only inf > 4.5
    assert third.result()["id"].to_list() == [6] and third.separately


def test_the_separate_reader_gives_way_when_it_cannot_read_the_rows(tmp_path: Any) -> None:
    """A value of another type after the rows the driver typed its column by (a text among 2,000 whole
    numbers), a query the reader cannot run, and a parameter it cannot send: each is read by its fallback,
    and the reader still reads the queries after them."""
    import datetime as dt

    from beacon.core.frames import start_reader

    rows: list[tuple[Any, ...]] = [(i, float(i), None, i, None, None) for i in range(1, 2001)]
    rows.append((2001, 1.0, None, "not a number", None, None))
    name = _sqlite_file(tmp_path, rows)
    sql = "SELECT id, value, label, count, day, flag FROM t ORDER BY id"
    limited = "SELECT id, value, label, count, day, flag FROM t ORDER BY id LIMIT %s"
    marker = pl.DataFrame({"id": [-1]})
    mixed, missing, dated, fine = start_reader(
        name,
        [
            (sql, [], READER_SCHEMA, lambda: marker),
            ("SELECT id FROM no_such_table", [], READER_SCHEMA, lambda: marker),
            (limited, [dt.date(2020, 1, 1)], READER_SCHEMA, lambda: marker),
            (limited, [2], READER_SCHEMA, _never),
        ],
    )
    for pending in (mixed, missing, dated):
        assert pending.result() is marker
        assert not pending.separately
    assert fine.result()["id"].to_list() == [1, 2] and fine.separately


def test_the_separate_reader_is_stopped_when_its_frame_is_not_wanted(tmp_path: Any) -> None:
    from beacon.core.frames import start_reader

    name = _sqlite_file(tmp_path, [(1, 1.0, "a", 1, None, None)])
    (pending,) = start_reader(
        name, [("SELECT id, value, label, count, day, flag FROM t", [], READER_SCHEMA, _never)]
    )
    reader = pending.reader
    assert reader is not None and reader.process is not None
    process = reader.process
    pending.close()
    assert process.returncode is not None and pending.reader is None


@pytest.mark.django_db
def test_frames_are_read_here_where_another_process_would_not_see_the_rows(
    tmp_path: Any, settings: Any
) -> None:
    """The tests' database is in memory, and inside a transaction: another process could see neither. And a
    SQLite file is read separately only outside a transaction with autocommit on."""
    from django.db import connection
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from beacon.core.frames import query_frame, separate_reader_database, start_query_frames
    from beacon.schools.models import School

    settings.BEACON_SEPARATE_READER_MIN_ROWS = 0
    qs = School.objects.order_by("pk").values_list("id", "urn")
    schema = {"id": pl.Int64, "urn": pl.Int64}
    (pending,) = start_query_frames([(qs, schema)], expected_rows=10**9)
    assert pending.reader is None
    assert pending.result().equals(query_frame(qs, schema)) and not pending.separately
    if connection.vendor != "sqlite":
        assert separate_reader_database(connection) is None
        return
    assert separate_reader_database(connection) is None  # in memory
    name = _sqlite_file(tmp_path, [(1, 1.0, "a", 1, None, None)])
    wrapper = DatabaseWrapper({**connection.settings_dict, "NAME": name}, alias="separate-reader-test")
    try:
        assert separate_reader_database(wrapper) == name
        wrapper.set_autocommit(False)
        assert separate_reader_database(wrapper) is None
    finally:
        wrapper.close()


@pytest.mark.django_db(transaction=True)
def test_committed_rows_are_read_on_a_connection_of_their_own_on_postgresql(settings: Any) -> None:
    """Outside a transaction another connection sees what this one sees. On PostgreSQL the frames of
    numbers, text, dates and booleans are read by a thread on a connection of its own (CSV; dates and
    booleans converted) and equal what is read here; a frame with a time in it is read here. The tests'
    SQLite database is in memory: everything is read here."""
    import datetime as dt
    import math

    from django.db import connection

    from beacon.core.frames import query_frame, start_query_frames
    from beacon.indicators.models import Measure, SchoolMeasure
    from beacon.schools.models import School

    settings.BEACON_SEPARATE_READER_MIN_ROWS = 0
    names = ['Comma, "quoted"\nschool', "", "Ysgol – Ffŵl"]
    schools = [
        School.objects.create(
            urn=980001 + i,
            name=name,
            open_date=None if i == 1 else dt.date(2001 + i, 2, 28),
            is_state_funded=i != 2,
        )
        for i, name in enumerate(names)
    ]
    measure = Measure.objects.create(code="reader_probe", label="Probe")
    for i, value in enumerate([0.1 + 0.2, None, -math.inf, 1e-300]):
        SchoolMeasure.objects.create(school=schools[i % 3], measure=measure, year=2020 + i, value=value)
    queries = [
        (
            School.objects.filter(urn__gte=980001)
            .order_by("urn")
            .values_list("id", "name", "open_date", "is_state_funded"),
            {"id": pl.Int64, "name": pl.Utf8, "open_date": pl.Date, "is_state_funded": pl.Boolean},
        ),
        (
            SchoolMeasure.objects.filter(measure=measure)
            .order_by("year")
            .values_list("school_id", "year", "value"),
            {"school_id": pl.Int64, "year": pl.Int64, "value": pl.Float64},
        ),
        (
            School.objects.filter(urn__gte=980001).order_by("urn").values_list("id", "updated_at"),
            {"id": pl.Int64, "updated_at": pl.Datetime("us", "UTC")},
        ),
    ]
    pending = start_query_frames(queries, expected_rows=10**9)
    for (qs, schema), started in zip(queries, pending, strict=True):
        assert started.result().equals(query_frame(qs, schema))
    on_postgresql = connection.vendor == "postgresql"
    assert [p.separately for p in pending] == [on_postgresql, on_postgresql, False]
    first = query_frame(*queries[0])
    assert first["name"].to_list() == names
    assert first["open_date"].to_list() == [dt.date(2001, 2, 28), None, dt.date(2003, 2, 28)]
    assert first["is_state_funded"].to_list() == [True, True, False]
