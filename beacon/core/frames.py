"""Polars frames and database rows: query results read straight into frames (the national risk pass and its
readers), and frames turned back into row tuples (the pass's results, the imports' writes)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import polars as pl
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections

logger = logging.getLogger(__name__)


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


def separate_reader_database(conn: Any) -> str | None:
    """The SQLite file that another process may read for `conn` (`start_query_frame`), or None: not SQLite,
    an in-memory database (no other process sees it), or a connection inside a transaction or with
    autocommit off (another process would not see the rows it has written and not yet committed)."""
    if conn.vendor != "sqlite" or conn.is_in_memory_db() or conn.in_atomic_block or not conn.get_autocommit():
        return None
    return str(conn.settings_dict["NAME"])


class PendingFrame:
    """A frame being read (`start_query_frame`, `start_reader`): `result()` waits for it. `fallback` reads
    the same frame in this process: called if no separate reader was started or if it failed."""

    def __init__(
        self,
        fallback: Callable[[], pl.DataFrame],
        schema: dict[str, Any],
        process: subprocess.Popen[bytes] | None,
    ) -> None:
        self.fallback, self.schema, self.process = fallback, schema, process
        self.separately = False  # True once the frame came from the separate reader

    def result(self) -> pl.DataFrame:
        """The frame: the separate reader's, or (none was started, or it failed) the fallback's, read now."""
        if self.process is not None:
            out, err = self.process.communicate()
            failed, self.process = self.process.returncode != 0, None
            frame = None if failed else _reader_frame(out, self.schema)
            if frame is not None:
                self.separately = True
                return frame
            logger.info("Read here instead of by the separate reader: %s", err.decode(errors="replace")[:500])
        return self.fallback()

    def close(self) -> None:
        """Stop the reader if its frame is no longer wanted (the caller failed first)."""
        if self.process is not None:
            self.process.kill()
            self.process.communicate()
            self.process = None


def _reader_frame(out: bytes, schema: dict[str, Any]) -> pl.DataFrame | None:
    """The reader's Arrow stream as a frame of `schema` (columns by position), or None if it does not fit."""
    try:
        frame = pl.read_ipc_stream(io.BytesIO(out))
        if frame.width != len(schema):
            return None
        return frame.rename(dict(zip(frame.columns, schema, strict=True))).cast(pl.Schema(schema))
    except (pl.exceptions.PolarsError, OSError) as exc:
        logger.info("The separate reader's frame did not fit: %s", exc)
        return None


def start_reader(
    database: str,
    sql: str,
    params: Sequence[Any],
    schema: dict[str, Any],
    fallback: Callable[[], pl.DataFrame],
) -> PendingFrame:
    """Start reading `sql` (Django's text, `%s` placeholders) from the SQLite file `database` in a separate
    process (`beacon.core.sqlite_reader`), as a frame of `schema` (numbers and text, columns by position).
    Parameters that are not numbers or text are not sent: `fallback` then reads the frame, when asked."""
    if not all(p is None or type(p) in (int, float, str) for p in params):
        return PendingFrame(fallback, schema, None)
    from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

    request = json.dumps(
        {
            "database": database,
            "sql": FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%"),
            "params": list(params),
        }
    )
    process = subprocess.Popen(  # this interpreter, a module of Beacon's, a JSON argument
        [sys.executable, "-m", "beacon.core.sqlite_reader", request],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=settings.BASE_DIR,
    )
    return PendingFrame(fallback, schema, process)


def start_query_frame(qs: Any, schema: dict[str, Any], *, expected_rows: int) -> PendingFrame:
    """`query_frame(qs, schema)`, started now and collected later (`PendingFrame.result`). On a SQLite file,
    outside a transaction, for a frame of numbers and text of at least
    `settings.BEACON_SEPARATE_READER_MIN_ROWS` rows (`expected_rows`: the caller's estimate), the rows are
    read in a separate process (`start_reader`: the ADBC driver, straight into Arrow columns, in a third of
    the time of Python's cursor) while this process goes on; otherwise, and if that reader fails, they are
    read here when the result is asked for (decision 0032)."""

    def here() -> pl.DataFrame:
        return query_frame(qs, schema)

    database = separate_reader_database(connections[qs.db])
    if (
        database is None
        or expected_rows < settings.BEACON_SEPARATE_READER_MIN_ROWS
        or not all(_copyable(t) for t in schema.values())
    ):
        return PendingFrame(here, schema, None)
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:
        return PendingFrame(here, schema, None)
    return start_reader(database, sql, params, schema, here)
