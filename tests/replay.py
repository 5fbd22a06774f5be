"""Load real data once per test process, then replay the rows it wrote (decision 0025).

`load_once(key, loader)` runs `loader()` (a real import of the real files) the first time a test in
this process needs it from a given database state, and records every row the load inserted, updated
or deleted. The next test that asks for the same load from the same state (same row count and
highest primary key in every table, same day) gets those rows written back directly, in one
transaction: the same data the importer wrote, without parsing and validating the files again.

Each test still has its own copy: the rows go into the test's transaction (rolled back after it) or,
for live-server tests, are flushed after it, exactly as if the importer had run. A load from any other
state (a test that made rows first, a flushed database, a travelling clock) runs the importer in full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

Rows = dict[Any, tuple[Any, ...]]


def _models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and not m._meta.swapped
    ]


def _fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return list(model._meta.local_concrete_fields)


def fingerprint() -> tuple[Any, ...]:
    """Row count and highest primary key of every table, in one query."""
    qn = connection.ops.quote_name
    parts = [
        f"SELECT {i}, COUNT(*), CAST(MAX({qn(m._meta.pk.column)}) AS TEXT) FROM {qn(m._meta.db_table)}"  # noqa: S608
        for i, m in enumerate(_models())
    ]
    with connection.cursor() as cur:
        cur.execute(" UNION ALL ".join(parts))
        return tuple(sorted((r[0], r[1], str(r[2])) for r in cur.fetchall()))


def _dump(model: type[models.Model]) -> Rows:
    names = [f.attname for f in _fields(model)]
    pk = model._meta.pk.attname
    at = names.index(pk)
    return {row[at]: row for row in model._base_manager.values_list(*names)}


@dataclass
class _Change:
    model: type[models.Model]
    inserted: list[tuple[Any, ...]] = field(default_factory=list)
    updated: list[tuple[Any, ...]] = field(default_factory=list)
    deleted: list[Any] = field(default_factory=list)


@dataclass
class _Snapshot:
    changes: list[_Change]
    result: Any

    def replay(self) -> None:
        qn = connection.ops.quote_name
        touched = []
        with transaction.atomic(), connection.cursor() as cur:
            for ch in self.changes:
                meta = ch.model._meta
                fields = _fields(ch.model)
                pk = meta.pk.attname
                if ch.deleted:
                    ch.model._base_manager.filter(pk__in=ch.deleted)._raw_delete(connection.alias)
                for row in ch.updated:
                    values = dict(zip([f.attname for f in fields], row, strict=True))
                    ch.model._base_manager.filter(pk=values.pop(pk)).update(**values)
                if ch.inserted:
                    sql = (
                        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
                        f"VALUES ({', '.join(['%s'] * len(fields))})"
                    )
                    prepared = [
                        tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True))
                        for row in ch.inserted
                    ]
                    cur.executemany(sql, prepared)
                    touched.append(ch.model)
            # Explicit keys do not move PostgreSQL's sequences: move them past the replayed rows.
            for sql in connection.ops.sequence_reset_sql(no_style(), touched):
                cur.execute(sql)


_SNAPSHOTS: dict[tuple[Hashable, ...], _Snapshot] = {}


def every_row() -> _Snapshot:
    """Every row of every table, to be written back (`replay()`) into the emptied database after a
    transactional test's flush: raw batched INSERTs, where Django's deserialiser saved one object at a
    time."""
    return _Snapshot([_Change(m, inserted=list(_dump(m).values())) for m in _models()], None)


def _replayable(result: Any) -> bool:
    """Plain values can be handed back on a replay; model instances (bound to one test) cannot."""
    if result is None or isinstance(result, str | int | float | bool | dt.date):
        return True
    if isinstance(result, list | tuple | set | frozenset):
        return all(_replayable(r) for r in result)
    if isinstance(result, dict):
        return all(_replayable(k) and _replayable(v) for k, v in result.items())
    return False


def load_once[T](key: Hashable, loader: Callable[[], T]) -> T:
    import time_machine

    if time_machine.escape_hatch.is_travelling():  # timestamps must come from the frozen clock
        return loader()
    state = (key, fingerprint(), timezone.localdate(), connection.vendor)
    snap = _SNAPSHOTS.get(state)
    if snap is not None:
        snap.replay()
        return snap.result  # type: ignore[no-any-return]
    all_models = _models()
    before = {m: _dump(m) for m in all_models}
    result = loader()
    changes = []
    for m in all_models:
        after = _dump(m)
        old = before[m]
        ch = _Change(
            m,
            inserted=[row for pk, row in after.items() if pk not in old],
            updated=[row for pk, row in after.items() if pk in old and old[pk] != row],
            deleted=[pk for pk in old if pk not in after],
        )
        if ch.inserted or ch.updated or ch.deleted:
            changes.append(ch)
    if _replayable(result):
        _SNAPSHOTS[state] = _Snapshot(changes, result)
    return result
