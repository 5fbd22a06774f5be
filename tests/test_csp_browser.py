"""The strict nonce CSP lets the page's own scripts run: the GOV.UK template's inline "js-enabled" script
carries the request's nonce, so components get their JavaScript behaviour, and nothing is blocked (the
`page` fixture fails any test during which the browser reports a CSP violation)."""

from typing import Any

import pytest


@pytest.mark.browser
def test_inline_template_script_carries_the_nonce_and_runs(
    page: Any, live_server: Any, transactional_db: None
) -> None:
    response = page.goto(f"{live_server.url}/account/sign-in/")
    csp = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp
    # browsers hide the nonce attribute from the DOM once parsed; the element's nonce property keeps it
    nonce = page.evaluate("document.querySelector('body > script').nonce")
    assert nonce and f"'nonce-{nonce}'" in csp
    classes = page.locator("body").get_attribute("class") or ""
    assert "js-enabled" in classes and "govuk-frontend-supported" in classes
