"""Writing a national evaluation's criterion results in bulk (decision 0027).

Each result carries a fingerprint of its outcome and evidence (the JSON text the rules produced; a polars
hash, `fingerprint_expr`). A new evaluation reads back only (id, school, criterion, fingerprint) for the
term and rulebook, then in one transaction deletes the rows whose result changed and inserts the changed
and new ones: PostgreSQL's COPY, SQLite's multi-row INSERT (`core.bulk.insert_columns`). An unchanged result
keeps its row (id, evaluation time); re-evaluating unchanged data writes nothing. The references of the
rows written (school, term, criterion, rulebook) are checked once per write, set-based
(`check_references`), not by a database trigger per row.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType

import polars as pl
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Model

from beacon.core.bulk import copy_blocks, insert_columns
from beacon.risk.models import Criterion, CriterionResult, Rulebook, Term
from beacon.schools.models import School

COLUMNS = ("school_id", "term_id", "criterion_id", "rulebook_id", "outcome", "evidence", "fingerprint")


# Seed of the results' fingerprint hash (any fixed number: the same for every pass).
_SEED = 0x5EED_0027


def fingerprint_expr() -> pl.Expr:
    """A result's fingerprint from its `outcome` and `evidence` columns (the JSON text as the rules wrote it),
    computed by polars over a whole frame: a 64-bit hash as decimal text. Equal fingerprints of the same
    school and criterion mean an unchanged result (two different results of one school and criterion share
    one with a probability of 2^-64). polars' hashes are stable for one polars version: an upgrade changes
    every fingerprint once, and the next pass then rewrites every result once, as it scores every school again
    (decision 0029). Hashing each result's text in Python (BLAKE2b) took 0.4 s of the national pass."""
    return (
        pl.concat_str([pl.col("outcome"), pl.lit("\x1f"), pl.col("evidence")])
        .hash(seed=_SEED)
        .cast(pl.Utf8)
        .alias("fingerprint")
    )


def with_fingerprints(rows: Iterable[tuple[int, int, str, str]]) -> pl.DataFrame:
    """(school_id, criterion_id, outcome, evidence) rows as a frame, with their fingerprints."""
    frame = pl.DataFrame(
        list(rows),
        schema={"school_id": pl.Int64, "criterion_id": pl.Int64, "outcome": pl.Utf8, "evidence": pl.Utf8},
        orient="row",
    )
    return frame.with_columns(fingerprint_expr())


STORED_SCHEMA = {
    "stored_pk": pl.Int64,
    "school_id": pl.Int64,
    "criterion_id": pl.Int64,
    "stored_fingerprint": pl.Utf8,
}


@dataclass
class WriteCounts:
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0


def check_references(term_id: int, rulebook_id: int, school_ids: set[int], criterion_ids: set[int]) -> None:
    """Raise IntegrityError unless the term, the rulebook and every school and criterion exist: one query per
    referenced table, where PostgreSQL's foreign keys fired a trigger per row (decision 0027, addendum of 2
    December 2026). Schools are never deleted (a school that closes stays, with its history), and deleting
    a term, criterion or rulebook goes through Django, which removes or protects their results first."""
    wanted: tuple[tuple[type[Model], str, set[int]], ...] = (
        (Term, "term", {term_id}),
        (Rulebook, "rulebook", {rulebook_id}),
        (School, "school", school_ids),
        (Criterion, "criterion", criterion_ids),
    )
    for model, what, ids in wanted:
        found: set[int] = set()
        for chunk in itertools.batched(sorted(ids), 900):
            found.update(model._default_manager.filter(pk__in=chunk).values_list("pk", flat=True))
        missing = sorted(ids - found)
        if missing:
            raise IntegrityError(
                f"Risk results refer to {len(missing)} {what} id(s) that do not exist: "
                f"{', '.join(map(str, missing[:5]))}{'...' if len(missing) > 5 else ''}"
            )


class ResultWriter:
    """One evaluation's results written as they come, a batch (one criterion's results) at a time, in one
    transaction: the rules of the termly pass run in a thread while this writes what they have finished
    (`risk.services.stream_rules`; decision 0029).

    Entering opens the transaction and reads the stored fingerprints of the term and rulebook; `add` writes a
    batch (a changed result replaces the stored one, a new one is added, an unchanged one is left as it is,
    as are stored results this evaluation does not produce: other schools', or a rule not run); leaving
    checks every reference written (`check_references`) and commits, or rolls everything back if the block
    raised. A (school, criterion) is given once per writer (twice, the database's unique key refuses it)."""

    def __init__(self, term_id: int, rulebook_id: int, *, now: dt.datetime) -> None:
        self.term_id, self.rulebook_id, self.now = term_id, rulebook_id, now
        self.counts = WriteCounts()
        self.seconds = 0.0  # spent in this writer: reading the fingerprints, each batch, the commit
        self._conn = connections[router.db_for_write(CriterionResult)]
        self._atomic = transaction.atomic(using=self._conn.alias)
        self._stored = pl.DataFrame(schema=STORED_SCHEMA)  # (pk, school, criterion, fingerprint) held
        self._schools: set[int] = set()
        self._criteria: set[int] = set()

    def __enter__(self) -> ResultWriter:
        started = time.perf_counter()
        self._atomic.__enter__()
        try:
            with self._conn.cursor() as cur:
                cur.execute(
                    f"SELECT id, school_id, criterion_id, fingerprint FROM {self._table} "  # noqa: S608
                    "WHERE term_id = %s AND rulebook_id = %s",
                    [self.term_id, self.rulebook_id],
                )
                self._stored = pl.DataFrame(cur.fetchall(), schema=STORED_SCHEMA, orient="row")
                if self._conn.vendor == "sqlite":
                    # A bigger page cache for this connection (128 MiB, as imports.framework.upsert_rows):
                    # the table's indexes stay in memory while 270,000 rows go in.
                    cur.execute("PRAGMA cache_size = -131072")
        except BaseException as exc:
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.seconds += time.perf_counter() - started
        return self

    @property
    def _table(self) -> str:
        return str(self._conn.ops.quote_name(CriterionResult._meta.db_table))

    def add(self, frame: pl.DataFrame) -> None:
        """Write a frame of results: school_id, criterion_id, outcome, evidence (JSON text) and fingerprint
        (`fingerprint_expr`); a key repeated within the frame: the last one counts. Compared with the stored
        fingerprints and laid out for the database in polars, column by column (no Python tuple per row)."""
        started = time.perf_counter()
        keys = ["school_id", "criterion_id"]
        frame = frame.select(*keys, "outcome", "evidence", "fingerprint").unique(
            subset=keys, keep="last", maintain_order=True
        )
        frame = frame.join(self._stored, on=keys, how="left", maintain_order="left")
        unchanged = pl.col("stored_fingerprint").eq_missing(pl.col("fingerprint"))
        self.counts.unchanged += frame.filter(unchanged).height
        out = frame.filter(~unchanged)
        doomed = out["stored_pk"].drop_nulls().to_list()
        self.counts.replaced += len(doomed)
        self.counts.inserted += out.height - len(doomed)
        self._schools.update(out["school_id"].unique().to_list())
        self._criteria.update(out["criterion_id"].unique().to_list())
        table = self._table
        t, b = self.term_id, self.rulebook_id
        with self._conn.cursor() as cur:
            for pks in itertools.batched(doomed, 900):
                cur.execute(
                    f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(pks))})",  # noqa: S608
                    list(pks),
                )
            if out.height and self._conn.vendor == "postgresql":
                cols = ", ".join(self._conn.ops.quote_name(c) for c in (*COLUMNS, "evaluated_at"))
                # COPY's text format, built in polars (`copy_blocks`): the term, rulebook and time as columns.
                rows = out.select(
                    "school_id",
                    pl.lit(t, dtype=pl.Int64).alias("term_id"),
                    "criterion_id",
                    pl.lit(b, dtype=pl.Int64).alias("rulebook_id"),
                    "outcome",
                    "evidence",
                    "fingerprint",
                    pl.lit(self.now.isoformat()).alias("evaluated_at"),
                )
                with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for block in copy_blocks(rows):
                        copy.write(block)
            elif out.height:
                n = out.height
                insert_columns(
                    cur,
                    CriterionResult._meta.db_table,
                    (*COLUMNS, "evaluated_at"),
                    [
                        out["school_id"].to_list(),
                        [t] * n,
                        out["criterion_id"].to_list(),
                        [b] * n,
                        out["outcome"].to_list(),
                        out["evidence"].to_list(),
                        out["fingerprint"].to_list(),
                        [self._conn.ops.adapt_datetimefield_value(self.now)] * n,
                    ],
                )
        self.seconds += time.perf_counter() - started

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        started = time.perf_counter()
        try:
            if exc is None and (self._schools or self._criteria):
                check_references(self.term_id, self.rulebook_id, self._schools, self._criteria)
        except BaseException as error:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        self._atomic.__exit__(exc_type, exc, tb)
        self.seconds += time.perf_counter() - started


def write_results(
    term_id: int,
    rulebook_id: int,
    rows: Iterable[tuple[int, int, str, str]],
    *,
    now: dt.datetime,
) -> WriteCounts:
    """Store (school_id, criterion_id, outcome, evidence JSON text) for the term and rulebook in one batch
    (`ResultWriter`): a changed result replaces the stored one, a new one is added, an unchanged one is left
    as it is, as are stored results this evaluation does not produce."""
    with ResultWriter(term_id, rulebook_id, now=now) as writer:
        writer.add(with_fingerprints(rows))
    return writer.counts
