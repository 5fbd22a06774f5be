from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin
from simple_history.models import HistoricalRecords

from beacon.accounts.roles import Role


class User(AbstractUser):  # type: ignore[django-manager-missing]  # django-otp's Device.user
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


# ---------------------------------------------------------------------------------------------
# Sign-in security (issue 7): recovery codes for the second factor and the security event log.


def _hash_recovery_code(code: str) -> str:
    """Keyed hash (HMAC-SHA256 with the secret key): the codes are never stored in clear."""
    from django.utils.crypto import salted_hmac

    return salted_hmac(
        "beacon.accounts.recovery-code", normalise_recovery_code(code), algorithm="sha256"
    ).hexdigest()


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """A set of single-use recovery codes: the second factor when the authenticator app is lost."""

    class Meta(Device.Meta):
        verbose_name = "recovery codes"
        verbose_name_plural = "recovery codes"

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: Any) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        code = self.codes.filter(code_hash=_hash_recovery_code(str(token)), used_at__isnull=True).first()
        if code is None:
            self.throttle_increment(commit=True)
            return False
        code.used_at = timezone.now()
        code.save(update_fields=["used_at"])
        self.throttle_reset(commit=True)
        return True

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def set_codes(self, codes: list[str]) -> None:
        self.codes.all().delete()
        RecoveryCode.objects.bulk_create(
            [RecoveryCode(device=self, code_hash=_hash_recovery_code(c)) for c in codes]
        )


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Recovery code {self.pk} ({'used' if self.used_at else 'unused'})"


class SecurityEventKind(models.TextChoices):
    SIGNED_IN = "signed_in", "Signed in with a password"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    ENROLLED = "2fa_enrolled", "Two-factor authentication set up"
    VERIFIED = "2fa_verified", "Second factor presented"
    VERIFY_FAILED = "2fa_failed", "Wrong second-factor code"
    RECOVERY_USED = "recovery_used", "Recovery code used"
    RECOVERY_REGENERATED = "recovery_regenerated", "New recovery codes made"
    SSO_SIGNED_IN = "sso_signed_in", "Signed in through single sign-on"
    SSO_REFUSED = "sso_refused", "Single sign-on refused (no Beacon account)"


class SecurityEvent(models.Model):
    """Append-only log of sign-in and second-factor events (who, what, when, from where). Never secrets."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=254, blank=True)
    kind = models.CharField(max_length=32, choices=SecurityEventKind.choices)
    detail = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_kind_display()}"
