from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beacon.risk.models import Rulebook, Term
from beacon.risk.services import active_rulebook, evaluate


class Command(BaseCommand):
    help = (
        "The termly pass for a term (e.g. autumn-2025): evaluate the data-driven risk criteria for every "
        "school (or one LA), score the schools with the saved early-warning model and refresh the "
        "proposals the register reads (decision 0027)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--term", required=True, help="e.g. autumn-2025")
        parser.add_argument("--model", default="camden", choices=["camden", "cambridgeshire"])
        parser.add_argument("--rulebook-version", type=int, help="default: the active rulebook")
        parser.add_argument("--la", type=int, help="only schools of this LA code")
        parser.add_argument(
            "--scores-from",
            type=Path,
            help="early-warning model artefact to score with (default: the one train_risk_model saves, "
            "if it exists)",
        )
        parser.add_argument(
            "--no-scores", action="store_true", help="do not refresh the early-warning scores"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        term = Term.parse(opts["term"])
        book = (
            Rulebook.objects.get(model=opts["model"], version=opts["rulebook_version"])
            if opts["rulebook_version"]
            else active_rulebook(opts["model"])
        )
        if book.is_active and book.model == "camden":
            self._term_pass(term, book, opts)
            return
        # Another model's rulebook (or an inactive version): its results only; no proposals follow them.
        from beacon.schools.models import School

        ids = (
            list(School.objects.filter(la_code=opts["la"]).values_list("id", flat=True))
            if opts["la"]
            else None
        )
        s = evaluate(term, book, ids)
        self.stdout.write(f"{term} with {book}: {s.schools} schools, {s.results} results in {s.seconds:.2f}s")
        self.stdout.write("  " + ", ".join(f"{k}: {v}" for k, v in sorted(s.counts.items())))
        for code, counts in s.by_criterion.items():
            self.stdout.write(f"  {code:<10} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))

    def _term_pass(self, term: Term, book: Rulebook, opts: dict[str, Any]) -> None:
        from beacon.assessments.services import run_term_pass
        from beacon.earlywarning.artefact import DEFAULT_ARTEFACT

        model = None
        path = opts["scores_from"] or DEFAULT_ARTEFACT
        if opts["no_scores"]:
            note = "early-warning scores not refreshed (--no-scores)"
        elif path.exists():
            model = path  # read where the scores are computed (decision 0033)
            note = f"early-warning scores from {path}"
        elif opts["scores_from"]:
            raise FileNotFoundError(f"No early-warning model at {path}")
        else:
            note = f"early-warning scores not refreshed (no model at {path}: run train_risk_model)"
        t = run_term_pass(term, model, la_code=opts["la"])
        if t.model_version:
            note += f" (model {t.model_version})"
        worker = f" + worker {t.score_worker_s:.2f}s beside the rules" if t.score_worker_s else ""
        self.stdout.write(
            f"{term} with {book}: {t.schools} schools, {t.results} results in {t.total_s:.2f}s "
            f"(evaluate {t.evaluate_s:.2f}s: load {t.load_s:.2f}s, rules {t.rules_s:.2f}s, write "
            f"{t.write_s:.2f}s; score {t.score_s:.2f}s{worker}; proposals {t.refresh_s:.2f}s)"
        )
        self.stdout.write(
            f"  results: {t.results_inserted} inserted, {t.results_replaced} replaced, "
            f"{t.results_unchanged} unchanged; {t.scores} scores; proposals: {t.proposals_created} created, "
            f"{t.proposals_changed} changed, {t.figures_changed} with new figures"
        )
        self.stdout.write(f"  {note}")
