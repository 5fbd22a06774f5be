from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.risk.backtest import run_backtest
from beacon.risk.models import Rulebook
from beacon.risk.services import active_rulebook


class Command(BaseCommand):
    help = (
        "Run the risk rules on an earlier year's data only and report recall/precision against the "
        "inspections that followed. Use a scratch database, e.g. BEACON_SQLITE_PATH=/tmp/backtest.sqlite3 "
        "manage.py migrate && ... backtest_risk --year 2017 --load"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True, help="academic year by its start, e.g. 2017")
        parser.add_argument("--horizon", type=int, default=3, help="years of later inspections to count")
        parser.add_argument("--model", default="camden", choices=["camden", "cambridgeshire"])
        parser.add_argument("--rulebook-version", type=int)
        parser.add_argument(
            "--load",
            action="store_true",
            help="first import every national file on hand (all LAs) into this database",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["load"]:
            from beacon.imports.demo import load_demo

            data = Path(settings.DATA_DIR)
            if not data.exists():
                raise CommandError(f"{data} not found")
            self.stdout.write("Importing the national files (all LAs)...")
            load_demo(data, la_code=None, log=self.stdout.write)
        book = (
            Rulebook.objects.get(model=opts["model"], version=opts["rulebook_version"])
            if opts["rulebook_version"]
            else active_rulebook(opts["model"])
        )
        bt = run_backtest(opts["year"], rulebook=book, horizon_years=opts["horizon"])
        self.stdout.write(f"Rulebook: {book}")
        self.stdout.write(bt.table())
