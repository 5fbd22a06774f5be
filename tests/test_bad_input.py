"""Bad input never 500s (issue 13 item 6).

Every GET page (the access matrix's crawl, its fillers and world) is requested with each query parameter it
reads (recorded as the page runs; see RecordingQueryDict) set to hostile values: huge and negative numbers,
non-ASCII digits ("²"), other unicode, empty, NUL, very long, repeated. Nothing may answer 5xx, and a refusal (400/403/404) is the GOV.UK-styled page.
Also: the error pages themselves, upload size caps, the zip-bomb check, rejected files removed, no server
paths in import messages, and who holds staff status.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIRequest, get_bytes_from_wsgi
from django.http import QueryDict
from django.test import Client, RequestFactory
from django.utils.functional import cached_property

from tests.conftest import make_user
from tests.test_access_matrix import (
    World,
    build_path,
    fill,
    url_patterns,
    world,  # noqa: F401  (the fixture)
)

pytestmark = pytest.mark.django_db

HOSTILE: list[Any] = [
    "99999999999999999999999999",
    "-1",
    "²",
    "٣",  # an Arabic-Indic digit: int() accepts it, a database id is not it
    "Ω≈ç√ 𝔘 😀",
    "",
    "\x00",
    "x" * 3000,
    ["1", "²"],  # repeated
]
# Values that mean something to one parameter only.
SPECIFIC: dict[str, list[str]] = {
    "term": ["summer-1999", "autumn-0000", "spring-٢٠٢٥"],
    "period": ["autumn-1-0000", "summer-2-9999"],
    "year": ["0", "1999", "٢٠٢٥"],
    "format": ["csv", "xlsx", "CSV", "pdf"],
}
# The query parameters each part of the service reads (grep request.GET and the from_query selectors).
PARAMS: dict[str, tuple[str, ...]] = {
    "schools": ("q", "la", "phase", "type", "ofsted", "include", "page", "format"),
    "assessments": ("term", "rag", "level", "phase", "adviser", "meeting", "format"),
    "accountability": ("period", "year", "table", "format", "show", "term"),
    "reporting": ("framework", "format", "la"),
    "futureoptions": ("phase", "flag", "school", "format"),
    "support": ("case", "year", "format"),
    "interventions": ("format",),
    "profiles": ("name", "area", "phase", "page"),
    "imports": ("page",),
    "accounts": ("next",),
    "core": ("format",),
}
SIGN_OUT = {"accounts:logout", "admin:logout"}


def _styled(resp: Any) -> bool:
    if not resp.get("Content-Type", "").startswith("text/html"):
        return True  # a download or JSON refused with its own type
    return "govuk-template" in resp.content.decode(errors="replace")


# --- which query parameters a page reads -----------------------------------------------------------
# Each page is fuzzed on the parameters it actually reads, found by requesting it with a query dict that
# records every key looked up (`get`, `getlist`, `[key]`, `in`). A page that reads the whole query
# (iterates it, `items()`, `dict()`, `urlencode()`) is fuzzed on every parameter of its part of the
# service, as before. A copy taken to build links (pagination, export links) passes the query through:
# its keys are fuzzed through the generic parameter PASSTHROUGH, and any key it looks up is recorded.


class Reads:
    keys: set[str] = set()
    everything = False
    passthrough = False

    @classmethod
    def reset(cls) -> None:
        cls.keys, cls.everything, cls.passthrough = set(), False, False


def _unrecorded[T](make: Callable[[], T]) -> T:
    saved = (set(Reads.keys), Reads.everything, Reads.passthrough)
    made = make()
    Reads.keys, Reads.everything, Reads.passthrough = saved
    return made


class RecordingQueryDict(QueryDict):
    _copy = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _unrecorded(lambda: super(RecordingQueryDict, self).__init__(*args, **kwargs))

    def _key(self, key: Any) -> None:
        Reads.keys.add(str(key))

    def _all(self) -> None:
        if self._copy:
            Reads.passthrough = True
        else:
            Reads.everything = True

    def __getitem__(self, key: Any) -> Any:
        self._key(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._key(key)
        return super().get(key, default)

    def getlist(self, key: Any, default: Any = None) -> Any:
        self._key(key)
        return super().getlist(key, default)

    def __contains__(self, key: object) -> bool:
        self._key(key)
        return super().__contains__(key)

    def __iter__(self) -> Any:
        self._all()
        return super().__iter__()

    def items(self) -> Any:
        self._all()
        return super().items()

    def lists(self) -> Any:
        self._all()
        return super().lists()

    def values(self) -> Any:
        self._all()
        return super().values()

    def dict(self) -> Any:
        self._all()
        return super().dict()

    def urlencode(self, safe: Any = None) -> str:
        self._all()
        return super().urlencode(safe)

    def copy(self) -> Any:
        duplicate = _unrecorded(super().copy)  # reads every list of self: not the view's doing
        duplicate._copy = True
        return duplicate


@pytest.fixture
def recorded_reads(monkeypatch: pytest.MonkeyPatch) -> type[Reads]:
    def get(request: WSGIRequest) -> QueryDict:
        raw = get_bytes_from_wsgi(request.environ, "QUERY_STRING", "")
        return RecordingQueryDict(raw, encoding=request._encoding)

    prop = cached_property(get)
    prop.__set_name__(WSGIRequest, "GET")
    monkeypatch.setattr(WSGIRequest, "GET", prop)
    Reads.reset()
    return Reads


PASSTHROUGH = "beacon-passthrough"


def _fuzzed_params(client: Client, path: str, ns: str) -> list[str]:
    """The query parameters `path` reads, from two requests: one with an unrelated parameter (a form bound
    to a non-empty query reads its fields) and one with every parameter of its part of the service."""
    Reads.reset()
    client.get(path, {PASSTHROUGH: "1"})
    client.get(path, dict.fromkeys(PARAMS[ns], "²"))
    params = set(PARAMS[ns]) | Reads.keys if Reads.everything else set(Reads.keys)
    params.discard(PASSTHROUGH)
    if Reads.passthrough or Reads.everything:
        params.add(PASSTHROUGH)
    return sorted(params)


def test_hostile_query_strings_never_500(world: World, recorded_reads: type[Reads]) -> None:  # noqa: F811
    director = Client()
    director.force_login(world.users["director"])
    anonymous = Client()
    problems: list[str] = []
    requested = 0
    fuzzed: dict[str, set[str]] = {}
    for route, name, _pattern in url_patterns():
        ns = name.split(":")[0]
        if name in SIGN_OUT or ns not in PARAMS:
            continue
        values = fill(world, name, route, "A")
        assert not isinstance(values, str), values
        path = build_path(route, values)
        clients = (director, anonymous) if ns in {"profiles", "core", "accounts"} else (director,)
        for client in clients:
            params = _fuzzed_params(client, path, ns)
            fuzzed.setdefault(name, set()).update(params)
            for param in params:
                for value in HOSTILE + SPECIFIC.get(param, []):
                    resp = client.get(path, {param: value})
                    requested += 1
                    where = f"GET {path}?{param}={str(value)[:40]!r} ({name})"
                    if resp.status_code >= 500:
                        problems.append(f"{where}: {resp.status_code}")
                    elif resp.status_code in {400, 403, 404} and not _styled(resp):
                        problems.append(f"{where}: {resp.status_code} without the GOV.UK error page")
            # Every parameter hostile at once.
            resp = client.get(path, dict.fromkeys(PARAMS[ns], "²"))
            if resp.status_code >= 500:
                problems.append(f"GET {path} with every parameter '²' ({name}): {resp.status_code}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])
    # The recording found what the main pages read (were it broken, nothing would be fuzzed).
    assert set(PARAMS["schools"]) - {"format"} <= fuzzed["schools:list"], fuzzed["schools:list"]
    assert {"term", "rag", "level", "phase", "adviser"} <= fuzzed["assessments:register"]
    assert {"name", "area", "phase", "page"} <= fuzzed["profiles:search"]
    assert "term" in fuzzed["assessments:school"]
    assert requested > 500


def test_the_recording_query_dict_tells_a_lookup_from_a_pass_through(recorded_reads: type[Reads]) -> None:
    q = RecordingQueryDict("a=1&b=2")
    assert q.get("a") == "1" and "c" not in q
    assert Reads.keys == {"a", "c"} and not Reads.everything and not Reads.passthrough
    link = q.copy()
    link["page"] = "2"
    assert link.urlencode() == "a=1&b=2&page=2"
    assert Reads.passthrough and not Reads.everything and Reads.keys == {"a", "c"}
    assert dict(q.items()) == {"a": "1", "b": "2"}
    assert Reads.everything


def test_the_issues_examples_are_404_or_ignored(camden_register: None) -> None:
    client = Client()
    client.force_login(make_user("dli", "director"))
    assert client.get("/schools/?q=%C2%B2").status_code == 200  # searched for, nothing found
    assert client.get("/schools/?la=999999999999999999999999").status_code == 200  # no such LA: ignored
    missing = client.get("/risk/meeting-pack.pdf?meeting=%C2%B2")
    assert missing.status_code == 404 and "Page not found" in missing.content.decode()
    assert client.get("/risk/meeting-pack.pdf?meeting=99999999999999999999999").status_code == 404
    nul = client.get("/schools/?q=%00")  # PostgreSQL refuses NUL in text: a 400, not a database error
    assert nul.status_code == 400 and "There is a problem with the address" in nul.content.decode()


def test_error_pages_are_styled_without_staff_navigation_for_anonymous_visitors(
    camden_register: None,
) -> None:
    from beacon.core.views import server_error

    anon = Client()
    for path in ("/no-such-page/", "/find-a-school/999999999/"):
        resp = anon.get(path)
        html = resp.content.decode()
        assert resp.status_code == 404, path
        assert "govuk-template" in html and "Page not found" in html
        assert "govuk-service-navigation" not in html  # no staff navigation
        assert "Sign out" not in html
    staff = Client()
    staff.force_login(make_user("hana", "headteacher", schools=(100008,)))
    refused = staff.get("/schools/100049/")
    assert refused.status_code == 403 and "You do not have access to this page" in refused.content.decode()
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(make_user("dana", "director"))
    refused_form = csrf.post("/risk/terms/new/", {"season": "autumn", "academic_year": "2025"})
    assert refused_form.status_code == 403 and "govuk-template" in refused_form.content.decode()
    request = RequestFactory().get("/boom/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    crash = server_error(request)
    text = crash.content.decode()
    assert crash.status_code == 500 and "Sorry, there is a problem with the service" in text
    assert "Traceback" not in text and "govuk-template" in text


def test_staff_status_only_where_admin_is_needed(camden_register: None) -> None:
    from beacon.accounts.services import create_demo_users

    _password, users = create_demo_users(202)
    assert len(users) >= 8
    assert [u.username for u in users if u.is_staff or u.is_superuser] == []
    # The admin site refuses them all.
    for user in users:
        client = Client()
        client.force_login(user)
        assert client.get("/admin/").status_code == 302, user.username


# --- uploads ---------------------------------------------------------------------------------------


def _xlsx_bomb(expanded: int) -> bytes:
    """A valid-looking .xlsx (zip) whose one sheet expands to `expanded` bytes of the same character."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"0" * (1 << 20)
            for _ in range(expanded // len(chunk)):
                member.write(chunk)
    return buf.getvalue()


def test_an_xlsx_zip_bomb_is_refused_before_it_is_read(tmp_path: Path, settings: Any) -> None:
    from beacon.imports.parsing import UploadTooLarge, check_archive

    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(_xlsx_bomb(300 << 20))  # 300 MB of zeros in well under 1 MB
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(UploadTooLarge) as err:
        check_archive(bomb)
    assert "expands to" in str(err.value) and str(tmp_path) not in str(err.value)
    # A real workbook passes.
    real = tmp_path / "real.xlsx"
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["URN", "Name"])
    wb.active.append([100008, "Argyle Primary School"])
    wb.save(real)
    check_archive(real)


def _upload(client: Client, name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/imports/upload/",
        {"source": "school_census", "file": SimpleUploadedFile(name, content)},
    )


def _stored_uploads(settings: Any) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_upload_page_refuses_a_zip_bomb_and_oversized_files(camden_register: None, settings: Any) -> None:
    from beacon.imports.models import ImportRun

    runs = ImportRun.objects.count()
    client = Client()
    client.force_login(make_user("data", "data_manager"))
    bomb = _upload(client, "census.xlsx", _xlsx_bomb(300 << 20))
    assert bomb.status_code == 200  # the form again, with the reason
    assert "expands to 300 MB when opened" in bomb.content.decode()
    assert ImportRun.objects.count() == runs and _stored_uploads(settings) == []

    settings.BEACON_IMPORT_MAX_UPLOAD_BYTES = 10_000
    big = _upload(client, "census.csv", b"URN,Name\n" + b"100008,Argyle\n" * 2000)
    assert big.status_code == 200 and "The file must be smaller than 10 KB" in big.content.decode()
    assert ImportRun.objects.count() == runs and _stored_uploads(settings) == []
    # A body far over the limit is refused from its Content-Length, on the styled page.
    huge = _upload(client, "census.csv", b"URN,Name\n" + b"100008,Argyle\n" * 100_000)
    assert huge.status_code == 413 and "The file is too large" in huge.content.decode()
    assert ImportRun.objects.count() == runs and _stored_uploads(settings) == []


def test_rejected_uploads_are_deleted_and_messages_show_no_server_paths(
    camden_register: None, settings: Any, tmp_path: Path
) -> None:
    from beacon.imports.framework import run_import
    from beacon.imports.models import ImportRun, RunStatus

    client = Client()
    client.force_login(make_user("data", "data_manager"))
    resp = _upload(client, "census.csv", b"URN,School name\nnot-a-urn,Nowhere\n")
    assert resp.status_code == 302
    run = ImportRun.objects.latest("pk")
    assert run.status == RunStatus.REJECTED and run.error_count > 0
    assert _stored_uploads(settings) == []  # the rejected file is gone; the run keeps its name and hash
    assert run.file_name == "census.csv" and len(run.sha256) == 64

    # An unreadable workbook from the command line: the message names no server path.
    broken = tmp_path / "deep" / "folder" / "census.xlsx"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"PK\x03\x04 this is not really a workbook")
    run = run_import("school_census", broken)
    assert run.status in {RunStatus.REJECTED, RunStatus.FAILED}
    shown = run.message + " ".join(str(e.get("reason", "")) for e in run.errors or [])
    assert str(tmp_path) not in shown and "/deep/folder" not in shown, shown
    page = client.get(f"/imports/{run.pk}/").content.decode()
    assert str(tmp_path) not in page and str(settings.BASE_DIR) not in page


def test_without_paths_strips_absolute_paths() -> None:
    from beacon.imports.framework import without_paths

    text = without_paths(
        "cannot open /srv/beacon/var/media/imports/ab12.xlsx: no such file", Path("/x/y.csv")
    )
    assert text == "cannot open [path]: no such file"
    assert without_paths("failed on /x/y.csv", Path("/x/y.csv")) == "failed on the file"
    assert without_paths("row 2 of 3 is 1/2 full") == "row 2 of 3 is 1/2 full"
