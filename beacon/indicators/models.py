"""Published measures: per school (KS2, KS4, census, absence...) and per area (LAIT: LA, region, England).

Values are stored long: one row per (subject, measure, year). A value the DfE withheld keeps its
status (suppressed, not applicable, ...) instead of becoming a silent null.
"""

from __future__ import annotations

from django.db import models

# Defined with the parser that assigns it (decision 0022: imports sits below indicators); re-exported here.
from beacon.imports.parsing import ValueStatus as ValueStatus


class Polarity(models.TextChoices):
    HIGH_GOOD = "high", "Higher is better"
    LOW_GOOD = "low", "Lower is better"
    NEUTRAL = "neutral", "Context (no polarity)"


class Measure(models.Model):
    """A measure's definition. Codes are Beacon's own (e.g. ks2_rwm_expected); sources map onto them."""

    code = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=255)
    topic = models.CharField(max_length=64, db_index=True)
    unit = models.CharField(max_length=16, blank=True, help_text="'%', 'score', 'count', 'days'")
    polarity = models.CharField(max_length=8, choices=Polarity.choices, default=Polarity.NEUTRAL)
    decimals = models.PositiveSmallIntegerField(default=1)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["topic", "code"]

    def __str__(self) -> str:
        return self.label


class SchoolMeasure(models.Model):
    # Indexed by the unique key (school first) and the (measure, year) index: no single-column indexes to
    # keep up to date on 1.5 million rows (decision 0026, second amendment). No foreign key constraints in
    # the database: PostgreSQL checks each by a trigger per row (three per value, 30 of a national import's
    # 98 s); the imports' `upsert_rows` checks every reference once per write instead, and deletions go
    # through Django (decision 0026, fourth amendment). SQLite keeps the references its table was created with.
    school = models.ForeignKey(
        "schools.School",
        on_delete=models.CASCADE,
        related_name="measures",
        db_index=False,
        db_constraint=False,
    )
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="school_values", db_index=False, db_constraint=False
    )
    year = models.PositiveSmallIntegerField(
        help_text="Academic year by its starting calendar year (2018 = 2018/19)"
    )
    value = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ValueStatus.choices, default=ValueStatus.OK)
    source_run = models.ForeignKey(
        "imports.ImportRun", null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "measure", "year"], name="unique_school_measure_year")
        ]
        indexes = [models.Index(fields=["measure", "year"])]

    def __str__(self) -> str:
        return f"{self.school_id} {self.measure_id} {self.year}: {self.value} ({self.status})"


class AreaType(models.TextChoices):
    LA = "la", "Local authority"
    REGION = "region", "Region"
    INNER_OUTER = "sub_region", "Inner or Outer London"
    NATIONAL = "national", "England"


class Area(models.Model):
    """A local authority, region or England, by the DfE code LAIT uses (970 = England, 986 = London)."""

    code = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=120)
    area_type = models.CharField(max_length=16, choices=AreaType.choices)
    region = models.CharField(max_length=120, blank=True, help_text="Region name for an LA, e.g. 'London'")
    sub_region = models.CharField(
        max_length=120, blank=True, help_text="'Inner London' or 'Outer London' for a London borough"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AreaMeasure(models.Model):
    # Indexed by the unique key (area first) and the (measure, year) index (decision 0026); references checked
    # by `upsert_rows`, not by a database trigger per row, as SchoolMeasure's.
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="values", db_index=False, db_constraint=False
    )
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="area_values", db_index=False, db_constraint=False
    )
    year = models.PositiveSmallIntegerField()
    period_label = models.CharField(
        max_length=32, blank=True, help_text="The source's own label, e.g. '2024 (Rev)'"
    )
    value = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ValueStatus.choices, default=ValueStatus.OK)
    source_run = models.ForeignKey(
        "imports.ImportRun", null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["area", "measure", "year"], name="unique_area_measure_year")
        ]
        indexes = [models.Index(fields=["measure", "year"])]

    def __str__(self) -> str:
        return f"{self.area_id} {self.measure_id} {self.year}: {self.value} ({self.status})"


class StatisticalNeighbour(models.Model):
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="neighbours")
    neighbour = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    closeness = models.CharField(max_length=32, blank=True)
    model_year = models.PositiveSmallIntegerField(help_text="Year of the DfE neighbour model, e.g. 2025")
    source_run = models.ForeignKey(
        "imports.ImportRun", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["area", "rank", "model_year"], name="unique_neighbour_rank")
        ]
        ordering = ["model_year", "rank"]

    def __str__(self) -> str:
        return f"{self.area_id} neighbour {self.rank}: {self.neighbour_id} ({self.model_year})"
