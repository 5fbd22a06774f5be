from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.imports.demo import DEMO_ORDER, load_demo
from beacon.imports.models import RunStatus

# Without one of these the demo has no schools at all: refuse rather than serve an empty service.
REGISTER_SOURCES: tuple[str, ...] = ("school_census", "gias_establishments")


class Command(BaseCommand):
    help = "Import the real data files for one local authority (default: Camden, 202) in dependency order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--la", type=int, dest="la_code", default=settings.BEACON_LA_CODE)
        parser.add_argument("--data-dir", default=str(settings.DATA_DIR))
        parser.add_argument("--national", action="store_true", help="Import every LA (no LA filter)")

    def handle(self, *args: Any, **opts: Any) -> None:
        la_code = None if opts["national"] else opts["la_code"]
        if not Path(opts["data_dir"]).is_dir():
            raise CommandError(
                f"The data directory {opts['data_dir']} does not exist: set BEACON_DATA_DIR (or --data-dir) to the "
                "shared data's raw/ folder (see ../shared/data/README.md)."
            )
        self.stdout.write(f"Loading {', '.join(DEMO_ORDER)} from {opts['data_dir']} (LA {la_code or 'all'})")
        runs = load_demo(opts["data_dir"], la_code=la_code, log=self.stdout.write)
        bad = [r for r in runs if r.status in {RunStatus.REJECTED, RunStatus.FAILED}]
        if bad:
            raise CommandError(f"{len(bad)} import(s) did not succeed: " + "; ".join(r.message for r in bad))
        if not any(r.source in REGISTER_SOURCES for r in runs):
            raise CommandError(
                f"No school register file was found under {opts['data_dir']} (sources: {', '.join(REGISTER_SOURCES)}): "
                "without it there are no schools to show. Check BEACON_DATA_DIR."
            )
