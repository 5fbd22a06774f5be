"""CriterionResult.evidence kept as plain JSON text (decision 0027, addendum of 1 December 2026): `text` on
PostgreSQL (was `jsonb`), and without SQLite's `JSON_VALID` check (the table is rebuilt there). Nothing queries
inside the evidence with SQL; the database parsing 270,000 documents on every national pass cost about a second
of its write on PostgreSQL and half a second on SQLite.

Written out per database because Django's AlterField would change PostgreSQL's column type without `USING`,
which works from `jsonb` to `text` but not back."""

from typing import Any

from django.db import migrations, models

import beacon.risk.models

TABLE, COLUMN = "risk_criterionresult", "evidence"


def _fields(model: Any) -> tuple[models.Field, models.Field]:
    old: models.Field = models.JSONField(default=dict)
    new: models.Field = beacon.risk.models.JSONTextField(default=dict)
    for field in (old, new):
        field.set_attributes_from_name(COLUMN)
        field.model = model
    return old, new


def to_text(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'ALTER TABLE "{TABLE}" ALTER COLUMN "{COLUMN}" TYPE text USING "{COLUMN}"::text'
        )
    else:  # SQLite: the table rebuilt without the JSON_VALID check
        model = apps.get_model("risk", "CriterionResult")
        old, new = _fields(model)
        schema_editor.alter_field(model, old, new)


def to_jsonb(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'ALTER TABLE "{TABLE}" ALTER COLUMN "{COLUMN}" TYPE jsonb USING "{COLUMN}"::jsonb'
        )
    else:
        model = apps.get_model("risk", "CriterionResult")
        old, new = _fields(model)
        schema_editor.alter_field(model, new, old)


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0007_criterion_result_redundant_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="criterionresult",
                    name="evidence",
                    field=beacon.risk.models.JSONTextField(default=dict),
                ),
            ],
            database_operations=[migrations.RunPython(to_text, to_jsonb, elidable=False)],
        )
    ]
