"""How current the data held is: per import source, the latest academic year (or as-at date) it holds.

Derived from the DATA each source's runs wrote (rows whose `source_run` belongs to the source), never from
labels: a source is as current as the newest row it wrote for the LA's schools (or the LA itself, for
area figures). Generic over sources: every registered `Source` (`framework.load_all_sources()`) is listed,
and every model with a `source_run` foreign key to `ImportRun` is read, so importers added later are
covered without editing this module.

* Academic years are by their starting year (2024 = 2024/25), as everywhere in Beacon.
* Snapshot sources (no `year` on their rows, e.g. Ofsted inspections): the as-at date is parsed from the
  run's file name ("…as_at_31_august_2025…" -> 2025-08-31); otherwise the newest publication date (else
  start date) of the rows it wrote.
* "What the shared data lacks" is said per source where known (`KNOWN_GAPS`), and a source whose latest
  year is more than `STALE_AFTER_YEARS` academic years before the current one is flagged as old.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import models
from django.db.models import Count, Max

from beacon.core.formatting import academic_year
from beacon.core.terms import academic_year_of
from beacon.imports.framework import load_all_sources
from beacon.imports.models import ImportRun, RunStatus

STALE_AFTER_YEARS = 2  # older than two academic years before the current one is "old"

# What the shared data lacks, where known (../shared/data/README.md), by source key.
KNOWN_GAPS: dict[str, str] = {
    "csp_absence": (
        "School-level absence and persistent absence end in 2018/19 in the shared data (no later "
        "school-level file was obtainable); LA, London and England absence to 2024/25 come from LAIT."
    ),
    "ks2_results": (
        "KS2 progress scores were not published for 2023/24 or 2024/25 (no KS1 baseline): the latest "
        "progress scores are for 2022/23."
    ),
    "ks4_results": (
        "Progress 8 was not published for 2024/25; all-school Progress 8 ends in 2022/23 in the shared "
        "data (Camden to 2023/24)."
    ),
    "csp_census": "The Compare School Performance census of 2018/19; later censuses come from other files.",
    "gias_establishments": (
        "A GIAS extract of August 2022 (the file carries no date); a whole, current GIAS file was not "
        "obtainable, so schools opened since then come from the census files."
    ),
    "ofsted_latest": (
        "A snapshot of each school's latest graded inspection only: earlier and ungraded inspections come "
        "from other files."
    ),
    "ofsted_inspection_history": (
        "Graded inspections from an extract made around 2018 (the newest in early 2020); ungraded and later "
        "inspections come from other files."
    ),
    "ofsted_management_information": (
        "A sample of 18 rows of Ofsted's 2026 management information (report cards), not every school."
    ),
    "lait_benchmarks": (
        "Local authority, region and England figures only. School-level suspensions end in 2018/19 in the "
        "shared data; LA-level suspensions continue here."
    ),
    "lait_group_breakdowns": (
        "Local authority, region and England figures only; EAL and gender breakdowns are not published "
        "at LA level."
    ),
}

_MONTHS = {
    name: i
    for i, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
_SEP = r"[\s_\-.]+"
_AS_AT_WORDS = re.compile(
    rf"as{_SEP}at{_SEP}(\d{{1,2}})(?:st|nd|rd|th)?{_SEP}({'|'.join(_MONTHS)}){_SEP}(\d{{4}})", re.IGNORECASE
)
_AS_AT_ISO = re.compile(rf"as{_SEP}at{_SEP}(\d{{4}})[\-_]?(\d{{2}})[\-_]?(\d{{2}})(?!\d)", re.IGNORECASE)


def as_at_from_name(file_name: str) -> dt.date | None:
    """'…as_at_31_august_2025…' or 'as at 31 August 2025' or 'as-at-2025-08-31' -> the date; else None."""
    m = _AS_AT_WORDS.search(file_name)
    try:
        if m:
            return dt.date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
        m = _AS_AT_ISO.search(file_name)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:  # e.g. "as at 31 February 2025": not a date
        return None
    return None


def current_academic_year(today: dt.date) -> int:
    """The academic year (by its starting year) a date falls in: September onwards starts a new one."""
    return academic_year_of(today)


# ---------------------------------------------------------------------------------------------
# Which tables hold provenance, and how each is read


@dataclass(frozen=True)
class _Table:
    model: type[models.Model]
    la_lookup: str | None  # e.g. "school__la_code", "area__code"; None = not tied to an LA
    year_field: str | None  # academic year by its start year
    model_year_field: str | None  # a model's own year (statistical neighbours), not an academic year
    date_fields: tuple[str, ...]  # for snapshot sources: newest of these, in order of preference


# How a model's rows tie to an LA: rules registered by the apps that own the LA-bearing models
# (beacon.schools: the school itself or a `school` foreign key; beacon.indicators: an `area`), so this
# module does not import them (decision 0022). A rule returns the lookup ("school__la_code") or None.
LaLookupRule = Callable[[type[models.Model], dict[str, Any]], str | None]
_LA_LOOKUP_RULES: list[LaLookupRule] = []


def la_lookup_rule(rule: LaLookupRule) -> None:
    """Register a rule (at app start, before the first freshness read)."""
    if rule not in _LA_LOOKUP_RULES:
        _LA_LOOKUP_RULES.append(rule)
        _tables.cache_clear()


def _la_lookup(model: type[models.Model], fields: dict[str, Any]) -> str | None:
    return next((found for rule in _LA_LOOKUP_RULES if (found := rule(model, fields)) is not None), None)


@cache
def _tables() -> tuple[_Table, ...]:
    """Every concrete model with a `source_run` foreign key to ImportRun (history tables left out)."""
    from django.apps import apps

    out = []
    for model in apps.get_models():
        fields = {f.name: f for f in model._meta.concrete_fields}
        run = fields.get("source_run")
        if run is None or run.related_model is not ImportRun or "history_id" in fields:
            continue
        la_lookup = _la_lookup(model, fields)
        year = fields.get("year")
        out.append(
            _Table(
                model=model,
                la_lookup=la_lookup,
                year_field="year" if isinstance(year, models.IntegerField) else None,
                model_year_field="model_year" if "model_year" in fields else None,
                date_fields=tuple(
                    n
                    for n in ("publication_date", "start_date")
                    if isinstance(fields.get(n), models.DateField)
                ),
            )
        )
    return tuple(sorted(out, key=lambda t: t.model._meta.label))


# ---------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True)
class SourceFreshness:
    source: str
    label: str
    latest_year: int | None
    as_at: dt.date | None
    model_year: int | None
    file: str | None
    rows: int | None  # rows the reported run wrote (added + updated)
    rows_held: int  # rows held now for the LA from this source
    imported_at: dt.datetime | None
    runs: int  # successful runs of this source
    lacks: str
    stale: bool

    @property
    def latest_year_label(self) -> str:
        return academic_year(self.latest_year)

    @property
    def imported(self) -> bool:
        return self.runs > 0

    @property
    def period_text(self) -> str:
        """'2024/25', 'As at 31 August 2025', 'Model of 2025', 'Undated (…)' or 'No data held'."""
        from beacon.core.formatting import govuk_date

        parts = []
        if self.latest_year is not None:
            parts.append(self.latest_year_label)
        if self.as_at is not None:
            parts.append(f"As at {govuk_date(self.as_at)}")
        if self.model_year is not None and not parts:
            parts.append(f"Model of {self.model_year}")
        if not parts:
            return "Undated (the file carries no year or date)" if self.rows_held else "No data held"
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "label": self.label,
            "latest_year": self.latest_year,
            "latest_year_label": self.latest_year_label or None,
            "as_at": self.as_at.isoformat() if self.as_at else None,
            "model_year": self.model_year,
            "file": self.file,
            "rows": self.rows,
            "rows_held": self.rows_held,
            "imported_at": self.imported_at.isoformat() if self.imported_at else None,
            "runs": self.runs,
            "stale": self.stale,
            "lacks": self.lacks or None,
        }


@dataclass
class _RunRows:
    """What one run wrote that is still held for the LA (summed over every provenance table)."""

    source: str
    rows: int = 0
    latest_year: int | None = None
    model_year: int | None = None
    newest_date: dt.date | None = None


def _newer(a: Any, b: Any) -> Any:
    return b if a is None or (b is not None and b > a) else a


def _scoped(table: _Table, la_code: int | None) -> Any:
    qs = table.model._default_manager.filter(source_run__isnull=False)
    if la_code is not None and table.la_lookup is not None:
        qs = qs.filter(**{table.la_lookup: la_code})
    return qs


def _rows_by_run(la_code: int | None) -> dict[int, _RunRows]:
    """Run id -> rows held, latest year, model year and newest date: one grouped query per table."""
    out: dict[int, _RunRows] = {}
    for table in _tables():
        aggregates: dict[str, Any] = {"n": Count("pk")}
        if table.year_field:
            aggregates["year"] = Max(table.year_field)
        if table.model_year_field:
            aggregates["model_year"] = Max(table.model_year_field)
        for name in table.date_fields:
            aggregates[name] = Max(name)
        qs = _scoped(table, la_code).values("source_run_id", "source_run__source").annotate(**aggregates)
        for row in qs.order_by():
            r = out.setdefault(row["source_run_id"], _RunRows(row["source_run__source"]))
            r.rows += row["n"]
            r.latest_year = _newer(r.latest_year, row.get("year"))
            r.model_year = _newer(r.model_year, row.get("model_year"))
            # Snapshots: the newest publication date, else the newest start date.
            r.newest_date = _newer(
                r.newest_date, next((row[n] for n in table.date_fields if row.get(n) is not None), None)
            )
    return out


def _newest(runs: Iterable[ImportRun]) -> ImportRun | None:
    return max(runs, key=lambda r: (r.finished_at or r.created_at, r.pk), default=None)


def source_freshness(la_code: int | None, *, today: dt.date) -> list[SourceFreshness]:
    """Every registered import source with how current its data is for the LA (`None`: all of England).

    `today` decides which sources are old (more than STALE_AFTER_YEARS academic years before today's);
    pass it explicitly (pages: the local date; tests: a fixed date)."""
    sources = load_all_sources()
    held = _rows_by_run(la_code)
    succeeded: dict[str, list[ImportRun]] = {}
    for ok in ImportRun.objects.filter(status=RunStatus.SUCCEEDED, source__in=list(sources)):
        succeeded.setdefault(ok.source, []).append(ok)
    current = current_academic_year(today)
    out = []
    for key, src in sorted(sources.items()):
        runs = succeeded.get(key, [])
        mine = {run_id: r for run_id, r in held.items() if r.source == key}
        by_id = {r.pk: r for r in runs}
        writing = [by_id[i] for i in mine if i in by_id]
        latest_year = max((r.latest_year for r in mine.values() if r.latest_year is not None), default=None)
        model_year = max((r.model_year for r in mine.values() if r.model_year is not None), default=None)
        newest_date = max((r.newest_date for r in mine.values() if r.newest_date is not None), default=None)
        rows_held = sum(r.rows for r in mine.values())
        # Runs whose file name can give an as-at date: those that wrote rows held for the LA; a source
        # whose rows carry no provenance at all is judged by its runs for this LA.
        candidates = writing or [r for r in runs if r.la_code == la_code]
        as_at: dt.date | None = None
        named = [(d, r) for r in candidates if (d := as_at_from_name(r.file_name)) is not None]
        run: ImportRun | None
        if named:
            as_at, run = max(named, key=lambda p: (p[0], p[1].pk))
        elif latest_year is None and newest_date is not None:
            as_at = newest_date
        if latest_year is not None:
            run = _newest(by_id[i] for i, r in mine.items() if r.latest_year == latest_year and i in by_id)
        elif not named:
            run = _newest(writing) or _newest(runs)
        stale = latest_year is not None and latest_year < current - STALE_AFTER_YEARS
        if latest_year is None and as_at is not None:
            stale = current_academic_year(as_at) < current - STALE_AFTER_YEARS
        out.append(
            SourceFreshness(
                source=key,
                label=src.label,
                latest_year=latest_year,
                as_at=as_at,
                model_year=model_year,
                file=run.file_name if run else None,
                rows=(run.rows_inserted + run.rows_updated) if run else None,
                rows_held=rows_held,
                imported_at=(run.finished_at or run.created_at) if run else None,
                runs=len(runs),
                lacks=KNOWN_GAPS.get(key, ""),
                stale=stale,
            )
        )
    return out


# The kinds of data an officer asks about, each answered by the sources that hold it. Years: the newest
# any of them holds. Ofsted: the as-at date of the first snapshot imported, in this order (the official
# statistics are the complete snapshot; the 2026 management-information file here is an 18-row sample).
DATA_KINDS: dict[str, tuple[str, ...]] = {
    "ks2": ("ks2_results", "ks2_results_by_urn", "ks2_results_matched"),
    "ks4": (
        "ks4_results",
        "ks4_results_by_urn",
        "ks4_results_matched",
        "ks4_results_provisional",
        "ks4_results_csp_prev_years",
    ),
    "census": ("school_census", "csp_census", "csp_census_register", "census_context_by_urn"),
    "absence": ("csp_absence", "absence_school_ees"),
    "suspensions": ("suspensions_school_ees",),
    "finance": ("finance_by_urn",),
    "workforce": ("workforce_by_urn",),
    "destinations": ("ks4_destinations", "destinations_by_urn", "ks5_destinations"),
    "ofsted": ("ofsted_official_statistics", "ofsted_management_information", "ofsted_latest"),
}


def freshness_by_kind(sources: list[SourceFreshness]) -> dict[str, dict[str, Any]]:
    """Per kind of data (KS2, KS4, census, absence, Ofsted…): the latest academic year or as-at date held
    and the source it comes from; a kind nobody imported is null."""
    by_key = {s.source: s for s in sources}
    out: dict[str, dict[str, Any]] = {}
    for kind, keys in DATA_KINDS.items():
        held = [by_key[k] for k in keys if k in by_key and by_key[k].imported]
        if kind == "ofsted":
            snap = next(((s.as_at, s.source) for s in held if s.as_at is not None), None)
            out[kind] = {"as_at": snap[0].isoformat(), "source": snap[1]} if snap else {"as_at": None}
            continue
        dated = [s for s in held if s.latest_year is not None]
        best = max(dated, key=lambda s: s.latest_year or 0, default=None)
        out[kind] = {
            "latest_year": best.latest_year if best else None,
            "latest_year_label": best.latest_year_label if best else None,
            "source": best.source if best else None,
        }
    return out


def freshness_json(la_code: int | None, *, today: dt.date) -> dict[str, Any]:
    """The stable JSON of `manage.py data_freshness --json`."""
    sources = source_freshness(la_code, today=today)
    return {
        "la": la_code,
        "on": today.isoformat(),
        "current_academic_year": current_academic_year(today),
        "by_kind": freshness_by_kind(sources),
        "sources": [s.as_dict() for s in sources],
    }
