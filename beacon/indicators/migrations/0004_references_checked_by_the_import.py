"""School and area measures lose their foreign key constraints on PostgreSQL (decision 0026, fourth
amendment of 2 December 2026).

PostgreSQL checks a foreign key by a trigger per row: three per value (school or area, measure, import run),
and a national import writes 1.6 million school values. COPY of the school values into a copy of their table
took 10.8 s without those checks and 42.5 s with them. `imports.framework.upsert_rows`, which writes these
tables, now checks every reference of the rows it stages once, set-based, and deletions go through Django
(CASCADE for a school or area, PROTECT for a measure, SET_NULL for an import run), as they did.

SQLite keeps the references its tables were created with (dropping them would rebuild 1.6 million rows, and
SQLite checks them cheaply); only the migration state changes there. Reversing re-creates the PostgreSQL
constraints, validated."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

REFERENCES = {  # table: {column: referenced table}
    "indicators_schoolmeasure": {
        "school_id": "schools_school",
        "measure_id": "indicators_measure",
        "source_run_id": "imports_importrun",
    },
    "indicators_areameasure": {
        "area_id": "indicators_area",
        "measure_id": "indicators_measure",
        "source_run_id": "imports_importrun",
    },
}


def drop_constraints(apps: Any, schema_editor: Any) -> None:
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    qn = conn.ops.quote_name
    for table, columns in REFERENCES.items():
        with conn.cursor() as cur:
            found = conn.introspection.get_constraints(cur, table)
        for name, spec in found.items():
            if spec["foreign_key"] and spec["columns"] and spec["columns"][0] in columns:
                schema_editor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")


def add_constraints(apps: Any, schema_editor: Any) -> None:
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    qn = conn.ops.quote_name
    for table, columns in REFERENCES.items():
        for column, target in columns.items():
            schema_editor.execute(
                f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(f'{table}_{column}_fk')} FOREIGN KEY ({qn(column)}) "
                f"REFERENCES {qn(target)} ({qn('id')}) DEFERRABLE INITIALLY DEFERRED"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_initial"),
        ("indicators", "0003_unique_key_indexes_fk"),
        ("schools", "0003_served_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="areameasure",
                    name="area",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="values",
                        to="indicators.area",
                    ),
                ),
                migrations.AlterField(
                    model_name="areameasure",
                    name="measure",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="area_values",
                        to="indicators.measure",
                    ),
                ),
                migrations.AlterField(
                    model_name="areameasure",
                    name="source_run",
                    field=models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="imports.importrun",
                    ),
                ),
                migrations.AlterField(
                    model_name="schoolmeasure",
                    name="measure",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="school_values",
                        to="indicators.measure",
                    ),
                ),
                migrations.AlterField(
                    model_name="schoolmeasure",
                    name="school",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="measures",
                        to="schools.school",
                    ),
                ),
                migrations.AlterField(
                    model_name="schoolmeasure",
                    name="source_run",
                    field=models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="imports.importrun",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_constraints, add_constraints)],
        )
    ]
