#!/usr/bin/env python
"""Risk engine benchmark: evaluate every data-driven criterion for every school in England in one run.

    .venv/bin/python bench/bench_risk.py                # fresh temporary SQLite database
    .venv/bin/python bench/bench_risk.py --db /tmp/x.sqlite3 --keep   # reuse an already loaded file

1. Migrates a fresh temporary SQLite database (unless --db names one that is already loaded) and imports
   every demo file of every source nationally (`load_demo(la_code=None)`, as `manage.py load_demo
   --national`) - in this process, before the clock starts.
2. In a subprocess (so its memory is its own), times `beacon.risk.services.evaluate(autumn-2025)` for every
   state-funded school: loading the frames, running the rules, writing the results; then a second,
   idempotent run (all rows are updates). Prints schools, results, seconds and peak RSS.

The whole termly pass (issue 16 item 2), on a database that already holds the national files:

    .venv/bin/python bench/bench_risk.py --pass --db var/national.sqlite3 [--model var/models/early_warning.joblib]
    .venv/bin/python bench/bench_risk.py --pass --database-url postgres://.../beacon_x [--model FILE]

times `beacon.assessments.services.run_term_pass`: evaluate every school, score every open school with the
saved early-warning model (trained first, untimed, if --model names no file), refresh every proposal; then a
second pass on unchanged data. Prints one line `RESULT {json}`: "first" and "second" are
`PassTimings` (seconds per stage: load_s, rules_s, write_s, evaluate_s, score_s, score_worker_s, refresh_s, total_s; rows
written), plus "backend" and "peak_mib".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _django(db: str | None, url: str | None = None) -> None:
    if url:
        os.environ["DATABASE_URL"] = url
    else:
        os.environ["BEACON_SQLITE_PATH"] = str(db)
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beacon.settings")
    import django

    django.setup()


def load(db: str) -> float:
    _django(db)
    from django.conf import settings
    from django.core.management import call_command

    from beacon.imports.demo import load_demo

    started = time.perf_counter()
    call_command("migrate", verbosity=0, skip_checks=True)
    load_demo(settings.DATA_DIR, la_code=None, log=lambda m: print(m, flush=True))
    return time.perf_counter() - started


def worker(db: str, term: str) -> None:
    _django(db)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from beacon.risk.models import CriterionResult, Term
    from beacon.risk.services import evaluate

    t = Term.parse(term)
    first = evaluate(t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    second = evaluate(t)
    out = {
        "schools": first.schools,
        "results": first.results,
        "rows_in_table": CriterionResult.objects.filter(term=t).count(),
        "counts": first.counts,
        "first_s": round(first.seconds, 2),
        "load_s": round(first.load_seconds, 2),
        "rules_s": round(first.seconds - first.load_seconds - first.write_seconds, 2),
        "write_s": round(first.write_seconds, 2),
        "second_s": round(second.seconds, 2),
        "baseline_mib": round(base / 1024, 1),
        "peak_mib": round(peak / 1024, 1),
        "peak_after_second_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print("RESULT " + json.dumps(out))


def time_pass(term: str, model_path: str | None) -> dict[str, object]:
    """Time `run_term_pass` twice (Django already set up on a loaded database); a JSON-ready dict."""
    from dataclasses import asdict
    from pathlib import Path as P

    from django.db import connection

    from beacon.assessments.services import run_term_pass
    from beacon.earlywarning import services as ew
    from beacon.risk.models import Term

    t = Term.parse(term)
    model = None
    if model_path:
        path = P(model_path)
        if path.exists():
            model = ew.load(path)
        else:
            model = ew.train(t.start_date)
            ew.save(model, path)
    first = run_term_pass(t, model)
    second = run_term_pass(t, model)
    return {
        "backend": connection.vendor,
        "first": asdict(first),
        "second": asdict(second),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


PAGES = (
    ("risk register", "/risk/"),
    ("risk register, page 2", "/risk/?page=2"),
    ("school risk page", "/risk/100008/"),
    ("LA overview", "/schools/local-authority/?la=202"),
    ("school page", "/schools/100008/"),
)


def time_pages(repeats: int = 5) -> list[dict[str, object]]:
    """Server time (Django test client) of the pages that read stored results, as the demo director of
    Camden and as a national user (role `national`): first request, median and max of `repeats`."""
    import statistics
    import time as clock

    from django.test import Client

    from beacon.accounts.models import User

    director, _ = User.objects.get_or_create(
        username="bench-director", defaults={"role": "director", "la_code": 202}
    )
    national, _ = User.objects.get_or_create(username="bench-national", defaults={"role": "national"})
    rows: list[dict[str, object]] = []
    for who, user in (("director of Camden", director), ("national", national)):
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        for name, url in PAGES:
            started = clock.perf_counter()
            res = client.get(url)
            first = clock.perf_counter() - started
            times = []
            for _ in range(repeats):
                t = clock.perf_counter()
                res = client.get(url)
                times.append(clock.perf_counter() - t)
            rows.append(
                {
                    "user": who,
                    "page": name,
                    "status": res.status_code,
                    "first_ms": round(first * 1000, 1),
                    "median_ms": round(statistics.median(times) * 1000, 1),
                    "max_ms": round(max(times) * 1000, 1),
                }
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="SQLite file to use (default: a new temporary one)")
    ap.add_argument("--no-load", action="store_true", help="the --db file is already loaded")
    ap.add_argument("--term", default="autumn-2025")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--pass", dest="whole_pass", action="store_true", help="time run_term_pass (see above)")
    ap.add_argument("--database-url", help="with --pass: a loaded PostgreSQL database instead of --db")
    ap.add_argument(
        "--model", help="with --pass: the saved early-warning model (trained and saved if absent)"
    )
    ap.add_argument(
        "--pages", action="store_true", help="time the pages that read stored results (after --pass)"
    )
    args = ap.parse_args()
    if args.pages:
        _django(args.db, args.database_url)
        print("RESULT " + json.dumps(time_pages()), flush=True)
        return
    if args.whole_pass:
        _django(args.db, args.database_url)
        print("RESULT " + json.dumps(time_pass(args.term, args.model)), flush=True)
        return
    if args.worker:
        worker(args.db, args.term)
        return
    tmp = None
    db = args.db
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="beacon-bench-risk-")
        db = str(Path(tmp.name) / "bench.sqlite3")
    if not args.no_load:
        print(f"Importing every national file into {db} (not timed as part of the evaluation)...", flush=True)
        print(f"  import took {load(db):.1f}s", flush=True)
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", "--db", db, "--term", args.term],
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        sys.exit(1)
    r = json.loads(line[7:])
    print()
    print(f"evaluate({args.term}) over every state-funded school in England (SQLite)")
    print(f"  schools                {r['schools']:>10}")
    print(
        f"  criterion results      {r['results']:>10}   ({', '.join(f'{k} {v}' for k, v in sorted(r['counts'].items()))})"
    )
    print(
        f"  first run              {r['first_s']:>10.2f} s  (load frames {r['load_s']:.2f}, rules {r['rules_s']:.2f}, write {r['write_s']:.2f})"
    )
    print(f"  second run (upserts)   {r['second_s']:>10.2f} s")
    print(
        f"  peak RSS               {r['peak_mib']:>10.1f} MiB (process baseline {r['baseline_mib']:.1f} MiB)"
    )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
