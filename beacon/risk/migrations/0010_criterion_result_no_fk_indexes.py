"""CriterionResult's criterion and rulebook foreign keys lose their own indexes (decision 0027, addendum of
2 December 2026). Every query of the results names the term, and the unique constraint and the (term,
rulebook, school, criterion...) index serve them; these two indexes served only the PROTECT check before a
criterion or rulebook is deleted, while a national pass inserts 270,000 rows through each.

Dropped by name, as in 0007: Django's AlterField would rebuild the whole table on SQLite."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "risk_criterionresult_criterion_id_e62ecfd6": "criterion_id",
    "risk_criterionresult_rulebook_id_6a273f01": "rulebook_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0009_criterion_result_covering_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="criterionresult",
                    name="criterion",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="results",
                        to="risk.criterion",
                    ),
                ),
                migrations.AlterField(
                    model_name="criterionresult",
                    name="rulebook",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="results",
                        to="risk.rulebook",
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
