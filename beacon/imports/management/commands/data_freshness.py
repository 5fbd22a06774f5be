"""`manage.py data_freshness --la 202 [--json] [--on 2026-11-30]`: how current each import source's data is."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from beacon.core.formatting import govuk_date
from beacon.imports.freshness import freshness_by_kind, freshness_json, source_freshness


class Command(BaseCommand):
    help = (
        "Per import source: the latest academic year held (by its start year, 2024 = 2024/25) or the "
        "as-at date of a snapshot, with the file, rows and when it was imported. Reads only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--la", type=int, dest="la_code", help="LA code (default BEACON_LA_CODE); 0 = all of England"
        )
        parser.add_argument("--json", action="store_true", help="Print JSON (stable keys) instead of text")
        parser.add_argument("--on", dest="on", help="Judge age against this date (YYYY-MM-DD; default today)")

    def handle(self, *args: Any, **opts: Any) -> None:
        la_code = opts["la_code"] if opts["la_code"] is not None else settings.BEACON_LA_CODE
        la = la_code or None
        try:
            on = dt.date.fromisoformat(opts["on"]) if opts["on"] else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--on must be a date as YYYY-MM-DD, not {opts['on']!r}") from exc
        if opts["json"]:
            self.stdout.write(json.dumps(freshness_json(la, today=on), indent=2, ensure_ascii=False))
            return
        self.stdout.write(
            f"Data held for LA {la if la is not None else 'all of England'}, on {govuk_date(on)}:"
        )
        sources = source_freshness(la, today=on)
        kinds = []
        for kind, held in freshness_by_kind(sources).items():
            if held.get("as_at"):
                kinds.append(f"{kind} as at {govuk_date(dt.date.fromisoformat(held['as_at']))}")
            elif held.get("latest_year_label"):
                kinds.append(f"{kind} {held['latest_year_label']}")
        self.stdout.write("Latest held: " + ("; ".join(kinds) or "nothing imported"))
        for s in sources:
            if not s.imported:
                self.stdout.write(f"- {s.label} [{s.source}]: not imported")
                continue
            line = f"- {s.label} [{s.source}]: {s.period_text}"
            if s.stale:
                line += " (old)"
            line += f"; {s.file}, {s.rows:,} rows, imported {govuk_date(s.imported_at)}"
            self.stdout.write(line)
            if s.lacks:
                self.stdout.write(f"    lacks: {s.lacks}")
