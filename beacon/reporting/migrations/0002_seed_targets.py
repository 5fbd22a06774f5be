"""Seed the Camden Learning Commission and Cambridgeshire targets (beacon/reporting/seeds.py)."""

from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    from beacon.reporting.seeds import seed_targets

    seed_targets(apps.get_model("reporting", "SystemTarget"))


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
