"""School support (Camden School Support and Development Strategy 2025): entitlements, adviser capacity,
visits, focused/targeted support cases, priorities, review meetings, exit and re-categorisation."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from beacon.assessments.models import SupportLevel
from beacon.core.versioning import Versioned
from beacon.inspections.models import EvaluationArea


class Entitlement(Versioned):
    """A school's support matrix entitlement for one academic year (stored by its starting year)."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="entitlements")
    academic_year = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=10, choices=SupportLevel.choices, default=SupportLevel.UNIVERSAL)
    adviser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="entitlements",
    )
    new_adviser = models.BooleanField(default=False, help_text="Adds a half-day orientation visit")
    new_headteacher = models.BooleanField(default=False, help_text="Adds a half-day orientation visit")
    has_post16 = models.BooleanField(default=False, help_text="Adds a half day for post-16")
    has_arp = models.BooleanField(
        default=False, help_text="Additionally resourced provision: adds a half day"
    )
    targeted_extra_days = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("0"),
        help_text="Targeted only: up to 6 additional days",
    )
    derived_from = models.ForeignKey(
        "assessments.TermlyAssessment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The decided termly assessment the level was taken from",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-academic_year", "school__name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "academic_year"], name="unique_entitlement_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.academic_year}: {self.level}"


class FundingSource(models.TextChoices):
    LA = "la", "Local authority"
    SCHOOL = "school", "School budget"
    GRANT = "grant", "DfE grant"
    OTHER = "other", "Other"


class BrokeredSupport(Versioned):
    """Funded support brokered for a targeted school (beyond the adviser's days)."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.CASCADE, related_name="brokered")
    provider = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=2)
    funding_source = models.CharField(max_length=10, choices=FundingSource.choices)
    case = models.ForeignKey(
        "SupportCase", null=True, blank=True, on_delete=models.SET_NULL, related_name="brokered"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.provider} £{self.cost}"


class AdviserCapacity(Versioned):
    """How many days an adviser (CPP) has for school visits in an academic year."""

    adviser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="capacities")
    academic_year = models.PositiveSmallIntegerField()
    day_budget = models.DecimalField(max_digits=5, decimal_places=1)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["adviser", "academic_year"], name="unique_capacity_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.adviser_id} {self.academic_year}: {self.day_budget} days"


class VisitType(models.TextChoices):
    CPP = "cpp", "Termly CPP visit"
    ORIENTATION = "orientation", "Orientation visit"
    POST16 = "post16", "Post-16 visit"
    ARP = "arp", "ARP visit"
    FOCUSED = "focused", "Focused support"
    TARGETED = "targeted", "Targeted support"
    REVIEW = "review", "Support review meeting"


class Visit(Versioned):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="support_visits")
    adviser = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    visited_on = models.DateField()
    visit_type = models.CharField(max_length=12, choices=VisitType.choices)
    days = models.DecimalField(max_digits=3, decimal_places=1, default=Decimal("0.5"))
    notes = models.TextField(blank=True)
    report_to_head = models.BooleanField(default=False)
    report_to_chair = models.BooleanField(default=False, verbose_name="Report to chair of governors")
    report_to_director = models.BooleanField(default=False)
    report_to_ceo = models.BooleanField(default=False)
    # When the visit report was circulated to each reader (the booleans above follow these dates).
    report_to_head_on = models.DateField(null=True, blank=True)
    report_to_chair_on = models.DateField(null=True, blank=True)
    report_to_director_on = models.DateField(null=True, blank=True)
    report_to_ceo_on = models.DateField(null=True, blank=True)
    case = models.ForeignKey(
        "SupportCase", null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-visited_on"]

    def __str__(self) -> str:
        return f"{self.school_id} {self.visited_on} {self.visit_type}"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class SupportCaseQuerySet(models.QuerySet["SupportCase"]):
    def open(self) -> SupportCaseQuerySet:
        """Cases still open (exit not yet agreed)."""
        return self.filter(status=CaseStatus.OPEN)


class SupportCase(Versioned):
    """Focused or targeted support for a school, chaired by the Director of Learning and Impact or CEO."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="support_cases")
    level = models.CharField(
        max_length=10, choices=[(SupportLevel.FOCUSED, "Focused"), (SupportLevel.TARGETED, "Targeted")]
    )
    started_on = models.DateField()
    planned_exit_on = models.DateField(null=True, blank=True)
    next_meeting_on = models.DateField(
        null=True,
        blank=True,
        verbose_name="Next review meeting",
        help_text="The date the next review meeting (the initial meeting first) is scheduled for",
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chaired_cases"
    )
    attendees = models.TextField(blank=True, help_text="Usual attendees, one a line")
    status = models.CharField(max_length=6, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    securely_on_track = models.BooleanField(
        default=False, help_text="Targeted schools securely on track move from 8-10 weekly to termly meetings"
    )
    # Exit / re-categorisation, agreed by the chair with the head, chair of governors and CPP.
    exit_agreed_on = models.DateField(null=True, blank=True)
    exit_agreed_by_head = models.BooleanField(default=False)
    exit_agreed_by_chair_of_governors = models.BooleanField(default=False)
    exit_agreed_by_cpp = models.BooleanField(default=False)
    recategorised_to = models.CharField(max_length=10, choices=SupportLevel.choices, blank=True)
    support_reduction_plan = models.TextField(blank=True)
    history = HistoricalRecords()

    objects = SupportCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on"]

    def __str__(self) -> str:
        return f"{self.get_level_display()} support: {self.school_id} from {self.started_on}"

    @property
    def max_priorities(self) -> int:
        return 4 if self.level == SupportLevel.TARGETED else 3


class Priority(models.Model):
    case = models.ForeignKey(SupportCase, on_delete=models.CASCADE, related_name="priorities")
    area = models.CharField(max_length=48, choices=EvaluationArea.choices)
    title = models.CharField(max_length=255)
    end_of_year_aim = models.TextField(help_text="Measurable aim for the end of the academic year")
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title


class MeetingKind(models.TextChoices):
    INITIAL = "initial", "Initial meeting"
    SUBSEQUENT = "subsequent", "Subsequent meeting"


class Progress(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    NOT_ON_TRACK = "not_on_track", "Not on track"


APPENDIX_B_AGENDA = {
    MeetingKind.INITIAL: (
        "1. Introductions and purpose of the support\n"
        "2. Current context of the school\n"
        "3. Agree up to the maximum number of priorities and end-of-year aims\n"
        "4. Agree the support package and the meeting schedule\n"
        "5. Agree the next steps and who is responsible"
    ),
    MeetingKind.SUBSEQUENT: (
        "1. Headteacher's report on progress against each priority\n"
        "2. Review of actions from the previous meeting\n"
        "3. Current context and impact (data, including attendance and key groups)\n"
        "4. Next steps\n"
        "5. Overall progress: on track or not on track"
    ),
}


class ReviewMeeting(models.Model):
    case = models.ForeignKey(SupportCase, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(max_length=10, choices=MeetingKind.choices)
    held_on = models.DateField()
    attendees = models.TextField(blank=True, help_text="Present, one a line")
    agenda = models.TextField(blank=True)
    head_report = models.TextField(blank=True, verbose_name="Headteacher's pre-meeting report")
    previous_actions = models.TextField(blank=True)
    context_and_impact = models.TextField(blank=True, verbose_name="Current context and impact")
    next_steps = models.TextField(blank=True)
    key_aims = models.TextField(blank=True)
    progress = models.CharField(max_length=12, choices=Progress.choices)
    rapid_improvement_plan_proposed = models.BooleanField(
        default=False, help_text="Not on track: a rapid improvement plan with enhanced support is proposed"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["held_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.held_on}"
