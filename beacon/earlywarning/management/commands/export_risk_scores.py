from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.earlywarning.services import export_scores


class Command(BaseCommand):
    help = (
        "Train the early-warning model on the data and inspections published before --as-of, score every "
        "state-funded school open on that date and write CSV: urn, probability, rank, top_reasons."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--output", required=True, type=Path)
        parser.add_argument("--la", type=int, help="score only this LA's schools (training stays national)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--history-complete-until",
            type=dt.date.fromisoformat,
            help="end training label windows at this date (the database holds every graded inspection to it)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            n = export_scores(
                opts["as_of"],
                opts["output"],
                la_code=opts["la"],
                seed=opts["seed"],
                history_until=opts["history_complete_until"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{n} schools scored as of {opts['as_of']} -> {opts['output']}")
