"""Loads the Building Back Stronger ambitions, goals and pledges and the Commission's Table 1 outputs
from the small JSON files in `seed/` (derived by hand from ../shared/seeds). Idempotent: upserts by
number, never touches actions, updates, statuses or evidence that people have recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from beacon.accountability.models import Ambition, CommissionArea, CommissionOutput, Goal, Pledge

SEED_DIR = Path(__file__).resolve().parent / "seed"


@dataclass(frozen=True)
class SeedCounts:
    ambitions: int
    goals: int
    pledges: int
    areas: int
    outputs: int


def _read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SEED_DIR / name).read_text(encoding="utf-8"))
    return data


@transaction.atomic
def load_strategy() -> tuple[int, int, int]:
    data = _read("building_back_stronger.json")
    n_goals = n_pledges = 0
    for a in data["ambitions"]:
        ambition, _ = Ambition.objects.update_or_create(
            number=a["number"], defaults={"title": a["title"], "aim": a.get("aim", "")}
        )
        for g in a["goals"]:
            goal, _ = Goal.objects.update_or_create(
                ambition=ambition, number=g["number"], defaults={"title": g["title"]}
            )
            n_goals += 1
            for i, text in enumerate(g["pledges"], start=1):
                Pledge.objects.update_or_create(goal=goal, number=i, defaults={"text": text})
                n_pledges += 1
    return len(data["ambitions"]), n_goals, n_pledges


@transaction.atomic
def load_commission_outputs() -> tuple[int, int]:
    data = _read("commission_outputs.json")
    n_outputs = 0
    for order, a in enumerate(data["areas"], start=1):
        area, _ = CommissionArea.objects.update_or_create(
            sort_order=order, defaults={"number": a["number"], "title": a["title"]}
        )
        for i, o in enumerate(a["outputs"], start=1):
            CommissionOutput.objects.update_or_create(
                area=area, number=i, defaults={"output": o["output"], "delivery": "\n".join(o["delivery"])}
            )
            n_outputs += 1
    return len(data["areas"]), n_outputs


def load_seed() -> SeedCounts:
    ambitions, goals, pledges = load_strategy()
    areas, outputs = load_commission_outputs()
    return SeedCounts(ambitions, goals, pledges, areas, outputs)
