"""Warning notices (Education and Inspections Act 2006 s60/s60A) and editable letter templates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from beacon.core.versioning import Versioned


class Ground(models.TextChoices):
    STANDARDS = "standards", "Unacceptably low standards of performance"
    MANAGEMENT = "management", "Breakdown in the way the school is managed or governed"
    SAFETY = "safety", "Safety of pupils or staff is threatened"
    PAY_CONDITIONS = "pay_conditions", "Teachers' pay and conditions"


class NoticeKind(models.TextChoices):
    PRE_WARNING = "pre_warning", "Pre-warning notice"
    FORMAL = "formal", "Formal warning notice"


class Outcome(models.TextChoices):
    PENDING = "pending", "Awaiting response"
    COMPLIED = "complied", "Complied"
    NOT_COMPLIED = "not_complied", "Failed to comply"


class WarningNotice(Versioned):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="warning_notices")
    kind = models.CharField(max_length=12, choices=NoticeKind.choices, default=NoticeKind.FORMAL)
    ground = models.CharField(max_length=16, choices=Ground.choices)
    concerns = models.TextField(blank=True)
    required_action = models.TextField(blank=True)
    consequences = models.TextField(
        blank=True, help_text="What follows if the governing body does not comply (Appendix C)"
    )
    issued_on = models.DateField(null=True, blank=True)
    compliance_ends_on = models.DateField(null=True, blank=True, help_text="Compliance period set by the LA")
    diocese_informed_on = models.DateField(null=True, blank=True)
    response = models.TextField(blank=True)
    response_received_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    case = models.ForeignKey(
        "support.SupportCase", null=True, blank=True, on_delete=models.SET_NULL, related_name="notices"
    )
    outcome_recorded_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-issued_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_ground_display()}) {self.school_id}"

    @property
    def eligible_for_intervention(self) -> bool:
        """Failed to comply, decided after the compliance period ended (the only valid failure)."""
        return (
            self.outcome == Outcome.NOT_COMPLIED
            and self.issued_on is not None
            and self.compliance_ends_on is not None
            and self.outcome_recorded_on is not None
            and self.outcome_recorded_on > self.compliance_ends_on
        )

    @property
    def is_active(self) -> bool:
        """Issued and still awaiting its outcome."""
        return self.issued_on is not None and self.outcome == Outcome.PENDING


def valid_failures() -> models.Q:
    """Notices whose "failed to comply" outcome is valid: issued, and decided after the compliance period
    ended. beacon.interventions.eligibility counts only these."""
    return models.Q(
        outcome=Outcome.NOT_COMPLIED,
        issued_on__isnull=False,
        compliance_ends_on__isnull=False,
        outcome_recorded_on__gt=models.F("compliance_ends_on"),
    )


class LetterKind(models.TextChoices):
    INITIAL_MEETING = "initial_meeting", "Initial meeting letter"
    CATEGORISATION = "categorisation", "Categorisation letter (after the SRAS meeting)"
    MEETING_SUMMARY = "meeting_summary", "Meeting summary"
    CONGRATULATIONS = "congratulations", "Congratulations letter"
    SIGNIFICANT_CONCERNS = "significant_concerns", "Significant concerns letter"
    WARNING_NOTICE = "warning_notice", "Warning notice"


class LetterTemplate(Versioned):
    """An editable letter. `body` uses {{ placeholders }} rendered in a sandboxed Jinja environment."""

    kind = models.CharField(max_length=24, choices=LetterKind.choices, unique=True)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    history = HistoricalRecords()

    def __str__(self) -> str:
        return self.get_kind_display()
