"""Reliability (issue 7): an import killed with SIGKILL mid-way leaves the database as it was.

A real `manage.py import_data` runs in a subprocess against its own database (a file-backed SQLite
database, and on a PostgreSQL run also a PostgreSQL database of its own). The hook for "it has started
writing" is Django's SQL log (`connection.force_debug_cursor`, the `django.db.backends` logger; the
command itself is unchanged, run with `call_command` after `django.setup()`): each statement
is logged after it ran, so once the second `INSERT INTO "schools_school"` batch (2 x 5,000 schools) is
on stderr, 10,000 rows have been written inside the import's transaction. The process is then killed with SIGKILL
(no handler, no cleanup) and every table is compared, row by row, with its state before the import.

The one row that does change is the `ImportRun` of the killed attempt: it was committed as "running"
before the load started (that is how the imports page shows progress) and stays so. Every other row,
including all earlier runs, is byte-for-byte the same.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DATA = Path(settings.DATA_DIR)
CENSUS = DATA / "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv"
PG_URL = os.environ.get("DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL.startswith("postgres") else [])
# A write of imported rows (not the ImportRun, which is committed before the load starts): the bulk path
# writes each table with one statement (decision 0026), so the second such write is mid-load.
WRITE_HOOK = re.compile(r'^SQL (INSERT INTO|UPDATE|DELETE FROM) "(?!imports_importrun")')
# manage.py import_data, with every SQL statement announced on stderr after it has run.
LOGGED_MANAGE = """
import logging, sys
import django
django.setup()
from django.db import connection
from django.core.management import call_command

class Announce(logging.Handler):
    def emit(self, record):
        sys.stderr.write("SQL " + str(getattr(record, "sql", ""))[:200].replace("\\n", " ") + "\\n")
        sys.stderr.flush()

log = logging.getLogger("django.db.backends")
log.setLevel(logging.DEBUG)
log.addHandler(Announce())
log.propagate = False
connection.force_debug_cursor = True
call_command(*sys.argv[1:])  # after setup: a second django.setup() would reset the logger
"""


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def pg_admin(sql: str) -> None:
    import psycopg

    url = urlparse(PG_URL)
    with psycopg.connect(urlunparse(url._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture
def database(request: Any, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Any]]:
    """(backend, environment for manage.py, DB-API connect function) for a fresh, migrated database."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BEACON_SQLITE_PATH"}}
    env.update(BEACON_VAR_DIR=str(tmp_path / "var"), BEACON_LOG_LEVEL="WARNING", BEACON_DATA_DIR=str(DATA))
    backend = request.param
    if backend == "sqlite":
        path = tmp_path / "killed.sqlite3"
        env["BEACON_SQLITE_PATH"] = str(path)
        yield backend, env, lambda: sqlite3.connect(path)
        return
    import psycopg

    name = f"{urlparse(PG_URL).path.lstrip('/')}_kill9"
    url = urlunparse(urlparse(PG_URL)._replace(path=f"/{name}"))
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = url
    try:
        yield backend, env, lambda: psycopg.connect(url)
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def snapshot(connect: Any, backend: str) -> dict[str, tuple[int, str]]:
    """Every table: (row count, SHA-256 of its rows in a stable order)."""
    conn = connect()
    try:
        cur = conn.cursor()
        if backend == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        else:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = sorted(r[0] for r in cur.fetchall())
        out = {}
        for table in tables:
            cur.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the catalogue
            rows = sorted(repr(r) for r in cur.fetchall())
            out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        return out
    finally:
        conn.close()


@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_import_killed_mid_write_leaves_the_database_as_before(
    database: tuple[str, dict[str, str], Any],
) -> None:
    backend, env, connect = database
    assert manage(env, "migrate", "--noinput", "-v0").returncode == 0
    # Before: the Camden register (school census 2022/23, LA 202).
    done = manage(env, "import_data", "school_census", str(CENSUS), "--la", "202")
    assert done.returncode == 0, done.stdout + done.stderr
    before = snapshot(connect, backend)
    assert before["schools_school"][0] > 50  # Camden's schools are there

    # The national census (24,442 schools) in a subprocess that logs every SQL statement.
    proc = subprocess.Popen(
        [sys.executable, "-c", LOGGED_MANAGE, "import_data", "school_census", str(CENSUS)],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "beacon.settings", "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    batches = 0
    deadline = time.monotonic() + 240
    try:
        while batches < 2 and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            if WRITE_HOOK.search(line.decode("utf-8", "replace")[:300]):
                batches += 1
        assert batches == 2, "the import never reached its second write of imported rows"
        assert proc.poll() is None, "the import finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    if backend == "postgresql":
        time.sleep(0.5)  # let the server notice the dead client and roll back (MVCC hides it anyway)
    after = snapshot(connect, backend)
    changed = {t for t in before if before[t] != after.get(t)} | (set(after) - set(before))
    assert changed <= {"imports_importrun"}, f"tables changed by a killed import: {sorted(changed)}"
    assert after["schools_school"] == before["schools_school"]

    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT status, rows_inserted, rows_updated FROM imports_importrun ORDER BY id")
        runs = cur.fetchall()
    finally:
        conn.close()
    # The earlier run is untouched; the killed attempt is left as "running" with nothing recorded.
    assert [r[0] for r in runs] == ["succeeded", "running"]
    assert runs[1][1:] == (0, 0)

    # The database is still healthy and unlocked: the Camden import, forced to run again, succeeds.
    again = manage(env, "import_data", "school_census", str(CENSUS), "--la", "202", "--force")
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert snapshot(connect, backend)["schools_school"][0] == before["schools_school"][0]
