"""School future options (Camden School Future Options work; Building Back Stronger Ambition 2 Goal 1).

Rolls, capacity and intake by year (from the files on hand), vulnerability thresholds held as data,
the partnership register, the register of headteachers interested in system leadership, and the
per-school action-planning summary. Everything people edit is kept in history (django-simple-history);
summaries and partnerships carry a `version` for optimistic locking.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from beacon.core.versioning import Versioned


class RollRecord(models.Model):
    """Pupils on roll (headcount) and capacity for a school in an academic year, from one source file.

    Census headcounts already held as the `pupils` measure (2018/19 CSP census, 2022/23 census) are read
    from `SchoolMeasure`; this table holds the years only other files give (GIAS extracts)."""

    school = models.ForeignKey(  # indexed by the unique key, school first (decision 0026)
        "schools.School",
        on_delete=models.CASCADE,
        related_name="roll_records",
        db_index=False,
        db_constraint=False,
    )
    year = models.PositiveSmallIntegerField(help_text="Academic year by its starting year (2021 = 2021/22)")
    pupils = models.PositiveIntegerField(null=True, blank=True)
    capacity = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=120)
    source_run = models.ForeignKey(
        "imports.ImportRun", null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )

    class Meta:
        ordering = ["school", "year"]
        constraints = [models.UniqueConstraint(fields=["school", "year"], name="unique_roll_school_year")]

    def __str__(self) -> str:
        return f"{self.school_id} {self.year}: {self.pupils} on roll, capacity {self.capacity}"


class IntakeYear(models.Model):
    """Admissions for the school's entry year (Reception or Year 7) on national offer day."""

    school = models.ForeignKey(  # indexed by the unique key, school first (decision 0026)
        "schools.School",
        on_delete=models.CASCADE,
        related_name="intakes",
        db_index=False,
        db_constraint=False,
    )
    year = models.PositiveSmallIntegerField(help_text="Year of entry by its academic starting year")
    entry_year = models.CharField(max_length=20, help_text="Reception or Year 7")
    places_offered = models.PositiveIntegerField(null=True, blank=True)
    first_preferences = models.PositiveIntegerField(
        null=True, blank=True, help_text="Times put as first preference"
    )
    any_preferences = models.PositiveIntegerField(
        null=True, blank=True, help_text="Times put as any preference"
    )
    source_run = models.ForeignKey(
        "imports.ImportRun", null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )

    class Meta:
        ordering = ["school", "year"]
        constraints = [
            models.UniqueConstraint(fields=["school", "year", "entry_year"], name="unique_intake_school_year")
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.year}: {self.places_offered} offers"


class Threshold(models.Model):
    """A vulnerability threshold, as data (admin-editable, history kept). `phase` blank = every phase."""

    code = models.CharField(max_length=40)
    phase = models.CharField(max_length=20, blank=True)
    value = models.FloatField()
    label = models.CharField(max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code", "phase"]
        constraints = [models.UniqueConstraint(fields=["code", "phase"], name="unique_threshold_code_phase")]

    def __str__(self) -> str:
        return f"{self.label}: {self.value:g}"


class PartnershipKind(models.TextChoices):
    FEDERATION = "federation", "Federation (one governing board)"
    EXECUTIVE_HEADSHIP = "executive_headship", "Executive headship"
    COLLABORATION = "collaboration", "Collaboration (soft partnership)"
    SHARED_SERVICES = "shared_services", "Shared staff or services agreement"
    TRUST = "trust", "Multi-academy trust"


class PartnershipStatus(models.TextChoices):
    EXPLORING = "exploring", "Exploring"
    FORMING = "forming", "Forming (consultation)"
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


class Partnership(Versioned):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=PartnershipKind.choices)
    status = models.CharField(
        max_length=12, choices=PartnershipStatus.choices, default=PartnershipStatus.ACTIVE
    )
    schools = models.ManyToManyField("schools.School", related_name="partnerships")
    lead_school = models.ForeignKey(
        "schools.School", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    executive_head = models.CharField(max_length=200, blank=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[schools])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LeadershipInterest(models.TextChoices):
    EXECUTIVE_HEAD = "executive_head", "Executive headship"
    FEDERATION_LEAD = "federation_lead", "Leading a federation"
    MENTORING = "mentoring", "Mentoring a new or acting head"
    SUPPORT = "support", "School-to-school support"
    GOVERNANCE = "governance", "National or local leader of governance"


class SystemLeaderInterestQuerySet(models.QuerySet["SystemLeaderInterest"]):
    def current(self) -> SystemLeaderInterestQuerySet:
        """Interests not withdrawn."""
        return self.filter(withdrawn=False)


class SystemLeaderInterest(Versioned):
    """A serving Camden headteacher's interest in becoming a future system leader."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="leader_interests")
    headteacher = models.CharField(max_length=200)
    interests = models.JSONField(default=list, help_text="Codes from LeadershipInterest")
    strengths = models.TextField(blank=True, help_text="Areas of expertise to share")
    available_from = models.DateField(null=True, blank=True)
    withdrawn = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    objects = SystemLeaderInterestQuerySet.as_manager()

    class Meta:
        ordering = ["headteacher"]

    def __str__(self) -> str:
        return f"{self.headteacher} ({self.school_id})"

    def interest_labels(self) -> list[str]:
        return [LeadershipInterest(c).label for c in self.interests if c in LeadershipInterest.values]


SUMMARY_SECTIONS: tuple[tuple[str, str], ...] = (
    ("place_planning", "Place planning"),
    ("succession", "Leadership succession"),
    ("standards", "Standards"),
    ("finances", "Finances"),
    ("assets", "Assets (buildings and site)"),
    ("collaborations", "Collaborations and partnerships"),
)


class FutureOptionsSummary(Versioned):
    """The action-planning summary for one school: a note per area, edited with optimistic locking."""

    school = models.OneToOneField("schools.School", on_delete=models.CASCADE, related_name="future_options")
    place_planning = models.TextField(blank=True)
    succession = models.TextField(blank=True)
    standards = models.TextField(blank=True)
    finances = models.TextField(blank=True)
    assets = models.TextField(blank=True)
    collaborations = models.TextField(blank=True)
    next_steps = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Future options summary for {self.school_id}"


# SchoolLocation.source of a position taken from the schools around (postcode area centre), not the school's own.
APPROXIMATE = "Approximate:"


class SchoolLocation(models.Model):
    """Latitude/longitude from a file other than GIAS (the 2024/25 CSP school list, geocoded from the
    postcode), for schools the register holds no easting/northing for. GIAS's grid reference wins."""

    school = models.OneToOneField("schools.School", on_delete=models.CASCADE, related_name="location")
    latitude = models.FloatField()
    longitude = models.FloatField()
    source = models.CharField(max_length=120)
    source_run = models.ForeignKey(
        "imports.ImportRun", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.school_id}: {self.latitude:.5f}, {self.longitude:.5f}"


class YearGroupCount(models.Model):
    """Pupils in one year group (headcount, full and part time, girls and boys) at a January census, from
    the census files that give them (the 2022/23 school-level file). `group` is "R" or "1".."14"."""

    school = models.ForeignKey(  # indexed by the unique key, school first (decision 0026)
        "schools.School",
        on_delete=models.CASCADE,
        related_name="year_groups",
        db_index=False,
        db_constraint=False,
    )
    year = models.PositiveSmallIntegerField(help_text="Academic year by its starting year (2022 = 2022/23)")
    group = models.CharField(max_length=2)
    pupils = models.PositiveIntegerField()
    source_run = models.ForeignKey(
        "imports.ImportRun", null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )

    class Meta:
        ordering = ["school", "year", "group"]
        constraints = [
            models.UniqueConstraint(fields=["school", "year", "group"], name="unique_year_group_count")
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.year} {self.group}: {self.pupils}"
