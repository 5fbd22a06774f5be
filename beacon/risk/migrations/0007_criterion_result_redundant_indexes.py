"""CriterionResult's school and term foreign keys lose their own indexes (decision 0027, addendum of 1 December
2026): the unique constraint (school, term, criterion, rulebook) and the (term, rulebook, school) index already
serve every lookup by school or by term, and a national pass inserts 270,000 rows through each index.

The indexes are dropped by name (the same on SQLite and PostgreSQL) rather than by Django's AlterField, which
would rebuild the whole table on SQLite and drop and re-validate the foreign keys on PostgreSQL."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "risk_criterionresult_school_id_d751abab": "school_id",
    "risk_criterionresult_term_id_03ee26b5": "term_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0006_result_index_for_one_school"),
        ("schools", "0003_served_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="criterionresult",
                    name="school",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="risk_results",
                        to="schools.school",
                    ),
                ),
                migrations.AlterField(
                    model_name="criterionresult",
                    name="term",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="results",
                        to="risk.term",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "risk_criterionresult" ("{column}")',
                )
                for name, column in INDEXES.items()
            ],
        )
    ]
