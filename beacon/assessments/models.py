"""The people half of the termly risk process (issue 3).

* `JudgementRecord`: an adviser's professional judgement on one Appendix A judgement criterion.
* `Intelligence`: soft intelligence about a school, with a sensitivity level. Never deleted: withdrawn
  with a reason. Who may read which sensitivity is decided in `beacon.permissions`.
* `SRASMeeting`: the termly School Risk Assessment and Support meeting.
* `TermlyAssessment`: the system's proposal (RAG, support level, reasons) and the human decision with its
  rationale. Every decision is kept (django-simple-history); `version` guards against lost updates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from beacon.core.versioning import Versioned

if TYPE_CHECKING:
    from beacon.risk.models import Term


class Rag(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"


# Higher is more concern.
RAG_SEVERITY = {Rag.GREEN.value: 0, Rag.AMBER.value: 1, Rag.RED.value: 2}

# The register's ranking key (TermlyAssessment.rank_*): the value of a figure or RAG a school does not have,
# as the register has always sorted them (a school without an assessment ranks as if it had none of them).
RANK_NONE = -1.0
RANKING_FIELDS = ("rank_probability", "rank_score", "rank_severity")


class SupportLevel(models.TextChoices):
    UNIVERSAL = "universal", "Universal"
    FOCUSED = "focused", "Focused"
    TARGETED = "targeted", "Targeted"


LEVEL_SEVERITY = {
    SupportLevel.UNIVERSAL.value: 0,
    SupportLevel.FOCUSED.value: 1,
    SupportLevel.TARGETED.value: 2,
}


class Source(models.TextChoices):
    CPP_VISIT = "cpp_visit", "CPP visit"
    HEADTEACHER = "headteacher", "Headteacher"
    PARENT_COMPLAINT = "parent_complaint", "Parent complaint"
    LA_OFFICER = "la_officer", "Local authority officer"
    OFSTED = "ofsted", "Ofsted"
    OTHER = "other", "Other"


class Sensitivity(models.TextChoices):
    GENERAL = "general", "General"
    SAFEGUARDING = "safeguarding", "Safeguarding (restricted)"
    PERSONNEL = "personnel", "Personnel (restricted)"
    FINANCE = "finance", "Finance (restricted)"


class JudgementRecord(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="judgement_records")
    term = models.ForeignKey("risk.Term", on_delete=models.PROTECT, related_name="judgement_records")
    criterion = models.ForeignKey(
        "risk.Criterion",
        on_delete=models.PROTECT,
        related_name="judgement_records",
        limit_choices_to=models.Q(kind="judgement") | models.Q(judgement_route=True),
    )
    applies = models.BooleanField(help_text="Does the criterion apply to the school this term?")
    reason = models.TextField()
    source = models.CharField(max_length=20, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["criterion__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["school", "term", "criterion"], name="unique_judgement_per_term")
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.term_id} {self.criterion_id}: {'applies' if self.applies else 'no'}"


class Intelligence(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="intelligence")
    date = models.DateField(help_text="When the information was received")
    source = models.CharField(max_length=20, choices=Source.choices)
    summary = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    sensitivity = models.CharField(max_length=16, choices=Sensitivity.choices, default=Sensitivity.GENERAL)
    shared_with_school = models.BooleanField(
        default=False, help_text="General notes only: the school's headteacher and chair may read it"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-created_at"]
        verbose_name_plural = "intelligence"

    def __str__(self) -> str:
        return f"{self.school_id} {self.date} {self.sensitivity}: {self.summary}"

    @property
    def is_restricted(self) -> bool:
        return self.sensitivity != Sensitivity.GENERAL

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Intelligence is never deleted: withdraw it with a reason instead.")


class SRASMeeting(models.Model):
    term = models.ForeignKey("risk.Term", on_delete=models.PROTECT, related_name="sras_meetings")
    date = models.DateField()
    attendees = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date"]
        verbose_name = "SRAS meeting"

    def __str__(self) -> str:
        return f"SRAS meeting {self.date:%d %B %Y}"


class TermlyAssessmentQuerySet(models.QuerySet["TermlyAssessment"]):
    def decided(self) -> TermlyAssessmentQuerySet:
        """Assessments a person has decided (`is_decided`)."""
        return self.filter(decided_at__isnull=False)

    def rated(self) -> TermlyAssessmentQuerySet:
        """Assessments with a decided RAG rating."""
        return self.exclude(decided_rag="")

    def before(self, term: Term) -> TermlyAssessmentQuerySet:
        """Assessments of terms earlier than `term`."""
        return self.filter(term__sort_key__lt=term.sort_key)


class TermlyAssessment(Versioned):
    # No index of their own: the unique key (school, term) serves a school's assessments and the register's
    # ranking index (term first) a term's; two fewer indexes to keep as a national pass writes 23,000
    # proposals (decision 0034).
    school = models.ForeignKey(
        "schools.School", on_delete=models.CASCADE, related_name="termly_assessments", db_index=False
    )
    term = models.ForeignKey(
        "risk.Term", on_delete=models.PROTECT, related_name="assessments", db_index=False
    )
    proposed_rag = models.CharField(max_length=5, choices=Rag.choices, blank=True)
    proposed_level = models.CharField(max_length=10, choices=SupportLevel.choices, blank=True)
    proposal_reasons = models.JSONField(default=list)
    proposal_rulebook = models.ForeignKey(
        "risk.Rulebook", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    decided_rag = models.CharField(max_length=5, choices=Rag.choices, blank=True)
    decided_level = models.CharField(max_length=10, choices=SupportLevel.choices, blank=True)
    school_requested_focused = models.BooleanField(default=False)
    rationale = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    meeting = models.ForeignKey(
        SRASMeeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="assessments"
    )
    # What the register sorts by, stored with the proposal (decision 0027): the Appendix A score (data results
    # and judgements), the model's probability as of the term's start, and whether people recorded a
    # criterion as applying this term. Figures, not decisions: kept out of the history.
    risk_score = models.FloatField(null=True, blank=True)
    probability = models.FloatField(null=True, blank=True)
    judged = models.BooleanField(default=False)
    # The register's ranking key, derived from the figures above and the RAG (decided, else proposed) and
    # stored so the register reads its pages from the index below instead of sorting every school in England
    # (decision 0027, addendum): the probability the register ranks by (lifted to the watch threshold where
    # `judged`), the score, the RAG's severity; RANK_NONE (-1) where there is none. Set by `save()` and by the
    # bulk writers (`set_ranking`); the judged rows are re-ranked when the watch threshold changes.
    rank_probability = models.FloatField(default=RANK_NONE, editable=False)
    rank_score = models.FloatField(default=RANK_NONE, editable=False)
    rank_severity = models.SmallIntegerField(default=int(RANK_NONE), editable=False)
    history = HistoricalRecords(excluded_fields=["risk_score", "probability", "judged", *RANKING_FIELDS])

    objects = TermlyAssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["term__sort_key", "school__name"]
        constraints = [models.UniqueConstraint(fields=["school", "term"], name="unique_assessment_per_term")]
        indexes = [
            models.Index(
                fields=["term", "-rank_probability", "-rank_score", "-rank_severity"],
                name="assessment_register_rank",
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.term_id}: {self.decided_rag or 'undecided'}"

    def ranking(self, threshold: float | None = None) -> tuple[float, float, int]:
        """(rank_probability, rank_score, rank_severity) from the stored figures and RAG: what the register
        sorts by, descending. `threshold`: the watch threshold (read when needed if not given)."""
        from beacon.earlywarning.selectors import ranking_probability, watch_probability

        if self.judged and threshold is None:
            threshold = watch_probability()
        p = ranking_probability(self.probability, self.judged, threshold if threshold is not None else 0.0)
        return (
            RANK_NONE if p is None else p,
            RANK_NONE if self.risk_score is None else self.risk_score,
            RAG_SEVERITY.get(self.rag, int(RANK_NONE)),
        )

    def set_ranking(self, threshold: float | None = None) -> bool:
        """Set the ranking key from the figures and RAG; True if it changed."""
        key = self.ranking(threshold)
        if key == (self.rank_probability, self.rank_score, self.rank_severity):
            return False
        self.rank_probability, self.rank_score, self.rank_severity = key
        return True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.set_ranking()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *RANKING_FIELDS}
        super().save(*args, **kwargs)

    @property
    def is_decided(self) -> bool:
        return self.decided_at is not None

    @property
    def rag(self) -> str:
        """The decided RAG, or the proposal while no decision has been made."""
        return self.decided_rag or self.proposed_rag

    @property
    def level(self) -> str:
        return self.decided_level or self.proposed_level
