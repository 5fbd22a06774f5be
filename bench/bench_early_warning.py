#!/usr/bin/env python
"""Early-warning model benchmark (issue 12, item 5) on a database holding the national files:

    BEACON_SQLITE_PATH=var/national.sqlite3 .venv/bin/python bench/bench_early_warning.py [--as-of 2025-09-01]

Times, in this process: loading the frames from the database, training (snapshot features, 3 LA-grouped
folds and the final fit), scoring every open school without reasons and with reasons (occlusion by
feature group). Prints one JSON line with seconds, rows, schools and peak RSS. Budgets from the issue:
training at most 300 s, scoring every school at most 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2025, 9, 1))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beacon.settings")
    import django

    django.setup()
    from beacon.earlywarning.features import load_sources
    from beacon.earlywarning.model import fit, score

    out: dict[str, object] = {"as_of": str(args.as_of)}
    t = time.perf_counter()
    src = load_sources()
    out["load_seconds"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    model = fit(src, args.as_of)
    out["train_seconds"] = round(time.perf_counter() - t, 1)
    out["training_rows"] = model.metrics["training_rows"]
    t = time.perf_counter()
    s = score(model, src, args.as_of, reasons=False)
    out["score_seconds"] = round(time.perf_counter() - t, 1)
    out["schools"] = s.height
    t = time.perf_counter()
    score(model, src, args.as_of, reasons=True)
    out["score_with_reasons_seconds"] = round(time.perf_counter() - t, 1)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
