"""Firing many due deadlines in a few transactions instead of one each.

`engine.fire_due` handles one case per transaction: a read, a guarded update, an event and
an outbox row, each a round trip, plus SQLAlchemy's overhead — a few milliseconds a case.
A thousand deadlines due in the same second (a burst of reports an hour ago, a policy
change, a restart after an outage) would then be fired over several seconds. `fire_batch`
loads a chunk of due cases with one query and commits all their escalations together:

* **The decisions are the engine's.** Each case goes through `engine.tick` exactly as
  `fire_due` would run it, against a `_PlanningSession` that stands in for the database
  session: the guarded updates succeed on paper (the engine mirrors every value it writes
  onto the `Case` object), events and outbox rows are recorded instead of written
  (`storage.outbox.enqueue` hands its row to a `RowRecorder` rather than inserting it, so
  no SQL statement is taken apart here), reads pass through. Nothing is re-implemented
  here, so nothing can drift from the engine.
* **The guard is kept per case.** The recorded changes become one UPDATE per chunk (on
  PostgreSQL ``UPDATE … FROM unnest(…) WHERE version = old RETURNING id``; on SQLite one
  guarded UPDATE each, in the same transaction) that applies only where the row still has
  the version that was read. Events and outbox rows are then written, in bulk, for the
  winners only; the outbox's unique `dedupe_key` (ON CONFLICT DO NOTHING, as in
  `storage.outbox.enqueue`) stays the last guard against a message written twice.
* **Deciding and writing are separate steps.** `prepare_batch` reads and plans without
  holding a lock; `PreparedBatch.commit` locks the chunk's rows in id order (PostgreSQL;
  two workers committing overlapping chunks queue instead of deadlocking), applies the
  guarded update and writes the winners' rows. So the scheduler can plan a burst a moment
  before it is due and only commit at the instant (see `Scheduler.fire_ahead`); a case
  touched in between fails its guard and is fired afresh.

The result is what `fire_due` would have written, case by case — the same events, outbox
rows and keys, and `next_due_at` — which `tests/escalation/test_scheduler_batch.py` checks
on SQLite and PostgreSQL. Anything the batch cannot defer safely (a write it does not know)
raises `BatchUnsupported`; the scheduler then fires those cases one by one with `fire_due`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select
from sqlalchemy.sql.util import find_tables
from sqlalchemy.types import TypeEngine

from cases.lifecycle import Notifier, next_due
from escalation.engine import tick
from org.view import OrgView
from storage.models import Case, CaseEvent, Outbox

#: Cases per transaction: large enough that round trips stop mattering, small enough that a
#: chunk's row locks are held for tens of milliseconds, not seconds.
CHUNK_SIZE = 200
#: As in `fire_due`: after an outage several things may be due at once (a deadline, then the
#: next level's deadline too); at most this many steps per case per firing.
MAX_STEPS = 8

CASES = cast(Table, Case.__table__)
EVENTS = cast(Table, CaseEvent.__table__)
OUTBOX = cast(Table, Outbox.__table__)
_CASE_COLUMNS: tuple[str, ...] = tuple(a.key for a in sa_inspect(Case).column_attrs)
_EVENT_COLUMNS: tuple[str, ...] = tuple(
    a.key for a in sa_inspect(CaseEvent).column_attrs if a.key != "id"
)

Results = dict[int, datetime | None]
OnCommit = Callable[[Results], Awaitable[None]]


class BatchUnsupported(Exception):
    """The engine or the notifier did something a batch cannot record and replay."""


@dataclass
class _Plan:
    """One case: its state as read, and what the engine decided to write."""

    case: Case
    before: dict[str, Any]
    events: list[CaseEvent] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    changes: tuple[str, ...] = ()
    # Worked out while planning, so that committing does as little as possible.
    event_rows: list[dict[str, Any]] = field(default_factory=list)
    next_due: datetime | None = None


class _Changed:
    """The result a guarded UPDATE gives the engine while planning: "one row changed"."""

    rowcount = 1


_CHANGED = _Changed()


def _table_name(table: object) -> str | None:
    name = getattr(table, "name", None)
    return name if isinstance(name, str) else None


class _PlanningSession:
    """Stands in for `AsyncSession` while the engine decides what to do with a case.

    Writes are recorded on the current plan (the engine mirrors each guarded update onto the
    `Case` object, so the object *is* the new row); reads go to the real session, except
    reads of the cases table, which would see the rows as they were before the plan.
    """

    def __init__(self, real: AsyncSession, cases: Mapping[int, Case]) -> None:
        self._real = real
        self._cases = cases
        self.plan: _Plan | None = None

    @property
    def bind(self) -> Any:
        return self._real.bind

    def _current(self) -> _Plan:
        if self.plan is None:
            raise BatchUnsupported("a write outside of a case's plan")
        return self.plan

    async def execute(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        if isinstance(statement, Update) and _table_name(statement.table) == CASES.name:
            self._current()
            return _CHANGED
        if isinstance(statement, Select):
            if any(_table_name(t) == CASES.name for t in find_tables(statement)):
                raise BatchUnsupported("a read of the cases table while planning")
            return await self._real.execute(statement, params, **kw)
        raise BatchUnsupported(f"a statement the batch cannot defer: {type(statement).__name__}")

    def record_outbox(self, row: dict[str, Any]) -> None:
        """`storage.outbox.enqueue` hands the row here instead of inserting it
        (`storage.outbox.RowRecorder`)."""
        self._current().outbox.append(row)

    def add(self, instance: object, _warn: bool = True) -> None:
        if not isinstance(instance, CaseEvent):
            raise BatchUnsupported(f"session.add of a {type(instance).__name__}")
        self._current().events.append(instance)

    async def get(self, entity: Any, ident: Any, **kw: Any) -> Any:
        if entity is Case:
            if ident in self._cases:
                return self._cases[ident]
            raise BatchUnsupported("a read of another case while planning")
        return await self._real.get(entity, ident, **kw)

    def __getattr__(self, name: str) -> Any:
        raise BatchUnsupported(f"session.{name} is not available while planning a batch")


def _snapshot(case: Case) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _CASE_COLUMNS:
        value = getattr(case, key)
        out[key] = list(value) if isinstance(value, list) else value
    return out


async def _plan(
    planner: _PlanningSession, case: Case, org: OrgView, now: datetime, notifier: Notifier
) -> _Plan:
    """What `fire_due` would do to this case, without writing it: the same `tick`, repeated
    while something is still due, at most MAX_STEPS times."""
    plan = _Plan(case=case, before=_snapshot(case))
    planner.plan = plan
    session = cast(AsyncSession, planner)
    try:
        for _ in range(MAX_STEPS):
            acted = await tick(session, case, org, now, notifier)
            due = next_due(case)
            if not acted or due is None or due > now:
                break
    finally:
        planner.plan = None
    plan.changes = tuple(k for k in _CASE_COLUMNS if getattr(case, k) != plan.before[k])
    plan.event_rows = [{k: getattr(event, k) for k in _EVENT_COLUMNS} for event in plan.events]
    plan.next_due = next_due(case)
    return plan


def _array_of(column: ColumnElement[Any]) -> tuple[TypeEngine[Any], bool]:
    """The array type a column's values travel in, and whether they travel as JSON text
    (asyncpg has no codec for arrays of JSON)."""
    kind = column.type
    if isinstance(kind, JSON):
        return ARRAY(Text()), True
    return ARRAY(kind), False


def _as_array(column: ColumnElement[Any], values: list[Any]) -> list[Any]:
    """A column's values as its array parameter: JSON encoded as SQLAlchemy's JSON type
    would (Python None is JSON ``null`` unless the column says ``none_as_null``)."""
    kind = column.type
    if not isinstance(kind, JSON):
        return values
    if kind.none_as_null:
        return [None if x is None else json.dumps(x) for x in values]
    return [json.dumps(x) for x in values]


def _unnest(table: Table, names: Sequence[str], keys: Sequence[str]) -> Any:
    """``unnest(CAST(:b_x AS type[]), …) AS v(x, …)``: one array parameter per column, so
    a statement has the same shape for every chunk and SQLAlchemy compiles it once (a
    VALUES list of 200 rows has thousands of parameters and costs more to compile than to
    run)."""
    arrays: list[Any] = []
    for name, key in zip(names, keys, strict=True):
        kind, _ = _array_of(table.c[key])
        arrays.append(sa_cast(bindparam(f"b_{name}", type_=kind), kind))
    return func.unnest(*arrays).table_valued(*names).render_derived(name="v")


def _from_v(table: Table, v: Any, name: str, key: str) -> Any:
    _, as_json = _array_of(table.c[key])
    return sa_cast(v.c[name], table.c[key].type) if as_json else v.c[name]


@cache
def _update_from_arrays(cols: tuple[str, ...]) -> Update:
    """``UPDATE cases SET … FROM unnest(…) AS v(…) WHERE cases.id = v.id AND
    cases.version = v.old_version RETURNING cases.id`` for one set of changed columns."""
    v = _unnest(CASES, ("id", "old_version", *cols), ("id", "version", *cols))
    return (
        update(CASES)
        .where(CASES.c.id == v.c.id, CASES.c.version == v.c.old_version)
        .values({CASES.c[c]: _from_v(CASES, v, c, c) for c in cols})
        .returning(CASES.c.id)
    )


Write = tuple[Any, Any]  # (statement, parameters): one round trip


def _case_write_postgres(group: Sequence[_Plan]) -> Write:
    cols = group[0].changes
    params: dict[str, list[Any]] = {
        "b_id": [p.case.id for p in group],
        "b_old_version": [p.before["version"] for p in group],
    }
    for col in cols:
        params[f"b_{col}"] = _as_array(CASES.c[col], [getattr(p.case, col) for p in group])
    return _update_from_arrays(cols), params


def _by_changes(plans: Iterable[_Plan]) -> list[list[_Plan]]:
    groups: dict[tuple[str, ...], list[_Plan]] = {}
    for plan in plans:
        groups.setdefault(plan.changes, []).append(plan)
    return list(groups.values())


@cache
def _insert_from_arrays(table_name: str, cols: tuple[str, ...], conflict: str | None) -> Any:
    """``INSERT INTO t (…) SELECT … FROM unnest(…) [ON CONFLICT (key) DO NOTHING]``."""
    table = {t.name: t for t in (EVENTS, OUTBOX)}[table_name]
    v = _unnest(table, cols, cols)
    rows = select(*(_from_v(table, v, c, c) for c in cols))
    stmt = postgresql.insert(table).from_select(list(cols), rows, include_defaults=False)
    return stmt.on_conflict_do_nothing(index_elements=[conflict]) if conflict else stmt


def _arrays_fit(table: Table, cols: Sequence[str]) -> bool:
    """Only if every column left out has no Python-side default: `from_select` would not
    apply one, an executemany would."""
    given = set(cols)
    return all(
        c.key in given or c.default is None or c.autoincrement is True or c.primary_key
        for c in table.columns
    )


def _insert_write(
    table: Table, rows: list[dict[str, Any]], dialect: str, conflict: str | None
) -> Write:
    """Rows of one shape in one statement: arrays on PostgreSQL, executemany elsewhere."""
    cols = tuple(rows[0])
    if dialect == "postgresql" and _arrays_fit(table, cols):
        params = {f"b_{c}": _as_array(table.c[c], [row[c] for row in rows]) for c in cols}
        return _insert_from_arrays(table.name, cols, conflict), params
    stmt: Any = insert(table)
    if conflict:
        dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(table).on_conflict_do_nothing(index_elements=[conflict])
    return stmt, rows


async def _write_cases_sqlite(session: AsyncSession, group: Sequence[_Plan]) -> set[int]:
    cols = group[0].changes
    stmt = (
        update(CASES)
        .where(CASES.c.id == bindparam("b_id"), CASES.c.version == bindparam("b_old"))
        .values({CASES.c[c]: bindparam(f"b_{c}", type_=CASES.c[c].type) for c in cols})
    )
    won: set[int] = set()
    for p in group:
        params = {"b_id": p.case.id, "b_old": p.before["version"]}
        params.update({f"b_{c}": getattr(p.case, c) for c in cols})
        result = await session.execute(stmt, params)
        if result.rowcount:  # type: ignore[attr-defined]
            won.add(p.case.id)
    return won


async def _write_cases(
    session: AsyncSession, plans: Iterable[_Plan], dialect: str, prepared: list[Write] | None
) -> set[int]:
    """Apply each plan's changes where the row still has the version read; returns the ids
    whose update applied (the winners)."""
    won: set[int] = set()
    if dialect != "postgresql":
        for group in _by_changes(plans):
            won |= await _write_cases_sqlite(session, group)
        return won
    for stmt, params in prepared or [_case_write_postgres(g) for g in _by_changes(plans)]:
        won |= set((await session.execute(stmt, params)).scalars())
    return won


def _grouped(rows: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows by their set of keys, first-seen order kept: one executemany needs one shape."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


def _row_writes(winners: Sequence[_Plan], dialect: str) -> list[Write]:
    """The winners' events and outbox rows, each table in one bulk insert, in the order the
    engine produced them."""
    events = [row for p in winners for row in p.event_rows]
    writes = [_insert_write(EVENTS, rows, dialect, None) for rows in _grouped(events)]
    messages = [row for p in winners for row in p.outbox]
    writes += [_insert_write(OUTBOX, rows, dialect, "dedupe_key") for rows in _grouped(messages)]
    return writes


@dataclass
class PreparedBatch:
    """Cases whose firing is decided but not yet written.

    Deadlines are known in advance, so the scheduler can do the expensive part — loading
    the cases, running the engine, rendering the cards — a moment before a burst is due, and
    only commit at the instant itself. The guard makes that safe: a case someone touched
    after it was read (acknowledged a second before its deadline, say) fails its version
    check at commit and changes nothing; it is handed back to be fired afresh.
    """

    sessions: async_sessionmaker[AsyncSession]
    now: datetime
    ids: list[int]
    plans: list[_Plan]
    dialect: str
    # The statements and parameters, built while planning, for when every case wins (the
    # usual outcome): committing then only sends them.
    case_writes: list[Write] = field(default_factory=list)
    row_writes: list[Write] = field(default_factory=list)

    def __post_init__(self) -> None:
        acting = [p for p in self.plans if p.changes]
        if self.dialect == "postgresql":
            self.case_writes = [_case_write_postgres(g) for g in _by_changes(acting)]
        self.row_writes = _row_writes(acting, self.dialect)

    async def commit(self, on_commit: OnCommit | None = None) -> Results:
        """Write the plans in one transaction; returns each case's next due time (`now`
        for a case that moved meanwhile: look again), and tells `on_commit` the same."""
        acting = [p for p in self.plans if p.changes]
        won: set[int] = set()
        if acting:
            async with self.sessions() as session, session.begin():
                if self.dialect == "postgresql":
                    # Lock in id order first: two workers committing overlapping chunks
                    # then queue instead of deadlocking, and the guard sees the last word.
                    ids = sorted(p.case.id for p in acting)
                    lock = select(Case.id).where(Case.id.in_(ids)).order_by(Case.id)
                    await session.execute(lock.with_for_update())
                won = await _write_cases(session, acting, self.dialect, self.case_writes)
                winners = [p for p in acting if p.case.id in won]
                writes = (
                    self.row_writes
                    if len(winners) == len(acting)
                    else _row_writes(winners, self.dialect)
                )
                for stmt, params in writes:
                    await session.execute(stmt, params)
        planned = {p.case.id: p for p in self.plans}
        results: Results = {}
        for case_id in self.ids:
            plan = planned.get(case_id)
            if plan is None:
                results[case_id] = None  # no such case: nothing to index
            elif plan.changes and case_id not in won:
                results[case_id] = self.now  # moved by someone else meanwhile: look again
            else:
                results[case_id] = plan.next_due
        if on_commit is not None:
            await on_commit(results)
        return results


async def prepare_batch(
    sessions: async_sessionmaker[AsyncSession],
    case_ids: Iterable[int],
    org: OrgView,
    now: datetime,
    notifier: Notifier,
) -> PreparedBatch:
    """Load the cases (one query, no locks held) and decide, through the engine, what
    firing them at `now` writes."""
    ids = list(dict.fromkeys(case_ids))
    async with sessions() as session:
        bind = session.bind
        dialect = bind.dialect.name if bind is not None else "sqlite"
        stmt = select(Case).where(Case.id.in_(ids)).order_by(Case.id)
        loaded = list((await session.execute(stmt)).scalars())
        # Detached, the objects take the engine's changes without the session ever
        # flushing them unguarded.
        session.expunge_all()
        planner = _PlanningSession(session, {case.id: case for case in loaded})
        plans = [await _plan(planner, case, org, now, notifier) for case in loaded]
    return PreparedBatch(sessions, now, ids, plans, dialect)


async def fire_batch(
    sessions: async_sessionmaker[AsyncSession],
    case_ids: Iterable[int],
    org: OrgView,
    now: datetime,
    notifier: Notifier,
    *,
    chunk_size: int = CHUNK_SIZE,
    on_commit: OnCommit | None = None,
) -> Results:
    """Handle whatever is due for each case; returns each case's next due time to index.

    Like `fire_due`, safe for stale entries, repeats and racing workers. Chunks of
    `chunk_size` cases commit one transaction each; `on_commit` hears each chunk's results
    as soon as it is committed (the scheduler indexes them and wakes the sender then), so
    a failure in a later chunk leaves the earlier ones done and reported.
    """
    ids = list(dict.fromkeys(case_ids))
    results: Results = {}
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        prepared = await prepare_batch(sessions, chunk, org, now, notifier)
        results.update(await prepared.commit(on_commit))
    return results
