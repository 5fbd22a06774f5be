from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from beacon.accountability.seed import load_seed


class Command(BaseCommand):
    help = "Load the Building Back Stronger ambitions/goals/pledges and the Commission's Table 1 outputs."

    def handle(self, *args: Any, **options: Any) -> None:
        c = load_seed()
        self.stdout.write(
            f"Building Back Stronger: {c.ambitions} ambitions, {c.goals} goals, {c.pledges} pledges; "
            f"Commission Table 1: {c.areas} areas, {c.outputs} outputs"
        )
