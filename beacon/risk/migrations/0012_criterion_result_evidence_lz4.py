"""PostgreSQL compresses the results' evidence with lz4, not its default pglz (decision 0034).

A national pass writes 270,000 evidence documents (171 MB); the 40,000 of them over TOAST's 2 kB threshold
are compressed as the row is stored, by the server, on the same two cores as the pass. A COPY of a national
term's results took 2.7-3.0 s with lz4 against 3.0-3.2 s with pglz, for the same size on disk (206 MB
against 204 MB). Values already stored keep their compression until rewritten; either is read the same way.

A server built without lz4 (`--with-lz4`; Debian's and the official images have it) keeps pglz: the change
is skipped, not failed. SQLite has no such setting; only PostgreSQL runs anything."""

from typing import Any

from django.db import migrations

TABLE = "risk_criterionresult"


def _set(schema_editor: Any, method: str) -> None:
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND %s = ANY(enumvals)",
            [method],
        )
        if cur.fetchone() is None:
            return  # this server cannot compress with `method`
    qn = conn.ops.quote_name
    schema_editor.execute(f"ALTER TABLE {qn(TABLE)} ALTER COLUMN {qn('evidence')} SET COMPRESSION {method}")


def to_lz4(apps: Any, schema_editor: Any) -> None:
    _set(schema_editor, "lz4")


def to_pglz(apps: Any, schema_editor: Any) -> None:
    _set(schema_editor, "pglz")


class Migration(migrations.Migration):
    dependencies = [("risk", "0011_criterion_result_references_checked_by_the_write")]

    operations = [migrations.RunPython(to_lz4, to_pglz, elidable=False)]
