"""Backup and restore (issue 7, reliability): `manage.py backup --output F` then `manage.py restore F`.

The Camden demo is loaded, every table is fingerprinted (row count and SHA-256 of its rows in a stable
order), the database is backed up, then changed (a school renamed, a school's measures deleted, a user
added), and restored: every table must match its fingerprint again. Runs on the SQLite test database
(online backup API) and on PostgreSQL (pg_dump / pg_restore custom format) - whichever the suite uses.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from beacon.indicators.models import SchoolMeasure
from beacon.schools.models import School
from tests.conftest import make_user

ARGYLE = 100008  # Argyle Primary School (Camden)


def fingerprint() -> dict[str, tuple[int, str]]:
    """Every table in the database: (rows, SHA-256 of the sorted rows)."""
    out: dict[str, tuple[int, str]] = {}
    with connection.cursor() as cur:
        for table in sorted(connection.introspection.table_names(cur)):
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - catalogue names
            rows = sorted(repr(tuple(r)) for r in cur.fetchall())
            out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


@pytest.mark.django_db(transaction=True)
def test_backup_change_restore_gives_back_every_row(camden_demo: None, tmp_path: Path) -> None:
    before = fingerprint()
    argyle = School.objects.get(urn=ARGYLE)
    measures = SchoolMeasure.objects.filter(school=argyle).count()
    assert argyle.name == "Argyle Primary School" and measures > 20  # the real Camden demo is loaded
    assert before["schools_school"][0] == School.objects.count() > 50

    backup = tmp_path / "beacon.backup"
    call_command("backup", "--output", str(backup))
    assert backup.stat().st_size > 100_000
    assert not (tmp_path / "beacon.backup.partial").exists()

    # Changes after the backup: an edit, a deletion, an insertion.
    School.objects.filter(pk=argyle.pk).update(name="Renamed after the backup")
    deleted, _ = SchoolMeasure.objects.filter(school=argyle).delete()
    make_user("after_backup", "adviser")
    changed = fingerprint()
    assert deleted == measures
    assert changed["indicators_schoolmeasure"][0] == before["indicators_schoolmeasure"][0] - measures
    assert changed["schools_school"] != before["schools_school"]  # same count, different content
    assert changed["accounts_user"][0] == before["accounts_user"][0] + 1

    call_command("restore", str(backup), "--noinput")
    after = fingerprint()
    assert after == before
    assert School.objects.get(urn=ARGYLE).name == "Argyle Primary School"
    assert SchoolMeasure.objects.filter(school__urn=ARGYLE).count() == measures


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_file_that_is_not_a_backup(camden_register: None, tmp_path: Path) -> None:
    before = fingerprint()
    bogus = tmp_path / "not-a-backup.csv"
    bogus.write_text("URN,Rating\n100008,Good\n")
    with pytest.raises(CommandError, match="is not a"):
        call_command("restore", str(bogus), "--noinput")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.backup"), "--noinput")
    assert fingerprint() == before
