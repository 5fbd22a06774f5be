#!/usr/bin/env python
"""Loopback load test: `make load` (or `.venv/bin/python bench/load.py --help`).

For SQLite (a file in a temporary directory) and, with --postgres URL, PostgreSQL (a temporary database
created on that server and dropped afterwards), each in turn:

1. migrates a fresh database and loads the Camden demo exactly as `make run` does (`load_demo --la 202`,
   `evaluate_risk --term autumn-2026`, `create_demo_users`) - or, with --sqlite-db FILE, uses a database
   that is already loaded (e.g. the national one `make bench` keeps) and only creates the demo accounts;
2. starts gunicorn (`beacon.wsgi`, 2 workers x 4 threads as `make run` serves it) on a free loopback port;
3. closed loop (`--mode closed`): signs in through the real sign-in form (CSRF, django-axes, password
   check) - SESSIONS sessions, not timed - then USERS concurrent virtual users (asyncio + httpx) request
   the main pages in turn with no think time for DURATION seconds: always USERS requests in flight, so the
   requests per second it reaches is the server's maximum throughput;
4. think-time model (`--mode think`): THINK_USERS virtual users (default 200), each with its own session
   (created server-side before the clock starts, as `Client.force_login` does: signing 200 users in
   through the form would take 200 PBKDF2 checks), each looping over the main pages in a random order
   with a uniformly random think time of 1-3 s between a response and its next request (seeded RNG, one
   stream per user, so a run is repeatable), for THINK_DURATION seconds; users start spread over the
   first think interval so that they do not arrive together;
5. reports per page and overall requests, errors (any status but 200, a signed-out page, a timeout),
   p50/p95/p99/max latency and the requests per second achieved. Exit status 1 if there was any error.

Not part of `make test`: with the demo load it takes about 3 minutes per database on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
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
    ("school risk page", "/risk/{urn}/"),
    ("caseload", "/support/"),
)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REQUEST_TIMEOUT = 30.0


@dataclass
class PageStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    sample_errors: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)

    def error(self, msg: str, kind: str = "") -> None:
        self.errors += 1
        self.kinds[kind or msg] += 1
        if len(self.sample_errors) < 3:
            self.sample_errors.append(msg)


def pct(values: list[float], p: float) -> float:
    """The p-th percentile by the nearest-rank method: the smallest value with at least p% of the values
    at or below it (p50 of 1..5 is 3, p95 of 1..100 is 95, p100 is the maximum). 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))  # 1-based
    return ordered[min(len(ordered), max(1, rank)) - 1]


@dataclass(frozen=True)
class Step:
    page: str
    url: str
    think_s: float  # pause after the response, before the next request


def journey(
    seed: int, user: int, schools: tuple[int, ...] = SCHOOLS, low: float = 1.0, high: float = 3.0
) -> Iterator[Step]:
    """The endless sequence of requests of one virtual user: a page chosen uniformly from PAGES (a school
    page or school risk page for a school chosen uniformly from `schools`), then a think time drawn
    uniformly from [low, high] seconds. Its own RNG seeded from (seed, user): the same arguments give
    the same sequence, different users different ones."""
    rng = random.Random(seed * 1_000_003 + user)
    while True:
        name, path = PAGES[rng.randrange(len(PAGES))]
        urn = schools[rng.randrange(len(schools))]
        yield Step(name, path.format(urn=urn), rng.uniform(low, high))


def start_offset(seed: int, user: int, high: float = 3.0) -> float:
    """When a virtual user sends its first request (seconds after the start): uniform over the first
    think interval, so that 200 users do not all arrive in the same instant."""
    return random.Random(f"start-{seed}-{user}").uniform(0.0, high)


def summarise(stats: dict[str, PageStats], wall: float) -> dict[str, Any]:
    """Requests, errors and latency percentiles per page and overall (ms), and requests per second."""

    def figures(latencies: list[float], errors: int) -> dict[str, Any]:
        return {
            "requests": len(latencies) + errors,
            "errors": errors,
            "p50_ms": round(pct(latencies, 50) * 1000, 1),
            "p95_ms": round(pct(latencies, 95) * 1000, 1),
            "p99_ms": round(pct(latencies, 99) * 1000, 1),
            "max_ms": round(max(latencies, default=0) * 1000, 1),
            "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0,
        }

    pages = {
        name: {**figures(s.latencies, s.errors), "sample_errors": s.sample_errors}
        for name, s in stats.items()
    }
    kinds: Counter[str] = sum((s.kinds for s in stats.values()), Counter())
    overall = figures([x for s in stats.values() for x in s.latencies], sum(s.errors for s in stats.values()))
    return {
        **overall,
        "seconds": round(wall, 1),
        "rps": round(overall["requests"] / wall, 1) if wall else 0.0,
        "error_kinds": dict(kinds.most_common()),
        "pages": pages,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> str:
    res = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if res.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    return res.stdout


def prepare(env: dict[str, str], loaded: bool, log: Any) -> float:
    """The Camden demo as `make run` loads it, or (loaded=True) only the demo accounts on a database that
    already holds data."""
    t = time.perf_counter()
    creds = str(Path(env["BEACON_VAR_DIR"]) / "creds.txt")
    if loaded:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "create_demo_users", "--la", "202", "--output", creds)
    else:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "load_demo", "--la", "202")
        manage(env, "evaluate_risk", "--term", "autumn-2026", "--la", "202")
        manage(env, "create_demo_users", "--la", "202", "--output", creds)
    secs = time.perf_counter() - t
    log(
        f"  {'demo accounts on the loaded database' if loaded else 'migrated and loaded the Camden demo'} in {secs:.0f}s"
    )
    return secs


def server_sessions(env: dict[str, str], username: str, count: int) -> tuple[str, list[str]]:
    """`count` signed-in sessions of `username`, created in the session store by a Django process (the
    test client's force_login: the same session keys a form sign-in writes, without the PBKDF2 check)."""
    code = f"""
import json, os, sys
sys.path.insert(0, {str(ROOT)!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beacon.settings")
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
user = get_user_model().objects.get(username={username!r})
keys = []
for _ in range({count}):
    c = Client()
    c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    keys.append(c.cookies[settings.SESSION_COOKIE_NAME].value)
print("SESSIONS " + json.dumps({{"cookie": settings.SESSION_COOKIE_NAME, "keys": keys}}))
"""
    res = subprocess.run([PY, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    line = next((x for x in res.stdout.splitlines() if x.startswith("SESSIONS ")), None)
    if res.returncode != 0 or line is None:
        raise RuntimeError(f"creating sessions failed:\n{res.stderr[-2000:]}")
    data = json.loads(line[9:])
    return data["cookie"], data["keys"]


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


async def fetch(client: httpx.AsyncClient, name: str, url: str, stats: dict[str, PageStats]) -> None:
    """One request: its latency if it succeeded (200 and still signed in), otherwise an error."""
    started = time.perf_counter()
    try:
        res = await client.get(url)
    except httpx.HTTPError as exc:
        stats[name].error(f"{url}: {type(exc).__name__}", type(exc).__name__)
        return
    elapsed = time.perf_counter() - started
    if res.status_code != 200:
        stats[name].error(
            f"{url}: HTTP {res.status_code} {res.headers.get('location', '')}", f"HTTP {res.status_code}"
        )
    elif "Sign out" not in res.text and "sign-out" not in res.text:
        stats[name].error(f"{url}: not signed in", "signed out")
    else:
        stats[name].latencies.append(elapsed)


async def drive_closed(
    base: str, username: str, password: str, users: int, sessions: int, duration: float
) -> dict[str, Any]:
    """Closed loop: `users` coroutines over `sessions` form-signed-in sessions, no think time."""
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    timeout = httpx.Timeout(REQUEST_TIMEOUT)
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
                await fetch(client, name, url, stats)

        started = time.perf_counter()
        await asyncio.gather(*(user(i) for i in range(users)))
        wall = time.perf_counter() - started
    finally:
        for c in clients:
            await c.aclose()
    return {
        "users": users,
        "sessions": sessions,
        "sign_in_ms": round(sign_in_s * 1000, 1),
        **summarise(stats, wall),
    }


async def drive_think(
    base: str,
    cookie: str,
    keys: list[str],
    duration: float,
    seed: int,
    low: float,
    high: float,
    schools: tuple[int, ...] = SCHOOLS,
) -> dict[str, Any]:
    """Think-time model: one virtual user per session key, each following its own `journey`; a user
    sends no request that would start after `duration`, and in-flight requests are awaited."""
    timeout = httpx.Timeout(REQUEST_TIMEOUT)
    # A new connection per request: the pauses (1-3 s) straddle gunicorn's 2 s keep-alive, and a request
    # sent on a connection the server is closing fails with ReadError where a browser would retry it.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=0)
    clients = [
        httpx.AsyncClient(base_url=base, cookies={cookie: key}, limits=limits, timeout=timeout)
        for key in keys
    ]
    stats = {name: PageStats() for name, _ in PAGES}
    in_flight_peak = 0
    in_flight = 0
    t0 = time.perf_counter()
    stop = t0 + duration

    async def user(i: int, client: httpx.AsyncClient) -> None:
        nonlocal in_flight, in_flight_peak
        await asyncio.sleep(start_offset(seed, i, high))
        for step in journey(seed, i, schools, low, high):
            if time.perf_counter() >= stop:
                return
            in_flight += 1
            in_flight_peak = max(in_flight_peak, in_flight)
            try:
                await fetch(client, step.page, step.url, stats)
            finally:
                in_flight -= 1
            if time.perf_counter() + step.think_s >= stop:
                return
            await asyncio.sleep(step.think_s)

    try:
        await asyncio.gather(*(user(i, c) for i, c in enumerate(clients)))
    finally:
        for c in clients:
            await c.aclose()
    wall = time.perf_counter() - t0
    return {
        "users": len(keys),
        "think_s": [low, high],
        "seed": seed,
        "peak_in_flight": in_flight_peak,
        **summarise(stats, wall),
    }


def serve(env: dict[str, str], args: argparse.Namespace, log: Any) -> tuple[subprocess.Popen[str], str]:
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
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/account/sign-in/", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(f"gunicorn did not start: {server.stderr.read() if server.stderr else ''}")
        time.sleep(0.3)
    log(f"  gunicorn up on {base} ({args.workers} workers x {args.threads} threads)")
    return server, base


def stop_server(server: subprocess.Popen[str]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def serve_and_drive(env: dict[str, str], args: argparse.Namespace, password: str, log: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    server, base = serve(env, args, log)
    try:
        if "closed" in args.mode:
            log(f"  closed loop: {args.users} users, {args.sessions} form sign-ins, {args.duration:.0f}s")
            out["closed"] = asyncio.run(
                drive_closed(base, args.username, password, args.users, args.sessions, args.duration)
            )
            log(f"  closed loop: {out['closed']['rps']} req/s, {out['closed']['errors']} errors")
        if "think" in args.mode:
            t = time.perf_counter()
            cookie, keys = server_sessions(env, args.username, args.think_users)
            log(f"  {len(keys)} sessions created server-side in {time.perf_counter() - t:.1f}s (not timed)")
            log(
                f"  think time: {args.think_users} users, {args.think_min:g}-{args.think_max:g}s think, "
                f"{args.think_duration:.0f}s, seed {args.seed}"
            )
            out["think"] = asyncio.run(
                drive_think(
                    base, cookie, keys, args.think_duration, args.seed, args.think_min, args.think_max
                )
            )
            log(
                f"  think time: {out['think']['rps']} req/s, p95 {out['think']['p95_ms']:.0f} ms, {out['think']['errors']} errors"
            )
    finally:
        stop_server(server)
    return out


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    maintenance = urlunparse(urlparse(url)._replace(path="/postgres"))  # the URL's own database may not exist
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


HEAD = ["backend", "page", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"]


def report_rows(results: dict[str, dict[str, Any]], mode: str) -> list[list[str]]:
    rows = []
    for backend, r in results.items():
        if mode not in r:
            continue
        m = r[mode]
        for name, p in [*m["pages"].items(), (f"ALL ({m['rps']:.1f} req/s)", m)]:
            rows.append([backend, name, str(p["requests"]), str(p["errors"]), f"{p['p50_ms']:.0f}",
                         f"{p['p95_ms']:.0f}", f"{p['p99_ms']:.0f}", f"{p['max_ms']:.0f}"])  # fmt: skip
    return rows


def render(head: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = [
            "| " + " | ".join(head) + " |",
            "|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|",
        ]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    fmt = "  ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths))
    return "\n".join(
        [fmt.format(*head), fmt.format(*["-" * w for w in widths]), *(fmt.format(*r) for r in rows)]
    )


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace, markdown: bool = False) -> str:
    out = []
    if any("closed" in r for r in results.values()):
        out.append(
            f"Closed loop: {args.users} concurrent users over {args.sessions} sessions signed in through the "
            f"form, no think time, {args.duration:.0f}s per database; ALL = the maximum requests per second."
        )
        out += ["", render(HEAD, report_rows(results, "closed"), markdown), ""]
    if any("think" in r for r in results.values()):
        out.append(
            f"Think time: {args.think_users} users, each with its own session (created server-side), "
            f"{args.think_min:g}-{args.think_max:g} s uniform think time (seed {args.seed}), "
            f"{args.think_duration:.0f}s per database."
        )
        out += ["", render(HEAD, report_rows(results, "think"), markdown), ""]
    return "\n".join(out)


def run(args: argparse.Namespace, log: Any) -> dict[str, dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="beacon-load-"))
    password = secrets.token_urlsafe(16)
    base_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BEACON_SQLITE_PATH"}}
    base_env.update(
        BEACON_DATA_DIR=str(args.data_dir), BEACON_LOG_LEVEL="ERROR", BEACON_DEMO_PASSWORD=password,
        BEACON_DEBUG="0", BEACON_PRODUCTION="0",
    )  # fmt: skip
    results: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    try:
        if not args.no_sqlite:
            loaded = args.sqlite_db is not None
            db = args.sqlite_db or str(tmp / "load.sqlite3")
            env = {**base_env, "BEACON_VAR_DIR": str(tmp / "sqlite"), "BEACON_SQLITE_PATH": db}
            log(f"[sqlite] {db if loaded else 'Camden demo'}")
            try:
                prepare_s = prepare(env, loaded, log)
                results["sqlite"] = {
                    **serve_and_drive(env, args, password, log),
                    "prepare_s": round(prepare_s),
                }
            except Exception as exc:  # report it and carry on with the other database
                errors["sqlite"] = str(exc)
                log(f"[sqlite] failed: {exc}")
        if args.postgres:
            name = f"beacon_load_{secrets.token_hex(4)}"
            admin = args.postgres
            env = {**base_env, "BEACON_VAR_DIR": str(tmp / "pg"),
                   "DATABASE_URL": urlunparse(urlparse(admin)._replace(path=f"/{name}"))}  # fmt: skip
            try:
                pg_admin(admin, f'CREATE DATABASE "{name}"')
                try:
                    log("[postgresql] Camden demo")
                    prepare_s = prepare(env, False, log)
                    results["postgresql"] = {
                        **serve_and_drive(env, args, password, log),
                        "prepare_s": round(prepare_s),
                    }
                finally:
                    pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:
                errors["postgresql"] = str(exc)
                log(f"[postgresql] failed: {exc}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for backend, msg in errors.items():
        results[backend] = {"failed": msg}
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
    parser.add_argument(
        "--sqlite-db",
        metavar="FILE",
        help="an already loaded SQLite database to test instead of a fresh Camden demo (e.g. the national "
        "one `make bench` keeps); only the demo accounts of LA 202 are (re)created in it",
    )
    parser.add_argument(
        "--mode",
        default="closed,think",
        help="closed, think or closed,think (default): which models to run",
    )
    parser.add_argument("--users", type=int, default=50, help="closed loop: concurrent users (default 50)")
    parser.add_argument(
        "--sessions", type=int, default=10, help="closed loop: form sign-ins they share (default 10)"
    )
    parser.add_argument(
        "--duration", type=float, default=30, help="closed loop: seconds per database (default 30)"
    )
    parser.add_argument(
        "--think-users", type=int, default=200, help="think time: virtual users (default 200)"
    )
    parser.add_argument(
        "--think-min", type=float, default=1.0, help="think time: shortest pause in s (default 1)"
    )
    parser.add_argument(
        "--think-max", type=float, default=3.0, help="think time: longest pause in s (default 3)"
    )
    parser.add_argument(
        "--think-duration", type=float, default=60, help="think time: seconds per database (default 60)"
    )
    parser.add_argument("--seed", type=int, default=16, help="think time: RNG seed (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as make run)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (default 4)")
    parser.add_argument("--username", default="director", help="demo account the users are signed in as")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    args.mode = {m.strip() for m in args.mode.split(",")}
    if not args.mode <= {"closed", "think"}:
        parser.error("--mode takes closed, think or closed,think")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results = run(args, log)
    print(f"Beacon load test: gunicorn {args.workers}x{args.threads}, {os.cpu_count()} CPUs")
    print(report(results, args, args.markdown))
    for backend, r in results.items():
        if "failed" in r:
            print(f"{backend}: FAILED: {r['failed']}")
            continue
        closed = f"sign-in {r['closed']['sign_in_ms']:.0f} ms per session; " if "closed" in r else ""
        print(f"{backend}: {closed}prepared in {r['prepare_s']}s")
        for mode in ("closed", "think"):
            m = r.get(mode)
            if m and m["errors"]:
                kinds = ", ".join(f"{k} {n}" for k, n in m["error_kinds"].items())
                first = next(e for p in m["pages"].values() for e in p["sample_errors"])
                print(f"  {backend} {mode}: {m['errors']} errors ({kinds}), e.g. {first}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    failed = any(
        "failed" in r or any(r.get(m, {}).get("errors") for m in ("closed", "think"))
        for r in results.values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
