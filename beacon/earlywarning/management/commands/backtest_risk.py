from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.earlywarning.features import load_sources
from beacon.earlywarning.services import backtest


class Command(BaseCommand):
    help = (
        "Time-honest backtest of the early-warning model: for each --as-of date, train on what was published "
        "before it, rank every open school, and measure against the first graded inspection from that date "
        "to --until (recall/precision in the riskiest 10%/20%, ROC AUC, calibration, by phase, against the "
        "prior Ofsted grade and the Appendix A count as of the date). --year Y runs the Appendix A rules backtest (beacon.risk.backtest) instead, or as well "
        "when --as-of is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of", nargs="+", type=dt.date.fromisoformat, help="default: 2019-09-01 2023-09-01"
        )
        parser.add_argument("--until", type=dt.date.fromisoformat, default=dt.date(2025, 8, 31))
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--history-complete-until",
            type=dt.date.fromisoformat,
            help="end training label windows at this date (the database holds every graded inspection to it)",
        )
        parser.add_argument("--json", type=Path, help="also write the figures as JSON")
        parser.add_argument(
            "--no-appendix-a",
            action="store_true",
            help="skip the Appendix A count baseline (the rules run in memory as of each date)",
        )
        parser.add_argument(
            "--year", type=int, help="Appendix A rules backtest: academic start year, e.g. 2017"
        )
        parser.add_argument(
            "--horizon", type=int, default=3, help="rules backtest: years of later inspections"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        dates = opts["as_of"] or (
            [] if opts["year"] is not None else [dt.date(2019, 9, 1), dt.date(2023, 9, 1)]
        )
        src = load_sources() if dates else None
        figures = {}
        for as_of in dates:
            try:
                res = backtest(
                    as_of,
                    opts["until"],
                    seed=opts["seed"],
                    src=src,
                    history_until=opts["history_complete_until"],
                    appendix_a=not opts["no_appendix_a"],
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(res.text + "\n")
            figures[str(as_of)] = res.figures
        if opts["json"]:
            opts["json"].write_text(json.dumps(figures, indent=1, default=str))
        if opts["year"] is not None:
            from beacon.risk.backtest import run_backtest

            self.stdout.write(run_backtest(opts["year"], horizon_years=opts["horizon"]).table())
