"""`manage.py restore FILE`: replace the whole database with a backup made by `manage.py backup`.

SQLite: the online backup API copies the backup's pages over the live database in one step (other
connections see the old or the new database, never a mixture). PostgreSQL: `pg_restore --clean
--if-exists --single-transaction`: every table is dropped and recreated from the dump in one
transaction, so a failed restore leaves the database as it was.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from beacon.core.management.commands.backup import PGDUMP_MAGIC, SQLITE_MAGIC, pg_env_and_args, pg_tool

# The restored database's own history starts at the backup, so the restore itself goes to the log.
logger = logging.getLogger("beacon.ops")


def restore_database(path: Path, alias: str = DEFAULT_DB_ALIAS) -> str:
    conn = connections[alias]
    if not path.is_file():
        raise CommandError(f"{path} does not exist")
    with path.open("rb") as fh:
        head = fh.read(16)
    if conn.vendor == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise CommandError(f"{path} is not a SQLite backup (made by manage.py backup on SQLite)")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise CommandError(f"{path} is damaged (integrity check failed); nothing was restored")
            conn.ensure_connection()
            source.backup(conn.connection)
        finally:
            source.close()
    elif conn.vendor == "postgresql":
        if not head.startswith(PGDUMP_MAGIC):
            raise CommandError(f"{path} is not a pg_dump custom-format backup (made by manage.py backup)")
        env, args = pg_env_and_args(alias)
        name = str(conn.settings_dict["NAME"])
        conn.close()  # our own idle session must not hold locks on the tables being replaced
        result = subprocess.run(
            [
                pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                *args,
                "--dbname",
                name,
                str(path),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise CommandError(f"pg_restore failed, nothing was changed: {result.stderr.strip()}")
    else:
        raise CommandError(f"Restoring {conn.vendor} databases is not supported")
    return conn.vendor


class Command(BaseCommand):
    help = "Replace the whole database with a backup made by `manage.py backup`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="Backup file")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive", help="Do not ask to confirm"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["path"])
        if opts["interactive"]:
            answer = input(f"This replaces every row of the database with {path}. Type 'yes' to continue: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing was changed.")
        started = time.perf_counter()
        vendor = restore_database(path, opts["database"])
        logger.warning("The %s database was restored from %s (%s bytes)", vendor, path, path.stat().st_size)
        self.stdout.write(
            f"Restored the {vendor} database from {path} in {time.perf_counter() - started:.1f}s."
        )
