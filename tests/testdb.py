"""Migrate once, clone per xdist worker (decision 0025, option 5).

Without this, pytest-django has every worker build its own test database by running every migration
(the data migrations seed criteria, templates and targets), a fixed cost paid once per worker. Here the
first worker to take a file lock migrates a template database; every worker, that one included, then
gets its own copy of the template:

- SQLite: the template is a file in a directory of this run; each worker copies it into its usual
  in-memory test database with SQLite's backup API (as Django's own parallel runner does for spawned
  workers).
- PostgreSQL: the template is `test_<name>`; each worker's database (`test_<name>_gw0`, ...) is made
  by `CREATE DATABASE ... TEMPLATE test_<name>`. The last worker to finish drops the template.

The lock, the "template ready" mark and the SQLite template live in a temporary directory the xdist
controller makes for this run and hands to its workers (`RUN_DIR` in workerinput); the controller drops the
PostgreSQL template and removes the directory at the end. A clean clone (CI) starts with nothing to reuse
(no --reuse-db).
"""

from __future__ import annotations

import fcntl
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RUN_DIR = "beacon_testdb_dir"  # key in xdist's workerinput


@contextmanager
def _locked(run_dir: Path) -> Iterator[None]:
    with (run_dir / "lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _point_at(connection: Any, name: str) -> None:
    from django.conf import settings

    connection.close()
    settings.DATABASES[connection.alias]["NAME"] = name
    connection.settings_dict["NAME"] = name


def _migrate_template(connection: Any, template: str, verbosity: int) -> None:
    """Create and migrate `template` (a file path on SQLite, a database name on PostgreSQL)."""
    old_name = connection.settings_dict["NAME"]
    test = connection.settings_dict["TEST"]
    saved = test.get("NAME")
    test["NAME"] = template
    try:
        connection.creation.create_test_db(verbosity=verbosity, autoclobber=True, keepdb=False)
    finally:
        test["NAME"] = saved
        _point_at(connection, old_name)  # closes the connection: no session may stay on a template


def setup_worker_database(connection: Any, workerinput: dict[str, Any], verbosity: int) -> list[Any]:
    """Give this worker its test database, cloned from the run's template; returns `old_names` for
    django.test.utils.teardown_databases."""
    run_dir = Path(workerinput[RUN_DIR])
    worker = workerinput["workerid"]
    old_name = connection.settings_dict["NAME"]
    creation = connection.creation
    if connection.vendor == "sqlite":
        template = str(run_dir / "template.sqlite3")
    elif connection.vendor == "postgresql":
        template = creation._get_test_db_name()
    else:  # pragma: no cover - only the two databases Beacon supports
        raise RuntimeError(f"No test database cloning for {connection.vendor}")

    with _locked(run_dir):
        if not (run_dir / "ready").exists():
            _migrate_template(connection, template, verbosity)
            (run_dir / "ready").write_text(template)
        if connection.vendor == "postgresql":
            # Inside the lock as well: CREATE DATABASE ... TEMPLATE refuses while any session (another
            # worker's clone included, on some versions) reads the template.
            test = connection.settings_dict["TEST"]
            test["NAME"], test["TEMPLATE"] = f"{template}_{worker}", template
            try:
                name = creation._create_test_db(verbosity, autoclobber=True, keepdb=False)
            finally:
                test["NAME"], test["TEMPLATE"] = template, None
            test["NAME"] = name  # teardown drops this worker's copy
            _point_at(connection, name)
            connection.ensure_connection()

    if connection.vendor == "sqlite":
        name = creation._get_test_db_name()  # the in-memory database, as without cloning
        _point_at(connection, name)
        connection.ensure_connection()
        source = sqlite3.connect(template)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    return [(connection, old_name, True)]


def end_stray_sessions(connection: Any) -> None:
    """PostgreSQL: end the sessions that threads of this process left on its own test database (a live
    server's request thread still holding a kept-alive browser connection), so that it can be dropped."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


def remove_template(run_dir: str, blocker: Any) -> None:
    """In the controller, after every worker has finished: drop the PostgreSQL template and remove
    the run's directory (the SQLite template file is in it)."""
    from django.db import connection

    ready = Path(run_dir) / "ready"
    if ready.exists() and connection.vendor == "postgresql":
        with blocker.unblock():
            connection.creation._destroy_test_db(ready.read_text(), verbosity=0)
    shutil.rmtree(run_dir, ignore_errors=True)
