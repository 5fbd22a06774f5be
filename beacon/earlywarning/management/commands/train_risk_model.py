from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.earlywarning.features import load_sources
from beacon.earlywarning.models import RiskScore
from beacon.earlywarning.services import DEFAULT_ARTEFACT, artefact_card, save, store_scores, train
from beacon.earlywarning.signals import scores_stored


class Command(BaseCommand):
    help = (
        "Train the early-warning model on everything published before --as-of (default today), save it "
        "(joblib, with its data cut-off, features, library version and metrics) and store RiskScore rows "
        "for the schools open on that date."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: today)")
        parser.add_argument("--term", help="e.g. autumn-2026: as of the first day of that term")
        parser.add_argument("--output", type=Path, default=DEFAULT_ARTEFACT)
        parser.add_argument("--la", type=int, help="store scores for this LA only (training stays national)")
        parser.add_argument("--no-store", action="store_true", help="save the model, store no scores")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--history-complete-until",
            type=dt.date.fromisoformat,
            help="end training label windows at this date (the database holds every graded inspection to it)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["term"]:
            from beacon.risk.models import Term

            as_of = Term.parse(opts["term"]).start_date
        else:
            as_of = opts["as_of"] or dt.date.today()
        src = load_sources()
        try:
            model = train(as_of, seed=opts["seed"], src=src, history_until=opts["history_complete_until"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        path = save(model, opts["output"])
        self.stdout.write(
            json.dumps(artefact_card(model) | {"features": len(model.names)}, indent=1, default=str)
        )
        self.stdout.write(f"Model saved to {path}")
        if not opts["no_store"]:
            n = store_scores(model, as_of, src=src, la_code=opts["la"])
            self.stdout.write(f"{n} risk scores stored as of {as_of}")
            # The register's stored probabilities follow the new scores (decision 0027).
            scores_stored.send(sender=RiskScore, as_of=as_of, count=n)
