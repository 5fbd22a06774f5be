"""`manage.py backup --output FILE`: a consistent copy of the whole database, taken while Beacon runs.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page of the live database into
FILE, a plain SQLite database; readers and writers carry on meanwhile. PostgreSQL: `pg_dump` in its
custom format (one consistent snapshot, compressed), restored with `manage.py restore FILE`.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger("beacon.ops")
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def pg_env_and_args(alias: str = DEFAULT_DB_ALIAS) -> tuple[dict[str, str], list[str]]:
    """Environment (password) and connection arguments for pg_dump/pg_restore from the Django settings."""
    s = connections[alias].settings_dict
    env = {**os.environ}
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    args = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if s.get(key):
            args += [flag, str(s[key])]
    return env, args


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CommandError(f"{name} is not installed (on Debian: apt-get install postgresql-client)")
    return path


def backup_database(output: Path, alias: str = DEFAULT_DB_ALIAS) -> str:
    """Write a backup of the database to `output`; returns the vendor ('sqlite' or 'postgresql')."""
    conn = connections[alias]
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".partial")
    tmp.unlink(missing_ok=True)
    if conn.vendor == "sqlite":
        conn.ensure_connection()
        dest = sqlite3.connect(tmp)
        try:
            conn.connection.backup(dest)
        finally:
            dest.close()
    elif conn.vendor == "postgresql":
        env, args = pg_env_and_args(alias)
        name = str(conn.settings_dict["NAME"])
        result = subprocess.run(
            [
                pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                *args,
                "--file",
                str(tmp),
                name,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
    else:
        raise CommandError(f"Backups of {conn.vendor} databases are not supported")
    tmp.replace(output)  # only a complete backup ever carries the requested name
    return conn.vendor


class Command(BaseCommand):
    help = (
        "Back up the whole database to a file (SQLite: online backup API; PostgreSQL: pg_dump custom format)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", required=True, help="File to write")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **opts: Any) -> None:
        output = Path(opts["output"])
        started = time.perf_counter()
        vendor = backup_database(output, opts["database"])
        logger.info("The %s database was backed up to %s", vendor, output)
        self.stdout.write(
            f"Backed up the {vendor} database to {output} ({output.stat().st_size:,} bytes) "
            f"in {time.perf_counter() - started:.1f}s. Restore with: manage.py restore {output}"
        )
