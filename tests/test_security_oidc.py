"""OpenID Connect single sign-on against a tiny in-process identity provider.

The provider is a real HTTP server on 127.0.0.1 (token, userinfo and JWKS endpoints) signing RS256 ID
tokens with a key made for the test: a test double for the council's identity provider. The browser's
visit to the provider's sign-in page is played by the test, which asks the provider for a code for the
claims it wants, exactly as the provider would after its own sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from beacon.accounts.models import SecurityEvent, SecurityEventKind, User
from tests.conftest import make_user

CLIENT_ID, CLIENT_SECRET = "beacon-camden", "s3cret-for-tests-only"


@dataclass
class FakeProvider:
    """Authorisation codes -> (claims, nonce, PKCE challenge); access tokens -> userinfo claims."""

    issuer: str = ""
    key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    kid: str = "test-key-1"
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    signing_key: Any = None  # set to another key to forge tokens
    audience: str = CLIENT_ID

    def issue_code(self, authorize_url: str, claims: dict[str, Any]) -> tuple[str, str]:
        query = parse_qs(urlparse(authorize_url).query)
        assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
        assert query["code_challenge_method"] == ["S256"]
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "claims": claims,
            "nonce": query["nonce"][0],
            "challenge": query["code_challenge"][0],
            "redirect_uri": query["redirect_uri"][0],
        }
        return code, query["state"][0]

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def id_token(self, claims: dict[str, Any], nonce: str) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **claims,
        }
        return jwt.encode(body, self.signing_key or self.key, algorithm="RS256", headers={"kid": self.kid})


def _handler(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/jwks":
                return self._json(200, provider.jwks())
            if self.path == "/userinfo":
                bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                claims = provider.tokens.get(bearer)
                return self._json(200, claims) if claims else self._json(401, {"error": "invalid_token"})
            return self._json(404, {"error": "not found"})

        def do_POST(self) -> None:
            if self.path != "/token":
                return self._json(404, {"error": "not found"})
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            provider.token_requests.append(form)
            grant = provider.codes.pop(form.get("code", [""])[0], None)
            if (
                grant is None
                or form.get("client_id") != [CLIENT_ID]
                or form.get("client_secret") != [CLIENT_SECRET]
                or form.get("redirect_uri") != [grant["redirect_uri"]]
            ):
                return self._json(400, {"error": "invalid_grant"})
            verifier = form.get("code_verifier", [""])[0]
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
            if challenge.decode() != grant["challenge"]:
                return self._json(400, {"error": "invalid_grant", "error_description": "PKCE"})
            access = secrets.token_urlsafe(16)
            provider.tokens[access] = {k: v for k, v in grant["claims"].items() if k != "amr"}
            return self._json(
                200,
                {
                    "access_token": access,
                    "token_type": "Bearer",
                    "id_token": provider.id_token(grant["claims"], grant["nonce"]),
                },
            )

    return Handler


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def sso(settings: Any, provider: FakeProvider) -> FakeProvider:
    """Settings as BEACON_OIDC_* environment variables would make them (see beacon/settings.py)."""
    settings.BEACON_OIDC_ENABLED = True
    settings.BEACON_OIDC_ISSUER = provider.issuer
    settings.BEACON_OIDC_PROVIDER_NAME = "your Camden account"
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider.issuer}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider.issuer}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider.issuer}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider.issuer}/jwks"
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "beacon.accounts.oidc.BeaconOIDCBackend",
    ]
    return provider


def sign_on(
    client: Client, provider: FakeProvider, claims: dict[str, Any], next_url: str = "/schools/"
) -> Any:
    start = client.get(f"/account/sso/start/?next={next_url}")
    assert start.status_code == 302 and start["Location"].startswith(f"{provider.issuer}/authorize?")
    code, state = provider.issue_code(start["Location"], claims)
    return client.get(f"/account/sso/callback/?code={code}&state={state}")


def signed_in_as(client: Client) -> str | None:
    from django.contrib.auth import SESSION_KEY

    pk = client.session.get(SESSION_KEY)
    return User.objects.get(pk=pk).username if pk else None


@pytest.mark.django_db
def test_single_sign_on_is_off_unless_configured(client: Client) -> None:
    assert client.get("/account/sso/start/").status_code == 404
    assert client.get("/account/sso/callback/?code=x&state=y").status_code == 404
    assert "Sign in with" not in client.get("/account/sign-in/").content.decode()


@pytest.mark.django_db
def test_a_known_council_user_signs_on_by_email(client: Client, sso: FakeProvider) -> None:
    dana = make_user("dana", "director")
    dana.email = "Dana.Director@camden.gov.uk"
    dana.save()
    assert "Sign in with your Camden account" in client.get("/account/sign-in/").content.decode()
    resp = sign_on(
        client, sso, {"sub": "idp-123", "email": "dana.director@camden.gov.uk", "email_verified": True}
    )
    assert resp.status_code == 302 and resp["Location"] == "/schools/"
    assert signed_in_as(client) == "dana"
    assert client.get("/schools/").status_code == 200
    # PKCE: the token request carried the verifier whose S256 matched the challenge.
    assert len(sso.token_requests) == 1 and sso.token_requests[0]["code_verifier"][0]
    assert SecurityEvent.objects.filter(user=dana, kind=SecurityEventKind.SSO_SIGNED_IN).count() == 1


@pytest.mark.django_db
def test_an_unknown_person_lands_on_no_access_and_no_account_is_made(
    client: Client, sso: FakeProvider
) -> None:
    make_user("dana", "director").__class__  # noqa: B018 - one unrelated account exists
    users = User.objects.count()
    resp = sign_on(
        client, sso, {"sub": "idp-999", "email": "new.starter@camden.gov.uk", "email_verified": True}
    )
    assert resp.status_code == 302 and resp["Location"] == "/account/no-access/"
    page = client.get(resp["Location"])
    assert page.status_code == 200 and "You do not have access to Beacon yet" in page.content.decode()
    assert signed_in_as(client) is None
    assert User.objects.count() == users  # never created, so no role is ever granted by signing in
    event = SecurityEvent.objects.get(kind=SecurityEventKind.SSO_REFUSED)
    assert event.user is None and event.detail == "email=new.starter@camden.gov.uk"


@pytest.mark.django_db
def test_inactive_unverified_or_ambiguous_accounts_are_refused(client: Client, sso: FakeProvider) -> None:
    gone = make_user("gone", "commissioner")
    gone.email, gone.is_active = "gone@camden.gov.uk", False
    gone.save()
    resp = sign_on(client, sso, {"sub": "a", "email": "gone@camden.gov.uk", "email_verified": True})
    assert resp["Location"] == "/account/no-access/"
    ceo = make_user("ceo", "ceo")
    ceo.email = "ceo@camden.gov.uk"
    ceo.save()
    resp = sign_on(client, sso, {"sub": "b", "email": "ceo@camden.gov.uk", "email_verified": False})
    assert resp["Location"] == "/account/no-access/"
    twin = make_user("ceo2", "ceo")
    twin.email = "CEO@camden.gov.uk"
    twin.save()
    resp = sign_on(client, sso, {"sub": "c", "email": "ceo@camden.gov.uk", "email_verified": True})
    assert resp["Location"] == "/account/no-access/"
    assert signed_in_as(client) is None


@pytest.mark.django_db
def test_forged_or_misdirected_tokens_are_refused(client: Client, sso: FakeProvider) -> None:
    dana = make_user("dana", "director")
    dana.email = "dana@camden.gov.uk"
    dana.save()
    claims = {"sub": "idp-1", "email": "dana@camden.gov.uk", "email_verified": True}
    # Signed with a key that is not the provider's published one.
    sso.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert sign_on(client, sso, claims)["Location"] == "/account/no-access/"
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.SSO_REFUSED, detail__contains="JWS").exists()
    sso.signing_key = None
    # Issued for another client.
    sso.audience = "some-other-service"
    assert sign_on(client, sso, claims)["Location"] == "/account/no-access/"
    sso.audience = CLIENT_ID
    assert signed_in_as(client) is None
    # All well: signed in.
    assert sign_on(client, sso, claims)["Location"] == "/schools/"
    assert signed_in_as(client) == "dana"


@pytest.mark.django_db
def test_claim_mapping_by_username(client: Client, settings: Any, sso: FakeProvider) -> None:
    settings.BEACON_OIDC_CLAIM = "preferred_username"
    settings.BEACON_OIDC_USER_FIELD = "username"
    make_user("alex.adviser", "adviser")
    resp = sign_on(client, sso, {"sub": "idp-7", "preferred_username": "Alex.Adviser"})
    assert resp["Location"] == "/schools/" and signed_in_as(client) == "alex.adviser"


@pytest.mark.django_db
def test_provider_mfa_stands_in_for_beacon_totp_only_when_asserted(
    client: Client, settings: Any, sso: FakeProvider
) -> None:
    settings.BEACON_REQUIRE_2FA = True
    dana = make_user("dana", "director")
    dana.email = "dana@camden.gov.uk"
    dana.save()
    base = {"sub": "idp-1", "email": "dana@camden.gov.uk", "email_verified": True}
    sign_on(client, sso, {**base, "amr": ["pwd", "mfa"]})
    assert client.get("/schools/").status_code == 200  # the council's MFA counts
    client.post("/account/sign-out/")
    sign_on(client, sso, {**base, "amr": ["pwd"]})
    resp = client.get("/schools/")  # a password alone at the provider: Beacon's own second factor
    assert resp.status_code == 302 and resp["Location"] == "/account/two-factor/set-up/?next=/schools/"
    client.post("/account/sign-out/")
    settings.BEACON_OIDC_TRUST_IDP_MFA = False
    sign_on(client, sso, {**base, "amr": ["pwd", "mfa"]})
    assert client.get("/schools/")["Location"] == "/account/two-factor/set-up/?next=/schools/"
