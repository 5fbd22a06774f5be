from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import assert_accessible, make_user, sign_in


@pytest.mark.django_db
def test_home_requires_sign_in(client: Client) -> None:
    resp = client.get("/")
    assert resp.status_code == 302
    assert "/account/sign-in/" in resp["Location"]


@pytest.mark.django_db
def test_sign_in_page_has_csp_nonce_and_no_gov_branding(client: Client) -> None:
    resp = client.get("/account/sign-in/")
    assert resp.status_code == 200
    csp = resp["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    html = resp.content.decode()
    assert "govuk-header__logo" not in html  # no crown in the header
    assert "govuk-footer__crown" not in html and "Crown copyright" not in html
    assert "GOV.UK" not in html


@pytest.mark.django_db
def test_healthz_says_only_ok_to_anonymous_callers(client: Client) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.content == b"ok"
    assert resp["Content-Type"].startswith("text/plain")
    # Signed-in LA staff also see the database engine; a school role does not.
    client.force_login(make_user("hana", "headteacher"))
    assert client.get("/healthz").content == b"ok"
    client.force_login(make_user("dana", "director"))
    details = client.get("/healthz").json()
    assert details["status"] == "ok" and details["database"] in {"sqlite", "postgresql"}


@pytest.mark.browser
def test_sign_in_in_browser_is_accessible(page: Any, live_server: Any, transactional_db: None) -> None:
    make_user("dana", "director")
    page.goto(f"{live_server.url}/account/sign-in/")
    assert_accessible(page)
    sign_in(page, live_server, "dana")
    assert page.url.endswith("/schools/")
    assert page.get_by_role("heading", level=1).inner_text() == "Schools"


def test_compiled_frontend_css_uses_no_gds_transport() -> None:
    from django.conf import settings

    css = (settings.BASE_DIR / "beacon" / "static" / "vendor" / "govuk" / "frontend.css").read_text()
    assert "govuk-button" in css
    assert "GDS Transport" not in css  # the GOV.UK typeface is reserved for GOV.UK services
