"""Polars frames and database rows: query results read straight into frames (the national risk pass and its
readers), and frames turned back into row tuples (the pass's results, the imports' writes)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading
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
    with connections[qs.db].cursor() as cur:
        return _csv_frame(_copy_out(cur.cursor, sql, params), schema)


def _copy_out(cursor: Any, sql: str, params: Sequence[Any]) -> bytes:
    """PostgreSQL: the query's rows as CSV, `COPY (query) TO STDOUT`, on a psycopg cursor."""
    buffer = io.BytesIO()
    with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        for block in copy:
            buffer.write(block)
    return buffer.getvalue()


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


def separate_connection_allowed(conn: Any) -> bool:
    """Whether another connection sees what `conn` sees: not when `conn` is inside a transaction or has
    autocommit off (the rows it has written and not yet committed would not be seen)."""
    return not conn.in_atomic_block and bool(conn.get_autocommit())


def separate_reader_database(conn: Any) -> str | None:
    """The SQLite file that another process may read for `conn` (`start_query_frames`), or None: not SQLite,
    an in-memory database (no other process sees it), or another connection would not see what `conn`
    sees (`separate_connection_allowed`)."""
    if conn.vendor != "sqlite" or conn.is_in_memory_db() or not separate_connection_allowed(conn):
        return None
    return str(conn.settings_dict["NAME"])


class _Reader:
    """A reader process (`beacon.core.sqlite_reader`) and its outputs, one per query, shared by the
    `PendingFrame`s of its queries: the first to ask waits for all of them."""

    def __init__(self, process: subprocess.Popen[bytes], count: int) -> None:
        self.process: subprocess.Popen[bytes] | None = process
        self.count = count
        self.outputs: list[bytes] | None = None

    def frame(self, index: int, schema: dict[str, Any]) -> pl.DataFrame | None:
        """The query's frame, or None: the reader could not read it."""
        data = self.output(index)
        return _reader_frame(data, schema) if data else None

    def output(self, index: int) -> bytes:
        """The query's Arrow IPC stream (empty: the reader could not read it)."""
        if self.outputs is None:
            assert self.process is not None
            out, err = self.process.communicate()
            failed, self.process = self.process.returncode != 0, None
            self.outputs = [b""] * self.count if failed else _split_outputs(out, self.count)
            if err:
                logger.info("The separate reader: %s", err.decode(errors="replace")[:500])
        return self.outputs[index]

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.communicate()
            self.process = None
            self.outputs = [b""] * self.count


def _split_outputs(out: bytes, count: int) -> list[bytes]:
    """The reader's output cut into its queries' streams (8-byte big-endian length, then the bytes)."""
    parts: list[bytes] = []
    at = 0
    while len(parts) < count and at + 8 <= len(out):
        size = int.from_bytes(out[at : at + 8], "big")
        parts.append(out[at + 8 : at + 8 + size])
        at += 8 + size
    return parts + [b""] * (count - len(parts))


class _ThreadReader:
    """PostgreSQL: queries read in a thread, on a connection of its own, in one read-only transaction (one
    snapshot), each as CSV by `COPY (query) TO STDOUT` parsed by polars; shared by the `PendingFrame`s of its
    queries. The thread waits on the server and on polars, both with the interpreter lock released, so the
    caller's own queries go on meanwhile (decision 0032)."""

    def __init__(
        self, params: dict[str, Any], queries: Sequence[tuple[str, Sequence[Any], dict[str, Any]]]
    ) -> None:
        self.frames: list[pl.DataFrame | None] = [None] * len(queries)
        self.stop = threading.Event()
        self.thread: threading.Thread | None = threading.Thread(
            target=self._read, args=(params, queries), name="frame-reader", daemon=True
        )
        self.thread.start()

    def _read(
        self, params: dict[str, Any], queries: Sequence[tuple[str, Sequence[Any], dict[str, Any]]]
    ) -> None:
        import psycopg

        try:
            with psycopg.connect(**params) as conn:
                conn.read_only = True
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute("SET LOCAL DateStyle = 'ISO'")
                    for i, (sql, query_params, schema) in enumerate(queries):
                        if self.stop.is_set():
                            return
                        self.frames[i] = _csv_frame(_copy_out(cur, sql, query_params), schema)
        except Exception as exc:  # each frame not read is read by the caller itself
            logger.info("The frame reader thread: %s", exc)

    def frame(self, index: int, schema: dict[str, Any]) -> pl.DataFrame | None:
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        return self.frames[index]

    def close(self) -> None:
        if self.thread is not None:
            self.stop.set()
            self.thread.join()
            self.thread = None


def _csv_frame(data: bytes, schema: dict[str, Any]) -> pl.DataFrame | None:
    """PostgreSQL's CSV of a query (`_copy_out`) as a frame of `schema`: numbers and text parsed as their
    columns' types, dates (ISO) and booleans (t, f) read as text and converted. None if a value does not
    parse (the caller reads the rows another way)."""
    if not data:
        return pl.DataFrame(schema=schema)
    as_text = {k: pl.Utf8 if v in (pl.Date, pl.Boolean) else v for k, v in schema.items()}
    try:
        frame = pl.read_csv(data, has_header=False, schema=as_text)
        return frame.select(
            pl.col(k).str.to_date("%Y-%m-%d")
            if v == pl.Date
            else pl.col(k).replace_strict({"t": True, "f": False}, return_dtype=pl.Boolean)
            if v == pl.Boolean
            else pl.col(k)
            for k, v in schema.items()
        )
    except pl.exceptions.PolarsError as exc:
        logger.info("The CSV of a COPY did not fit its schema: %s", exc)
        return None


class PendingFrame:
    """A frame being read (`start_query_frames`, `start_reader`): `result()` waits for it. `fallback` reads
    the same frame in this process: called if no separate reader was started or if it could not read it."""

    def __init__(
        self,
        fallback: Callable[[], pl.DataFrame],
        schema: dict[str, Any],
        reader: _Reader | _ThreadReader | None = None,
        index: int = 0,
    ) -> None:
        self.fallback, self.schema, self.reader, self.index = fallback, schema, reader, index
        self.separately = False  # True once the frame came from the separate reader

    def result(self) -> pl.DataFrame:
        """The frame: the separate reader's, or (none was started, or it failed) the fallback's, read now."""
        if self.reader is not None:
            frame, self.reader = self.reader.frame(self.index, self.schema), None
            if frame is not None:
                self.separately = True
                return frame
        return self.fallback()

    def close(self) -> None:
        """Stop the reader if its frames are no longer wanted (the caller failed first)."""
        if self.reader is not None:
            self.reader.close()
            self.reader = None


def _readable(dtype: Any) -> bool:
    """A column the separate reader gives: a number or text, or a date (SQLite holds Django's dates as ISO
    text) or a boolean (SQLite holds 0 or 1)."""
    return _copyable(dtype) or dtype == pl.Date or dtype == pl.Boolean


def _reader_frame(data: bytes, schema: dict[str, Any]) -> pl.DataFrame | None:
    """The reader's Arrow stream as a frame of `schema` (columns by position), or None if it does not fit."""
    try:
        frame = pl.read_ipc_stream(io.BytesIO(data))
        if frame.width != len(schema):
            return None
        frame = frame.rename(dict(zip(frame.columns, schema, strict=True)))
        return frame.select(
            pl.col(name).str.to_date("%Y-%m-%d")
            if dtype == pl.Date and frame.schema[name] == pl.Utf8
            else pl.col(name).cast(dtype)
            for name, dtype in schema.items()
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        logger.info("The separate reader's frame did not fit: %s", exc)
        return None


Query = tuple[str, Sequence[Any], dict[str, Any], Callable[[], pl.DataFrame]]
"""(SQL in Django's form, `%s` placeholders; its parameters; the frame's schema; a fallback reading it here)"""


def start_reader(database: str, queries: Sequence[Query]) -> list[PendingFrame]:
    """Start reading `queries` from the SQLite file `database` in one separate process
    (`beacon.core.sqlite_reader`), in order, each as a frame of its schema (numbers, text, dates and
    booleans; columns by position). A query with a parameter that is not a number, text or boolean (sent as
    0 or 1, as SQLite holds it) is not sent: its fallback reads it, when asked, as it does for a query the
    reader could not read."""
    from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

    def sendable(params: Sequence[Any]) -> bool:
        return all(p is None or type(p) in (int, float, str, bool) for p in params)

    sent = [q for q in queries if sendable(q[1])]
    reader = None
    if sent:
        request = json.dumps(
            {
                "database": database,
                "queries": [
                    {
                        "sql": FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%"),
                        # SQLite holds a boolean as 0 or 1, as Python's sqlite3 binds it.
                        "params": [int(p) if isinstance(p, bool) else p for p in params],
                    }
                    for sql, params, _schema, _fallback in sent
                ],
            }
        )
        process = subprocess.Popen(  # this interpreter, a module of Beacon's, a JSON argument
            [sys.executable, "-m", "beacon.core.sqlite_reader", request],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=settings.BASE_DIR,
        )
        reader = _Reader(process, len(sent))
    pending = []
    index = 0
    for _sql, params, schema, fallback in queries:
        if reader is not None and sendable(params):
            pending.append(PendingFrame(fallback, schema, reader, index))
            index += 1
        else:
            pending.append(PendingFrame(fallback, schema))
    return pending


def start_query_frames(
    queries: Sequence[tuple[Any, dict[str, Any]]], *, expected_rows: int
) -> list[PendingFrame]:
    """`query_frame(qs, schema)` of each (queryset, schema), started now and collected later
    (`PendingFrame.result`). Outside a transaction, when the caller expects at least
    `settings.BEACON_SEPARATE_READER_MIN_ROWS` rows in all (`expected_rows`, an estimate), the frames of
    numbers, text, dates and booleans are read while this process goes on: from a SQLite file in one
    separate process (`start_reader`: the ADBC driver, straight into Arrow columns, in a third of the time of
    Python's cursor); on PostgreSQL by a thread on a connection of its own (`_ThreadReader`). The others, and
    any such a reader cannot read, are read here when their result is asked for (decision 0032)."""

    def here(qs: Any, schema: dict[str, Any]) -> Callable[[], pl.DataFrame]:
        return lambda: query_frame(qs, schema)

    conn = connections[queries[0][0].db] if queries else None
    if conn is None or expected_rows < settings.BEACON_SEPARATE_READER_MIN_ROWS:
        return [PendingFrame(here(qs, schema), schema) for qs, schema in queries]
    database = separate_reader_database(conn)
    on_postgresql = conn.vendor == "postgresql" and separate_connection_allowed(conn)
    if database is None and not on_postgresql:
        return [PendingFrame(here(qs, schema), schema) for qs, schema in queries]
    # The frames a reader can give (numbers, text, dates, booleans; rows to ask for) go to one reader; the
    # others are read here.
    pending: list[PendingFrame | None] = []
    sent: list[Query] = []
    slots: list[int] = []
    for qs, schema in queries:
        try:
            sql, params = qs.query.sql_with_params()
        except EmptyResultSet:  # no rows, known without asking
            sql = ""
        if not sql or not all(_readable(t) for t in schema.values()):
            pending.append(PendingFrame(here(qs, schema), schema))
            continue
        slots.append(len(pending))
        pending.append(None)
        sent.append((sql, params, schema, here(qs, schema)))
    if database is not None:
        started = start_reader(database, sent)
    else:
        reader = _ThreadReader(conn.get_connection_params(), [q[:3] for q in sent]) if sent else None
        started = [
            PendingFrame(fallback, schema, reader, i) for i, (_, _, schema, fallback) in enumerate(sent)
        ]
    for slot, frame in zip(slots, started, strict=True):
        pending[slot] = frame
    return [p for p in pending if p is not None]
