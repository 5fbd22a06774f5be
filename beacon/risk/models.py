"""Termly risk assessment engine (issue 3): criteria, versioned rulebooks and per-school results.

* `Criterion`: one item of the Camden strategy's Appendix A (or a Cambridgeshire Appendix 4 RAG
  descriptor), verbatim, marked data-driven or judgement, with the phases it applies to.
* `Rulebook` / `Rule`: thresholds as data. A rulebook in use is never edited in place; a new
  version is a copy (`beacon.risk.services.new_rulebook_version`).
* `CriterionResult`: the outcome of one data-driven criterion for one school in one term under one
  rulebook, with its evidence. 'met' means the risk criterion applies to the school.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from beacon.core.terms import academic_year_label, term_start
from beacon.inspections.models import EvaluationArea


class Season(models.TextChoices):
    AUTUMN = "autumn", "Autumn"
    SPRING = "spring", "Spring"
    SUMMER = "summer", "Summer"


SEASON_ORDER = {Season.AUTUMN: 0, Season.SPRING: 1, Season.SUMMER: 2}


class TermQuerySet(models.QuerySet["Term"]):
    def before(self, term: Term) -> TermQuerySet:
        """Terms earlier than `term`, newest first."""
        return self.filter(sort_key__lt=term.sort_key).order_by("-sort_key")

    def live(self) -> Term | None:
        """The term whose proposals follow the data: the latest with risk results, else with assessments."""
        # EXISTS per term (a probe of an index), not a join over every result of every term.
        results = models.Exists(CriterionResult.objects.filter(term=models.OuterRef("pk")))
        assessments = models.Exists(
            self.model.objects.filter(pk=models.OuterRef("pk"), assessments__isnull=False)
        )
        return (
            self.filter(results).order_by("-sort_key").first()
            or self.filter(assessments).order_by("-sort_key").first()
        )


class Term(models.Model):
    """A school term; `academic_year` is the year the academic year starts (2025 = 2025/26)."""

    academic_year = models.PositiveSmallIntegerField()
    term = models.CharField(max_length=8, choices=Season.choices)
    sort_key = models.PositiveIntegerField(editable=False, db_index=True)

    objects = TermQuerySet.as_manager()

    class Meta:
        ordering = ["sort_key"]
        constraints = [models.UniqueConstraint(fields=["academic_year", "term"], name="unique_term")]

    def __str__(self) -> str:
        return f"{self.get_term_display()} {academic_year_label(self.academic_year)}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.sort_key = self.academic_year * 10 + SEASON_ORDER[Season(self.term)]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def slug(self) -> str:
        return f"{self.term}-{self.academic_year}"

    @property
    def start_date(self) -> dt.date:
        """First day of the term (used as the cut-off for inspections and head changes)."""
        return term_start(self.term, self.academic_year)

    @property
    def data_year(self) -> int:
        """Latest academic year whose results can be used: the one before this term's year."""
        return self.academic_year - 1

    @staticmethod
    def key_of(text: str) -> tuple[str, int]:
        """'autumn-2025', 'Autumn 2025' or 'autumn-2025/26' -> ("autumn", 2025); ValueError otherwise."""
        m = re.fullmatch(
            r"\s*(autumn|spring|summer)[\s\-_]+(\d{4})(/\d{2})?\s*", text.lower(), flags=re.ASCII
        )
        if m is None:
            raise ValueError(f"Not a term: {text!r} (expected e.g. 'autumn-2025')")
        return m.group(1), int(m.group(2))

    @classmethod
    def find(cls, text: str) -> Term | None:
        """The existing term `text` names, or None (never creates one: reading never writes)."""
        try:
            season, year = cls.key_of(text)
        except ValueError:
            return None
        return cls.objects.filter(academic_year=year, term=season).first()

    @classmethod
    def parse(cls, text: str) -> Term:
        """'autumn-2025', 'Autumn 2025' or 'autumn-2025/26' -> the (created if need be) Term. Only for
        commands and staff actions that create terms (POST); pages look terms up with `find`."""
        season, year = cls.key_of(text)
        term, _ = cls.objects.get_or_create(academic_year=year, term=season)
        return term

    def previous(self) -> Term | None:
        return Term.objects.before(self).first()


class CriterionKind(models.TextChoices):
    DATA = "data", "Data-driven"
    JUDGEMENT = "judgement", "Professional judgement"


class RiskModel(models.TextChoices):
    CAMDEN = "camden", "Camden School Support and Development Strategy (2025), Appendix A"
    CAMBRIDGESHIRE = "cambridgeshire", "Cambridgeshire School Improvement Strategy 2014-16, Appendix 4"


class Criterion(models.Model):
    code = models.CharField(max_length=32, unique=True, help_text="e.g. 'A-vii' or 'A-x-e'")
    ref = models.CharField(max_length=32, help_text="As in the strategy, e.g. 'x (e)'")
    group = models.CharField(max_length=120, help_text="Heading the item sits under")
    text = models.TextField(help_text="Verbatim from the strategy")
    notes = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=CriterionKind.choices)
    phases = models.JSONField(
        default=list, help_text="Phases it applies to: primary, secondary, special, nursery or all"
    )
    evaluation_area = models.CharField(
        max_length=48, choices=EvaluationArea.choices, blank=True, help_text="Ofsted evaluation area"
    )
    model = models.CharField(max_length=16, choices=RiskModel.choices, default=RiskModel.CAMDEN)
    rag = models.CharField(
        max_length=5, blank=True, help_text="Cambridgeshire: the RAG category the descriptor belongs to"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    judgement_route = models.BooleanField(
        default=False,
        help_text="A data-driven criterion that a person may also record as met / not met, with a reason "
        "(the strategy's judgement route): the recorded judgement is used in place of the data result.",
    )
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["model", "sort_order"]
        verbose_name_plural = "criteria"

    def __str__(self) -> str:
        return f"{self.ref}: {self.text[:80]}"

    @property
    def can_be_judged(self) -> bool:
        """People may record this criterion: a judgement criterion, or a data one with a judgement route."""
        return self.kind == CriterionKind.JUDGEMENT or self.judgement_route

    def applies_to(self, phases: set[str]) -> bool:
        return "all" in self.phases or bool(phases & set(self.phases))


class RulebookQuerySet(models.QuerySet["Rulebook"]):
    def active(self, model: str) -> Rulebook | None:
        """The risk model's active rulebook (the newest version, should two be marked active)."""
        return self.filter(model=model, is_active=True).order_by("-version").first()


class Rulebook(models.Model):
    model = models.CharField(max_length=16, choices=RiskModel.choices, default=RiskModel.CAMDEN)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    stale_after_years = models.PositiveSmallIntegerField(
        default=2,
        help_text="A data-driven criterion whose newest evidence is more than this many academic years "
        "before the term's is 'stale evidence': shown with its year, never as current, never met. "
        "A rule may override it with params['stale_after_years'].",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = RulebookQuerySet.as_manager()

    class Meta:
        ordering = ["model", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="unique_rulebook_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Rule(models.Model):
    """How one data-driven criterion is evaluated: `params['check']` names the check in
    `beacon.risk.checks.CHECKS`; the rest are its thresholds."""

    rulebook = models.ForeignKey(Rulebook, on_delete=models.CASCADE, related_name="rules")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="rules")
    enabled = models.BooleanField(default=True)
    weight = models.FloatField(default=1.0, help_text="Weight in the risk score used to rank schools")
    params = models.JSONField(default=dict)
    explanation = models.TextField(blank=True, help_text="Why these thresholds")
    history = HistoricalRecords()

    class Meta:
        ordering = ["criterion__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["rulebook", "criterion"], name="unique_rule_per_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.rulebook} {self.criterion.code}"


class Outcome(models.TextChoices):
    MET = "met", "Criterion applies"
    NOT_MET = "not_met", "Does not apply"
    NO_EVIDENCE = "no_evidence", "No evidence (data missing or suppressed)"
    LOW_CONFIDENCE = "low_confidence", "Low confidence (small cohort): not judged"
    STALE = "stale_evidence", "Stale evidence: no current data"
    COUNTED_UNDER = "counted_under", "Met by data already counted under another criterion"


class JSONTextField(models.JSONField):
    """A JSONField kept as plain JSON text on every database: `text`, not PostgreSQL's `jsonb`, and without
    the `JSON_VALID` check SQLite's JSONField adds. For documents written in bulk by code that produced them
    as JSON (orjson) and read back whole, never queried inside with SQL (no key lookups): the national termly
    pass writes 270,000 evidence documents (200 MB), and the database parsing each one (into `jsonb`, or to
    check it) cost about a second of the write on PostgreSQL and half a second on SQLite (decision 0027).
    Reads parse the text in Python, as Django's JSONField does on either database."""

    def db_type(self, connection: Any) -> str | None:
        return "text"

    def db_check(self, connection: Any) -> str | None:
        return None

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        if not prepared:
            value = self.get_prep_value(value)
        return json.dumps(value, cls=self.encoder)


class CriterionResult(models.Model):
    # No foreign key has an index of its own: the unique constraint (school first) and the (term, rulebook,
    # school, criterion...) index serve every query, which all name the term. A criterion's or rulebook's own
    # index would serve only the check before one is deleted (PROTECT), a rare step that may scan; four
    # fewer indexes to maintain as a national pass inserts 270,000 rows (decision 0027).
    # Nor a database constraint: PostgreSQL checks a foreign key by a trigger per row, four per result, which
    # was half of the pass's write. `risk.store.write_results`, which writes every result, checks each
    # reference once per write instead, and deletions go through Django (CASCADE and PROTECT are Django's
    # own). SQLite keeps the references its table was created with and checks them cheaply (decision 0027).
    school = models.ForeignKey(
        "schools.School",
        on_delete=models.CASCADE,
        related_name="risk_results",
        db_index=False,
        db_constraint=False,
    )
    term = models.ForeignKey(
        Term, on_delete=models.CASCADE, related_name="results", db_index=False, db_constraint=False
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, related_name="results", db_index=False, db_constraint=False
    )
    rulebook = models.ForeignKey(
        Rulebook, on_delete=models.PROTECT, related_name="results", db_index=False, db_constraint=False
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    evidence = JSONTextField(default=dict)
    fingerprint = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text="Digest of the outcome and evidence as evaluated: an unchanged result is not rewritten",
    )
    evaluated_at = models.DateTimeField()

    class Meta:
        ordering = ["criterion__sort_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "term", "criterion", "rulebook"], name="unique_criterion_result"
            )
        ]
        # (term, rulebook) serves the national pass's read-back; school next serves one school's page, which
        # SQLite would otherwise answer from (term, rulebook) alone, scanning every result of the term. The
        # criterion, outcome and fingerprint make it covering: the pass's read-back of fingerprints, the met
        # codes and the risk scores read the index, not the rows' 200 MB of evidence (SQLite; PostgreSQL
        # once the visibility map allows index-only scans).
        indexes = [
            models.Index(
                fields=["term", "rulebook", "school", "criterion", "outcome", "fingerprint"],
                name="risk_result_term_book_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.term} {self.criterion_id}: {self.outcome}"

    @property
    def explanation(self) -> str:
        return str(self.evidence.get("explanation", ""))
