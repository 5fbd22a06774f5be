#!/usr/bin/env python
"""Loopback load test: `make load` (or `.venv/bin/python bench/load.py --help`).

For SQLite (a file in a temporary directory) and, with --postgres URL, PostgreSQL (a temporary database
created on that server and dropped afterwards), each in turn:

1. migrates a fresh database and loads the Camden demo exactly as `make run` does (`load_demo --la 202`,
   `evaluate_risk --term autumn-2026`, `create_demo_users`);
2. starts gunicorn (`beacon.wsgi`, the `make run` server) on a free loopback port;
3. signs in through the real sign-in form (CSRF, django-axes, password check) - SESSIONS sessions,
   not timed - and then runs USERS concurrent virtual users (asyncio + httpx) for DURATION seconds,
   each requesting the main pages in turn, signed in, with no think time: the school list, a school
   page, the LA overview, the risk register and the adviser caseload;
4. reports requests, errors (any status but 200, a redirect to sign-in, a timeout), p50/p95/max latency
   per page and throughput. Exit status 1 if there was any error.

Not part of `make test`: with the demo load it takes about 2 minutes per database on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
GUNICORN = str(Path(PY).with_name("gunicorn"))
SCHOOLS = (100008, 100049, 100053, 100010)  # Camden: Argyle, Haverstock, Acland Burghley, Brecknock
PAGES: tuple[tuple[str, str], ...] = (
    ("school list", "/schools/"),
    ("school page", "/schools/{urn}/"),
    ("LA overview", "/schools/local-authority/"),
    ("risk register", "/risk/"),
    ("caseload", "/support/"),
)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class PageStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    sample_errors: list[str] = field(default_factory=list)

    def error(self, msg: str) -> None:
        self.errors += 1
        if len(self.sample_errors) < 3:
            self.sample_errors.append(msg)


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> None:
    res = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if res.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")


def prepare(env: dict[str, str], log: Any) -> float:
    t = time.perf_counter()
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_demo", "--la", "202")
    manage(env, "evaluate_risk", "--term", "autumn-2026", "--la", "202")
    manage(
        env, "create_demo_users", "--la", "202", "--output", str(Path(env["BEACON_VAR_DIR"]) / "creds.txt")
    )
    secs = time.perf_counter() - t
    log(f"  migrated and loaded the Camden demo in {secs:.0f}s")
    return secs


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> None:
    page = await client.get("/account/sign-in/")
    token = CSRF.search(page.text)
    if page.status_code != 200 or token is None:
        raise RuntimeError(f"sign-in page: {page.status_code}")
    res = await client.post(
        "/account/sign-in/",
        data={"csrfmiddlewaretoken": token.group(1), "username": username, "password": password},
        headers={"Referer": f"{client.base_url}/account/sign-in/"},
    )
    if res.status_code != 302 or "sign-in" in res.headers.get("location", ""):
        raise RuntimeError(f"sign-in as {username} failed: {res.status_code}")


async def drive(
    base: str, username: str, password: str, users: int, sessions: int, duration: float
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    timeout = httpx.Timeout(30.0)
    clients = [httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) for _ in range(sessions)]
    stats = {name: PageStats() for name, _ in PAGES}
    try:
        t = time.perf_counter()
        for c in clients:  # one after another: password hashing is deliberately slow
            await sign_in(c, username, password)
        sign_in_s = (time.perf_counter() - t) / sessions

        stop = time.perf_counter() + duration

        async def user(i: int) -> None:
            client = clients[i % sessions]
            n = i  # users start at different pages
            while time.perf_counter() < stop:
                name, path = PAGES[n % len(PAGES)]
                url = path.format(urn=SCHOOLS[(n // len(PAGES)) % len(SCHOOLS)])
                n += 1
                started = time.perf_counter()
                try:
                    res = await client.get(url)
                except httpx.HTTPError as exc:
                    stats[name].error(f"{url}: {type(exc).__name__}")
                    continue
                elapsed = time.perf_counter() - started
                if res.status_code != 200:
                    stats[name].error(f"{url}: HTTP {res.status_code} {res.headers.get('location', '')}")
                elif "Sign out" not in res.text and "sign-out" not in res.text:
                    stats[name].error(f"{url}: not signed in")
                else:
                    stats[name].latencies.append(elapsed)

        started = time.perf_counter()
        await asyncio.gather(*(user(i) for i in range(users)))
        wall = time.perf_counter() - started
    finally:
        for c in clients:
            await c.aclose()
    pages = {
        name: {
            "requests": len(s.latencies) + s.errors,
            "errors": s.errors,
            "p50_ms": round(pct(s.latencies, 50) * 1000, 1),
            "p95_ms": round(pct(s.latencies, 95) * 1000, 1),
            "max_ms": round(max(s.latencies, default=0) * 1000, 1),
            "mean_ms": round(statistics.fmean(s.latencies) * 1000, 1) if s.latencies else 0.0,
            "sample_errors": s.sample_errors,
        }
        for name, s in stats.items()
    }
    total = sum(p["requests"] for p in pages.values())
    return {
        "users": users,
        "sessions": sessions,
        "seconds": round(wall, 1),
        "requests": total,
        "errors": sum(p["errors"] for p in pages.values()),
        "rps": round(total / wall, 1) if wall else 0.0,
        "sign_in_ms": round(sign_in_s * 1000, 1),
        "pages": pages,
    }


def serve_and_drive(env: dict[str, str], args: argparse.Namespace, password: str, log: Any) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [
            GUNICORN,
            "beacon.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/account/sign-in/", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.3)
        log(
            f"  gunicorn up on {base} ({args.workers} workers x {args.threads} threads); driving {args.users} users"
        )
        return asyncio.run(drive(base, args.username, password, args.users, args.sessions, args.duration))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    maintenance = urlunparse(urlparse(url)._replace(path="/postgres"))  # the URL's own database may not exist
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def report(results: dict[str, dict[str, Any]], markdown: bool = False) -> str:
    head = ["backend", "page", "requests", "errors", "p50 ms", "p95 ms", "max ms"]
    rows = []
    for backend, r in results.items():
        for name, p in r["pages"].items():
            rows.append([backend, name, str(p["requests"]), str(p["errors"]), f"{p['p50_ms']:.0f}",
                         f"{p['p95_ms']:.0f}", f"{p['max_ms']:.0f}"])  # fmt: skip
        rows.append(
            [backend, f"ALL ({r['rps']:.0f} req/s)", str(r["requests"]), str(r["errors"]), "", "", ""]
        )
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    fmt = "  ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths))
    return "\n".join(
        [fmt.format(*head), fmt.format(*["-" * w for w in widths]), *(fmt.format(*r) for r in rows)]
    )


def run(args: argparse.Namespace, log: Any) -> dict[str, dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="beacon-load-"))
    password = secrets.token_urlsafe(16)
    base_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BEACON_SQLITE_PATH"}}
    base_env.update(
        BEACON_DATA_DIR=str(args.data_dir), BEACON_LOG_LEVEL="ERROR", BEACON_DEMO_PASSWORD=password,
        BEACON_DEBUG="0", BEACON_PRODUCTION="0",
    )  # fmt: skip
    results: dict[str, dict[str, Any]] = {}
    try:
        if not args.no_sqlite:
            env = {
                **base_env,
                "BEACON_VAR_DIR": str(tmp / "sqlite"),
                "BEACON_SQLITE_PATH": str(tmp / "load.sqlite3"),
            }
            log("[sqlite]")
            prepare_s = prepare(env, log)
            results["sqlite"] = {**serve_and_drive(env, args, password, log), "prepare_s": round(prepare_s)}
        if args.postgres:
            name = f"beacon_load_{secrets.token_hex(4)}"
            admin = args.postgres
            env = {**base_env, "BEACON_VAR_DIR": str(tmp / "pg"),
                   "DATABASE_URL": urlunparse(urlparse(admin)._replace(path=f"/{name}"))}  # fmt: skip
            pg_admin(admin, f'CREATE DATABASE "{name}"')
            try:
                log("[postgresql]")
                prepare_s = prepare(env, log)
                results["postgresql"] = {
                    **serve_and_drive(env, args, password, log),
                    "prepare_s": round(prepare_s),
                }
            finally:
                pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", default=os.environ.get("BEACON_DATA_DIR", str(ROOT.parent / "shared/data/raw"))
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="also PostgreSQL: a temporary database on this server"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--users", type=int, default=50, help="concurrent virtual users (default 50)")
    parser.add_argument("--sessions", type=int, default=10, help="signed-in sessions they share (default 10)")
    parser.add_argument(
        "--duration", type=float, default=30, help="seconds of load per database (default 30)"
    )
    parser.add_argument("--workers", type=int, default=max(2, (os.cpu_count() or 1)), help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--username", default="director", help="demo account to sign in as")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results = run(args, log)
    print(
        f"Beacon load test: {args.users} concurrent users over {args.sessions} signed-in sessions, "
        f"{args.duration:.0f}s per database, gunicorn {args.workers}x{args.threads}, {os.cpu_count()} CPUs"
    )
    print(report(results, args.markdown))
    for backend, r in results.items():
        print(f"{backend}: sign-in {r['sign_in_ms']:.0f} ms per session; demo prepared in {r['prepare_s']}s")
        for name, p in r["pages"].items():
            for e in p["sample_errors"]:
                print(f"  {backend} {name} error: {e}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
