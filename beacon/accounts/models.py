from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from simple_history.models import HistoricalRecords

from beacon.accounts.roles import Role


class User(AbstractUser):
    """A person signed in to Beacon. Their role and school assignments decide what they see."""

    role = models.CharField(max_length=32, choices=Role.choices, default=Role.HEADTEACHER)
    la_code = models.PositiveIntegerField(
        null=True, blank=True, help_text="Local authority (DfE code) whose schools an LA-wide role sees."
    )
    job_title = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords(excluded_fields=["last_login", "password"])

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class SchoolAssignment(models.Model):
    """Links an adviser, headteacher or chair of governors to a school."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="assignments")
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "school"], name="unique_user_school")]

    def __str__(self) -> str:
        return f"{self.user} → {self.school}"
