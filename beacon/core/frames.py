"""Polars frames and database rows: query results read straight into frames (the national risk pass and its
readers), and frames turned back into row tuples (the pass's results, the imports' writes)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import polars as pl
from django.core.exceptions import EmptyResultSet
from django.db import connections


def tuple_rows(frame: pl.DataFrame) -> Iterator[tuple[Any, ...]]:
    """The frame's rows as tuples: the values `iter_rows()` gives, converted column by column (about twice
    as fast on the national pass's frames of list columns; the imports' rows for `upsert_rows`)."""
    return zip(*(frame[c].to_list() for c in frame.columns), strict=True)


def fetch_rows(qs: Any) -> list[tuple[Any, ...]]:
    """The rows of a `values_list` queryset straight from the database cursor: the ORM's own SQL, without
    Django's per-row conversion (the imports and the national risk pass read hundreds of thousands)."""
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:  # e.g. `pk__in=[]`: the ORM knows there are no rows without asking
        return []
    with connections[qs.db].cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _copyable(dtype: Any) -> bool:
    """A column polars reads back exactly from PostgreSQL's CSV text: a number or text (no dates, times or
    booleans, whose text forms differ)."""
    return dtype == pl.Utf8 or dtype.is_integer() or dtype.is_float()


def _copy_frame(qs: Any, schema: dict[str, Any]) -> pl.DataFrame | None:
    """PostgreSQL: the query's rows as CSV (`COPY (query) TO STDOUT`, in the same connection and transaction)
    parsed by polars, with no Python object per value: the national pass reads 1.6 million school measures.
    CSV keeps NULL (an unquoted empty field) apart from an empty text (quoted), and PostgreSQL writes a
    float in its shortest exact form (NaN and infinities included), so the frame equals the rows'. None if
    polars cannot parse a value as its column's type (a schema that does not fit the query): the caller
    reads the rows instead, as before."""
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:
        return pl.DataFrame(schema=schema)
    buffer = io.BytesIO()
    with (
        connections[qs.db].cursor() as cur,
        cur.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy,
    ):
        for block in copy:
            buffer.write(block)
    if buffer.tell() == 0:
        return pl.DataFrame(schema=schema)
    try:
        return pl.read_csv(buffer.getvalue(), has_header=False, schema=schema)
    except pl.exceptions.ComputeError:
        return None


def query_frame(qs: Any, schema: dict[str, Any]) -> pl.DataFrame:
    """A `values_list` queryset as a polars frame of the given schema (rows from `fetch_rows`; on PostgreSQL,
    a frame of numbers and text is read as CSV, `_copy_frame`).
    Django's SQLite connection already turns dates, datetimes and booleans into Python values; its
    datetimes are naive (UTC), so a timezone-aware column is read naive and then marked UTC."""
    vendor = connections[qs.db].vendor
    if vendor == "postgresql" and all(_copyable(t) for t in schema.values()):
        frame = _copy_frame(qs, schema)
        if frame is not None:
            return frame
    rows = fetch_rows(qs)
    if vendor != "sqlite":
        return pl.DataFrame(rows, schema=schema, orient="row")
    aware = [k for k, v in schema.items() if isinstance(v, pl.Datetime) and v.time_zone]
    raw = {k: pl.Datetime(v.time_unit) if k in aware else v for k, v in schema.items()}
    df = pl.DataFrame(rows, schema=raw, orient="row")
    return (
        df.with_columns(pl.col(k).dt.replace_time_zone(str(schema[k].time_zone)) for k in aware)
        if aware
        else df
    )
