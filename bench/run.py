#!/usr/bin/env python
"""National-scale import benchmark: `make bench` (or `.venv/bin/python bench/run.py --help`).

Imports every demo file of every registered source with no LA filter into a fresh temporary SQLite
database and, with `--postgres URL`, into a fresh temporary PostgreSQL database on that server, as
`manage.py load_demo --national` does: the same plan, in one process (`import_files`: each file its own
run and transaction). For comparison each file is also read with polars only (every cell as text) and
with the source's own reader, each in its own subprocess.

See bench/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


# ----------------------------------------------------------------------------------------------
# Worker side (runs in a subprocess; prints one JSON line)


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beacon.settings")
    import django

    django.setup()


def _self_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _database_rows() -> int:
    """Rows in every Beacon table (values, register, history, runs...): what an import really wrote."""
    from django.apps import apps

    return sum(m._default_manager.count() for m in apps.get_models() if m.__module__.startswith("beacon."))


PAGES = (
    ("school list", "/schools/"),
    ("school page", "/schools/100008/"),
    ("LA overview", "/schools/local-authority/"),
    ("risk register", "/risk/"),
    ("school risk assessment", "/risk/100008/"),
    ("caseload", "/support/"),
)
PAGE_REPEATS = 5
TRAIN_AS_OF = "2025-09-01"  # the early-warning model the termly pass scores with (bench_early_warning's date)


def _user_for(role: str, la_code: int) -> Any:
    """The user the page timings sign in as: the demo account of that role in `la_code` (director...), or
    for a role no demo account has (e.g. a national role) a user `bench-<role>` without an LA. None if
    Beacon has no such role."""
    from beacon.accounts.models import User
    from beacon.accounts.roles import Role
    from beacon.accounts.services import DEMO_ACCOUNTS, create_demo_users

    if role not in Role.values:
        return None
    if any(a.role == role for a in DEMO_ACCOUNTS):
        _, users = create_demo_users(la_code, secrets.token_urlsafe(16))
        return next(u for u in users if u.role == role)
    user, _ = User.objects.update_or_create(
        username=f"bench-{role}", defaults={"role": role, "la_code": None, "is_active": True}
    )
    return user


def time_pages(la_code: int, role: str = "director") -> dict[str, Any]:
    """Server-side time of the main pages (Django test client: URL routing, middleware, queries,
    templates; no network), signed in as `role` (the demo account of LA `la_code`, see _user_for), over
    the national database. {"skipped": reason} if Beacon has no such role."""
    import statistics

    from django.test import Client

    user = _user_for(role, la_code)
    if user is None:
        return {"role": role, "skipped": f"Beacon has no role {role!r} (beacon.accounts.roles.Role): skipped"}
    client = Client(SERVER_NAME="localhost")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    rows = []
    for name, url in PAGES:
        first = time.perf_counter()
        res = client.get(url)
        cold = time.perf_counter() - first
        times = []
        for _ in range(PAGE_REPEATS):
            t = time.perf_counter()
            res = client.get(url)
            times.append(time.perf_counter() - t)
        rows.append(
            {
                "page": name,
                "url": url,
                "status": res.status_code,
                "kib": round(len(res.content) / 1024, 1),
                "first_ms": round(cold * 1000, 1),
                "median_ms": round(statistics.median(times) * 1000, 1),
                "max_ms": round(max(times) * 1000, 1),
            }
        )
    return {"role": role, "user": user.username, "pages": rows}


def worker(argv: list[str]) -> None:
    mode = argv[0]
    t0 = time.perf_counter()
    _django()
    setup_s = time.perf_counter() - t0
    out: dict[str, Any] = {"mode": mode, "setup_s": setup_s}
    if mode == "plan":
        from beacon.imports.demo import demo_plan

        out["plan"] = demo_plan()
    elif mode == "baseline":
        from beacon.imports.framework import load_all_sources

        load_all_sources()
    elif mode == "read":
        import polars as pl

        from beacon.imports.framework import get_source

        key, path = argv[1], Path(argv[2])
        source = get_source(key)

        # polars alone, every cell as text, as the pipeline reads it ...
        def polars_read() -> pl.DataFrame:
            suffix = path.suffix.lower()
            if suffix == ".parquet":
                return pl.read_parquet(path)
            if suffix in {".xlsx", ".xls"}:
                return pl.read_excel(path, infer_schema_length=0)
            return pl.read_csv(path, infer_schema_length=0, encoding="utf8-lossy")

        # ... timed on the second read: the first brings the file into the OS cache and imports the reader's
        # modules, so (a) is polars' parse, as the import (which reads the same files just after) finds them.
        # Some machines evict cold files within minutes: cold first reads of a 159-row workbook took 4-9 s in
        # two runs of 1 December 2026, and (a) 28-34 s instead of about 1 s.
        polars_read()
        t = time.perf_counter()
        df = polars_read()
        polars_s = time.perf_counter() - t
        # ... and the source's own reader (decoding fallback, short-row check).
        t = time.perf_counter()
        df = source.reader(path)
        out.update(seconds=polars_s, reader_seconds=time.perf_counter() - t, rows=df.height, columns=df.width)
    elif mode == "import-plan":
        # The national import as `manage.py load_demo --national` runs it: every file in one process
        # (`import_files`: each file its own run and transaction).
        from django.db import connection

        from beacon.imports.framework import import_files

        plan = json.loads(Path(argv[1]).read_text())
        items = [(key, Path(path), year) for key, path, year in plan]
        files: list[dict[str, Any]] = []

        def done(run: Any, seconds: float) -> None:
            files.append(
                {
                    "seconds": seconds,
                    "status": run.status,
                    "message": run.message,
                    "rows_read": run.rows_read,
                    "inserted": run.rows_inserted,
                    "updated": run.rows_updated,
                    "skipped": run.rows_skipped,
                    "errors": run.errors[:3],
                }
            )

        before = _database_rows()
        t = time.perf_counter()
        import_files(items, on_run=done)
        out.update(
            seconds=time.perf_counter() - t,
            files=files,
            db_rows=_database_rows() - before,
            vendor=connection.vendor,
        )
    elif mode == "train":
        # The early-warning model, trained once a year on the national database (not part of (b)); the
        # termly pass below scores every school with it.
        import io

        from django.core.management import call_command

        buf = io.StringIO()
        t = time.perf_counter()
        # As of the latest cut-off the shared files support (Ofsted's statistics as at 31 August 2025: the
        # labels need inspections after the training date), as the early-warning stage trains.
        call_command(
            "train_risk_model", "--as-of", TRAIN_AS_OF, "--output", argv[2], "--no-store", stdout=buf
        )
        out.update(seconds=time.perf_counter() - t, output=buf.getvalue()[-1000:])
    elif mode == "risk":
        # The public entry point, as `make run` and an operator call it: whatever `evaluate_risk` does
        # (evaluate every school, store the results, refresh the proposals the pages read...) is timed.
        import io
        import re

        from django.core.management import call_command

        buf = io.StringIO()
        extra_args = ["--scores-from", argv[2]] if len(argv) > 2 else []
        t = time.perf_counter()
        call_command("evaluate_risk", "--term", argv[1], *extra_args, stdout=buf)
        text = buf.getvalue()
        found = re.search(r"([\d,]+) schools, ([\d,]+) results", text)
        stages = re.search(
            r"evaluate ([\d.]+)s: load ([\d.]+)s, rules ([\d.]+)s, write ([\d.]+)s; score ([\d.]+)s"
            r"(?: \+ worker ([\d.]+)s beside the rules)?; proposals ([\d.]+)s",
            text,
        )
        scores = re.search(r"; (\d+) scores;", text)
        if stages:
            out["stages"] = dict(
                zip(
                    ("evaluate", "load", "rules", "write", "score", "score_worker", "proposals"),
                    (float(g or 0) for g in stages.groups()),
                    strict=True,
                )
            )
        out["scores"] = int(scores.group(1)) if scores else 0
        out.update(
            seconds=time.perf_counter() - t,
            schools=int(found.group(1).replace(",", "")) if found else 0,
            results=int(found.group(2).replace(",", "")) if found else 0,
            output=text[:2000],
        )
    elif mode == "pages":
        out["pages"] = time_pages(int(argv[1]), argv[2] if len(argv) > 2 else "director")
    else:
        raise SystemExit(f"unknown worker mode {mode}")
    out["self_maxrss_kib"] = _self_rss_kib()
    print("BENCH-JSON " + json.dumps(out, default=str), flush=True)


# ----------------------------------------------------------------------------------------------
# Driver side


@dataclass
class Result:
    backend: str
    source: str
    file: str
    status: str = ""
    rows_read: int = 0
    seconds: float = 0.0
    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    read_seconds: float = 0.0
    reader_seconds: float = 0.0
    read_peak_rss_mib: float = 0.0
    message: str = ""
    errors: list[Any] = field(default_factory=list)

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0


def run_worker(args: list[str], env: dict[str, str], timeout: float) -> tuple[dict[str, Any], float]:
    """Run one worker; return its JSON and its peak RSS in MiB (from wait4, i.e. this child only)."""
    proc = subprocess.Popen(
        [PY, str(Path(__file__).resolve()), "--worker", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        raise RuntimeError(f"worker {args} exceeded {timeout:.0f}s") from None
    # communicate() has reaped the child; its rusage is folded into RUSAGE_CHILDREN, whose maxrss is a
    # high-water mark over *all* children, so the child also reports its own RUSAGE_SELF maxrss.
    payload = next((line[11:] for line in stdout.splitlines() if line.startswith("BENCH-JSON ")), None)
    if proc.returncode != 0 or payload is None:
        raise RuntimeError(f"worker {args} failed ({proc.returncode}):\n{stderr[-3000:]}")
    data = json.loads(payload)
    return data, data["self_maxrss_kib"] / 1024


def bench_after_import(
    backend: str, env: dict[str, str], term: str, la_code: int, roles: list[str], timeout: float, log: Any
) -> dict[str, Any]:
    """Risk evaluation of every school in England (`evaluate_risk`), then page timings as each role, on
    the database just imported. A failing step is recorded (key "errors") and the others still run."""
    extra: dict[str, Any] = {"errors": [], "pages_by_role": [], "risk_s": None, "risk_peak_mib": 0.0}
    artefact = Path(tempfile.mkdtemp(prefix="beacon-bench-model-")) / "early_warning.joblib"
    try:
        trained, _ = run_worker(["train", term, str(artefact)], env, timeout)
        extra["train_s"] = trained["seconds"]
        log(f"[{backend}] early-warning model trained in {trained['seconds']:.1f}s (yearly; not in (b))")
    except Exception as exc:  # reported; the pass then runs without scoring
        extra["errors"].append(f"training the early-warning model: {exc}")
        log(f"[{backend}] training FAILED: {exc}")
    try:
        args = ["risk", term, str(artefact)] if artefact.exists() else ["risk", term]
        risk, risk_peak = run_worker(args, env, timeout)
        extra.update(
            risk_s=risk["seconds"],
            risk_schools=risk["schools"],
            risk_results=risk["results"],
            risk_scores=risk.get("scores", 0),
            risk_stages=risk.get("stages", {}),
            risk_output=risk["output"],
            risk_peak_mib=risk_peak,
        )
        log(
            f"[{backend}] risk evaluation ({term}): {risk['schools']:,} schools, {risk['results']:,} results, "
            f"{risk.get('scores', 0):,} model scores in {risk['seconds']:.1f}s {risk.get('stages', {})}, "
            f"peak {risk_peak:.0f} MiB"
        )
    except Exception as exc:  # reported; the page timings still run
        extra["errors"].append(f"risk evaluation: {exc}")
        log(f"[{backend}] risk evaluation FAILED: {exc}")
    peaks = [0.0]
    for role in roles:
        try:
            data, peak = run_worker(["pages", str(la_code), role], env, timeout)
        except Exception as exc:
            extra["errors"].append(f"pages as {role}: {exc}")
            log(f"[{backend}] pages as {role} FAILED: {exc}")
            continue
        peaks.append(peak)
        timing = data["pages"]
        extra["pages_by_role"].append(timing)
        if "skipped" in timing:
            log(f"[{backend}] pages as {role}: {timing['skipped']}")
            continue
        for p in timing["pages"]:
            log(
                f"[{backend}] {role:10} {p['page']:24} {p['status']} median {p['median_ms']:7.1f} ms "
                f"(first {p['first_ms']:.0f} ms)"
            )
    extra["pages_peak_mib"] = max(peaks)
    return extra


def page_table(rows: list[dict[str, Any]], markdown: bool) -> list[str]:
    head = ["page", "status", "KiB", "first ms", "median ms", "max ms"]
    body = [
        [
            p["page"],
            str(p["status"]),
            f"{p['kib']:.0f}",
            f"{p['first_ms']:.0f}",
            f"{p['median_ms']:.0f}",
            f"{p['max_ms']:.0f}",
        ]
        for p in rows
    ]
    if markdown:
        return [
            "| " + " | ".join(head) + " |",
            "|---|---:|---:|---:|---:|---:|",
            *("| " + " | ".join(r) + " |" for r in body),
        ]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    return ["  " + fmt.format(*head)] + ["  " + fmt.format(*r) for r in body]


def summary(
    results: list[Result],
    extras: dict[str, dict[str, Any]],
    la_code: int,
    markdown: bool,
    imports: dict[str, dict[str, float]] | None = None,
) -> str:
    """(a) polars-only read of every file, (b) full import (its wall time from `imports`) + risk evaluation,
    their ratio, peak memory."""
    lines = []
    for backend, extra in extras.items():
        sel = [r for r in results if r.backend == backend and r.status != "missing"]
        read_s = sum(r.read_seconds for r in sel)
        whole = (imports or {}).get(backend, {})
        import_s = whole.get("seconds", 0.0)
        peak = max([whole.get("peak_mib", 0.0), extra["risk_peak_mib"], extra["pages_peak_mib"]])
        if extra["risk_s"] is None:
            lines.append(
                f"{backend}: (a) polars read {read_s:.2f}s; import {import_s:.1f}s; risk evaluation failed"
            )
        else:
            full_s = import_s + extra["risk_s"]
            lines.append(
                f"{backend}: (a) polars read of {len(sel)} files: {read_s:.2f}s; "
                f"(b) import {import_s:.1f}s + risk evaluation of {extra['risk_schools']:,} schools "
                f"{extra['risk_s']:.1f}s = {full_s:.1f}s; (b)/(a) = {full_s / read_s:,.0f}x; "
                f"peak RSS {peak:.0f} MiB (largest single process)"
            )
        for timing in extra["pages_by_role"]:
            if "skipped" in timing:
                lines.append(f"{backend}: page timings as {timing['role']}: {timing['skipped']}")
                continue
            who = (
                f"the demo {timing['role']} of LA {la_code}"
                if timing["user"] != f"bench-{timing['role']}"
                else f"a {timing['role']} user"
            )
            lines.append(f"{backend}: page timings, signed in as {who}, median of {PAGE_REPEATS}:")
            lines += page_table(timing["pages"], markdown)
        lines += [f"{backend}: ERROR {e}" for e in extra["errors"]]
        lines.append("")
    return "\n".join(lines)


def migrate(env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    return time.perf_counter() - t


def bench_backend(
    backend: str,
    env: dict[str, str],
    plan: list[tuple[str, str, int | None]],
    data_dir: Path,
    reads: dict[str, tuple[float, float, float]],
    timeout: float,
    log: Any,
) -> tuple[list[Result], float, dict[str, float]]:
    """Import the plan into a freshly migrated database in one process, as `load_demo --national` does
    (`import_files`). Returns one Result per file, the migration time and the whole import's figures
    (`seconds` wall, `db_rows` added, `peak_mib` of the process; empty if it did not run)."""
    mig_s = migrate(env)
    log(f"[{backend}] migrated a fresh database in {mig_s:.1f}s")
    results: list[Result] = []
    found: list[tuple[Result, str, Path, int | None]] = []
    for key, rel, year in plan:
        path = data_dir / rel
        res = Result(backend=backend, source=key, file=rel)
        results.append(res)
        if not path.exists():
            res.status = "missing"
            log(f"[{backend}] {key}: {rel} not found, skipped")
            continue
        res.read_seconds, res.reader_seconds, res.read_peak_rss_mib = reads.get(rel, (0.0, 0.0, 0.0))
        found.append((res, key, path, year))
    if not found:
        return results, mig_s, {}
    plan_file = Path(tempfile.mkdtemp(prefix="beacon-bench-plan-")) / "plan.json"
    plan_file.write_text(json.dumps([[key, str(path), year] for _, key, path, year in found]))
    try:
        # Every file in one process: the time allowed is per file, as before.
        data, peak = run_worker(["import-plan", str(plan_file)], env, timeout * len(found))
    except RuntimeError as exc:  # a crash or timeout: every file of the plan is recorded as crashed
        for res, *_ in found:
            res.status, res.message = "crashed", str(exc)[-1500:]
        log(f"[{backend}] national import CRASHED: {str(exc)[-300:]}")
        return results, mig_s, {}
    finally:
        shutil.rmtree(plan_file.parent, ignore_errors=True)
    for (res, key, _, _), f in zip(found, data["files"], strict=True):
        res.status, res.message, res.errors = f["status"], f["message"], f["errors"]
        res.rows_read, res.seconds = f["rows_read"], f["seconds"]
        res.inserted, res.updated, res.skipped = f["inserted"], f["updated"], f["skipped"]
        log(f"[{backend}] {key:30} {res.status:9} {res.rows_read:>8} rows in {res.seconds:7.2f}s")
    log(
        f"[{backend}] national import of {len(found)} files in one process: {data['seconds']:.1f}s wall, "
        f"{data['db_rows']:,} database rows, peak {peak:.0f} MiB"
    )
    return results, mig_s, {"seconds": data["seconds"], "db_rows": data["db_rows"], "peak_mib": peak}


COLUMNS = (
    "backend",
    "source",
    "file",
    "status",
    "rows read",
    "import s",
    "rows/s",
    "written",
    "skipped",
    "db rows +",
    "peak MiB",
    "polars read s",
    "reader s",
    "read peak MiB",
    "import/read",
)


def _row(
    backend: str,
    source: str,
    file: str,
    status: str,
    sel: list[Result],
    whole: dict[str, float] | None = None,
) -> list[str]:
    """A row of the table; `whole`: the whole import's figures (a TOTAL row), else one file's ("" where a file
    has none of its own: the import ran in one process)."""
    read = sum(r.rows_read for r in sel)
    secs = whole["seconds"] if whole else sum(r.seconds for r in sel)
    rsecs = sum(r.read_seconds for r in sel)
    return [
        backend,
        source,
        file,
        status,
        f"{read:,}",
        f"{secs:.2f}",
        f"{read / secs:,.0f}" if secs else "",
        f"{sum(r.written for r in sel):,}",
        f"{sum(r.skipped for r in sel):,}",
        f"{whole['db_rows']:,.0f}" if whole else "",
        f"{whole['peak_mib']:.0f}" if whole else "",
        f"{rsecs:.3f}",
        f"{sum(r.reader_seconds for r in sel):.3f}",
        f"{max((r.read_peak_rss_mib for r in sel), default=0):.0f}",
        f"{secs / rsecs:.0f}x" if rsecs else "",
    ]


def table(results: list[Result], markdown: bool, imports: dict[str, dict[str, float]] | None = None) -> str:
    """One row per file, then a TOTAL per database: its import time is the whole import's wall time, and
    the database rows added and peak memory, which only the whole import has (one process), are there."""
    head = list(COLUMNS)
    rows = [_row(r.backend, r.source, Path(r.file).name, r.status, [r]) for r in results]
    for backend in dict.fromkeys(r.backend for r in results):
        sel = [r for r in results if r.backend == backend and r.status != "missing"]
        whole = (imports or {}).get(backend, {})
        rows.append(_row(backend, "TOTAL", f"{len(sel)} files", "", sel, whole))
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    numeric = set(range(4, len(COLUMNS)))

    def fmt(row: list[str]) -> str:
        return "  ".join(
            (c.rjust(w) if i in numeric else c.ljust(w))
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    return "\n".join([fmt(head), "  ".join("-" * w for w in widths), *map(fmt, rows)])


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    maintenance = urlunparse(urlparse(url)._replace(path="/postgres"))  # the URL's own database may not exist
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.encode())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worker", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.add_argument(
        "--data-dir", default=os.environ.get("BEACON_DATA_DIR", str(ROOT.parent / "shared" / "data" / "raw"))
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also benchmark PostgreSQL: a temporary database is created on this server (through its "
        "'postgres' maintenance database) and dropped afterwards",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--only", action="append", metavar="SOURCE", help="only these source keys")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed per file (default 600)")
    parser.add_argument(
        "--term", default="autumn-2026", help="term for the risk evaluation (default autumn-2026)"
    )
    parser.add_argument("--la", type=int, default=202, help="LA whose director the page timings sign in as")
    parser.add_argument(
        "--roles",
        default="director,national",
        help="roles the page timings sign in as, comma-separated (default director,national): the demo "
        "account of --la for a demo role, otherwise a user of that role without an LA; a role Beacon "
        "does not have is skipped with a message",
    )
    parser.add_argument(
        "--keep-sqlite",
        metavar="FILE",
        help="keep the national SQLite database at FILE (for the early-warning bench and a national load test)",
    )
    parser.add_argument(
        "--keep-postgres",
        metavar="NAME",
        help="with --postgres: build the national database as NAME (dropped first if it exists) and keep it",
    )
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker)
        return 0
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    data_dir = Path(args.data_dir)
    if not data_dir.is_dir():
        log(f"Data directory {data_dir} not found (set BEACON_DATA_DIR or --data-dir)")
        return 2
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="beacon-bench-"))
    base_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BEACON_SQLITE_PATH"}}
    base_env.update(BEACON_DATA_DIR=str(data_dir), BEACON_VAR_DIR=str(tmp / "var"), BEACON_LOG_LEVEL="ERROR")
    sqlite_env = {**base_env, "BEACON_SQLITE_PATH": str(tmp / "bench.sqlite3")}
    pg_db = args.keep_postgres or f"beacon_bench_{secrets.token_hex(4)}"
    pg_env: dict[str, str] | None = None
    pg_failure = ""
    if args.postgres:
        parsed = urlparse(args.postgres)
        pg_env = {**base_env, "DATABASE_URL": urlunparse(parsed._replace(path=f"/{pg_db}"))}
    try:
        plan_data, _ = run_worker(["plan"], sqlite_env, 120)
        plan = [tuple(p) for p in plan_data["plan"]]
        if args.only:
            plan = [p for p in plan if p[0] in set(args.only)]
        _, baseline = run_worker(["baseline"], sqlite_env, 120)
        log(
            f"{len(plan)} files from {len({p[0] for p in plan})} sources; baseline process {baseline:.0f} MiB"
        )

        reads: dict[str, tuple[float, float, float]] = {}
        for key, rel, _year in plan:
            if (data_dir / rel).exists() and rel not in reads:
                data, peak = run_worker(["read", key, str(data_dir / rel)], sqlite_env, args.timeout)
                reads[rel] = (data["seconds"], data["reader_seconds"], peak)
                log(
                    f"[polars] {key:30} {data['rows']:>8} rows x {data['columns']} cols in "
                    f"{data['seconds']:.3f}s (source reader {data['reader_seconds']:.3f}s)"
                )

        results: list[Result] = []
        migrations: dict[str, float] = {}
        imports: dict[str, dict[str, float]] = {}
        extras: dict[str, dict[str, Any]] = {}
        if not args.no_sqlite:
            res, migrations["sqlite"], imports["sqlite"] = bench_backend(
                "sqlite", sqlite_env, plan, data_dir, reads, args.timeout, log
            )
            results += res
            if not args.only:
                extras["sqlite"] = bench_after_import(
                    "sqlite", sqlite_env, args.term, args.la, roles, args.timeout, log
                )
        if pg_env is not None:
            try:
                if args.keep_postgres:
                    pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
                pg_admin(args.postgres, f'CREATE DATABASE "{pg_db}"')
                try:
                    res, migrations["postgresql"], imports["postgresql"] = bench_backend(
                        "postgresql", pg_env, plan, data_dir, reads, args.timeout, log
                    )
                    results += res
                    if not args.only:
                        extras["postgresql"] = bench_after_import(
                            "postgresql", pg_env, args.term, args.la, roles, args.timeout, log
                        )
                finally:
                    if args.keep_postgres:
                        log(f"national PostgreSQL database kept as {pg_db}")
                    else:
                        pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
            except Exception as exc:  # reported; the SQLite figures are still printed
                pg_failure = f"PostgreSQL run failed: {exc}"
                log(pg_failure)
        if args.keep_sqlite and not args.no_sqlite:
            keep = Path(args.keep_sqlite)
            keep.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{keep}{suffix}").unlink(missing_ok=True)
                if Path(f"{tmp / 'bench.sqlite3'}{suffix}").exists():
                    shutil.move(f"{tmp / 'bench.sqlite3'}{suffix}", f"{keep}{suffix}")
            log(f"national SQLite database kept at {keep}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    total = time.perf_counter() - started
    print(
        f"Beacon import benchmark - {platform.node()} ({os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}); data {data_dir}"
    )
    print(
        f"Baseline process (Django + polars + sources loaded, no import): {baseline:.0f} MiB peak RSS. "
        + ", ".join(f"{k} migrate {v:.1f}s" for k, v in migrations.items())
        + f". Whole benchmark {total:.0f}s."
    )
    print()
    print(summary(results, extras, args.la, args.markdown, imports))
    print(table(results, args.markdown, imports))
    failed = [r for r in results if r.status not in {"succeeded", "missing"}]
    for r in failed:
        print(f"\n{r.backend} {r.source} {r.file}: {r.status}: {r.message} {r.errors}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "baseline_mib": baseline,
                    "migrate_s": migrations,
                    "imports": imports,
                    "total_s": total,
                    "results": [{**asdict(r), "rows_per_s": r.rows_per_s} for r in results],
                    "after_import": extras,
                    "postgresql_failure": pg_failure,
                },
                indent=2,
            )
        )
    if pg_failure:
        print(f"\n{pg_failure}")
    return 1 if failed or pg_failure or any(e["errors"] for e in extras.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
