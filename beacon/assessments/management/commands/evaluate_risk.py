from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beacon.risk.models import Rulebook, Term
from beacon.risk.services import active_rulebook, evaluate


class Command(BaseCommand):
    help = "Evaluate the data-driven risk criteria for every school for a term (e.g. autumn-2025)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--term", required=True, help="e.g. autumn-2025")
        parser.add_argument("--model", default="camden", choices=["camden", "cambridgeshire"])
        parser.add_argument("--rulebook-version", type=int, help="default: the active rulebook")
        parser.add_argument("--la", type=int, help="only schools of this LA code")

    def handle(self, *args: Any, **opts: Any) -> None:
        from beacon.schools.models import School

        term = Term.parse(opts["term"])
        book = (
            Rulebook.objects.get(model=opts["model"], version=opts["rulebook_version"])
            if opts["rulebook_version"]
            else active_rulebook(opts["model"])
        )
        ids = (
            list(School.objects.filter(la_code=opts["la"]).values_list("id", flat=True))
            if opts["la"]
            else None
        )
        s = evaluate(term, book, ids)
        if book.is_active and book.model == "camden":
            from beacon.assessments.services import refresh_proposals

            refresh_proposals(term)  # the register reads stored proposals (decision 0018)
        self.stdout.write(f"{term} with {book}: {s.schools} schools, {s.results} results in {s.seconds:.2f}s")
        self.stdout.write("  " + ", ".join(f"{k}: {v}" for k, v in sorted(s.counts.items())))
        for code, counts in s.by_criterion.items():
            self.stdout.write(f"  {code:<10} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
