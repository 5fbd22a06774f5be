#!/usr/bin/env python
"""`make bench`: every benchmark in one run, its figures written into docs/PERFORMANCE.md.

Stages (each in its own process; a failing stage is reported and the others still run):

  import         bench/run.py: (a) polars read of every registered file; (b) the national import and
                 `evaluate_risk` on SQLite and PostgreSQL; the main pages on the national database as
                 the director of an LA and as a national user (skipped with a message if Beacon has no
                 such role); the national SQLite database is kept for the next stages
  early-warning  bench/bench_early_warning.py on that database: training and scoring every school
  load           bench/load.py on the Camden demo, SQLite and PostgreSQL: the closed loop (maximum
                 requests per second) and 200 users with 1-3 s think time
  load-national  (not by default) bench/load.py --sqlite-db on the national SQLite database, think time

    .venv/bin/python bench/make_bench.py --postgres postgres://postgres@127.0.0.1:5432/postgres
    BENCH_QUICK=1 make bench                   # shorter load test, SQLite only for the import stage
    BENCH_STAGES=load make bench               # only some stages (comma-separated)

The Markdown goes between the markers BEGIN/END below in docs/PERFORMANCE.md (`--no-write`: print only),
with the date, the machine, the commit and the load average at start, between stages and at the end, so a
run on a shared machine shows as one. Everything is also kept as JSON in var/bench/last-run.json.
Exit status 1 if any stage failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DOC = ROOT / "docs" / "PERFORMANCE.md"
BEGIN = "<!-- make bench: BEGIN generated section (bench/make_bench.py); do not edit by hand -->"
END = "<!-- make bench: END generated section -->"
STAGES = ("import", "early-warning", "load", "load-national")
DEFAULT_STAGES = ("import", "early-warning", "load")


def machine() -> dict[str, Any]:
    def first(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    mem_kib = first("/proc/meminfo", "MemTotal").split()[0]
    import sqlite3

    try:
        import polars

        polars_version = polars.__version__
    except ImportError:
        polars_version = "?"
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "cpu": first("/proc/cpuinfo", "model name"),
        "ram_gib": round(int(mem_kib) / 1024 / 1024, 1) if mem_kib.isdigit() else "?",
        "python": platform.python_version(),
        "polars": polars_version,
        "sqlite": sqlite3.sqlite_version,
    }


def pg_version(url: str) -> str:
    try:
        import psycopg

        with psycopg.connect(urlunparse(urlparse(url)._replace(path="/postgres")), connect_timeout=5) as c:
            row = c.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"
    except Exception as exc:  # reported in the doc; the stages that need it fail on their own
        return f"unreachable ({type(exc).__name__})"


def commit() -> str:
    def git(*args: str) -> str:
        res = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return res.stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "?"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{sha}{' (with uncommitted changes)' if dirty else ''}"


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}/{five:.1f}/{fifteen:.1f}"


def run_stage(name: str, cmd: list[str], env: dict[str, str], log_dir: Path) -> dict[str, Any]:
    """Run one stage, streaming its progress (stderr) to ours and to a log file; keep its stdout."""
    print(f"\n== {name}: {shlex.join(cmd)}", file=sys.stderr, flush=True)
    log_path = log_dir / f"{name}.log"
    started = time.perf_counter()
    out_path = log_dir / f"{name}.out"
    with log_path.open("w") as log, out_path.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        for line in proc.stderr:
            sys.stderr.write(line)
            log.write(line)
        proc.wait()
    stdout = out_path.read_text()
    secs = time.perf_counter() - started
    tail = log_path.read_text()[-1500:]
    print(f"== {name}: exit {proc.returncode} after {secs:.0f}s", file=sys.stderr, flush=True)
    return {
        "name": name,
        "command": shlex.join(cmd),
        "exit": proc.returncode,
        "seconds": round(secs),
        "stdout": stdout,
        "log_tail": tail,
        "load_after": loadavg(),
    }


def _s(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:,.{digits}f} s"


def headline(run: dict[str, Any], ew: dict[str, Any] | None) -> list[str]:
    """(a) polars read, (b) import + risk evaluation, (b)/(a), per database; model scoring beside it."""
    backends = [b for b in ("sqlite", "postgresql") if any(r["backend"] == b for r in run["results"])]
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    cols: dict[str, dict[str, Any]] = {}
    for b in backends:
        sel = [r for r in run["results"] if r["backend"] == b and r["status"] != "missing"]
        extra = run["after_import"].get(b, {})
        read_s = sum(r["read_seconds"] for r in sel)
        whole = run.get("imports", {}).get(b, {})  # the national import in one process (`import_files`)
        import_s = whole.get("seconds", 0.0)
        risk_s = extra.get("risk_s")
        total = import_s + risk_s if risk_s is not None else None
        peak = max([whole.get("peak_mib", 0), extra.get("risk_peak_mib", 0), extra.get("pages_peak_mib", 0)])
        bad = [r for r in sel if r["status"] != "succeeded"]
        cols[b] = {
            "files": len(sel),
            "rows": sum(r["rows_read"] for r in sel),
            "read": read_s,
            "import": import_s,
            "risk": risk_s,
            "schools": extra.get("risk_schools"),
            "results": extra.get("risk_results"),
            "total": total,
            "ratio": (total / read_s) if total is not None and read_s else None,
            "import_ratio": import_s / read_s if read_s else None,
            "peak": peak,
            "bad": bad,
            "scores": extra.get("risk_scores"),
            "stages": extra.get("risk_stages") or {},
            "train": extra.get("train_s"),
        }
    if not cols:
        return ["No import figures (the import stage produced none).", run.get("postgresql_failure", "")]
    files = max(c["files"] for c in cols.values())
    rows = max(c["rows"] for c in cols.values())
    schools = next((c["schools"] for c in cols.values() if c["schools"]), None)
    head = "| | " + " | ".join(label[b] for b in cols) + " |"
    sep = "|---|" + "---:|" * len(cols)

    def row(title: str, fn: Any) -> str:
        return f"| {title} | " + " | ".join(fn(c) for c in cols.values()) + " |"

    out = [
        head,
        sep,
        row(
            f"(a) polars alone reads all {files} files ({rows:,} rows, every cell as text)",
            lambda c: _s(c["read"], 2),
        ),
        row(
            f"national import, {files} files (`load_demo --national`: `import_files`, one process)",
            lambda c: _s(c["import"]),
        ),
        row(
            f"risk evaluation with model scoring (`evaluate_risk`){f', {schools:,} schools' if schools else ''}",
            lambda c: _s(c["risk"]) if c["risk"] is not None else "**failed**",
        ),
        row(
            "... of which: load frames / rules / write results / model scoring / proposals",
            lambda c: (
                " / ".join(
                    f"{c['stages'].get(k, 0):.1f}" for k in ("load", "rules", "write", "score", "proposals")
                )
                + " s"
                if c["stages"]
                else "-"
            ),
        ),
        row(
            "... model scoring in a worker process, beside the rules (not in the sum above)",
            lambda c: f"{c['stages']['score_worker']:.1f} s" if c["stages"].get("score_worker") else "-",
        ),
        row("... schools scored by the early-warning model", lambda c: f"{c['scores'] or 0:,}"),
        row("(b) import + risk evaluation", lambda c: _s(c["total"])),
        row("**(b)/(a)**", lambda c: f"**{c['ratio']:,.0f}x**" if c["ratio"] else "-"),
        row("import alone / (a)", lambda c: f"{c['import_ratio']:,.0f}x" if c["import_ratio"] else "-"),
        row("peak RSS of the largest single process", lambda c: f"{c['peak']:.0f} MiB"),
        row("training the early-warning model (yearly, not in (b))", lambda c: _s(c["train"])),
    ]
    scored = any(c["scores"] for c in cols.values())
    if (
        not scored
        and ew
        and "score_seconds" in ew
        and "sqlite" in cols
        and cols["sqlite"]["total"] is not None
    ):
        c = cols["sqlite"]
        with_scoring = c["total"] + ew["score_seconds"]
        out += [
            "",
            f"Model scoring (early-warning stage, SQLite): {ew['schools']:,} schools in {ew['score_seconds']} s "
            f"({ew['score_with_reasons_seconds']} s with reasons). If `evaluate_risk` does not already score "
            f"with the model, (b) + scoring = {with_scoring:,.1f} s = **{with_scoring / c['read']:,.0f}x** (a) on "
            "SQLite.",
        ]
    if run.get("postgresql_failure"):
        out.append(f"\n**{run['postgresql_failure'][:500]}**")
    for b, c in cols.items():
        for r in c["bad"]:
            out.append(
                f"\n**{label[b]}: {r['source']} {Path(r['file']).name} {r['status']}**: {r['message'][:300]}"
            )
    return out


def pages_md(run: dict[str, Any], la: int) -> list[str]:
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    out: list[str] = []
    for backend, extra in run["after_import"].items():
        for timing in extra.get("pages_by_role", []):
            if "skipped" in timing:
                out += [f"{label[backend]}, as {timing['role']}: {timing['skipped']}.", ""]
                continue
            demo = timing["user"] != f"bench-{timing['role']}"
            who = f"the demo {timing['role']} of LA {la}" if demo else f"a {timing['role']} user (no LA)"
            out += [
                f"{label[backend]}, signed in as {who}:",
                "",
                "| page | status | KiB | first ms | median ms | max ms |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            out += [
                f"| {p['page']} | {p['status']} | {p['kib']:.0f} | {p['first_ms']:.0f} | {p['median_ms']:.0f} | {p['max_ms']:.0f} |"
                for p in timing["pages"]
            ]
            out.append("")
        for e in extra.get("errors", []):
            out += [f"**{label[backend]}: {e[:500]}**", ""]
    return out


def json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return dict(json.loads(line))
            except ValueError:
                continue
    return None


def render(meta: dict[str, Any], stages: list[dict[str, Any]], data: dict[str, Any]) -> str:
    m = meta["machine"]
    out = [
        BEGIN,
        "",
        f"## Latest `make bench` ({meta['started']:%d %B %Y, %H:%M}-{meta['ended']:%H:%M} UTC, {meta['seconds'] / 60:.0f} min)",
        "",
        *(
            []
            if meta.get("complete")
            else ["**Run in progress or stopped: only the stages listed below ran.**", ""]
        ),
        f"Generated by `{meta['command']}` at commit {meta['commit']}. Machine: {m['cpus']} CPUs ({m['cpu']}), "
        f"{m['ram_gib']} GiB RAM, Python {m['python']}, polars {m['polars']}, SQLite {m['sqlite']}, "
        + (
            f"PostgreSQL {meta['postgres']} on the same machine"
            if meta["postgres"] != "not used"
            else "no PostgreSQL"
        )
        + f". **Load average (1/5/15 min) at start "
        f"{meta['load_start']}, at the end {meta['load_end']}**; on 2 cores anything above 2 means other work "
        "shared the machine and absolute times are pessimistic.",
        "",
        "| stage | exit | seconds | load average after |",
        "|---|---:|---:|---|",
        *(
            f"| {s['name']} | {'ok' if s['exit'] == 0 else f'**{s["exit"]}**'} | {s['seconds']} | {s['load_after']} |"
            for s in stages
        ),
        "",
    ]
    for s in stages:
        if s["exit"] != 0:
            tail = s["log_tail"].strip().replace("```", "'''")
            out += [
                f"Stage **{s['name']}** did not succeed (exit {s['exit']}); end of its log:",
                "",
                "```",
                tail[-1200:],
                "```",
                "",
            ]
    run = data.get("import")
    if run:
        out += ["### Headline: import + risk evaluation against a polars read", ""]
        out += headline(run, data.get("early-warning"))
        out += [
            "",
            "### Pages on the national database (Django test client: server time, first request, median and max of 5)",
            "",
        ]
        out += pages_md(run, meta["la"])
        out += [
            "<details><summary>Per file (bench/run.py)</summary>",
            "",
            data.get("import_stdout", ""),
            "",
            "</details>",
            "",
        ]
    ew = data.get("early-warning")
    if ew:
        out += [
            "### Early-warning model (bench/bench_early_warning.py, national SQLite database)",
            "",
            f"As of {ew['as_of']}: loading the frames {ew['load_seconds']} s, training ({ew['training_rows']:,} rows, "
            f"three LA-grouped folds and the final fit) {ew['train_seconds']} s, scoring {ew['schools']:,} schools "
            f"{ew['score_seconds']} s ({ew['score_with_reasons_seconds']} s with reasons), peak RSS {ew['peak_rss_mb']} MB.",
            "",
        ]
    for key, title in (("load", "Camden demo"), ("load-national", "national SQLite database")):
        text = data.get(f"{key}_stdout")
        if text:
            out += [
                f"### Load test on the {title} (bench/load.py, gunicorn as `make run` serves it)",
                "",
                text.strip(),
                "",
            ]
    out.append(END)
    return "\n".join(out)


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = before + section + after
    else:  # first run: after the introduction (the first blank line after the title's paragraph)
        head, sep, tail = text.partition("\n## ")
        text = head.rstrip() + "\n\n" + section + "\n" + (sep + tail if sep else "")
    DOC.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--postgres", metavar="URL", help="PostgreSQL server (its database is only used to connect)"
    )
    ap.add_argument("--stages", default=os.environ.get("BENCH_STAGES", ",".join(DEFAULT_STAGES)))
    ap.add_argument(
        "--quick", action="store_true", default=os.environ.get("BENCH_QUICK", "") not in {"", "0"}
    )
    ap.add_argument("--la", type=int, default=202)
    ap.add_argument("--roles", default=os.environ.get("BENCH_ROLES", "director,national"))
    ap.add_argument("--national-db", default=str(ROOT / "var" / "bench" / "national.sqlite3"))
    ap.add_argument(
        "--no-write", action="store_true", help="print the Markdown, leave docs/PERFORMANCE.md alone"
    )
    args = ap.parse_args()
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = set(stages) - set(STAGES)
    if unknown:
        ap.error(f"unknown stages {sorted(unknown)}; choose from {', '.join(STAGES)}")

    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    log_dir = Path(tempfile.mkdtemp(prefix="logs-", dir=out_dir))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BEACON_SQLITE_PATH"}}
    meta: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC),
        "command": "make bench"
        + (" (BENCH_QUICK)" if args.quick else "")
        + (f" BENCH_STAGES={args.stages}" if set(stages) != set(DEFAULT_STAGES) else ""),
        "machine": machine(),
        "postgres": pg_version(args.postgres) if args.postgres else "not used",
        "commit": commit(),
        "load_start": loadavg(),
        "la": args.la,
    }
    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []
    data: dict[str, Any] = {}

    def progress() -> None:
        """After each stage: the doc already holds what has been measured (if the run is stopped)."""
        meta.update(ended=dt.datetime.now(dt.UTC), seconds=time.perf_counter() - t0, load_end=loadavg())
        if not args.no_write:
            write_doc(render(meta, results, data))

    pg = ["--postgres", args.postgres] if args.postgres else []

    if "import" in stages:
        js = log_dir / "run.json"
        cmd = [
            PY,
            "bench/run.py",
            "--markdown",
            "--json",
            str(js),
            "--la",
            str(args.la),
            "--roles",
            args.roles,
        ]
        cmd += ["--keep-sqlite", args.national_db] + ([] if args.quick else pg)
        st = run_stage("import", cmd, env, log_dir)
        results.append(st)
        data["import_stdout"] = st["stdout"].strip()
        if js.exists():
            data["import"] = json.loads(js.read_text())
        progress()
    if "early-warning" in stages:
        if Path(args.national_db).exists():
            st = run_stage(
                "early-warning",
                [PY, "bench/bench_early_warning.py"],
                {**env, "BEACON_SQLITE_PATH": args.national_db},
                log_dir,
            )
            results.append(st)
            data["early-warning"] = json_line(st["stdout"])
            progress()
        else:
            results.append({"name": "early-warning", "exit": "skipped", "seconds": 0, "load_after": loadavg(),
                            "log_tail": f"no national database at {args.national_db}: run the import stage first"})  # fmt: skip
    load_opts = ["--markdown"] + (["--duration", "10", "--think-duration", "30"] if args.quick else [])
    if "load" in stages:
        st = run_stage(
            "load", [PY, "bench/load.py", *pg, *load_opts, "--json", str(log_dir / "load.json")], env, log_dir
        )
        results.append(st)
        data["load_stdout"] = st["stdout"]
        progress()
    if "load-national" in stages:
        if Path(args.national_db).exists():
            cmd = [PY, "bench/load.py", "--sqlite-db", args.national_db, "--mode", "think", *load_opts]
            st = run_stage("load-national", cmd, env, log_dir)
            results.append(st)
            data["load-national_stdout"] = st["stdout"]
            progress()
        else:
            results.append({"name": "load-national", "exit": "skipped", "seconds": 0, "load_after": loadavg(),
                            "log_tail": f"no national database at {args.national_db}"})  # fmt: skip

    meta.update(ended=dt.datetime.now(dt.UTC), seconds=time.perf_counter() - t0, load_end=loadavg())
    meta["complete"] = True
    section = render(meta, results, data)
    (out_dir / "last-run.json").write_text(
        json.dumps({"meta": meta, "stages": results, "data": data}, indent=1, default=str)
    )
    if args.no_write:
        print(section)
    else:
        write_doc(section)
        print(
            f"\nWrote the generated section of {DOC.relative_to(ROOT)} (logs in {log_dir.relative_to(ROOT)})"
        )
    for s in results:
        print(f"{s['name']}: exit {s['exit']} in {s['seconds']}s")
    return 0 if all(s["exit"] == 0 for s in results) else 1


if __name__ == "__main__":
    sys.exit(main())
