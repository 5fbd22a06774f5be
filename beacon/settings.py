"""Django settings for Beacon.

Everything environment-specific comes from environment variables so that the same code runs
as the embedded single-user demo (SQLite) and as the multi-user service (PostgreSQL).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BEACON_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Real DfE/Ofsted files live beside the repository, never inside it (see docs/ARCHITECTURE.md).
DATA_DIR = Path(os.environ.get("BEACON_DATA_DIR", BASE_DIR.parent / "shared" / "data" / "raw"))

DEBUG = os.environ.get("BEACON_DEBUG", "0") == "1"
PRODUCTION = os.environ.get("BEACON_PRODUCTION", "0") == "1"

_secret = os.environ.get("BEACON_SECRET_KEY")
if _secret is None:
    if PRODUCTION:
        raise RuntimeError("BEACON_SECRET_KEY must be set in production")
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(64))
        _key_file.chmod(0o600)
    _secret = _key_file.read_text().strip()
SECRET_KEY = _secret

ALLOWED_HOSTS = [
    h for h in os.environ.get("BEACON_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h
]

# The local authority this deployment serves (DfE "old" LA code; 202 = Camden).
BEACON_LA_CODE = int(os.environ.get("BEACON_LA_CODE", "202"))
BEACON_SERVICE_NAME = os.environ.get("BEACON_SERVICE_NAME", "Beacon")
BEACON_ORGANISATION = os.environ.get("BEACON_ORGANISATION", "London Borough of Camden")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "beacon.core",
    "beacon.accounts",
    "beacon.schools",
    "beacon.indicators",
    "beacon.inspections",
    "beacon.imports",
    "beacon.assessments",
    "beacon.risk",
    "beacon.earlywarning",
    "beacon.support",
    "beacon.interventions",
    "beacon.accountability",
    "beacon.futureoptions",
    "beacon.profiles",
    "beacon.reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "beacon.core.middleware.RequestSizeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "beacon.core.middleware.SessionTimeoutMiddleware",
    "beacon.core.middleware.TwoFactorMiddleware",
    "beacon.core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "beacon.urls"
WSGI_APPLICATION = "beacon.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "beacon" / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "beacon.core.jinja.environment",
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.messages.context_processors.messages",
                "beacon.core.context_processors.service",
            ],
        },
    },
    {
        # Django's own admin keeps its Django templates.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]


def _database_from_url(url: str) -> dict[str, object]:
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise RuntimeError(f"Unsupported DATABASE_URL scheme: {parsed.scheme}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 60,
        "TEST": {"NAME": f"test_{unquote(parsed.path.lstrip('/'))}"},
    }


_db_url = os.environ.get("DATABASE_URL", "")
if _db_url:
    DATABASES = {"default": _database_from_url(_db_url)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("BEACON_SQLITE_PATH", str(VAR_DIR / "beacon.sqlite3")),
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling (django-axes): lock a username+IP pair after 5 failures for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"

# Sessions: HTTP-only cookies, an idle timeout and an absolute timeout (core.middleware).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60  # absolute: 8 hours
# The termly pass scores this many schools or more in a worker process beside its rules (decision 0028);
# fewer are scored in the pass's own process (a worker's start-up would cost more than it saves).
BEACON_SCORING_WORKER_MIN_SCHOOLS = int(os.environ.get("BEACON_SCORING_WORKER_MIN_SCHOOLS", "2000"))
# A frame of at least this many rows that the termly pass reads from a SQLite file is read in a separate
# process, in Arrow columns, while the pass reads the rest (decision 0032); smaller ones are read in-process.
BEACON_SEPARATE_READER_MIN_ROWS = int(os.environ.get("BEACON_SEPARATE_READER_MIN_ROWS", "200000"))
BEACON_SESSION_IDLE_SECONDS = int(os.environ.get("BEACON_SESSION_IDLE_SECONDS", str(30 * 60)))
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("BEACON_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


# --- Security (issue 7, OWASP ASVS 5.0 level 2; see docs/decisions/0012-two-factor-and-single-sign-on.md) ---
def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None or value == "" else value.strip().lower() in {"1", "true", "yes", "on"}


# Two-factor sign-in (TOTP, django-otp) for staff: on by default in production, off in the demo and tests.
BEACON_REQUIRE_2FA = _flag("BEACON_REQUIRE_2FA", PRODUCTION)
OTP_TOTP_ISSUER = BEACON_SERVICE_NAME
OTP_TOTP_THROTTLE_FACTOR = 1
BEACON_RECOVERY_CODES = 10
# The admin site: staff accounts only, and behind the second factor whenever it is required.
BEACON_ADMIN_REQUIRE_2FA = _flag("BEACON_ADMIN_REQUIRE_2FA", BEACON_REQUIRE_2FA)

# OpenID Connect single sign-on with the council's identity provider: off unless configured.
OIDC_RP_CLIENT_ID = os.environ.get("BEACON_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("BEACON_OIDC_CLIENT_SECRET", "")
BEACON_OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID and os.environ.get("BEACON_OIDC_ISSUER"))
BEACON_OIDC_ISSUER = os.environ.get("BEACON_OIDC_ISSUER", "").rstrip("/")
BEACON_OIDC_PROVIDER_NAME = os.environ.get("BEACON_OIDC_PROVIDER_NAME", "your council account")
# The claim that identifies the person and the Beacon user field it must equal (no accounts are created).
BEACON_OIDC_CLAIM = os.environ.get("BEACON_OIDC_CLAIM", "email")
BEACON_OIDC_USER_FIELD = os.environ.get("BEACON_OIDC_USER_FIELD", "email")
# Accept the provider's multi-factor sign-in (an `amr` claim of mfa/otp/hwk...) in place of Beacon's own TOTP.
BEACON_OIDC_TRUST_IDP_MFA = _flag("BEACON_OIDC_TRUST_IDP_MFA", True)
OIDC_RP_SIGN_ALGO = os.environ.get("BEACON_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("BEACON_OIDC_SCOPES", "openid email profile")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get(
    "BEACON_OIDC_AUTHORIZATION_ENDPOINT", f"{BEACON_OIDC_ISSUER}/authorize"
)
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("BEACON_OIDC_TOKEN_ENDPOINT", f"{BEACON_OIDC_ISSUER}/token")
OIDC_OP_USER_ENDPOINT = os.environ.get("BEACON_OIDC_USERINFO_ENDPOINT", f"{BEACON_OIDC_ISSUER}/userinfo")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("BEACON_OIDC_JWKS_ENDPOINT", f"{BEACON_OIDC_ISSUER}/jwks")
OIDC_CREATE_USER = False
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_VERIFY_SSL = True
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc_callback"
LOGIN_REDIRECT_URL_FAILURE = "/account/no-access/"
if BEACON_OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("beacon.accounts.oidc.BeaconOIDCBackend")

# Cookies and headers. COOP defaults to same-origin in Django; Permissions-Policy is set by core.middleware.
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
BEACON_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), browsing-topics=()"
)
if PRODUCTION:
    # __Host- cookies: Secure, path=/, never shared with another subdomain.
    SESSION_COOKIE_NAME = "__Host-beacon_session"
    CSRF_COOKIE_NAME = "__Host-beacon_csrf"
    if len(SECRET_KEY) < 50:
        raise RuntimeError("BEACON_SECRET_KEY must be at least 50 characters in production")

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "beacon" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
CSRF_FAILURE_VIEW = "beacon.core.views.csrf_failure"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # larger uploads stream to a temporary file
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # the non-file part of any request body
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# Import uploads (issue 13 item 6): the file as sent (the national census CSV is 31 MB) and, for .xlsx
# (a zip), the sum of its members' uncompressed sizes and the largest member's compression ratio.
BEACON_IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("BEACON_IMPORT_MAX_UPLOAD_BYTES", 100 * 1024 * 1024))
BEACON_IMPORT_MAX_EXPANDED_BYTES = int(os.environ.get("BEACON_IMPORT_MAX_EXPANDED_BYTES", 200 * 1024 * 1024))
BEACON_IMPORT_MAX_COMPRESSION_RATIO = 100

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BEACON_LOG_LEVEL", "WARNING")},
}
