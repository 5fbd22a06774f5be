"""Shared fixtures. Tests run on real DfE/Ofsted rows from ../shared/data (BEACON_DATA_DIR)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.replay import every_row, load_once

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by tests are still
# synchronous and safe, so tell Django not to refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CAMDEN = 202
DATA = Path(settings.DATA_DIR)
CHROMIUM = os.environ.get("BEACON_CHROMIUM", "/usr/bin/chromium")
AXE_JS = Path(settings.BASE_DIR) / "beacon" / "static" / "vendor" / "axe" / "axe.min.js"


# What the migrations seed (rulebooks, letter templates, the strategy's pledges and targets...), read once
# per test process right after the test database is built. A transactional test (live server,
# transaction=True) ends with Django's flush, which empties every table; the rows are then written back at
# once, so no later test on the same worker (pytest-xdist) depends on whether a browser test ran first.
_SEEDED: dict[str, Any] = {}
_TESTDB_DIR = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    # The xdist controller: a directory for this run's template database (tests/testdb.py).
    if not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None):
        config.stash[_TESTDB_DIR] = tempfile.mkdtemp(prefix="beacon-testdb-")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    from tests import testdb

    if _TESTDB_DIR in node.config.stash:
        node.workerinput[testdb.RUN_DIR] = node.config.stash[_TESTDB_DIR]


def pytest_unconfigure(config: pytest.Config) -> None:
    if _TESTDB_DIR in config.stash:
        from pytest_django.plugin import blocking_manager_key

        from tests import testdb

        testdb.remove_template(config.stash[_TESTDB_DIR], config.stash[blocking_manager_key])


def _clones(config: pytest.Config) -> bool:
    """Whether this process is an xdist worker that copies the run's template database."""
    from tests import testdb

    workerinput = getattr(config, "workerinput", None)
    return bool(
        workerinput
        and testdb.RUN_DIR in workerinput
        and not config.getvalue("reuse_db")
        and not config.getvalue("nomigrations")
    )


@pytest.fixture(scope="session")
def django_db_modify_db_settings_xdist_suffix(request: pytest.FixtureRequest) -> None:
    """Cloned workers (tests/testdb.py) name their own databases; keep pytest-django's `_gw0` suffix
    where a worker does not clone (--reuse-db: each worker keeps and migrates its own database)."""
    workerinput = getattr(request.config, "workerinput", None)
    if workerinput and not _clones(request.config):
        from pytest_django.fixtures import _set_suffix_to_test_databases

        _set_suffix_to_test_databases(suffix=workerinput["workerid"])


def _empty_every_table(self: Any) -> None:
    """TransactionTestCase's flush after a transactional test, on PostgreSQL, as one DELETE per table in one
    transaction (foreign keys are deferred to its end). Django's TRUNCATE makes new files for every table
    and index: 3 s a test here, where deleting the few rows a test leaves takes 0.02 s. post_migrate is not
    sent (as with serialized rollback): pytest_runtest_teardown writes the seeded rows back."""
    from django.db import connections, transaction

    for alias in self._databases_names(include_mirrors=False):
        conn = connections[alias]
        tables = conn.introspection.django_table_names(only_existing=True, include_views=False)
        with transaction.atomic(using=alias), conn.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in tables:
                cur.execute(f"DELETE FROM {conn.ops.quote_name(table)}")  # noqa: S608 (Django's table names)


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_use_migrations: bool,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """pytest-django's test database setup, except that xdist workers clone one migrated template
    instead of each running every migration (tests/testdb.py, decision 0025)."""
    from django.db import connection, connections
    from django.test.utils import setup_databases, teardown_databases

    from tests import testdb

    verbosity = request.config.option.verbose
    workerinput = getattr(request.config, "workerinput", None)
    keepdb = django_db_keepdb and not django_db_createdb
    clone = _clones(request.config)
    assert list(connections) == ["default"], "cloning handles the one database Beacon has"
    with django_db_blocker.unblock():
        if clone:
            old_names = testdb.setup_worker_database(connection, workerinput, verbosity)
        else:
            if not django_db_use_migrations:
                from pytest_django.fixtures import _disable_migrations

                _disable_migrations()
            old_names = setup_databases(
                verbosity=verbosity,
                interactive=False,
                keepdb=keepdb,
                aliases={"default"},
                serialized_aliases=set(),
            )
        _SEEDED["rows"] = every_row()
        # Serialized rollback with nothing to load before a test: Django's flush after a transactional
        # test then leaves out post_migrate (which rebuilt content types and the seeded rows, only for them
        # to be emptied again), and pytest_runtest_teardown writes the seeded rows back. Set on the
        # backend's class: a browser test's thread-local context may hold another wrapper object.
        type(connections["default"])._test_serialized_contents = "[]"
        if connection.vendor == "postgresql":
            import django.test

            django.test.TransactionTestCase._fixture_teardown = _empty_every_table  # type: ignore[method-assign]
    _SEEDED["blocker"] = django_db_blocker
    yield
    _SEEDED.clear()
    if not keepdb:
        with django_db_blocker.unblock():
            if clone:
                testdb.end_stray_sessions(connection)  # the database is this worker's alone
            try:
                teardown_databases(old_names, verbosity=verbosity)
            except Exception as exc:  # as pytest-django: a warning, not a failed test
                request.node.warn(pytest.PytestWarning(f"Error tearing down the test database: {exc!r}"))


@pytest.fixture(scope="session")
def live_server(django_db_setup: None, live_server: Any) -> Any:
    """pytest-django's live server, started after the test database exists and so stopped before it is
    dropped (its threads' PostgreSQL sessions would otherwise block DROP DATABASE)."""
    return live_server


def _transactional(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    if {"transactional_db", "live_server", "django_db_reset_sequences"} & set(names):
        return True
    marker = item.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    # Only between two tests of this process: after its last one the session's teardown has already
    # destroyed the test database and pointed the connection back at the real one.
    if "rows" in _SEEDED and nextitem is not None and _transactional(item):
        from django.contrib.contenttypes.models import ContentType
        from django.db import connection

        if not str(connection.settings_dict["NAME"]).startswith(("test_", "file:memorydb")):
            return  # never touch a database that is not a test database
        with _SEEDED["blocker"].unblock():
            # Django's flush (post_migrate left out: serialized rollback, below) emptied every table:
            # write the seeded rows back with their own keys.
            _SEEDED["rows"].replay()
            ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def django_db_serialized_rollback() -> None:
    """Every test asks for pytest-django's serialized rollback (for a transactional test: Django's flush
    without post_migrate, and the empty serialisation set in django_db_setup loaded before it)."""


@pytest.fixture(autouse=True)
def _settings_for_tests(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BEACON_IMPORT_IN_BACKGROUND = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# Parsed files by (source, SHA-256), kept for the whole session: the suite imports the same national files
# for many fixtures. Only reading and validation are memoised; loading runs in full every time. (Test-only:
# production code has no such cache.)
_PARSED: dict[tuple[str, str], Any] = {}


@pytest.fixture(autouse=True)
def _memoised_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from beacon.imports import framework

    real = framework._read_and_validate

    def memoised(source: Any, path: Path, sha256: str, ctx: Any) -> Any:
        key = (source.key, sha256)
        if key not in _PARSED:
            _PARSED[key] = real(source, path, sha256, ctx)
        return _PARSED[key]

    monkeypatch.setattr(framework, "_read_and_validate", memoised)


@pytest.fixture
def data_dir() -> Path:
    if not DATA.exists():
        pytest.fail(f"The shared data directory {DATA} is missing (set BEACON_DATA_DIR)")
    return DATA


@pytest.fixture
def camden_register(db: None, data_dir: Path) -> None:
    """The real Camden register: census 2022/23 then GIAS 2022."""
    from beacon.imports.framework import run_import
    from beacon.imports.models import RunStatus

    def load() -> None:
        for source, rel in (
            ("school_census", "helios-census-2022-23/spc_school_level_underlying_data_2022_23.csv"),
            ("gias_establishments", "clarelgibson-england-school-admissions/dim_school.csv"),
        ):
            run = run_import(source, data_dir / rel, la_code=CAMDEN)
            assert run.status == RunStatus.SUCCEEDED, run.message

    load_once("camden_register", load)


@pytest.fixture
def camden_demo(db: None, data_dir: Path) -> None:
    """Everything `make run` loads for Camden."""
    from beacon.imports.demo import load_demo
    from beacon.imports.models import RunStatus

    def load() -> None:
        runs = load_demo(data_dir, la_code=CAMDEN, log=lambda _m: None)
        bad = [r.message for r in runs if r.status != RunStatus.SUCCEEDED]
        assert not bad, bad

    load_once("camden_demo", load)


def make_user(
    username: str, role: str, *, schools: tuple[int, ...] = (), la_code: int | None = CAMDEN
) -> Any:
    from beacon.accounts.models import SchoolAssignment, User
    from beacon.schools.models import School

    user = User.objects.create_user(
        username=username, password="correct-horse-battery", role=role, la_code=la_code
    )
    for urn in schools:
        SchoolAssignment.objects.create(user=user, school=School.objects.get(urn=urn))
    return user


# ---------------------------------------------------------------------------------------------
# Browser (Playwright driving Debian's Chromium) and accessibility (axe-core)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser`")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def _watch_csp(pg: Any) -> list[str]:
    """Collect Content Security Policy violations the browser reports while a test runs."""
    violations: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(message.text)

    pg.on("console", on_console)
    return violations


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    violations = _watch_csp(pg)
    yield pg
    context.close()
    assert not violations, f"the browser blocked content under the CSP: {violations}"


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    violations = _watch_csp(pg)
    yield pg
    context.close()
    assert not violations, f"the browser blocked content under the CSP: {violations}"


def sign_in(page: Any, live_server: Any, username: str, password: str = "correct-horse-battery") -> None:
    page.goto(f"{live_server.url}/account/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_in_by_session(page: Any, live_server: Any, username: str, *, then: str | None = None) -> None:
    """Sign in without the form: a session made server-side (as the form would), its cookie given to
    the browser. One page load fewer than `sign_in` twice over; the form itself stays covered by the
    tests that use `sign_in` (test_smoke, test_security_browser with two-factor). `then` opens a page."""
    from django.test import Client

    from beacon.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    if then is not None:
        page.goto(f"{live_server.url}{then}")
        page.wait_for_load_state()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on the current page."""
    # Evaluated through the DevTools protocol, so the page's strict CSP stays in force for the test.
    # A click that navigates returns once the next page has started to load; axe must wait for it to
    # have loaded, or it reads a document with no element yet (it failed so once in CI).
    page.wait_for_load_state()
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text() + "\n;true")
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
    ]


def assert_accessible(page: Any) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe found WCAG 2.2 AA violations on {page.url}: {violations}"


def assert_no_horizontal_scroll(page: Any) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at {page.viewport_size['width']}px"
