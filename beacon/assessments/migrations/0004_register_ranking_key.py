"""The register's stored ranking key (decision 0027, addendum): three columns derived from the stored figures
and the RAG, filled here for the assessments already held, and the index the register reads its pages from."""

from typing import Any

from django.db import migrations, models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest

SEVERITY = {"red": 2, "amber": 1, "green": 0}


def fill(apps: Any, schema_editor: Any) -> None:
    TermlyAssessment = apps.get_model("assessments", "TermlyAssessment")
    WatchThreshold = apps.get_model("earlywarning", "WatchThreshold")
    newest = WatchThreshold.objects.order_by("-created_at", "-pk").first()
    threshold = Value(newest.probability if newest else 0.5)
    # As TermlyAssessment.ranking() computes it: the RAG is the decided one, else the proposed one.
    severity = Case(
        *(When(decided_rag=rag, then=Value(n)) for rag, n in SEVERITY.items()),
        *(When(Q(decided_rag="", proposed_rag=rag), then=Value(n)) for rag, n in SEVERITY.items()),
        default=Value(-1),
        output_field=models.SmallIntegerField(),
    )
    TermlyAssessment.objects.update(
        rank_probability=Case(
            When(judged=True, then=Greatest(Coalesce(F("probability"), threshold), threshold)),
            default=Coalesce(F("probability"), Value(-1.0)),
            output_field=models.FloatField(),
        ),
        rank_score=Coalesce(F("risk_score"), Value(-1.0)),
        rank_severity=severity,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0003_risk_results_at_scale"),
        ("earlywarning", "0001_risk_scores"),
    ]

    operations = [
        migrations.AddField(
            model_name="termlyassessment",
            name="rank_probability",
            field=models.FloatField(default=-1.0, editable=False),
        ),
        migrations.AddField(
            model_name="termlyassessment",
            name="rank_score",
            field=models.FloatField(default=-1.0, editable=False),
        ),
        migrations.AddField(
            model_name="termlyassessment",
            name="rank_severity",
            field=models.SmallIntegerField(default=-1, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="termlyassessment",
            index=models.Index(
                fields=["term", "-rank_probability", "-rank_score", "-rank_severity"],
                name="assessment_register_rank",
            ),
        ),
    ]
