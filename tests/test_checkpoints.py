"""SQLite's WAL checkpoints beside a bulk write (beacon.core.checkpoints, decision 0034)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from beacon.core.checkpoints import (
    AUTO_CHECKPOINT_PAGES,
    Checkpointer,
    background_checkpoints,
    checkpoints_beside,
)

ROWS = 4000  # about 8 MB: well over the 1,000 pages (4 MB) of an automatic checkpoint


def _writer(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    assert db.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("CREATE TABLE result (id INTEGER PRIMARY KEY, evidence TEXT NOT NULL)")
    return db


def _write(db: sqlite3.Connection, start: int = 0) -> None:
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO result (id, evidence) VALUES (?, ?)",
        [(i, f"{i:06d}" + "x" * 2000) for i in range(start, start + ROWS)],
    )
    db.execute("COMMIT")


def test_the_writer_does_not_checkpoint_in_the_block_and_everything_is_copied_after(tmp_path: Path) -> None:
    path = tmp_path / "bulk.sqlite3"
    db = _writer(path)
    before = path.stat().st_size
    # The thread never gets to run (an hour between passes): what is copied is the writer's doing only.
    with checkpoints_beside(db, str(path), every=3600) as worker:
        assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        _write(db)
        # Committed and visible to another connection, but still only in the log: the commit copied nothing.
        other = sqlite3.connect(path)
        assert other.execute("SELECT count(*) FROM result").fetchone()[0] == ROWS
        other.close()
        assert path.stat().st_size == before
        assert Path(f"{path}-wal").stat().st_size > ROWS * 2000
    assert worker.passes == 0 and worker.error is None
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == AUTO_CHECKPOINT_PAGES
    # Leaving the block copied the whole log into the database file.
    busy, log, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert (busy, log) == (0, copied) and log > 0
    assert path.stat().st_size > ROWS * 2000
    db.close()
    fresh = sqlite3.connect(path)
    assert fresh.execute("SELECT count(*), min(id), max(id) FROM result").fetchone() == (ROWS, 0, ROWS - 1)
    assert fresh.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    fresh.close()


def test_a_checkpointer_pass_copies_what_was_committed(tmp_path: Path) -> None:
    """What the thread runs each time: a PASSIVE checkpoint on its own connection copies every committed
    frame into the database file, beside a writer that keeps its connection (and its automatic checkpoints
    off)."""
    path = tmp_path / "bulk.sqlite3"
    db = _writer(path)
    db.execute("PRAGMA wal_autocheckpoint = 0")
    _write(db)
    before = path.stat().st_size
    worker = Checkpointer(str(path), every=3600)
    own = sqlite3.connect(path, isolation_level=None)
    busy, log, copied = worker.checkpoint(own)
    assert busy == 0 and log == copied > 0 and worker.passes == 1
    assert path.stat().st_size > before + ROWS * 2000
    # The writer goes on: a second batch is appended to the log and copied by the next pass.
    _write(db, start=ROWS)
    busy, log, copied = worker.checkpoint(own)
    assert busy == 0 and log == copied > 0
    assert own.execute("SELECT count(*) FROM result").fetchone()[0] == 2 * ROWS
    own.close()
    db.close()


def test_a_writer_closed_in_the_block_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "bulk.sqlite3"
    db = _writer(path)
    with checkpoints_beside(db, str(path), every=3600):
        _write(db)
        db.close()
    reopened = sqlite3.connect(path)
    assert reopened.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == AUTO_CHECKPOINT_PAGES
    assert reopened.execute("SELECT count(*) FROM result").fetchone()[0] == ROWS
    reopened.close()


@pytest.mark.django_db
def test_other_databases_run_the_block_as_it_is() -> None:
    """The test database is in memory (SQLite) or PostgreSQL: no thread, no setting changed."""
    from django.db import connection

    with background_checkpoints() as worker:
        assert worker is None
        if connection.vendor == "sqlite":
            with connection.cursor() as cur:
                cur.execute("PRAGMA wal_autocheckpoint")
                assert cur.fetchone()[0] == AUTO_CHECKPOINT_PAGES
