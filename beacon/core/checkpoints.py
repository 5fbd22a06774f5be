"""SQLite's WAL checkpoints taken beside a bulk write instead of inside its commits (decision 0034).

In WAL mode a commit appends the transaction's pages to the write-ahead log; the connection that commits
then copies the log back into the database file (an automatic checkpoint, once the log holds 1,000 pages)
before its COMMIT returns. A national import or termly pass commits hundreds of megabytes: for the results
of a pass that copy was 0.4 s of a 0.7 s commit. It needs no Python and no interpreter lock, so on a second
core it can run while the writer goes on with its next step: `background_checkpoints` turns the writer's
automatic checkpoints off for the block and has a thread, on its own connection, checkpoint what has been
committed (PASSIVE: it never waits for, or blocks, a reader or the writer). Leaving the block stops the
thread, checkpoints what is left and turns the writer's automatic checkpoints back on.

Durability and isolation are SQLite's own either way: a committed transaction is in the log and readers
see it; a checkpoint interrupted (the process killed) is finished by the next connection that checkpoints.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections

# SQLite's default automatic checkpoint threshold (pages), restored after the block.
AUTO_CHECKPOINT_PAGES = 1000


class Checkpointer(threading.Thread):
    """Checkpoints the WAL of the database file `path` every `every` seconds, on its own connection, until
    `stop` is set. `passes`: checkpoints run; `error`: what stopped it early (the writer is unaffected: its
    own checkpoint at the end of the block copies what is left)."""

    def __init__(self, path: str, every: float) -> None:
        super().__init__(name="sqlite-checkpoints", daemon=True)
        self.path, self.every = path, every
        self.stop = threading.Event()
        self.passes = 0
        self.error: BaseException | None = None

    def checkpoint(self, db: sqlite3.Connection) -> tuple[int, int, int]:
        """One PASSIVE checkpoint on `db`: SQLite's (busy, frames in the log, frames copied)."""
        busy, log, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.passes += 1
        return int(busy), int(log), int(copied)

    def run(self) -> None:
        try:
            db = sqlite3.connect(self.path, timeout=20, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            self.error = exc
            return
        try:
            while not self.stop.wait(self.every):
                self.checkpoint(db)
        except sqlite3.Error as exc:
            self.error = exc
        finally:
            db.close()


@contextmanager
def checkpoints_beside(
    writer: sqlite3.Connection, path: str, *, every: float = 0.05
) -> Iterator[Checkpointer]:
    """Run the block with `writer`'s automatic checkpoints off and a `Checkpointer` on `path` (the file
    `writer` has open, in WAL mode). After it: the thread stopped, `writer`'s automatic checkpoints back on,
    and, unless `writer` is inside a transaction, what the thread had not yet copied checkpointed by it."""
    writer.execute("PRAGMA wal_autocheckpoint = 0").fetchone()
    worker = Checkpointer(path, every)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop.set()
        worker.join()
        try:
            writer.execute(f"PRAGMA wal_autocheckpoint = {AUTO_CHECKPOINT_PAGES}").fetchone()
            if not writer.in_transaction:
                writer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.ProgrammingError:
            pass  # `writer` was closed in the block: a new connection has automatic checkpoints on


def _wal_file(alias: str) -> str | None:
    """The database file of a Django SQLite connection in WAL mode, or None (another database, an in-memory
    one, or no WAL)."""
    conn: Any = connections[alias]
    if conn.vendor != "sqlite" or conn.is_in_memory_db():
        return None
    conn.ensure_connection()
    with conn.cursor() as cur:
        cur.execute("PRAGMA journal_mode")
        mode = str(cur.fetchone()[0]).lower()
    return str(conn.settings_dict["NAME"]) if mode == "wal" else None


@contextmanager
def background_checkpoints(alias: str = "default") -> Iterator[Checkpointer | None]:
    """`checkpoints_beside` for the Django connection `alias` when it is SQLite in WAL mode (what `make run`
    and the benchmarks use); on any other database the block runs as it is (yields None)."""
    path = _wal_file(alias)
    if path is None:
        yield None
        return
    raw: Any = connections[alias].connection
    with checkpoints_beside(raw, path) as worker:
        yield worker
