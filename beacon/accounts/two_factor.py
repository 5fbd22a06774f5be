"""Two-factor sign-in: a TOTP authenticator app (django-otp) and single-use recovery codes.

Enrolment makes an unconfirmed TOTP device and shows its key (QR code and text); the first correct code
confirms it, replaces any earlier device and issues fresh recovery codes, shown once. Verification
accepts a 6-digit TOTP code or a recovery code (used up on use). Both devices are throttled by
django-otp (exponential back-off after each failure).
"""

from __future__ import annotations

import secrets
import time
from base64 import b32encode
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from beacon.accounts.models import (
    RecoveryCodeDevice,
    SecurityEvent,
    User,
    normalise_recovery_code,
)

_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed from paper


def record_event(request: HttpRequest | None, user: Any, kind: str, detail: str = "") -> SecurityEvent:
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    real = user if isinstance(user, User) and user.pk else None
    return SecurityEvent.objects.create(
        user=real,
        username=str(getattr(user, "username", "") or "")[:254],
        kind=kind,
        detail=detail[:300],
        ip_address=ip or None,
    )


PENDING_KEY = "beacon_pending_totp_key"


def pending_totp_device(user: User, session: Any) -> TOTPDevice:
    """The authenticator app being enrolled, unsaved: its key lives in the session until the first correct
    code confirms it (opening the set-up page writes nothing to the database, decision 0018)."""
    key = session.get(PENDING_KEY)
    if not (isinstance(key, str) and len(key) == 40 and all(c in "0123456789abcdef" for c in key)):
        key = random_hex(20)
        session[PENDING_KEY] = key
    return TOTPDevice(user=user, key=key, name="Authenticator app", confirmed=False)


def secret_for_display(device: TOTPDevice) -> str:
    """The base32 key in groups of four, for typing into an app that cannot scan the QR code."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (allowed by the CSP's img-src)."""
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=4))


def has_confirmed_device(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def make_recovery_codes(n: int | None = None) -> list[str]:
    n = n or settings.BEACON_RECOVERY_CODES
    return [
        "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(2)) for _ in range(n)
    ]


@transaction.atomic
def issue_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; the clear codes are returned once and never stored."""
    device, _ = RecoveryCodeDevice.objects.get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    codes = make_recovery_codes()
    device.set_codes(codes)
    return codes


@transaction.atomic
def confirm_enrolment(user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the pending (unsaved) `device` with its first code: it is saved, replaces any earlier app
    and fresh recovery codes are returned. None if the code is wrong (nothing is written)."""
    token = _digits(code)
    if len(token) != device.digits:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(token), device.tolerance):
        return None
    TOTPDevice.objects.filter(user=user).delete()
    device.last_t = totp.t()  # the code used here cannot be presented again
    device.confirmed = True
    device.save()
    return issue_recovery_codes(user)


def _digits(code: str) -> str:
    return "".join(ch for ch in code if ch in "0123456789")


def verify_second_factor(user: User, code: str) -> Device | None:
    """The device that accepts `code`: the authenticator for 6 digits, otherwise a recovery code."""
    code = code.strip()
    with transaction.atomic():
        if code.replace(" ", "").isascii() and code.replace(" ", "").isdigit():
            for totp in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
                if totp.verify_token(_digits(code)):
                    return totp
            return None
        normalised = normalise_recovery_code(code)
        if not normalised:
            return None
        for rec in RecoveryCodeDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if rec.verify_token(normalised):
                return rec
    return None


def recovery_codes_left(user: Any) -> int:
    device = RecoveryCodeDevice.objects.filter(user=user).first()
    return device.remaining() if device else 0
