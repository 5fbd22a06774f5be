"""Two-factor sign-in in a real browser: enrol, recovery codes, sign in again with a code; every new page
passes axe (WCAG 2.2 AA) and fits a 320px phone screen."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
import time_machine
from django_otp.oath import totp

from tests.conftest import assert_accessible, assert_no_horizontal_scroll, make_user, sign_in


def _code(secret_text: str, steps_ahead: int = 0) -> str:
    key = secret_text.replace(" ", "")
    raw = base64.b32decode(key + "=" * (-len(key) % 8))
    return f"{totp(raw, step=30, t0=0, digits=6, drift=steps_ahead):06d}"


@pytest.mark.browser
def test_enrol_and_sign_in_with_two_factors(
    page: Any, phone_page: Any, live_server: Any, transactional_db: None, settings: Any
) -> None:
    # A frozen clock (shared by the live server's thread): a TOTP code cannot go stale between computing
    # it and the server checking it, and django-otp's back-off is passed by moving the clock, not waiting.
    # Frozen at the start of the test rather than a fixed date: the browser keeps its own clock for cookie
    # expiry, so the server's must stay close to it.
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False) as clock:
        _enrol_and_sign_in(page, phone_page, live_server, settings, clock)


def _enrol_and_sign_in(
    page: Any, phone_page: Any, live_server: Any, settings: Any, clock: time_machine.Traveller
) -> None:
    settings.BEACON_REQUIRE_2FA = True
    make_user("dana", "director")
    sign_in(page, live_server, "dana")
    assert "/account/two-factor/set-up/" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-factor authentication"
    assert page.locator("img[src^='data:image/svg+xml']").is_visible()  # the QR code under the strict CSP
    assert page.evaluate("() => document.querySelector('img.beacon-qr').naturalWidth") > 0
    assert_accessible(page)
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Security code").fill("000000")
    page.get_by_role("button", name="Confirm and continue").click()
    page.locator(".govuk-error-summary").wait_for()
    assert page.locator(".govuk-error-summary").is_visible()
    assert_accessible(page)  # the error state too
    # django-otp's back-off after a failure: let it pass (on the frozen clock) rather than reset it.
    clock.shift(2)
    page.get_by_label("Security code").fill(_code(secret))
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Your recovery codes"
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page)
    page.get_by_role("button", name="I have kept my recovery codes").click()
    page.wait_for_load_state()
    assert page.url.endswith("/schools/")

    page.goto(f"{live_server.url}/account/security/")
    assert "Recovery codes left" in page.content()
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    sign_in(page, live_server, "dana")
    assert "/account/two-factor/?next=" in page.url
    assert_accessible(page)
    page.get_by_label("Security code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert page.url.endswith("/schools/")
    assert "You used a recovery code. You have 9 left" in page.content()

    # The same pages on a phone.
    make_user("cara", "commissioner")
    sign_in(phone_page, live_server, "cara")
    assert "/account/two-factor/set-up/" in phone_page.url
    assert_no_horizontal_scroll(phone_page)
    phone_page.goto(f"{live_server.url}/account/no-access/")
    assert_no_horizontal_scroll(phone_page)
    assert_accessible(phone_page)
