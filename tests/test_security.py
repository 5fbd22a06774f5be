"""Sign-in security (issue 7): two-factor sign-in, recovery codes, admin behind the second factor,
security headers, password rules and the production deployment checklist."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from beacon.accounts.models import RecoveryCode, SecurityEvent, SecurityEventKind
from tests.conftest import make_user

PASSWORD = "correct-horse-battery"


# Every test here runs on a frozen clock: TOTP codes depend on the time step, and a real clock can cross a
# 30-second boundary between computing a code and presenting it (issue 13 item 7).
FROZEN_AT = dt.datetime(2026, 3, 2, 9, 0, 5, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        yield traveller


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows at the (frozen) current time, or `steps_ahead` 30-second steps
    later."""
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead)
    return f"{value:0{device.digits}d}"


def sign_in(client: Client, username: str) -> Any:
    return client.post("/account/sign-in/", {"username": username, "password": PASSWORD})


@pytest.fixture
def two_factor_on(settings: Any) -> None:
    settings.BEACON_REQUIRE_2FA = True
    settings.BEACON_ADMIN_REQUIRE_2FA = True


@pytest.mark.django_db
def test_without_the_setting_staff_sign_in_with_a_password_alone(client: Client) -> None:
    assert settings.BEACON_REQUIRE_2FA is False  # demo and tests: off unless a test turns it on
    make_user("dana", "director")
    resp = sign_in(client, "dana")
    assert resp.status_code == 302
    assert client.get("/schools/").status_code == 200


@pytest.mark.django_db
def test_la_role_must_enrol_then_present_a_code(
    client: Client, two_factor_on: None, frozen_clock: time_machine.Traveller
) -> None:
    user = make_user("dana", "director")
    assert sign_in(client, "dana").status_code == 302
    # Signed in with the password only: every page sends the director to enrol first.
    resp = client.get("/schools/")
    assert resp.status_code == 302
    assert resp["Location"] == "/account/two-factor/set-up/?next=/schools/"
    assert client.get("/risk/").status_code == 302
    page = client.get(resp["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html  # the QR code, allowed by the CSP's img-src data:
    # Opening the set-up page writes nothing: the new key waits in the session until a code confirms it.
    assert not TOTPDevice.objects.filter(user=user).exists()
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert secret is not None
    import base64

    key = secret.group(1).replace(" ", "")
    bin_key = base64.b32decode(key + "=" * (-len(key) % 8))
    # The same key on every visit until it is confirmed (the app scanned first stays valid).
    assert secret.group(1) in client.get("/account/two-factor/set-up/?next=/schools/").content.decode()

    def app_code() -> str:
        return f"{totp(bin_key, step=30, t0=0, digits=6):06d}"

    # A wrong code is refused with an error and saves nothing.
    wrong = client.post("/account/two-factor/set-up/", {"code": "000000", "next": "/schools/"})
    assert wrong.status_code == 400 and "The code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()

    done = client.post("/account/two-factor/set-up/", {"code": app_code(), "next": "/schools/"})
    assert done.status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.bin_key == bin_key
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.content.decode())
    assert len(codes) == settings.BEACON_RECOVERY_CODES == 10 and len(set(codes)) == 10
    # Stored only as keyed hashes.
    stored = set(RecoveryCode.objects.filter(device__user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & stored
    assert client.get("/schools/").status_code == 200
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEventKind.ENROLLED).count() == 1

    # Next sign-in: the code is asked for (no enrolment again).
    client.post("/account/sign-out/")
    sign_in(client, "dana")
    resp = client.get("/schools/")
    assert resp["Location"] == "/account/two-factor/?next=/schools/"
    # Enrolling a new app is refused before the existing one is presented (a stolen password is not enough).
    assert client.get("/account/two-factor/set-up/")["Location"].startswith("/account/two-factor/?")
    bad = client.post("/account/two-factor/", {"code": "123456", "next": "/schools/"})
    assert bad.status_code == 400
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEventKind.VERIFY_FAILED).exists()
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    # The code already used at enrolment cannot be replayed, even within its 30 seconds...
    replay = client.post("/account/two-factor/", {"code": code_for(device), "next": "/schools/"})
    assert replay.status_code == 400
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    # ...and half a minute later the app's next code works.
    frozen_clock.shift(30)
    ok = client.post("/account/two-factor/", {"code": code_for(device), "next": "/schools/"})
    assert ok.status_code == 302 and ok["Location"] == "/schools/"
    assert client.get("/schools/").status_code == 200


@pytest.mark.django_db
def test_recovery_code_signs_in_once(client: Client, two_factor_on: None) -> None:
    from beacon.accounts import two_factor

    user = make_user("cara", "commissioner")
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    codes = two_factor.issue_recovery_codes(user)
    sign_in(client, "cara")
    assert client.get("/schools/")["Location"] == "/account/two-factor/?next=/schools/"
    resp = client.post("/account/two-factor/", {"code": codes[3].upper(), "next": "/schools/"})
    assert resp.status_code == 302 and resp["Location"] == "/schools/"
    assert two_factor.recovery_codes_left(user) == 9
    assert SecurityEvent.objects.get(user=user, kind=SecurityEventKind.RECOVERY_USED).detail == "9 left"
    client.post("/account/sign-out/")
    sign_in(client, "cara")
    # The same code a second time: refused.
    again = client.post("/account/two-factor/", {"code": codes[3], "next": "/schools/"})
    assert again.status_code == 400
    assert client.get("/schools/").status_code == 302
    assert device.pk  # the app itself is untouched


@pytest.mark.django_db
def test_school_roles_need_no_second_factor_unless_they_enrolled(client: Client, two_factor_on: None) -> None:
    make_user("hana", "headteacher")
    sign_in(client, "hana")
    assert client.get("/schools/").status_code == 200
    client.post("/account/sign-out/")
    chair = make_user("charlie", "chair")
    TOTPDevice.objects.create(user=chair, name="app", confirmed=True)
    sign_in(client, "charlie")
    assert client.get("/schools/")["Location"] == "/account/two-factor/?next=/schools/"


@pytest.mark.django_db
def test_every_la_role_and_staff_require_the_second_factor() -> None:
    from beacon.accounts.roles import Role
    from beacon.permissions import requires_second_factor

    required = {r for r in Role.values if requires_second_factor(make_user(f"u-{r}", r))}
    assert required == {"commissioner", "ceo", "director", "sras", "data_manager", "adviser", "national"}
    head = make_user("staff-head", "headteacher")
    head.is_staff = True
    assert requires_second_factor(head)


@pytest.mark.django_db
def test_admin_is_behind_staff_and_the_second_factor(client: Client, two_factor_on: None) -> None:
    # The admin's own sign-in page is not used: it would skip the second factor.
    resp = client.get("/admin/login/?next=/admin/risk/")
    assert resp.status_code == 302 and resp["Location"] == "/account/sign-in/?next=/admin/risk/"
    staff = make_user("dev", "headteacher")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get("/admin/")["Location"] == "/account/two-factor/set-up/?next=/admin/"
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    client.force_login(staff)
    assert client.get("/admin/")["Location"] == "/account/two-factor/?next=/admin/"
    client.post("/account/two-factor/", {"code": code_for(device), "next": "/admin/"})
    assert client.get("/admin/").status_code == 200
    # Not staff: the admin refuses even after the second factor.
    head = make_user("hana", "headteacher")
    hdev = TOTPDevice.objects.create(user=head, name="app", confirmed=True)
    client.force_login(head)
    client.post("/account/two-factor/", {"code": code_for(hdev), "next": "/"})
    refused = client.get("/admin/")
    assert refused.status_code == 302 and refused["Location"] == "/admin/login/?next=/admin/"
    assert client.get(refused["Location"])["Location"] == "/account/sign-in/?next=/admin/"


@pytest.mark.django_db
def test_admin_without_the_setting_still_needs_staff(client: Client) -> None:
    client.force_login(make_user("hana", "headteacher"))
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_security_headers_and_no_store_for_signed_in_pages(client: Client) -> None:
    anon = client.get("/account/sign-in/")
    assert anon["X-Content-Type-Options"] == "nosniff"
    assert anon["Referrer-Policy"] == "same-origin"
    assert anon["Cross-Origin-Opener-Policy"] == "same-origin"
    assert anon["X-Frame-Options"] == "DENY"
    assert "camera=()" in anon["Permissions-Policy"] and "geolocation=()" in anon["Permissions-Policy"]
    assert "frame-ancestors 'none'" in anon["Content-Security-Policy"]
    public = client.get("/accessibility/")  # a public page may be cached; a signed-in one may not
    assert public.status_code == 200 and "no-store" not in public.get("Cache-Control", "")
    client.force_login(make_user("dana", "director"))
    signed_in = client.get("/schools/")
    assert signed_in.status_code == 200 and signed_in["Cache-Control"] == "no-store"
    assert client.cookies["csrftoken"]["httponly"] and client.cookies["csrftoken"]["samesite"] == "Lax"


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short-pw-11", False),
        ("12345678901234", False),
        ("password123456", False),
        ("plum-violin-kettle", True),
    ],
)
@pytest.mark.django_db
def test_passwords_at_least_12_characters_not_common_not_numeric(password: str, ok: bool) -> None:
    user = make_user("dana", "director")
    if ok:
        validate_password(password, user)
    else:
        with pytest.raises(ValidationError):
            validate_password(password, user)


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEACON_", "DJANGO_"))}
    env.update(
        BEACON_PRODUCTION="1",
        BEACON_SECRET_KEY=secrets.token_urlsafe(64),
        BEACON_ALLOWED_HOSTS="beacon.camden.gov.uk",
        BEACON_VAR_DIR=str(tmp_path),
        BEACON_DATA_DIR=str(settings.DATA_DIR),
        DATABASE_URL="",
    )
    env.update(extra)
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_checklist_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = _manage(_production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    # And the same checklist does fail on the demo settings (so the test can fail).
    demo = _production_env(tmp_path, BEACON_PRODUCTION="0")
    bad = _manage(demo, "check", "--deploy", "--fail-level", "WARNING")
    assert bad.returncode != 0 and "security.W004" in bad.stderr + bad.stdout  # no HSTS outside production


def test_production_settings_values(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s; import json; print(json.dumps({k: getattr(s, k) for k in ["
        "'SECURE_HSTS_SECONDS','SESSION_COOKIE_SECURE','CSRF_COOKIE_SECURE','SESSION_COOKIE_NAME',"
        "'CSRF_COOKIE_NAME','BEACON_REQUIRE_2FA','BEACON_ADMIN_REQUIRE_2FA','SECURE_SSL_REDIRECT',"
        "'BEACON_OIDC_ENABLED','DEBUG']}))"
    )
    result = _manage(_production_env(tmp_path), "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    import json

    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "SECURE_HSTS_SECONDS": 31536000,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_NAME": "__Host-beacon_session",
        "CSRF_COOKIE_NAME": "__Host-beacon_csrf",
        "BEACON_REQUIRE_2FA": True,
        "BEACON_ADMIN_REQUIRE_2FA": True,
        "SECURE_SSL_REDIRECT": True,
        "BEACON_OIDC_ENABLED": False,
        "DEBUG": False,
    }
    # A short secret key is refused outright in production.
    short = _manage(_production_env(tmp_path, BEACON_SECRET_KEY="too-short"), "check")
    assert short.returncode != 0 and "at least 50 characters" in short.stderr


@pytest.mark.django_db
def test_sign_in_security_is_in_the_navigation_of_staff_roles(client: Client) -> None:
    client.force_login(make_user("dana", "director"))
    assert 'href="/account/security/"' in client.get("/schools/").content.decode()
    client.force_login(make_user("hana", "headteacher"))
    page = client.get("/schools/").content.decode()
    assert 'href="/account/security/"' not in page
    # A headteacher can still reach the page to enrol voluntarily.
    own = client.get("/account/security/")
    assert own.status_code == 200 and "Set up two-factor authentication" in own.content.decode()


@pytest.mark.django_db
def test_security_log_is_read_only_in_the_admin(client: Client) -> None:
    from beacon.accounts import two_factor

    root = make_user("root", "director")
    root.is_staff = root.is_superuser = True
    root.save()
    event = two_factor.record_event(None, root, SecurityEventKind.VERIFY_FAILED, "enrolment")
    client.force_login(root)
    listing = client.get("/admin/accounts/securityevent/")
    assert listing.status_code == 200 and "Wrong second-factor code" in listing.content.decode()
    assert client.get("/admin/accounts/securityevent/add/").status_code == 403
    assert (
        client.post(f"/admin/accounts/securityevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert SecurityEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_an_idle_session_ends_and_reading_saves_the_session_at_most_once_a_minute(settings: Any) -> None:
    """The idle limit (BEACON_SESSION_IDLE_SECONDS) signs a user out; until then the last activity is
    recorded at most once a minute, so a run of page reads does not rewrite the session row each time."""
    from django.contrib.sessions.models import Session

    settings.BEACON_SESSION_IDLE_SECONDS = 30 * 60
    user = make_user("dli", "director")
    client = Client()

    def stored() -> tuple[str, dt.datetime]:
        row = Session.objects.get(session_key=client.session.session_key)
        return row.session_data, row.expire_date

    with time_machine.travel(dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        client.force_login(user)
        assert client.get("/healthz").status_code == 200
        first = stored()
        clock.shift(30)
        assert client.get("/healthz").status_code == 200
        assert stored() == first  # read within the minute: the session row is not written
        clock.shift(31)
        assert client.get("/healthz").status_code == 200
        refreshed = stored()
        assert refreshed != first  # a minute on: the last activity is recorded
        clock.shift(29 * 60)
        assert client.get("/schools/").status_code == 200  # 29 minutes idle: still signed in
        clock.shift(30 * 60 + 1)
        gone = client.get("/schools/")
        assert gone.status_code == 302 and gone["Location"].startswith("/account/sign-in/")
