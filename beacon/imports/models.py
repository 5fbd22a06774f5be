from __future__ import annotations

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Imported"
    REJECTED = "rejected", "Rejected (file has errors, nothing written)"
    FAILED = "failed", "Failed (nothing written)"
    DUPLICATE = "duplicate", "Already imported (same file)"


class ImportRun(models.Model):
    """One attempt to import one file. Kept for ever: it is the provenance of every value."""

    source = models.CharField(max_length=64, db_index=True)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    file_size = models.BigIntegerField(default=0)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    la_code = models.PositiveIntegerField(null=True, blank=True, help_text="Rows limited to this LA, if set")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    rows_read = models.PositiveIntegerField(default=0)
    rows_inserted = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="First errors: row, column, value, reason")
    notes = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} {self.file_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status not in {RunStatus.QUEUED, RunStatus.RUNNING}
