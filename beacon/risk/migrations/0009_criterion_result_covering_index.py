"""CriterionResult's (term, rulebook, school) index becomes covering for the termly pass's reads: criterion,
outcome and fingerprint added (decision 0027, addendum of 1 December 2026). The pass reads back every result's
fingerprint, the met codes and the outcomes for the risk scores; on SQLite these read the index instead of the
rows, whose evidence is 200 MB on the national database."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0008_criterion_result_evidence_text"),
        ("schools", "0003_served_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="criterionresult",
            index=models.Index(
                fields=["term", "rulebook", "school", "criterion", "outcome", "fingerprint"],
                name="risk_result_term_book_cover",
            ),
        ),
        migrations.RemoveIndex(
            model_name="criterionresult",
            name="risk_result_term_book_school",
        ),
    ]
