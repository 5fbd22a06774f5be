"""The school register: one row per establishment, keyed by the DfE URN."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords


class Phase(models.TextChoices):
    NURSERY = "nursery", "Nursery"
    PRIMARY = "primary", "Primary"
    MIDDLE = "middle", "Middle"
    SECONDARY = "secondary", "Secondary"
    ALL_THROUGH = "all_through", "All-through"
    SPECIAL = "special", "Special"
    ALTERNATIVE = "alternative", "Alternative provision"
    POST16 = "post16", "16 plus"
    OTHER = "other", "Other"


class School(models.Model):
    urn = models.PositiveIntegerField(unique=True, verbose_name="URN")
    laestab = models.PositiveIntegerField(null=True, blank=True, db_index=True, verbose_name="LAESTAB")
    name = models.CharField(max_length=255, db_index=True)
    la_code = models.PositiveIntegerField(null=True, blank=True, db_index=True, verbose_name="LA code")
    la_name = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.OTHER, db_index=True)
    establishment_type = models.CharField(max_length=120, blank=True, db_index=True)
    type_group = models.CharField(max_length=120, blank=True)
    is_state_funded = models.BooleanField(default=True)
    is_open = models.BooleanField(default=True)
    open_date = models.DateField(null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)
    statutory_low_age = models.PositiveSmallIntegerField(null=True, blank=True)
    statutory_high_age = models.PositiveSmallIntegerField(null=True, blank=True)
    gender = models.CharField(max_length=20, blank=True)
    religious_character = models.CharField(max_length=120, blank=True)
    admissions_policy = models.CharField(max_length=60, blank=True)
    has_sixth_form = models.BooleanField(null=True)
    trust_name = models.CharField(max_length=255, blank=True)
    street = models.CharField(max_length=255, blank=True)
    locality = models.CharField(max_length=255, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True, db_index=True)
    ward = models.CharField(max_length=120, blank=True)
    parliamentary_constituency = models.CharField(max_length=120, blank=True)
    easting = models.PositiveIntegerField(null=True, blank=True)
    northing = models.PositiveIntegerField(null=True, blank=True)
    website = models.CharField(max_length=255, blank=True)
    telephone = models.CharField(max_length=40, blank=True)
    head_name = models.CharField(max_length=200, blank=True)
    head_job_title = models.CharField(max_length=120, blank=True)
    capacity = models.PositiveIntegerField(null=True, blank=True)
    source_run = models.ForeignKey(
        "imports.ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.urn})"

    @property
    def age_range(self) -> str:
        if self.statutory_low_age is None or self.statutory_high_age is None:
            return ""
        return f"{self.statutory_low_age} to {self.statutory_high_age}"

    @property
    def address(self) -> str:
        return ", ".join(p for p in [self.street, self.locality, self.town, self.postcode] if p)
