"""CriterionResult.evidence kept as plain JSON text (decision 0027, addendum of 1 December 2026): `text` on
PostgreSQL (was `jsonb`), and without SQLite's `JSON_VALID` check (the table is rebuilt there). Nothing queries
inside the evidence with SQL; the database parsing 270,000 documents on every national pass cost about a second
of its write on PostgreSQL and half a second on SQLite."""

from django.db import migrations

import beacon.risk.models


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0007_criterion_result_redundant_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="criterionresult",
            name="evidence",
            field=beacon.risk.models.JSONTextField(default=dict),
        ),
    ]
