"""Ofsted inspections: the older single-grade framework (OEIF) and the November 2025 report cards."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords


class Framework(models.TextChoices):
    LEGACY = "legacy", "Graded inspection (overall effectiveness)"
    REPORT_CARD = "report_card", "Report card (from November 2025)"
    UNGRADED = "ungraded", "Ungraded inspection"


class OverallEffectiveness(models.IntegerChoices):
    OUTSTANDING = 1, "Outstanding"
    GOOD = 2, "Good"
    REQUIRES_IMPROVEMENT = 3, "Requires improvement"
    INADEQUATE = 4, "Inadequate"


class ReportCardGrade(models.IntegerChoices):
    """Five-point scale of the 2025 framework (higher is better)."""

    URGENT_IMPROVEMENT = 1, "Urgent improvement"
    NEEDS_ATTENTION = 2, "Needs attention"
    EXPECTED_STANDARD = 3, "Expected standard"
    STRONG_STANDARD = 4, "Strong standard"
    EXCEPTIONAL = 5, "Exceptional"


class EvaluationArea(models.TextChoices):
    """Report-card evaluation areas (and legacy key judgements), as the strategy's priorities use them."""

    SAFEGUARDING = "safeguarding", "Safeguarding"
    LEADERSHIP = "leadership_and_governance", "Leadership and governance"
    INCLUSION = "inclusion", "Inclusion"
    CURRICULUM = "curriculum_and_teaching", "Curriculum and teaching"
    ACHIEVEMENT = "achievement", "Achievement"
    ATTENDANCE_BEHAVIOUR = "attendance_and_behaviour", "Attendance and behaviour"
    PERSONAL_DEVELOPMENT = "personal_development_and_wellbeing", "Personal development and well-being"
    EARLY_YEARS = "early_years", "Early years"
    POST16 = "post16", "Sixth form (post-16)"
    # Legacy (OEIF, 2019-2025) key judgements
    QUALITY_OF_EDUCATION = "quality_of_education", "Quality of education (legacy)"
    BEHAVIOUR_ATTITUDES = "behaviour_and_attitudes", "Behaviour and attitudes (legacy)"
    LEADERSHIP_MANAGEMENT = "leadership_and_management", "Leadership and management (legacy)"


# Frameworks whose inspections grade the school (an ungraded inspection leaves the judgement standing).
GRADED_FRAMEWORKS: tuple[str, ...] = (Framework.REPORT_CARD.value, Framework.LEGACY.value)


class InspectionQuerySet(models.QuerySet["Inspection"]):
    def graded(self) -> InspectionQuerySet:
        """Report cards and graded (legacy) inspections: not the ungraded ones."""
        return self.filter(framework__in=GRADED_FRAMEWORKS)

    def newest_first(self) -> InspectionQuerySet:
        """Newest start date first; on the same date a report card, then a graded, then an ungraded one."""
        rank = models.Case(
            models.When(framework=Framework.REPORT_CARD, then=models.Value(0)),
            models.When(framework=Framework.LEGACY, then=models.Value(1)),
            default=models.Value(2),
            output_field=models.IntegerField(),
        )
        return self.annotate(_rank=rank).order_by("-start_date", "_rank", "-pk")


class Inspection(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="inspections")
    framework = models.CharField(max_length=16, choices=Framework.choices)
    inspection_number = models.CharField(max_length=32, blank=True)
    inspection_type = models.CharField(max_length=64, blank=True)
    start_date = models.DateField(db_index=True)
    publication_date = models.DateField(null=True, blank=True)
    overall_effectiveness = models.PositiveSmallIntegerField(
        choices=OverallEffectiveness.choices, null=True, blank=True
    )
    safeguarding_met = models.BooleanField(
        null=True, help_text="Report card: met / not met. Legacy: effective?"
    )
    category_of_concern = models.CharField(max_length=64, blank=True)
    outcome_text = models.CharField(max_length=255, blank=True, help_text="Ungraded outcome as published")
    converted_to_graded = models.BooleanField(
        null=True, blank=True, help_text="Ungraded inspection: did it convert to a graded inspection?"
    )
    urn_at_time = models.PositiveIntegerField(
        null=True,
        blank=True,
        verbose_name="URN at the time",
        help_text="The URN inspected, when it differs from the school's URN now (a predecessor school)",
    )
    name_at_time = models.CharField(
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="School name at the time, when it was a predecessor",
    )
    source_run = models.ForeignKey(
        "imports.ImportRun", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    objects = InspectionQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "framework", "start_date"], name="unique_inspection_per_school_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.framework} {self.start_date}"


class InspectionGrade(models.Model):
    """A grade for one evaluation area. `grade` is on the report-card scale (1-5) for report cards,
    or the 1-4 OEIF scale for legacy key judgements (1 = outstanding)."""

    inspection = models.ForeignKey(  # indexed by the unique key, inspection first (decision 0026)
        Inspection, on_delete=models.CASCADE, related_name="grades", db_index=False, db_constraint=False
    )
    area = models.CharField(max_length=48, choices=EvaluationArea.choices)
    grade = models.PositiveSmallIntegerField(null=True, blank=True)
    not_applicable = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["inspection", "area"], name="unique_grade_per_area")]

    def __str__(self) -> str:
        return f"{self.inspection_id} {self.area}: {self.grade}"

    @property
    def label(self) -> str:
        if self.not_applicable:
            return "Not applicable"
        if self.grade is None:
            return "Not graded"
        if self.inspection.framework == Framework.REPORT_CARD:
            return ReportCardGrade(self.grade).label
        return OverallEffectiveness(self.grade).label
