"""A query's rows read from a SQLite file into Arrow columns, in a process of its own (decision 0032).

Run as `python -m beacon.core.sqlite_reader REQUEST`, REQUEST being JSON: {"database": path, "sql": a query
with `?` placeholders, "params": [numbers or text]}. It opens the file read-only with the ADBC SQLite driver,
reads every row into Arrow columns (no Python object per value) and writes them to stdout as an Arrow IPC
stream; on failure it writes the reason to stderr and exits 1.

Why a process of its own: the ADBC driver carries its own copy of SQLite. Two copies of SQLite in one
process do not see each other's file locks, and closing the driver's connection can then pull the WAL's
shared memory from under Django's connection ("How To Corrupt An SQLite Database File", 2.2.1; seen here
as a SIGBUS). Across processes SQLite's locking holds, as for any two programs reading one database.

It imports neither Django nor Beacon: only the driver and pyarrow, so it starts in a fraction of a second.
`beacon.core.frames.start_query_frame` starts it and reads its output.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def read(database: str, sql: str, params: list[Any]) -> Any:
    """The rows as an Arrow table (the driver types each column by the first rows it reads, and refuses a
    later value of another type: the caller then reads the rows another way)."""
    import adbc_driver_sqlite.dbapi

    with (
        adbc_driver_sqlite.dbapi.connect(f"file:{database}?mode=ro") as conn,
        conn.cursor() as cur,
    ):
        cur.execute(sql, tuple(params) if params else None)
        table = cur.fetch_arrow_table()
    # Columns by position (a query may give two columns one name): the caller names them.
    return table.rename_columns([f"c{i}" for i in range(table.num_columns)])


def main(argv: list[str]) -> int:
    import pyarrow as pa

    try:
        request = json.loads(argv[1])
        table = read(request["database"], request["sql"], request["params"])
    except Exception as exc:  # reported to the caller, which reads the rows itself
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        return 1
    with pa.ipc.new_stream(sys.stdout.buffer, table.schema) as writer:
        writer.write_table(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
