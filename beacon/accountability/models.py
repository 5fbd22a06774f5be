"""Accountability to the commissioner and the Education Strategy Board (issue 5, items 3 to 5).

* `ConcernAcknowledgement`: the commissioner's acknowledgement of one significant concern on the
  immediate-notification list (the concerns themselves are derived from inspections, the register history
  and intelligence, see `selectors.significant_concerns`; only the acknowledgement is stored).
* Building Back Stronger tracker: `Ambition` -> `Goal` -> `Pledge` (seeded from the Year 1 report) ->
  `Action` (owner, milestone, RAG, optimistic lock) -> `ActionUpdate` (termly progress, never deleted).
* Camden Learning Commission Table 1: `CommissionArea` -> `CommissionOutput` -> `DeliveryEvidence`.
Every model keeps its history (django-simple-history); edits bump `version` where two people may edit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from beacon.core.versioning import Versioned


class ConcernKind(models.TextChoices):
    SAFEGUARDING = "safeguarding", "Safeguarding not met"
    OFSTED_CATEGORY = "ofsted_category", "Ofsted: inadequate, special measures or serious weaknesses"
    URGENT_IMPROVEMENT = "urgent_improvement", "Ofsted: urgent improvement"
    HEAD_CHANGE = "head_change", "Headteacher change"
    INTELLIGENCE = "intelligence", "Restricted intelligence"


class ConcernAcknowledgement(models.Model):
    """Who acknowledged a significant concern, and when. `key` identifies the concern (e.g.
    'inspection:123', 'head:456:789', 'intelligence:12')."""

    key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=24, choices=ConcernKind.choices)
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-acknowledged_at"]

    def __str__(self) -> str:
        return f"{self.key} acknowledged"


class Rag(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"
    COMPLETE = "complete", "Complete"


class Ambition(models.Model):
    number = models.PositiveSmallIntegerField(unique=True)
    title = models.CharField(max_length=200)
    aim = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"Ambition {self.number}: {self.title}"


class Goal(models.Model):
    ambition = models.ForeignKey(Ambition, on_delete=models.PROTECT, related_name="goals")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=255)
    history = HistoricalRecords()

    class Meta:
        ordering = ["ambition__number", "number"]
        constraints = [models.UniqueConstraint(fields=["ambition", "number"], name="unique_goal_number")]

    def __str__(self) -> str:
        return f"Goal {self.number}: {self.title}"


class Pledge(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="pledges")
    number = models.PositiveSmallIntegerField()
    text = models.TextField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["goal__ambition__number", "goal__number", "number"]
        constraints = [models.UniqueConstraint(fields=["goal", "number"], name="unique_pledge_number")]

    def __str__(self) -> str:
        return self.text[:80]


class Action(Versioned):
    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="actions")
    title = models.CharField(max_length=255)
    owner = models.CharField(max_length=200, help_text="Person or team responsible")
    milestone_on = models.DateField(verbose_name="Milestone date")
    rag = models.CharField(max_length=12, choices=Rag.choices, default=Rag.NOT_STARTED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["milestone_on", "pk"]

    def __str__(self) -> str:
        return self.title


class ActionUpdate(models.Model):
    """A termly progress update on an action: the RAG at that point and what happened. Never deleted."""

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="updates")
    term = models.ForeignKey("risk.Term", on_delete=models.PROTECT, related_name="+")
    rag = models.CharField(max_length=12, choices=Rag.choices)
    progress = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-term__sort_key", "-recorded_at"]

    def __str__(self) -> str:
        return f"{self.action_id} {self.term_id}: {self.rag}"


class DeliveryStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    DELIVERED = "delivered", "Delivered"
    AT_RISK = "at_risk", "At risk"


class CommissionArea(models.Model):
    """An area of Table 1 (the table numbers two areas '1' and two '2': `sort_order` keeps them apart)."""

    sort_order = models.PositiveSmallIntegerField(unique=True)
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["sort_order"]

    def __str__(self) -> str:
        return f"Area {self.number} {self.title}"


class CommissionOutput(Versioned):
    area = models.ForeignKey(CommissionArea, on_delete=models.PROTECT, related_name="outputs")
    number = models.PositiveSmallIntegerField()
    output = models.TextField()
    delivery = models.TextField(blank=True, help_text="Expected delivery, one item a line")
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.NOT_STARTED
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["area__sort_order", "number"]
        constraints = [models.UniqueConstraint(fields=["area", "number"], name="unique_output_number")]

    def __str__(self) -> str:
        return self.output[:80]

    @property
    def delivery_items(self) -> list[str]:
        return [d for d in self.delivery.splitlines() if d.strip()]


class DeliveryEvidence(models.Model):
    output = models.ForeignKey(CommissionOutput, on_delete=models.PROTECT, related_name="evidence")
    text = models.TextField()
    link = models.URLField(blank=True, max_length=500)
    evidenced_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-evidenced_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.output_id} {self.evidenced_on}"
