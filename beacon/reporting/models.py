"""System targets as data: what the LA has promised (Camden Learning Commission Appendix 1, Cambridgeshire
strategy 2014-16 and its Appendix 7), each tied to a measure, the comparators it must beat and its rule.

Targets are edited by the director / commissioner (optimistic locking on `version`, every change kept by
django-simple-history). Group-gap rules (which two measures make a gap, how many points of change count
as widening or narrowing) are targets of kind `gap` in the same table.
"""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from beacon.core.versioning import Versioned


class Framework(models.TextChoices):
    CAMDEN = "camden", "Camden Learning Commission (2023-2026)"
    CAMBRIDGESHIRE = "cambridgeshire", "Cambridgeshire school improvement strategy (2014-16)"


class TargetKind(models.TextChoices):
    BEAT_COMPARATORS = "beat", "Better than every comparator named"
    LONDON_TOP_QUARTILE = "top_quartile", "In the top quartile of London local authorities"
    THRESHOLD = "threshold", "At or better than a fixed threshold"
    GOOD_OR_BETTER = "good_or_better", "Share of schools good or better (from inspections) at a threshold"
    IMPROVING = "improving", "Improving year on year"
    GAP = "gap", "Gap between two groups: narrowing, and at most the comparator's gap"
    NOT_MEASURED = "not_measured", "Not measurable from the data held"


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class Comparator(models.TextChoices):
    LONDON = "london", "London"
    INNER_LONDON = "inner_london", "Inner London"
    ENGLAND = "england", "England"
    NEIGHBOURS = "neighbours", "Statistical neighbours (average)"


class SystemTarget(Versioned):
    framework = models.CharField(max_length=24, choices=Framework.choices)
    ref = models.CharField(max_length=16, unique=True, help_text="Short reference, e.g. CLC-04")
    area = models.CharField(max_length=80, help_text="Heading the target sits under in its strategy")
    title = models.CharField(max_length=200)
    source_text = models.TextField(help_text="The target as the strategy words it")
    kind = models.CharField(max_length=16, choices=TargetKind.choices)
    measure_code = models.CharField(
        max_length=64, blank=True, help_text="Beacon measure code (beacon/indicators/catalogue.py)"
    )
    other_measure_code = models.CharField(
        max_length=64,
        blank=True,
        help_text="For a gap: the comparison group's measure (the gap is other - group)",
    )
    comparators = models.JSONField(
        default=list,
        blank=True,
        help_text="Comparators the LA must beat: london, inner_london, england, neighbours",
    )
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.HIGHER)
    threshold = models.FloatField(null=True, blank=True, help_text="Threshold value (threshold kinds)")
    gap_change_points = models.FloatField(
        null=True,
        blank=True,
        help_text="Gaps: a change of more than this many points between the first and last year held "
        "flags the gap as widening or narrowing",
    )
    no_data_reason = models.CharField(max_length=255, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "sort_order", "ref"]

    def __str__(self) -> str:
        return f"{self.ref}: {self.title}"
