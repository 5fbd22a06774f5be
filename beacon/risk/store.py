"""Writing a national evaluation's criterion results in bulk (decision 0027).

Each result carries a fingerprint of its outcome and evidence (the JSON text the rules produced). A new
evaluation reads back only (id, school, criterion, fingerprint) for the term and rulebook, then in one
transaction deletes the rows whose result changed and inserts the changed and new ones: PostgreSQL's COPY,
SQLite's multi-row INSERT (`core.bulk.insert_rows`). An unchanged result keeps its row (id, evaluation
time); re-evaluating unchanged data writes nothing. The references of the rows written (school, term, criterion, rulebook) are checked once per
write, set-based (`check_references`), not by a database trigger per row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Model

from beacon.core.bulk import insert_rows
from beacon.risk.models import Criterion, CriterionResult, Rulebook, Term
from beacon.schools.models import School

COLUMNS = ("school_id", "term_id", "criterion_id", "rulebook_id", "outcome", "evidence", "fingerprint")


def fingerprint(outcome: str, evidence: str) -> str:
    """Stable digest of a result (outcome and the evidence JSON text as the rules wrote it)."""
    return hashlib.blake2b(f"{outcome}\x1f{evidence}".encode(), digest_size=16).hexdigest()


def _copy_text(value: str) -> str:
    """A text value as COPY's text format writes it: backslash, tab, newline and carriage return escaped
    (evidence JSON holds backslashes only within escapes; JSON text never holds a raw control character)."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


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


def write_results(
    term_id: int,
    rulebook_id: int,
    rows: Iterable[tuple[int, int, str, str]],
    *,
    now: dt.datetime,
) -> WriteCounts:
    """Store (school_id, criterion_id, outcome, evidence JSON text) for the term and rulebook: a changed
    result replaces the stored one, a new one is added, an unchanged one is left as it is (as are stored
    results this evaluation does not produce: other schools', or a rule not run, as the upsert did)."""
    model = CriterionResult
    conn = connections[router.db_for_write(model)]
    qn = conn.ops.quote_name
    table = qn(model._meta.db_table)
    now_db = conn.ops.adapt_datetimefield_value(now)
    new: dict[tuple[int, int], tuple[str, str, str]] = {}
    for school_id, criterion_id, outcome, evidence in rows:
        new[(school_id, criterion_id)] = (outcome, evidence, fingerprint(outcome, evidence))
    counts = WriteCounts()
    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        cur.execute(
            f"SELECT id, school_id, criterion_id, fingerprint FROM {table} "  # noqa: S608 (quoted names)
            "WHERE term_id = %s AND rulebook_id = %s",
            [term_id, rulebook_id],
        )
        doomed: list[int] = []
        keep: set[tuple[int, int]] = set()
        for pk, school_id, criterion_id, fp in cur.fetchall():
            key = (school_id, criterion_id)
            mine = new.get(key)
            if mine is None:
                continue  # not produced by this evaluation (another school, a rule not run): left as it is
            if mine[2] == fp:
                keep.add(key)
                counts.unchanged += 1
            else:
                doomed.append(pk)
                counts.replaced += 1
        for pks in itertools.batched(doomed, 900):
            cur.execute(
                f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(pks))})",  # noqa: S608
                list(pks),
            )
        out = [
            (school_id, term_id, criterion_id, rulebook_id, o, ev, fp, now_db)
            for (school_id, criterion_id), (o, ev, fp) in new.items()
            if (school_id, criterion_id) not in keep
        ]
        counts.inserted = len(out) - counts.replaced
        if out:
            check_references(term_id, rulebook_id, {r[0] for r in out}, {r[2] for r in out})
        cols = ", ".join(qn(c) for c in (*COLUMNS, "evaluated_at"))
        if conn.vendor == "postgresql":
            stamp = now.isoformat()
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                # COPY's text format built in blocks of rows (psycopg's write_row per row took seconds for
                # 270,000 rows of evidence): tab-separated, one row a line, the text columns escaped.
                for chunk in itertools.batched(out, 10000):
                    copy.write(
                        "".join(
                            f"{s}\t{t}\t{c}\t{b}\t{_copy_text(o)}\t{_copy_text(ev)}\t{fp}\t{stamp}\n"
                            for s, t, c, b, o, ev, fp, _ in chunk
                        )
                    )
        else:
            # A bigger page cache for this connection (128 MiB, as imports.framework.upsert_rows): the
            # table's indexes stay in memory while 270,000 rows go in, a thousand rows a statement.
            cur.execute("PRAGMA cache_size = -131072")
            insert_rows(cur, model._meta.db_table, (*COLUMNS, "evaluated_at"), out)
    return counts
