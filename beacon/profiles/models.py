"""The school's own words on its public profile: the narrative ("atmosphere") and a short text for each
of the four groups of the Camden School Profile.

The headteacher writes a draft in the signed-in service and submits it; the Director of Learning and
Impact (or the commissioner) reviews it and publishes it or returns it with a note. Only the published
copy (`published`) is ever shown on the public profile; drafts and review notes never are. Every change
is kept (django-simple-history) and `version` guards against lost updates (optimistic locking).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from beacon.core.versioning import Versioned

# The sections a school writes, in the order the profile shows them: (field, label, hint).
SECTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "atmosphere",
        "About our school",
        "The atmosphere of the school in your own words: what it feels like to be a pupil or a parent here.",
    ),
    (
        "community",
        "School and community context",
        "Your community, partnerships and what makes it distinctive.",
    ),
    (
        "support",
        "Pupil support",
        "How you support pupils' wellbeing, inclusion and special educational needs.",
    ),
    ("achievement", "Achievement and destinations", "What pupils achieve and where they go next."),
    (
        "curriculum",
        "Curriculum and teaching and learning",
        "Your curriculum, enrichment and how pupils learn.",
    ),
)
SECTION_FIELDS: tuple[str, ...] = tuple(s[0] for s in SECTIONS)
MAX_SECTION_CHARS = 2000


class NarrativeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    RETURNED = "returned", "Returned for changes"
    PUBLISHED = "published", "Published"


class SchoolNarrativeQuerySet(models.QuerySet["SchoolNarrative"]):
    def published(self) -> SchoolNarrativeQuerySet:
        """Narratives with a published text (the public profile shows only these)."""
        return self.filter(published_at__isnull=False)


class SchoolNarrative(Versioned):
    school = models.OneToOneField(
        "schools.School", on_delete=models.CASCADE, related_name="profile_narrative"
    )
    # The working draft (never public).
    atmosphere = models.TextField(blank=True)
    community = models.TextField(blank=True)
    support = models.TextField(blank=True)
    achievement = models.TextField(blank=True)
    curriculum = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=NarrativeStatus.choices, default=NarrativeStatus.DRAFT)
    review_note = models.TextField(blank=True, help_text="The reviewer's note when returning the draft")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The published copy: {section field: text}. The only part the public profile reads.
    published = models.JSONField(default=dict, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = SchoolNarrativeQuerySet.as_manager()

    class Meta:
        verbose_name = "school profile narrative"

    def __str__(self) -> str:
        return f"Profile narrative {self.school_id} ({self.status})"

    def draft(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in SECTION_FIELDS}

    @property
    def is_published(self) -> bool:
        return self.published_at is not None and bool(self.published.get("atmosphere"))
