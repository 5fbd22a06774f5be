"""Stored risk scores: the model's probability for each school at one date, with plain-words reasons."""

from __future__ import annotations

from django.db import models


class RiskScore(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="risk_scores")
    as_of = models.DateField(db_index=True, help_text="Only data and inspections published before this date")
    probability = models.FloatField(help_text="Calibrated P(next graded inspection below good)")
    rank = models.PositiveIntegerField(help_text="1 = riskiest among the schools scored on this date")
    reasons = models.JSONField(default=list, help_text="Main contributing factors, in plain words")
    model_version = models.CharField(max_length=64)
    inputs = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text="Fingerprint of the model and the school's features this score was computed from: the next "
        "pass scores the school again only if it changed (blank: unknown)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["as_of", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "as_of", "model_version"], name="unique_risk_score_per_school_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.as_of}: {self.probability:.2f}"


class WatchThreshold(models.Model):
    """The probability from which a school proposed green / universal is flagged "watch" (data, not code:
    the newest row applies; 0.5 when there is none)."""

    probability = models.FloatField(default=0.5)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"watch from {self.probability:.0%}"
