"""Inserting many rows in few statements: multi-row VALUES (decision 0029).

SQLite's `executemany` runs one statement per row: the row's values are bound and the statement stepped,
each time through Python. A VALUES list of many rows is one statement: the values are bound in one call
and SQLite inserts every row inside a single step. On the national pass's 273,762 risk results that was
0.84 s against 1.61 s. It also matters when another thread runs Python beside the write: the sqlite3
module releases the interpreter lock around every step, and taking it back once per row behind a busy
thread made the same `executemany` take minutes (the lock is handed over every 5 ms). One step per
thousand rows takes it back a few hundred times.

PostgreSQL's bulk writes use COPY (`imports.framework`, `risk.store`); this helper works on either
database.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import polars as pl
from django.db.models import Model
from django.db.models.base import ModelState

# Rows per statement: measured on SQLite with 8 columns, 250 to 4,000 rows per statement were within 10%
# of each other; 1,000 keeps the statement's text (and PostgreSQL's 65,535 parameters) small.
ROWS_PER_STATEMENT = 1000


def max_parameters(conn: Any) -> int:
    """How many parameters one statement may bind on this connection."""
    if conn.vendor == "sqlite":
        import sqlite3

        conn.ensure_connection()
        return int(conn.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    if conn.vendor == "postgresql":
        return 65535
    return int(conn.features.max_query_params or 999)


class _Statements:
    """The INSERT statements of one table and column list on one connection: rows per statement, the
    statement's text for a number of rows (cached), and the call that runs it (see `insert_rows`)."""

    def __init__(self, cur: Any, table: str, columns: Sequence[str]) -> None:
        conn = cur.db
        qn = conn.ops.quote_name
        self.width = len(columns)
        if self.width == 0:
            raise ValueError("inserting rows needs at least one column")
        self.per = max(1, min(ROWS_PER_STATEMENT, max_parameters(conn) // self.width))
        self.head = f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) VALUES "  # noqa: S608
        self.execute: Callable[..., Any] = cur.execute
        mark = "%s"
        if conn.vendor == "sqlite":
            # sqlite3's own cursor, with its own placeholders: Django's wrapper rewrites every "%s" of the
            # text with a regular expression on each call (thousands of placeholders a statement).
            import sqlite3

            self.execute = functools.partial(sqlite3.Cursor.execute, cur.cursor)
            mark = "?"
        self.group = "(" + ", ".join([mark] * self.width) + ")"
        self.texts: dict[int, str] = {}  # rows in the statement -> its text (the full size, and the last one)

    def run(self, rows: int, params: list[Any]) -> None:
        sql = self.texts.get(rows)
        if sql is None:
            sql = self.texts[rows] = self.head + ", ".join([self.group] * rows)
        self.execute(sql, params)


def insert_rows(
    cur: Any,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    on_statement: Callable[[int], object] | None = None,
) -> int:
    """INSERT `rows` (database-ready values, in the order of `columns`) into `table` through the Django
    cursor `cur`, many rows per statement, in the caller's transaction. `table` and `columns` are names
    (quoted here); no value is ever formatted into the text. `on_statement(rows so far)` is called after
    each statement (progress). Returns the number of rows given."""
    statements = _Statements(cur, table, columns)
    done = 0
    for chunk in itertools.batched(rows, statements.per):
        if set(map(len, chunk)) != {statements.width}:  # flattened, a short row would shift its neighbours
            raise ValueError(f"insert_rows into {table}: every row needs {statements.width} values")
        statements.run(len(chunk), list(itertools.chain.from_iterable(chunk)))
        done += len(chunk)
        if on_statement is not None:
            on_statement(done)
    return done


def insert_columns(cur: Any, table: str, columns: Sequence[str], values: Sequence[Sequence[Any]]) -> int:
    """`insert_rows` for values held column by column (`values[k]`: every row's value of `columns[k]`, all of
    one length): each statement's parameters are laid out by slice assignment, one per column, with no
    tuple per row (the termly pass writes 273,762 results of 8 columns). Returns the number of rows."""
    statements = _Statements(cur, table, columns)
    if len(values) != statements.width:
        raise ValueError(f"insert_columns into {table}: {statements.width} columns, {len(values)} given")
    lengths = set(map(len, values))
    if len(lengths) > 1:
        raise ValueError(f"insert_columns into {table}: columns of different lengths {sorted(lengths)}")
    total = lengths.pop() if lengths else 0
    width = statements.width
    for start in range(0, total, statements.per):
        rows = min(statements.per, total - start)
        params: list[Any] = [None] * (rows * width)
        for k, column in enumerate(values):
            params[k::width] = column[start : start + rows]
        statements.run(rows, params)
    return total


def copy_text(text: pl.Expr) -> pl.Expr:
    """Text values as COPY's text format writes them: backslash, tab, newline and carriage return escaped (any
    other character stands for itself; a value "\\N" is not the null marker once its backslash is doubled)."""
    return (
        text.str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all("\t", "\\t", literal=True)
        .str.replace_all("\n", "\\n", literal=True)
        .str.replace_all("\r", "\\r", literal=True)
    )


def _copy_field(name: str, dtype: Any) -> pl.Expr:
    """One column as COPY text fields: NULL as \\N, text escaped, numbers, booleans and dates as polars
    writes them (floats in their shortest exact form: "0.30000000000000004", "inf", "NaN"; booleans "true",
    "false"; dates ISO), which PostgreSQL reads back as the same values."""
    col = pl.col(name)
    if dtype == pl.Utf8:
        text = copy_text(col)
    elif dtype.is_integer() or dtype.is_float() or dtype in (pl.Boolean, pl.Date):
        text = col.cast(pl.Utf8)
    else:
        raise TypeError(f"COPY text for column {name} of type {dtype} is not written by copy_blocks")
    return text.fill_null("\\N")


def copy_blocks(frame: pl.DataFrame, rows: int = 10_000) -> Iterator[str]:
    """The frame's rows in PostgreSQL COPY's text format (tab-separated, one row a line), built in polars and
    handed out `rows` lines at a time, with no Python object per value (decision 0031, amendment)."""
    if frame.width == 0:
        raise ValueError("copy_blocks: a frame with no columns")
    fields = [_copy_field(name, dtype) for name, dtype in frame.schema.items()]
    lines = frame.select(pl.concat_str(fields, separator="\t").alias("line"))["line"]
    for start in range(0, lines.len(), rows):
        yield lines.slice(start, rows).str.join("\n").item() + "\n"


class Prototype[M: Model]:
    """New unsaved instances of a model with a template's field values, for a bulk write: each copies the
    template's attributes and state (what `Model.__getstate__` copies for pickling) instead of running
    `Model.__init__`, which looks up every field's default and sets related fields through their
    descriptors (about 50 µs an instance; the termly pass makes 23,000 assessments and 23,000 scores).
    A field whose default is callable (a list, a dict) gets a fresh default in each instance, as
    `__init__` gives it; the caller sets what differs from the template."""

    def __init__(self, template: M) -> None:
        self.template = template
        self._fresh = [
            (f.attname, f.get_default)
            for f in template._meta.concrete_fields
            if f.has_default() and callable(f.default)
        ]
        # What `Model.__getstate__` copies, taken once: the attributes (a memoryview back as one, as
        # `__setstate__` restores it) and the state's own attributes, but not its cache of related objects
        # (each instance gets a copy: a state clears its cache when it is collected) nor its weak `peers`.
        # Copying the state with `copy.copy` for every instance was most of the time `new` took.
        attrs = template.__getstate__()
        state = attrs.pop("_state")
        for attr, value in attrs.pop("_memoryview_attrs", []):
            attrs[attr] = memoryview(value)
        self._attrs = attrs
        self._state_class: type[ModelState] = type(state)
        self._state_attrs = {k: v for k, v in state.__dict__.items() if k not in ("fields_cache", "peers")}
        self._fields_cache = dict(state.fields_cache)

    def new(self) -> M:
        cls = type(self.template)
        obj = cls.__new__(cls)
        obj.__dict__.update(self._attrs)
        state = self._state_class.__new__(self._state_class)
        state.__dict__.update(self._state_attrs)
        state.fields_cache = self._fields_cache.copy()
        obj.__dict__["_state"] = state
        for attname, default in self._fresh:
            obj.__dict__[attname] = default()
        return obj
