"""Seed the vulnerability thresholds (data, editable in the admin)."""

from django.db import migrations

THRESHOLDS = (
    ("falling_roll_pct", "", 10.0, "Falling roll: fall in pupils on roll (%) that raises the flag"),
    (
        "falling_roll_years",
        "",
        5.0,
        "Falling roll: look back this many years (earliest census in the window)",
    ),
    ("small_school", "primary", 210.0, "Small school: pupils on roll below (one-form-entry primary)"),
    ("small_school", "secondary", 600.0, "Small school: pupils on roll below (four-form-entry 11-16)"),
    ("small_school", "all_through", 810.0, "Small school: pupils on roll below (all-through)"),
    ("surplus_warning", "", 10.0, "Surplus places: share of capacity (%) that raises a warning"),
    ("surplus_high", "", 25.0, "Surplus places: share of capacity (%) that is high"),
    ("falling_preferences_pct", "", 20.0, "Falling demand: fall in first preferences (%) over the window"),
)


def seed(apps, schema_editor):
    Threshold = apps.get_model("futureoptions", "Threshold")
    for code, phase, value, label in THRESHOLDS:
        Threshold.objects.get_or_create(code=code, phase=phase, defaults={"value": value, "label": label})


class Migration(migrations.Migration):
    dependencies = [("futureoptions", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
