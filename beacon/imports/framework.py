"""The import pipeline shared by every data source.

read file (polars, all text) -> match headers to the source's column registry -> parse and validate
every cell (vectorised) -> if anything is wrong, reject with row/column/reason and write nothing ->
otherwise load inside one transaction (upserts, so the same file twice gives no duplicates).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import logging
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connections, models, router, transaction
from django.dispatch import Signal
from django.utils import timezone

from beacon.core.bulk import ROWS_PER_STATEMENT, copy_blocks, insert_columns, insert_rows
from beacon.core.frames import fetch_rows
from beacon.imports import parsing
from beacon.imports.models import ImportRun, RunStatus

logger = logging.getLogger(__name__)

# Sent after an import run succeeded (kwargs: run). Receivers refresh derived data (risk proposals).
import_succeeded = Signal()

ColumnKind = Literal["str", "int", "number", "date"]
MAX_STORED_ERRORS = 200
MAX_TEXT_CHARS = 10_000  # the longest text cell in any real source file is 337 characters
ROW_COL = "__row"


class ImportRejected(Exception):
    """The file cannot be imported; nothing was written."""

    def __init__(self, errors: list[dict[str, Any]], message: str = "") -> None:
        self.errors = errors
        super().__init__(message or f"{len(errors)} problem(s) in the file")


@dataclass(frozen=True)
class Column:
    """One column of a source's registry.

    `name` is what loaders use; `aliases` are the headers accepted in files (matched ignoring case,
    spaces and punctuation). Number columns get a companion `<name>__status` column.
    """

    name: str
    aliases: tuple[str, ...]
    kind: ColumnKind = "str"
    required: bool = True

    @functools.cached_property
    def keys(self) -> frozenset[str]:
        """The name and aliases, normalised (`normalise_header`): a header matches if its key is here."""
        return frozenset(normalise_header(a) for a in (self.name, *self.aliases))

    def matches(self, header: str) -> bool:
        return normalise_header(header) in self.keys


def normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9%]", "", header.lower())


@dataclass
class LoadResult:
    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportContext:
    run: ImportRun
    year: int | None = None
    la_code: int | None = None
    file_name: str = ""

    def progress(self, done: int, total: int, phase: str = "loading") -> None:
        cache.set(progress_key(self.run.pk), {"done": done, "total": total, "phase": phase}, 3600)


Loader = Callable[[pl.DataFrame, ImportContext], LoadResult]
Reader = Callable[[Path], pl.DataFrame]


_ABSOLUTE_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.\-+~@]+){2,}")


def without_paths(text: str, path: Path | None = None) -> str:
    """An error message without the server's file paths (issue 13): the file itself becomes "the file",
    any other absolute path "[path]"."""
    if path is not None:
        for form in {str(path), str(path.resolve()) if path.exists() else str(path)}:
            text = text.replace(form, "the file")
    for root in (str(settings.MEDIA_ROOT), str(settings.BASE_DIR)):
        text = text.replace(root, "[path]")
    return _ABSOLUTE_PATH.sub("[path]", text)


def read_table(path: Path) -> pl.DataFrame:
    """Read CSV (UTF-8, falling back to Windows-1252), Excel or Parquet with every column as text."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        df = pl.read_parquet(path)
        return df.with_columns(pl.all().cast(pl.Utf8))
    if suffix in {".xlsx", ".xls"}:
        try:
            parsing.check_archive(path)  # sizes from the zip directory, before anything is expanded
        except parsing.UploadTooLarge as exc:
            raise ImportRejected([{"row": 0, "column": "", "value": "", "reason": str(exc)}]) from None
        return pl.read_excel(path, infer_schema_length=0)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    df = pl.read_csv(text.encode("utf-8"), infer_schema_length=0, truncate_ragged_lines=False)
    short = short_csv_rows(text, df.width) if may_have_short_rows(df) else []
    if short:
        raise ImportRejected(
            [
                {
                    "row": row,
                    "column": "",
                    "value": "",
                    "reason": f"Row has {fields} of the {df.width} fields in the header row"
                    + (" (the file looks truncated)" if row == last else ""),
                }
                for row, fields, last in short
            ]
        )
    return df


def may_have_short_rows(df: pl.DataFrame) -> bool:
    """Whether `short_csv_rows` must scan the text: polars pads a short record's missing fields with
    nulls, so when the last column has no null no record is short; and when no cell is longer than the
    csv module's field limit, the scan could not fail either. Checked in polars, so the row-by-row scan
    only runs for files that may need it (decision 0026)."""
    import csv

    if df.width == 0 or df.height == 0 or df[df.columns[-1]].null_count():
        return True
    longest = df.select(pl.max_horizontal(pl.all().str.len_bytes().max())).item()
    return longest is not None and longest > csv.field_size_limit() // 4


def short_csv_rows(text: str, width: int) -> list[tuple[int, int, int]]:
    """(file row, fields, last row) for each record with fewer fields than the header.

    polars pads a short record with nulls without a word, so a file cut off mid-row (an interrupted
    download) or a garbled row would otherwise load with silent gaps. Rows are numbered as the
    validation errors are (header = row 1); blank lines are ignored.
    """
    import csv
    import io

    short: list[tuple[int, int, int]] = []
    last = 0
    reader = csv.reader(io.StringIO(text))
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if record:
                last = number
                if len(record) < width:
                    short.append((number, len(record), 0))
    except csv.Error as exc:  # e.g. a field longer than the csv module's limit (131,072 characters)
        raise ImportRejected(
            [{"row": number + 1, "column": "", "value": "", "reason": f"The row cannot be read: {exc}"}]
        ) from exc
    return [(row, fields, last) for row, fields, _ in short]


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    description: str
    columns: tuple[Column, ...]
    loader: Loader
    needs_year: bool = False
    reader: Reader = read_table
    demo_files: tuple[tuple[str, int | None], ...] = ()  # (path under DATA_DIR, year) for `load_demo`
    la_filter_column: str | None = None  # canonical column holding the LA code, if any

    def match_columns(self, headers: Sequence[str]) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """Map canonical name -> file header. Errors name each missing required column."""
        mapping: dict[str, str] = {}
        errors: list[dict[str, Any]] = []
        # Each header normalised once (a census file has 268 headers for 127 registered columns).
        keyed = [(h, normalise_header(h)) for h in headers]
        for col in self.columns:
            found = [h for h, key in keyed if key in col.keys]
            # polars renames a repeated header "X" to "X_duplicated_0": the column is there twice.
            found += [h for h in headers for f in found[:1] if h.startswith(f"{f}_duplicated_")]
            if len(found) > 1:
                errors.append(
                    {
                        "row": 1,
                        "column": col.name,
                        "value": ", ".join(h.split("_duplicated_")[0] for h in found)[:80],
                        "reason": f"The column appears more than once ({len(found)} times): "
                        "keep only the right one",
                    }
                )
            elif found:
                mapping[col.name] = found[0]
            elif col.required:
                errors.append(
                    {
                        "row": 1,
                        "column": col.name,
                        "value": "",
                        "reason": f"Required column missing (accepted headers: {', '.join(col.aliases)})",
                    }
                )
        return mapping, errors


REGISTRY: dict[str, Source] = {}


def register(source: Source) -> Source:
    if source.key in REGISTRY:
        raise ValueError(f"Duplicate import source {source.key}")
    REGISTRY[source.key] = source
    return source


def get_source(key: str) -> Source:
    load_all_sources()
    try:
        return REGISTRY[key]
    except KeyError as exc:
        raise KeyError(f"Unknown source '{key}'. Known: {', '.join(sorted(REGISTRY))}") from exc


def load_all_sources() -> dict[str, Source]:
    """Import every app's `importers` module so its sources register themselves."""
    from importlib import import_module

    for module in ("beacon.schools.importers", "beacon.indicators.importers", "beacon.inspections.importers"):
        import_module(module)
    return REGISTRY


def progress_key(run_id: int | None) -> str:
    return f"beacon:import-progress:{run_id}"


def validate(source: Source, raw: pl.DataFrame) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Parse every registered column. Returns the typed frame and every error found (all rows)."""
    mapping, errors = source.match_columns(raw.columns)
    if errors:
        return pl.DataFrame(), errors
    # Three passes, each column's parse done once (an eager select computes every expression on its own,
    # so value, status and error would each parse the cells again): 1. trimmed text of the number columns
    # (and everything else finished); 2. their value and code status; 3. status, error and the final frame.
    first: list[pl.Expr] = [pl.int_range(2, pl.len() + 2).alias(ROW_COL)]
    final: list[pl.Expr] = [pl.col(ROW_COL)]
    parts: list[pl.Expr] = []
    checks: list[tuple[str, str, pl.Expr]] = []  # (canonical, header, is_error expr over the pass-3 frame)
    for i, col in enumerate(source.columns):
        if col.name not in mapping:
            final.append(pl.lit(None, dtype=pl.Utf8).alias(col.name))
            if col.kind in {"number", "int"}:
                final.append(pl.lit("missing").alias(f"{col.name}__status"))
            continue
        header = mapping[col.name]
        src = pl.col(header)
        if col.kind == "str":
            first += [
                parsing.clean_str(src).alias(f"__v{i}"),
                (src.str.len_chars() > MAX_TEXT_CHARS).alias(f"__e{i}"),
            ]
            final.append(pl.col(f"__v{i}").alias(col.name))
            checks.append((col.name, header, pl.col(f"__e{i}")))
        elif col.kind in {"number", "int"}:
            text = pl.col(f"__t{i}")
            first.append(parsing.number_text(src).alias(f"__t{i}"))
            value, code_status = parsing.number_parts(text)
            parts += [value.alias(f"__v{i}"), code_status.alias(f"__c{i}")]
            value, status = (
                pl.col(f"__v{i}"),
                parsing.number_status(text, pl.col(f"__v{i}"), pl.col(f"__c{i}")),
            )
            is_err = status.is_null()
            if col.kind == "int":
                is_err = is_err | (value.is_not_null() & (value != value.round(0)))
                value = value.cast(pl.Int64, strict=False)
            final += [value.alias(col.name), status.alias(f"{col.name}__status")]
            checks.append((col.name, header, is_err))
        elif col.kind == "date":
            value, is_err = parsing.parse_date(src)
            first += [value.alias(f"__v{i}"), is_err.alias(f"__e{i}")]
            final.append(pl.col(f"__v{i}").alias(col.name))
            checks.append((col.name, header, pl.col(f"__e{i}")))
    staged = raw.select(first)
    if parts:
        staged = staged.with_columns(parts)
    parsed = staged.select(*final, *[e.alias(f"__err__{name}") for name, _, e in checks])
    failing = (
        parsed.select(pl.col(f"__err__{n}").fill_null(False).any() for n, _, _ in checks).row(0)
        if checks
        else ()
    )
    for (name, header, _), failed in zip(checks, failing, strict=True):
        if not failed:
            continue
        bad = parsed.filter(pl.col(f"__err__{name}")).select(ROW_COL)
        if bad.height:
            values = (
                raw.with_row_index("__i")
                .filter(pl.col("__i").is_in((bad[ROW_COL] - 2).to_list()))[header]
                .to_list()
            )
            kind = next(c.kind for c in source.columns if c.name == name)
            reason = {
                "date": "Not a date",
                "int": "Not a whole number or DfE code",
                "str": f"Longer than {MAX_TEXT_CHARS:,} characters",
            }.get(kind, "Not a number or a recognised DfE code (c, x, z, low, SUPP, NE, NP, NA)")
            for row, value in zip(bad[ROW_COL].to_list(), values, strict=False):
                errors.append({"row": row, "column": header, "value": str(value)[:80], "reason": reason})
    parsed = parsed.drop([f"__err__{n}" for n, _, _ in checks])
    errors.sort(key=lambda e: (e["row"], e["column"]))
    return parsed, errors


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def create_run(
    source_key: str,
    path: Path,
    *,
    year: int | None = None,
    la_code: int | None = None,
    user: Any = None,
    file_name: str | None = None,
) -> ImportRun:
    get_source(source_key)
    return ImportRun.objects.create(
        source=source_key,
        file_name=file_name or path.name,
        sha256=file_sha256(path),
        file_size=path.stat().st_size,
        year=year,
        la_code=la_code,
        started_by=user if getattr(user, "is_authenticated", False) else None,
    )


def _read_and_validate(
    source: Source, path: Path, sha256: str, ctx: ImportContext
) -> tuple[int, pl.DataFrame, list[dict[str, Any]]]:
    """Read and validate the file: (rows read, typed frame, errors). `sha256` lets a caller memoise."""
    try:
        raw = source.reader(path)
    except ImportRejected:  # the reader found specific problems (e.g. short rows)
        raise
    except Exception as exc:  # a file polars cannot read at all
        raise ImportRejected(
            [
                {
                    "row": 0,
                    "column": "",
                    "value": "",
                    "reason": f"The file could not be read: {without_paths(str(exc), path)}",
                }
            ]
        ) from exc
    ctx.progress(0, raw.height, "validating")
    parsed, errors = validate(source, raw)
    return raw.height, parsed, errors


def register_changed_since(previous: ImportRun) -> bool:
    """True when reference data changed after `previous` finished, so the same file is imported again
    rather than skipped as a duplicate: rows it had to leave out for schools the register did not hold yet
    are picked up (decision 0014). Upserts and the precedence rule make the re-run harmless for everything
    else. The apps above register what counts (beacon.schools: a school joined or changed; decision 0022)."""
    if previous.finished_at is None:
        return False
    return any(check(previous) for check in _RERUN_CHECKS)


_RERUN_CHECKS: list[Callable[[ImportRun], bool]] = []


def rerun_duplicates_when(check: Callable[[ImportRun], bool]) -> None:
    """Register `check(previous_run)`: when it is true, a file already imported is imported again."""
    if check not in _RERUN_CHECKS:
        _RERUN_CHECKS.append(check)


def execute_run(run: ImportRun, path: Path, *, force: bool = False, notify: bool = True) -> ImportRun:
    """Validate and load one file for an existing run. Never raises for bad input: the run says why.
    `notify`: send `import_succeeded` after a successful load (`import_files` sends it once, after its last
    file)."""
    source = get_source(run.source)
    run.status = RunStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
    ctx = ImportContext(run=run, year=run.year, la_code=run.la_code, file_name=run.file_name)
    try:
        if source.needs_year and run.year is None:
            raise ImportRejected(
                [{"row": 0, "column": "", "value": "", "reason": "This source needs the academic year"}]
            )
        previous = (
            ImportRun.objects.filter(
                source=run.source,
                sha256=run.sha256,
                year=run.year,
                la_code=run.la_code,
                status=RunStatus.SUCCEEDED,
            )
            .exclude(pk=run.pk)
            .first()
        )
        if previous is not None and not force and not register_changed_since(previous):
            run.status = RunStatus.DUPLICATE
            run.duplicate_of = previous
            run.message = f"This file was already imported (run {previous.pk}); nothing changed."
            return run
        ctx.progress(0, 0, "reading")
        height, parsed, errors = _read_and_validate(source, path, run.sha256, ctx)
        run.rows_read = height
        if errors:
            raise ImportRejected(errors)
        if height == 0:
            raise ImportRejected(
                [{"row": 2, "column": "", "value": "", "reason": "The file has no data rows"}]
            )
        if run.la_code is not None and source.la_filter_column:
            parsed = parsed.filter(
                pl.col(source.la_filter_column).cast(pl.Int64, strict=False) == run.la_code
            )
        with transaction.atomic():
            result = source.loader(parsed, ctx)
        run.status = RunStatus.SUCCEEDED
        run.rows_inserted, run.rows_updated, run.rows_skipped = (
            result.inserted,
            result.updated,
            result.skipped,
        )
        run.notes = result.notes
        run.message = f"{result.inserted} added, {result.updated} updated, {result.skipped} skipped of {run.rows_read} rows."
    except ImportRejected as rej:
        run.status = RunStatus.REJECTED
        run.error_count = len(rej.errors)
        run.errors = rej.errors[:MAX_STORED_ERRORS]
        run.message = f"Rejected: {len(rej.errors)} problem(s). Nothing was written."
    except Exception as exc:
        logger.exception("Import %s failed", run.pk)
        run.status = RunStatus.FAILED
        run.message = f"Failed: {type(exc).__name__}: {without_paths(str(exc), path)}. Nothing was written."
    finally:
        run.finished_at = timezone.now()
        run.save()
        ctx.progress(run.rows_read, run.rows_read, "finished")
    if run.status == RunStatus.SUCCEEDED and notify:
        _notify_succeeded([run])
    return run


def _notify_succeeded(runs: Sequence[ImportRun]) -> None:
    """The post-load hook: what is derived from imported data (the risk proposals) is refreshed now, never
    when a page is read (decision 0018). Sent once for `runs` (the last one as `run`, all of them as `runs`).
    A failing receiver is logged; the imports stand."""
    run = runs[-1]
    sender = get_source(run.source).__class__
    for receiver, outcome in import_succeeded.send_robust(sender=sender, run=run, runs=list(runs)):
        if isinstance(outcome, Exception):
            logger.error("After import %s: %s failed: %s", run.pk, receiver, outcome)


def run_import(
    source_key: str,
    path: Path | str,
    *,
    year: int | None = None,
    la_code: int | None = None,
    user: Any = None,
    force: bool = False,
) -> ImportRun:
    path = Path(path)
    run = create_run(source_key, path, year=year, la_code=la_code, user=user)
    return execute_run(run, path, force=force)


ImportItem = tuple[str, Path, int | None]
"""(source key, file, academic year) of one file to import."""


def import_files(
    items: Sequence[ImportItem],
    *,
    la_code: int | None = None,
    user: Any = None,
    force: bool = False,
    on_run: Callable[[ImportRun, float], object] | None = None,
) -> list[ImportRun]:
    """Import files in order, each exactly as `run_import` would (its own run, duplicate check, validation
    and transaction: one bad file is rejected and the others still load), with the post-load hook
    (`import_succeeded`: the live term's risk proposals) sent once, after the last file, not after each
    (decision 0026, third amendment). `on_run(run, seconds)` is called as each file finishes. What
    `run_import` raises (a file that cannot be opened, an unknown source) is raised here too, after the hook
    has been sent for the files already loaded."""
    import time

    from beacon.core.checkpoints import background_checkpoints

    runs: list[ImportRun] = []
    try:
        with background_checkpoints():
            for key, path, year in items:
                started = time.perf_counter()
                run = create_run(key, path, year=year, la_code=la_code, user=user)
                runs.append(execute_run(run, path, force=force, notify=False))
                if on_run is not None:
                    on_run(run, time.perf_counter() - started)
    finally:  # what is derived from the files loaded so far follows them, even if a later one raised
        succeeded = [r for r in runs if r.status == RunStatus.SUCCEEDED]
        if succeeded:
            _notify_succeeded(succeeded)
    return runs


# ----------------------------------------------------------------------------------------------
# Helpers for loaders


_PREP_TYPES = (
    models.DateTimeField,
    models.DateField,
    models.TimeField,
    models.JSONField,
    models.DecimalField,
    models.UUIDField,
)


def _upsert_sql(
    table: str,
    cols: Sequence[str],
    uniq: Sequence[str],
    upd: Sequence[str],
    qn: Callable[[str], str],
    select: str,
) -> str:
    """INSERT ... ON CONFLICT (natural key) DO UPDATE, skipping rows whose values are unchanged.

    Identifiers are quoted names from model metadata; `select` is either a VALUES list of placeholders or
    a SELECT from the staging table. No value is ever formatted into the text.
    """
    target = qn(table)
    sql = (
        f"INSERT INTO {target} ({', '.join(qn(c) for c in cols)}) {select} "
        f"ON CONFLICT ({', '.join(qn(c) for c in uniq)}) "
    )
    if not upd:
        return sql + "DO NOTHING"
    mine = ", ".join(f"{target}.{qn(c)}" for c in upd)
    theirs = ", ".join(f"EXCLUDED.{qn(c)}" for c in upd)
    # A re-import of the same values rewrites nothing (no dead rows on PostgreSQL, no page writes on SQLite).
    return (
        sql
        + "DO UPDATE SET "
        + ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in upd)
        + f" WHERE ({mine}) IS DISTINCT FROM ({theirs})"
    )


def upsert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]] | pl.DataFrame,
    *,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
    batch_size: int = 5000,
    ctx: ImportContext | None = None,
    total: int | None = None,
) -> tuple[int, int]:
    """Write rows by natural key: insert new ones, update changed ones (decision 0026).

    `rows`: tuples, or a polars frame whose columns are `columns` in order (by position; numbers, text,
    booleans and dates). A frame goes to the staging table column by column, with no Python tuple per row:
    SQLite's `insert_columns`, PostgreSQL's COPY text built in polars (`core.bulk.copy_blocks`; decision
    0031, amendment).

    PostgreSQL: COPY (psycopg) into a temporary staging table, then one INSERT ... SELECT ... ON CONFLICT
    DO UPDATE (the last row wins when a key repeats, as it would row by row). SQLite: multi-row INSERTs into
    a temporary staging table, then the same single upsert statement. Either way it runs inside the caller's
    transaction, so a failure later in the load leaves nothing written. `columns`, `unique_fields` and
    `update_fields` are field names (ForeignKeys by their name, e.g. "school"); values must already be
    database-ready (ints, floats, str, bool, date). Returns (inserted, updated): "inserted" as the database
    counts it (PostgreSQL: the upsert's new rows; SQLite: the rows above the largest id before the write),
    "updated" the other rows given, whether or not a value changed.
    """
    if isinstance(rows, pl.DataFrame) and rows.width != len(columns):
        raise ValueError(f"upsert_rows: {len(columns)} columns named, a frame of {rows.width} given")
    meta = model._meta
    conn = connections[router.db_for_write(model)]
    col = [str(meta.get_field(n).column) for n in columns]  # type: ignore[union-attr]
    uniq = [str(meta.get_field(n).column) for n in unique_fields]  # type: ignore[union-attr]
    upd = [str(meta.get_field(n).column) for n in update_fields]  # type: ignore[union-attr]
    refs = _unconstrained_references(model, columns)
    if conn.vendor == "postgresql":
        done, inserted = _copy_upsert(
            conn, meta.db_table, col, uniq, upd, rows, ctx=ctx, total=total, refs=refs
        )
    elif isinstance(meta.pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
        # SQLite's AUTOINCREMENT ids only grow: the rows above the largest id before the write are the ones
        # it inserted (a range of the rowid, where counting the whole table took 8 ms on 1.5 million rows).
        last = model._default_manager.aggregate(last=models.Max(meta.pk.name))["last"] or 0
        done = _staged_upsert_sqlite(conn, meta.db_table, col, uniq, upd, rows, batch_size, ctx, total, refs)
        inserted = model._default_manager.filter(pk__gt=last).count()
    else:
        before = model._default_manager.count()
        done = _staged_upsert_sqlite(conn, meta.db_table, col, uniq, upd, rows, batch_size, ctx, total, refs)
        inserted = model._default_manager.count() - before
    if ctx is not None:
        ctx.progress(done, total or done)
    return inserted, done - inserted


_STAGING = "beacon_import_staging"


def _unconstrained_references(
    model: type[models.Model], columns: Sequence[str]
) -> list[tuple[str, str, str]]:
    """(column, referenced table, referenced column) of the foreign keys among `columns` that the database
    does not check (`db_constraint=False`: the school and area measures, whose per-row triggers on
    PostgreSQL were a third of a national import; decision 0026, fourth amendment). On SQLite the measures'
    tables still carry theirs: `_staged_upsert_sqlite` leaves those to SQLite (`_enforced_by_sqlite`)."""
    refs = []
    for name in columns:
        f = model._meta.get_field(name)
        if isinstance(f, models.ForeignKey) and not getattr(f, "db_constraint", True):
            target = f.target_field
            refs.append((str(f.column), str(target.model._meta.db_table), str(target.column)))
    return refs


def _check_staged_references(
    cur: Any, qn: Callable[[str], str], table: str, refs: Sequence[tuple[str, str, str]]
) -> None:
    """Raise IntegrityError if a staged row refers to a row that does not exist: one anti-join per reference
    over the staged rows, inside the write's transaction (so nothing of the file is kept), in place of the
    database's check per row."""
    staging = qn(_STAGING)
    for column, target, target_column in refs:
        cur.execute(
            f"SELECT DISTINCT s.{qn(column)} FROM {staging} s WHERE s.{qn(column)} IS NOT NULL "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {qn(target)} t WHERE t.{qn(target_column)} = s.{qn(column)}) "
            "ORDER BY 1 LIMIT 6"
        )
        missing = [str(r[0]) for r in cur.fetchall()]
        if missing:
            shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
            raise IntegrityError(f"{table}.{column} refers to {target} rows that do not exist: {shown}")


def _enforced_by_sqlite(
    cur: Any, qn: Callable[[str], str], table: str, refs: Sequence[tuple[str, str, str]]
) -> set[tuple[str, str, str]]:
    """The references among `refs` that SQLite itself enforces on this connection: foreign keys on, and the
    table created with the reference (the school and area measures keep theirs on SQLite: decision 0026,
    fourth amendment). SQLite checks those at commit (Django declares them deferred); checking them on the
    staged rows as well probed the referenced table twice per row: the three anti-joins over a national
    import's 1.57 million school values took 0.96 s in SQLite's shell (decision 0034)."""
    cur.execute("PRAGMA foreign_keys")
    if not cur.fetchone()[0]:
        return set()
    cur.execute(f"PRAGMA foreign_key_list({qn(table)})")
    # (id, seq, referenced table, column, referenced column, on update, on delete, match)
    declared = {(str(r[3]), str(r[2]), str(r[4])) for r in cur.fetchall()}
    return {ref for ref in refs if ref in declared}


def _staged_upsert_sqlite(
    conn: Any,
    table: str,
    cols: Sequence[str],
    uniq: Sequence[str],
    upd: Sequence[str],
    rows: Iterable[Sequence[Any]] | pl.DataFrame,
    batch_size: int,
    ctx: ImportContext | None,
    total: int | None,
    refs: Sequence[tuple[str, str, str]] = (),
) -> int:
    """SQLite: multi-row INSERTs (`core.bulk.insert_rows`, a thousand rows a statement) into a temporary
    staging table (no keys, no indexes), then one INSERT ... SELECT ... ON CONFLICT into the target, in the
    staging table's order (the last row wins when a key repeats, as row by row). One upsert statement
    instead of one per row: with foreign keys enforced, each upsert statement costs SQLite a statement
    journal, about three quarters of the write (decision 0026, second amendment). Foreign keys stay
    enforced where the table has them (a reference that fails is refused at commit); the others are checked
    on the staged rows (`refs`), naming the ids that do not exist."""
    qn = conn.ops.quote_name
    staging = qn(_STAGING)
    names = ", ".join(qn(c) for c in cols)
    with conn.cursor() as cur:
        # A bigger page cache for this connection (128 MiB) keeps the indexes of a million-row table in
        # memory while the rows go in.
        cur.execute("PRAGMA cache_size = -131072")
        cur.execute(f"DROP TABLE IF EXISTS temp.{staging}")
        cur.execute(f"CREATE TEMPORARY TABLE {staging} AS SELECT {names} FROM {qn(table)} WHERE 0")  # noqa: S608

        def progress(done: int) -> None:
            if ctx is not None and done % batch_size < ROWS_PER_STATEMENT:
                ctx.progress(done, total or done)

        if isinstance(rows, pl.DataFrame):
            done = insert_columns(cur, _STAGING, cols, [column.to_list() for column in rows.iter_columns()])
        else:
            done = insert_rows(cur, _STAGING, cols, rows, on_statement=progress)
        enforced = _enforced_by_sqlite(cur, qn, table, refs)
        _check_staged_references(cur, qn, table, [ref for ref in refs if ref not in enforced])
        # "WHERE true" keeps SQLite's parser from reading ON CONFLICT as a join constraint.
        select = f"SELECT {names} FROM {staging} WHERE true ORDER BY rowid"  # noqa: S608
        cur.execute(_upsert_sql(table, cols, uniq, upd, qn, select))
        cur.execute(f"DROP TABLE temp.{staging}")
    return done


def _copy_upsert(
    conn: Any,
    table: str,
    cols: Sequence[str],
    uniq: Sequence[str],
    upd: Sequence[str],
    rows: Iterable[Sequence[Any]] | pl.DataFrame,
    *,
    ctx: ImportContext | None,
    total: int | None,
    refs: Sequence[tuple[str, str, str]] = (),
) -> tuple[int, int]:
    """PostgreSQL: COPY the rows into a staging table shaped like the target, then upsert from it.
    Returns (rows given, rows inserted): the upsert counts the rows it inserted itself (a new row has no
    `xmax`), where counting the table before and after scanned all of it (0.1 s a count on the 1.5 million
    school values)."""
    qn = conn.ops.quote_name
    staging = qn(_STAGING)
    names = ", ".join(qn(c) for c in cols)
    order = ", ".join(qn(c) for c in uniq)
    done = 0
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {staging}")
        # Same column types as the target (no constraints); dropped at commit or rollback at the latest.
        cur.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {names} FROM {qn(table)} WITH NO DATA"
        )
        cur.execute(f"ALTER TABLE {staging} ADD COLUMN __ord bigserial")
        with cur.cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            if isinstance(rows, pl.DataFrame):
                for block in copy_blocks(rows):
                    copy.write(block)
                done = rows.height
            else:
                for row in rows:
                    copy.write_row(row)
                    done += 1
                    if ctx is not None and done % 50_000 == 0:
                        ctx.progress(done, total or done)
        _check_staged_references(cur, qn, table, refs)
        # DISTINCT ON keeps the last row of a repeated key, as row-by-row upserts would.
        select = (
            f"SELECT DISTINCT ON ({order}) {names} FROM {staging} "  # noqa: S608
            f"ORDER BY {order}, __ord DESC"
        )
        upsert = _upsert_sql(table, cols, uniq, upd, qn, select)
        cur.execute(
            f"WITH written AS ({upsert} RETURNING (xmax = 0) AS added) "  # noqa: S608 (quoted names)
            "SELECT count(*) FILTER (WHERE added) FROM written"
        )
        inserted = cur.fetchone()[0]
        cur.execute(f"DROP TABLE {staging}")
    return done, inserted


def model_rows(
    model: type[models.Model], objs: Sequence[models.Model]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Field names and database-ready tuples for unsaved or saved instances (auto pk left out). Each
    instance's values are read in one call (`attrgetter`); only the fields that need preparing for the
    database (dates, JSON, ...) or are set on save (`auto_now`) are handled one by one, and a value that is
    the very object the previous row had (the pass's one timestamp) is prepared once."""
    conn = connections[router.db_for_write(model)]
    fields = [
        f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))
    ]
    if not fields:
        return [], [() for _ in objs]
    getter = operator.attrgetter(*(f.attname for f in fields))
    # (index, field, set on save, prepared for the database) of the fields handled one by one.
    kinds = [
        (
            i,
            f,
            bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)),
            isinstance(f, _PREP_TYPES),
        )
        for i, f in enumerate(fields)
    ]
    special = [k for k in kinds if k[2] or k[3]]
    last: dict[int, tuple[Any, Any]] = {}  # field index -> (value given, value prepared) of the previous row
    rows: list[tuple[Any, ...]] = []
    for obj in objs:
        got = getter(obj)
        values = list(got) if len(fields) > 1 else [got]
        for i, f, auto, prep in special:
            v = f.pre_save(obj, add=True) if auto else values[i]
            if prep:
                seen = last.get(i)
                if seen is not None and seen[0] is v:
                    v = seen[1]
                else:
                    prepared = f.get_db_prep_save(v, conn)
                    last[i] = (v, prepared)
                    v = prepared
            values[i] = v
        rows.append(tuple(values))
    return [f.name for f in fields], rows


def bulk_upsert(
    model: type[models.Model],
    objs: Sequence[models.Model],
    *,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
    batch_size: int = 5000,
    ctx: ImportContext | None = None,
) -> tuple[int, int]:
    """Insert or update model instances by natural key (see upsert_rows). Returns (inserted, updated)."""
    if not objs:
        return 0, 0
    columns, rows = model_rows(model, objs)
    return upsert_rows(
        model,
        columns,
        rows,
        unique_fields=unique_fields,
        update_fields=update_fields,
        batch_size=batch_size,
        ctx=ctx,
        total=len(rows),
    )


def copy_to_history(
    model: type[models.Model],
    pks: Sequence[int],
    *,
    history_type: str,
    reason: str,
    user_id: int | None = None,
) -> int:
    """Write django-simple-history rows for rows a bulk write created ("+") or changed ("~").

    For records people edit too (the school register, the termly assessments), whose history is kept
    whatever wrote the change. One INSERT ... SELECT per chunk copies the current rows inside the database:
    no model instances. Identifiers come from model metadata (quoted); the date, type, reason, user and ids
    are bound parameters. `user_id`: who made the change (None: no user, as for an import)."""
    if not pks:
        return 0
    history = model.history.model  # type: ignore[attr-defined]
    conn = connections[router.db_for_write(history)]
    qn = conn.ops.quote_name
    source_columns = {f.column for f in model._meta.concrete_fields}
    extra: dict[str, Any] = {
        "history_date": conn.ops.adapt_datetimefield_value(timezone.now()),
        "history_type": history_type,
        "history_change_reason": reason,
    }
    if user_id is not None:
        extra["history_user"] = user_id
    targets: list[str] = []
    selects: list[str] = []
    params: list[Any] = []
    for f in history._meta.concrete_fields:
        if f.name == "history_id":
            continue
        targets.append(qn(f.column))
        if f.name in extra:
            selects.append("%s")
            params.append(extra[f.name])
        elif f.column in source_columns:
            selects.append(qn(f.column))
        else:  # history_user, when no user is given (an import has none)
            selects.append("NULL")
    pk = qn(str(model._meta.pk.column))
    written = 0
    select = (
        f"INSERT INTO {qn(history._meta.db_table)} ({', '.join(targets)}) "  # noqa: S608
        f"SELECT {', '.join(selects)} FROM {qn(model._meta.db_table)} "
    )
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":  # one statement, the ids as one array parameter
            cur.execute(f"{select} WHERE {pk} = ANY(%s) ORDER BY {pk}", [*params, list(pks)])
            return len(pks)
        for chunk in itertools.batched(pks, 900):
            cur.execute(
                f"{select} WHERE {pk} IN ({', '.join(['%s'] * len(chunk))}) ORDER BY {pk}", [*params, *chunk]
            )
            written += len(chunk)
    return written


@dataclass(frozen=True)
class TableSnapshot:
    """Rows of `model` (the key and `fields`) as they were before a bulk write, kept in a temporary table
    of the connection by `snapshot_rows`; `created_and_changed` compares with it and drops it. One snapshot
    per connection at a time (fixed table names)."""

    model: type[models.Model]
    key: str
    keys: tuple[Any, ...]
    fields: tuple[str, ...]


_BEFORE = "beacon_snapshot_before"
_KEYS = "beacon_snapshot_keys"


def _add_keys(conn: Any, keys: Sequence[Any]) -> None:
    qn = conn.ops.quote_name
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(f"INSERT INTO {qn(_KEYS)} (k) SELECT unnest(%s::bigint[])", [list(keys)])
        else:
            insert_rows(cur, _KEYS, ["k"], [(k,) for k in keys])


def snapshot_rows(
    model: type[models.Model], key: str, keys: Sequence[int], fields: Sequence[str]
) -> TableSnapshot:
    """Copy the rows of `model` whose integer `key` field is in `keys` (primary key, key and `fields`) into a
    temporary table, inside the database: nothing comes back to Python. For loaders that keep history of
    what they change (the register, decision 0026): one statement, where reading the table into a frame
    before and after took 0.2-0.5 s an import."""
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    meta = model._meta
    names = dict.fromkeys((str(meta.pk.name), key, *fields))  # once each, in order
    columns = [str(meta.get_field(n).column) for n in names]  # type: ignore[union-attr]
    unique = tuple(dict.fromkeys(keys))
    with conn.cursor() as cur:
        for table in (_KEYS, _BEFORE):
            cur.execute(f"DROP TABLE IF EXISTS {qn(table)}")
        cur.execute(f"CREATE TEMPORARY TABLE {qn(_KEYS)} (k bigint PRIMARY KEY)")
    _add_keys(conn, unique)
    with conn.cursor() as cur:
        cur.execute(
            f"CREATE TEMPORARY TABLE {qn(_BEFORE)} AS SELECT {', '.join(qn(c) for c in columns)} "  # noqa: S608
            f"FROM {qn(meta.db_table)} WHERE {qn(columns[1])} IN (SELECT k FROM {qn(_KEYS)})"
        )
    return TableSnapshot(model=model, key=key, keys=unique, fields=tuple(fields))


def created_and_changed(before: TableSnapshot, keys: Sequence[int]) -> tuple[list[int], list[int]]:
    """Primary keys (ascending) of the rows with a key in `keys` that the write since `before` created, and of
    those whose `fields` it changed (IS DISTINCT FROM over all of them, nulls equal). Drops the snapshot."""
    model = before.model
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    meta = model._meta
    pk = qn(str(meta.pk.column))
    key = qn(str(meta.get_field(before.key).column))  # type: ignore[union-attr]
    fields = [qn(str(meta.get_field(n).column)) for n in before.fields if n != before.key]  # type: ignore[union-attr]
    extra = sorted(set(keys) - set(before.keys))
    if extra:  # named now but not snapshotted: created, if the table has them
        _add_keys(conn, extra)
    joined = (
        f"FROM {qn(meta.db_table)} s JOIN {qn(_KEYS)} u ON u.k = s.{key} "
        f"LEFT JOIN {qn(_BEFORE)} b ON b.{key} = s.{key}"
    )
    now = ", ".join(f"s.{c}" for c in fields)
    then = ", ".join(f"b.{c}" for c in fields)
    changed: list[int] = []
    with conn.cursor() as cur:
        cur.execute(f"SELECT s.{pk} {joined} WHERE b.{pk} IS NULL ORDER BY s.{pk}")
        created = [row[0] for row in cur.fetchall()]
        if fields:  # with no fields to compare, nothing can have changed
            cur.execute(
                f"SELECT s.{pk} {joined} WHERE b.{pk} IS NOT NULL "  # noqa: S608 (quoted names)
                f"AND ({now}) IS DISTINCT FROM ({then}) ORDER BY s.{pk}"
            )
            changed = [row[0] for row in cur.fetchall()]
        for table in (_KEYS, _BEFORE):
            cur.execute(f"DROP TABLE IF EXISTS {qn(table)}")
    return created, changed


def today() -> dt.date:
    return timezone.localdate()


def model_frame(queryset: models.QuerySet[Any], fields: Sequence[str]) -> pl.DataFrame:
    """`queryset.values_list(*fields)` as a polars frame, read straight from the cursor (decision 0026).

    The SQL is the ORM's own; only the per-row conversion of Django's iterator is skipped, so the types
    are set here from the fields: integers and keys Int64, booleans Boolean, dates Date (SQLite returns
    them as text), numbers Float64, everything else text. `fields` are names or attnames ("school_id").
    """
    model = queryset.model
    rows = fetch_rows(queryset.values_list(*fields))
    types: dict[str, pl.DataType | None] = {}
    for name in fields:
        f = model._meta.get_field(name)
        if isinstance(f, models.BooleanField):
            types[name] = pl.Boolean()
        elif isinstance(f, models.DateTimeField):
            types[name] = None  # as the driver returns it: compared, never computed with
        elif isinstance(f, models.DateField):
            types[name] = pl.Date()
        elif isinstance(f, models.FloatField):
            types[name] = pl.Float64()
        elif isinstance(f, models.IntegerField | models.AutoField | models.ForeignKey):
            types[name] = pl.Int64()
        else:
            types[name] = pl.Utf8()
    # Built by polars from the row tuples (no Python loop per value), then each column set to its type.
    frame = pl.DataFrame(rows, schema=list(fields), orient="row", infer_schema_length=None)
    casts = []
    for name, dtype in types.items():
        if dtype is None or frame.schema[name] == dtype:
            continue
        if dtype == pl.Date() and frame.schema[name] == pl.Utf8:
            casts.append(pl.col(name).str.to_date("%Y-%m-%d"))
        elif dtype == pl.Utf8():
            casts.append(pl.col(name).cast(pl.Utf8))
        else:
            casts.append(pl.col(name).cast(dtype, strict=True))
    return frame.with_columns(casts) if casts else frame


def update_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    batch_size: int = 5000,
) -> int:
    """Update existing rows by primary key: each row is (pk, *values of `columns`). Returns rows given.

    For loaders that change a few columns of rows they did not create (the register's corrections),
    instead of `bulk_update` (a CASE WHEN per column per row, compiled by the ORM). PostgreSQL: COPY into
    a staging table, then one UPDATE ... FROM; SQLite: executemany of one UPDATE by pk. Rows whose values
    are already those given are not rewritten. Values must be database-ready.
    """
    if not rows:
        return 0
    meta = model._meta
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    pk = str(meta.pk.column)
    col = [str(meta.get_field(n).column) for n in columns]  # type: ignore[union-attr]
    table = qn(meta.db_table)
    mine = ", ".join(f"{table}.{qn(c)}" for c in col)
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            staging = qn(_STAGING)
            names = ", ".join(qn(c) for c in [pk, *col])
            cur.execute(f"DROP TABLE IF EXISTS {staging}")
            cur.execute(
                f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {names} FROM {table} WITH NO DATA"
            )
            with cur.cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            theirs = ", ".join(f"{staging}.{qn(c)}" for c in col)
            cur.execute(
                f"UPDATE {table} SET {', '.join(f'{qn(c)} = {staging}.{qn(c)}' for c in col)} "  # noqa: S608
                f"FROM {staging} WHERE {table}.{qn(pk)} = {staging}.{qn(pk)} "
                f"AND ({mine}) IS DISTINCT FROM ({theirs})"
            )
            cur.execute(f"DROP TABLE {staging}")
        else:
            theirs = ", ".join(["%s"] * len(col))
            sql = (
                f"UPDATE {table} SET {', '.join(f'{qn(c)} = %s' for c in col)} "  # noqa: S608
                f"WHERE {qn(pk)} = %s AND ({mine}) IS DISTINCT FROM ({theirs})"
            )
            for batch in itertools.batched(rows, batch_size):
                cur.executemany(sql, [(*row[1:], row[0], *row[1:]) for row in batch])
    return len(rows)
