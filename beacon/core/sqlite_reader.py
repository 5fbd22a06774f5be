"""Queries' rows read from a SQLite file into Arrow columns, in a process of its own (decision 0032).

Run as `python -m beacon.core.sqlite_reader REQUEST`, REQUEST being JSON: {"database": path, "queries":
[{"sql": a query with `?` placeholders, "params": [numbers or text]}, ...]}. It opens the file read-only with
the ADBC SQLite driver and runs the queries in order, each read into Arrow columns (no Python object per
value, columns named c0, c1, ... by position). For each query it writes to stdout an 8-byte big-endian length
and then that many bytes: the rows as an Arrow IPC stream, or nothing (length 0) if that query failed; the
reason goes to stderr and the next query runs.

Why a process of its own: the ADBC driver carries its own copy of SQLite. Two copies of SQLite in one
process do not see each other's file locks, and closing the driver's connection can then pull the WAL's
shared memory from under Django's connection ("How To Corrupt An SQLite Database File", 2.2.1; seen here
as a SIGBUS). Across processes SQLite's locking holds, as for any two programs reading one database.

It imports neither Django nor Beacon: only the driver and pyarrow, so it starts in a fraction of a second.
`beacon.core.frames.start_reader` starts it and reads its output.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any


def read(cur: Any, sql: str, params: list[Any]) -> Any:
    """The rows as an Arrow table (the driver types each column by the first rows it reads, and refuses a
    later value of another type: the caller then reads the rows another way)."""
    cur.execute(sql, tuple(params) if params else None)
    table = cur.fetch_arrow_table()
    # Columns by position (a query may give two columns one name): the caller names them.
    return table.rename_columns([f"c{i}" for i in range(table.num_columns)])


def main(argv: list[str]) -> int:
    import adbc_driver_sqlite.dbapi
    import pyarrow as pa

    request = json.loads(argv[1])
    out = sys.stdout.buffer
    with (
        adbc_driver_sqlite.dbapi.connect(f"file:{request['database']}?mode=ro") as conn,
        conn.cursor() as cur,
    ):
        for query in request["queries"]:
            buffer = io.BytesIO()
            try:
                table = read(cur, query["sql"], query["params"])
                with pa.ipc.new_stream(buffer, table.schema) as writer:
                    writer.write_table(table)
            except Exception as exc:  # reported; the caller reads this query's rows itself
                sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
                buffer = io.BytesIO()
            data = buffer.getbuffer()
            out.write(len(data).to_bytes(8, "big"))
            out.write(data)
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
