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


# The schools the LA serves now: open and state-funded. `served(qs)` / `School.objects.served()`.
SERVED = models.Q(is_open=True, is_state_funded=True)


def served(qs: models.QuerySet[School]) -> models.QuerySet[School]:
    """`qs` narrowed to the schools the LA serves now (open, state-funded): see SchoolQuerySet.served."""
    return qs.filter(SERVED)


class SchoolQuerySet(models.QuerySet["School"]):
    def served(self) -> SchoolQuerySet:
        """Schools the LA serves now: open and state-funded (independent and closed schools are out).

        The one definition every current list uses (the register's default view, the risk register,
        support, targets and reports); `beacon.permissions.served_schools(user)` scopes it to a user.
        Historical pages (a closed school's own page) stay reachable through visible_schools()."""
        return self.filter(SERVED)


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
    closure_evidence = models.TextField(
        blank=True,
        help_text="Why the register holds the school as closed (GIAS status, absent files, 0 on roll)",
    )
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

    objects = SchoolQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        # The served schools (SERVED), nationally or of one LA, counted and their phases and LAs listed from
        # this index alone: the risk register's count and phase filter, the LA overview's list of LAs, an LA's
        # schools (issue 16).
        indexes = [
            models.Index(
                fields=["is_open", "is_state_funded", "la_code", "la_name", "phase"], name="school_served"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.urn})"

    @property
    def is_served(self) -> bool:
        """Open and state-funded: a school the LA serves now (see SchoolQuerySet.served)."""
        return self.is_open and self.is_state_funded

    @property
    def age_range(self) -> str:
        if self.statutory_low_age is None or self.statutory_high_age is None:
            return ""
        return f"{self.statutory_low_age} to {self.statutory_high_age}"

    @property
    def address(self) -> str:
        return ", ".join(p for p in [self.street, self.locality, self.town, self.postcode] if p)


class LinkType(models.TextChoices):
    PREDECESSOR = "predecessor", "Predecessor"
    SUCCESSOR = "successor", "Successor"
    OTHER = "other", "Other link"


class SchoolLink(models.Model):
    """A GIAS establishment link: `urn`'s predecessor or successor `linked_urn` (e.g. the maintained
    school an academy converted from). URNs, not foreign keys: either side may be missing from the
    register (closed before it, or in another LA), and the link still tells where history lives."""

    urn = models.PositiveIntegerField(db_index=True, verbose_name="URN")
    linked_urn = models.PositiveIntegerField(db_index=True, verbose_name="linked URN")
    linked_name = models.CharField(max_length=255, blank=True)
    direction = models.CharField(max_length=12, choices=LinkType.choices)
    link_type = models.CharField(max_length=80, help_text="As GIAS publishes it, e.g. 'Predecessor - merged'")
    established = models.DateField(null=True, blank=True)
    source_run = models.ForeignKey(
        "imports.ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["urn", "established", "linked_urn"]
        constraints = [
            models.UniqueConstraint(fields=["urn", "linked_urn", "link_type"], name="unique_school_link")
        ]

    def __str__(self) -> str:
        return f"{self.urn} {self.link_type} {self.linked_urn}"
