"""CriterionResult's four foreign keys lose their database constraints on PostgreSQL (decision 0027, addendum
of 2 December 2026).

PostgreSQL checks a foreign key by a trigger per inserted row: four per result, and a national pass inserts
270,000 results; those checks were half of the pass's write (5-6 s of 11-13 s on a two-core machine).
`risk.store.write_results` now checks every reference once per write, set-based, and deletions go through
Django's collector (CASCADE for a school or term, PROTECT for a criterion or rulebook), as they did.

SQLite keeps the references its table was created with (dropping one would rebuild the table, and SQLite
checks them cheaply); only the migration state changes there. Reversing re-creates the PostgreSQL
constraints, validated."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

TABLE = "risk_criterionresult"
REFERENCES = {  # column: (referenced table, Django's constraint name)
    "school_id": ("schools_school", "risk_criterionresult_school_id_d751abab_fk_schools_school_id"),
    "term_id": ("risk_term", "risk_criterionresult_term_id_03ee26b5_fk_risk_term_id"),
    "criterion_id": ("risk_criterion", "risk_criterionresult_criterion_id_e62ecfd6_fk_risk_criterion_id"),
    "rulebook_id": ("risk_rulebook", "risk_criterionresult_rulebook_id_6a273f01_fk_risk_rulebook_id"),
}


def drop_constraints(apps: Any, schema_editor: Any) -> None:
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cur:
        found = conn.introspection.get_constraints(cur, TABLE)
    qn = conn.ops.quote_name
    for name, spec in found.items():
        if spec["foreign_key"] and spec["columns"] and spec["columns"][0] in REFERENCES:
            schema_editor.execute(f"ALTER TABLE {qn(TABLE)} DROP CONSTRAINT {qn(name)}")


def add_constraints(apps: Any, schema_editor: Any) -> None:
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    qn = conn.ops.quote_name
    for column, (target, name) in REFERENCES.items():
        schema_editor.execute(
            f"ALTER TABLE {qn(TABLE)} ADD CONSTRAINT {qn(name)} FOREIGN KEY ({qn(column)}) "
            f"REFERENCES {qn(target)} ({qn('id')}) DEFERRABLE INITIALLY DEFERRED"
        )


def _field(to: str, on_delete: Any, related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        db_constraint=False, db_index=False, on_delete=on_delete, related_name=related_name, to=to
    )


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0010_criterion_result_no_fk_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="criterionresult",
                    name="school",
                    field=_field("schools.school", django.db.models.deletion.CASCADE, "risk_results"),
                ),
                migrations.AlterField(
                    model_name="criterionresult",
                    name="term",
                    field=_field("risk.term", django.db.models.deletion.CASCADE, "results"),
                ),
                migrations.AlterField(
                    model_name="criterionresult",
                    name="criterion",
                    field=_field("risk.criterion", django.db.models.deletion.PROTECT, "results"),
                ),
                migrations.AlterField(
                    model_name="criterionresult",
                    name="rulebook",
                    field=_field("risk.rulebook", django.db.models.deletion.PROTECT, "results"),
                ),
            ],
            database_operations=[migrations.RunPython(drop_constraints, add_constraints)],
        )
    ]
