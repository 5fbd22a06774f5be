from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beacon.imports.framework import load_all_sources, run_import
from beacon.imports.models import RunStatus


class Command(BaseCommand):
    help = "Import one data file. Exit code 1 if it is rejected or fails (nothing is written then)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", nargs="?", help="Source key (see --list)")
        parser.add_argument("path", nargs="?", help="File to import")
        parser.add_argument("--year", type=int, help="Academic year by its starting year (2018 = 2018/19)")
        parser.add_argument("--la", type=int, dest="la_code", help="Only rows for this LA code (e.g. 202)")
        parser.add_argument("--force", action="store_true", help="Re-import even if this file was imported")
        parser.add_argument("--list", action="store_true", help="List the known sources")

    def handle(self, *args: Any, **opts: Any) -> None:
        sources = load_all_sources()
        if opts["list"] or not opts["source"]:
            for key, src in sorted(sources.items()):
                self.stdout.write(f"{key:28} {src.label}")
            return
        if not opts["path"]:
            raise CommandError("Give the file to import")
        run = run_import(
            opts["source"],
            Path(opts["path"]),
            year=opts["year"],
            la_code=opts["la_code"],
            force=opts["force"],
        )
        self.stdout.write(f"[{run.source}] {run.file_name}: {run.get_status_display()} - {run.message}")
        for note in run.notes:
            self.stdout.write(f"  note: {note}")
        for err in run.errors[:20]:
            self.stdout.write(
                f"  row {err['row']}, column {err['column']!r}: {err['reason']} ({err['value']!r})"
            )
        if run.error_count > 20:
            self.stdout.write(f"  ... and {run.error_count - 20} more")
        if run.status in {RunStatus.REJECTED, RunStatus.FAILED}:
            raise CommandError(run.message)
