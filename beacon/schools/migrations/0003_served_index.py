"""An index of the served schools (open, state-funded) by LA, LA name and phase: counts, phase and LA lists
read from the index alone (issue 16 item 3)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("schools", "0002_served_schools_links_closure"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="school",
            index=models.Index(
                fields=["is_open", "is_state_funded", "la_code", "la_name", "phase"], name="school_served"
            ),
        ),
    ]
