"""Databases whose active rulebook is Beacon's seeded default get a new version with the defaults of issue 13
(grade 4 standard pass, median absence, KS2 progress, similar-intake schools, counted-under rules). A
rulebook people edited is left alone; the old version and its results stay as they are. Fresh databases
have no rulebook yet at this point: the catalogue seeds version 1 with the current defaults after migrate."""

from __future__ import annotations

from typing import Any

from django.db import migrations

SEEDED = "Default thresholds seeded by Beacon"


def forwards(apps: Any, schema_editor: Any) -> None:
    from beacon.risk.catalogue import DEFAULT_RULES

    Rulebook = apps.get_model("risk", "Rulebook")
    Rule = apps.get_model("risk", "Rule")
    Criterion = apps.get_model("risk", "Criterion")
    for model, rules in DEFAULT_RULES.items():
        active = Rulebook.objects.filter(model=model, is_active=True).order_by("-version").first()
        if active is None or not active.notes.startswith(SEEDED):
            continue
        crit = {c.code: c for c in Criterion.objects.filter(code__in=list(rules))}
        if set(rules) - set(crit):
            continue
        latest = Rulebook.objects.filter(model=model).order_by("-version").first()
        book = Rulebook.objects.create(
            model=model,
            version=latest.version + 1,
            name=active.name,
            notes=f"{SEEDED} (issue 13 revision: the rules as the strategy writes them; replaces version "
            f"{active.version}).",
            is_active=True,
            stale_after_years=2,
        )
        Rulebook.objects.filter(model=model).exclude(pk=book.pk).update(is_active=False)
        Rule.objects.bulk_create(
            [
                Rule(rulebook=book, criterion=crit[code], params=params, weight=w, explanation=why)
                for code, (params, w, why) in rules.items()
            ]
        )


class Migration(migrations.Migration):
    dependencies = [("risk", "0003_risk_rules_judgement_route_stale_evidence")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
