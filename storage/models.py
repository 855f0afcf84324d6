"""The schema: the database is the truth, everything else is an index of it.

Tables mirror DESIGN.md: the org tree (units, chats, people), cases with their append-only
event log, the outbox of messages to deliver, and the small bits of conversation state that
must survive a restart (a worker half-way through typing a resolution note).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, on SQLite and PostgreSQL alike.

    SQLite has no time zones; without this, comparisons between what was written and what
    the clock says would silently mix naive and aware datetimes.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use the injected clock")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# Telegram ids exceed 32 bits; SQLite only auto-increments INTEGER primary keys.
ChatId = BigInteger
RowId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Org(Base):
    """The single org row: the settings that apply to the whole district."""

    __tablename__ = "org"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    case_prefix: Mapped[str] = mapped_column(String(8))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    show_resident_details: Mapped[bool] = mapped_column(Boolean, default=False)
    # Org-wide settings that are not case policy: {"digest": {"at": "08:30", "stuck_after":
    # seconds} or null, "orders": {"ack": seconds, "remind_at": 0.5}}.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")


class Unit(Base):
    """A node of the org tree, a department or the leadership: anything with a staff chat."""

    __tablename__ = "units"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    chat_id: Mapped[int | None] = mapped_column(ChatId, nullable=True)
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    area: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rota: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Chat(Base):
    """A chat the bot knows: a unit's staff chat or a residents' chat bound to a grid."""

    __tablename__ = "chats"
    chat_id: Mapped[int] = mapped_column(ChatId, primary_key=True, autoincrement=False)
    unit_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # staff | residents


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    telegram_id: Mapped[int] = mapped_column(ChatId, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)


class PersonUnit(Base):
    __tablename__ = "person_units"
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Case(Base):
    """A call (呼). `version` guards every transition: an update only applies to the version
    it was read in, so two workers racing on one deadline cannot both move the case."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))
    reporter_id: Mapped[int] = mapped_column(ChatId)
    reporter_name: Mapped[str] = mapped_column(String(200))
    source_chat_id: Mapped[int] = mapped_column(ChatId)
    source_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    photos: Mapped[list[Any]] = mapped_column(JSON, default=list)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    category: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    priority: Mapped[str] = mapped_column(String(8))
    grid_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    current_unit_id: Mapped[str] = mapped_column(String(64))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    ack_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolve_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rating: Mapped[str | None] = mapped_column(String(16), nullable=True)  # good | ok | bad
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reporter_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The earliest moment the scheduler must look at this case again (a reminder or a
    # deadline); NULL when nothing is pending. The deadline index is rebuilt from it.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Reminders already sent, e.g. "ack:community:v7", so each goes out once.
    reminded: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    level_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    return_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    assignee_id: Mapped[int | None] = mapped_column(ChatId, nullable=True)
    assignee_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The latest reports merged into the case (name, text, time), newest last, as the card
    # shows them; a copy of the newest `case_reporters` rows kept on the case so that every
    # card rendered anywhere (a climb in the scheduler's batch, too) shows them without a
    # query. The reporters table holds every one of them.
    extra_reports: Mapped[list[Any]] = mapped_column(JSON, default=list, server_default="[]")
    # The number of an open case this one may duplicate, too unsure to merge: the card
    # links it with a one-tap 合并 (the button names no target, so it carries no authority
    # of its own).
    duplicate_hint: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (
        Index("ix_cases_ack_due", "status", "ack_due_at"),
        Index("ix_cases_next_due", "next_due_at"),
        Index("ix_cases_open_in_grid", "grid_id", "category", "created_at"),
    )


class CaseReporter(Base):
    """Everyone who reported a case: the first reporter and neighbours merged into it.

    Each hears the outcome in the chat they reported from.
    """

    __tablename__ = "case_reporters"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ChatId)
    reporter_name: Mapped[str] = mapped_column(String(200))
    source_chat_id: Mapped[int] = mapped_column(ChatId)
    source_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What problem at what place the report is about (triage.problems.Signature as JSON),
    # worked out once when it arrives so that duplicate matching never re-reads old texts.
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    def copy_to(self, case_id: int) -> CaseReporter:
        """The same report, whole, on the case its own was merged into by hand: the row on
        the merged-away case stays, so that case's record still shows who reported it."""
        return CaseReporter(
            case_id=case_id,
            reporter_id=self.reporter_id,
            reporter_name=self.reporter_name,
            source_chat_id=self.source_chat_id,
            source_message_id=self.source_message_id,
            text=self.text,
            lon=self.lon,
            lat=self.lat,
            at=self.at,
            signature=self.signature,
        )


class TriageCorrection(Base):
    """A category a person corrected: new labelled data for the classifier."""

    __tablename__ = "triage_corrections"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    old_category: Mapped[str] = mapped_column(String(32))
    new_category: Mapped[str] = mapped_column(String(32))
    by_id: Mapped[int | None] = mapped_column(ChatId, nullable=True)
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseEvent(Base):
    """One transition of one case (全记录): append-only, never updated."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ChatId, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    from_level: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_level: Mapped[str | None] = mapped_column(String(16), nullable=True)
    unit_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Outbox(Base):
    """A message to deliver, written in the same transaction as the change that caused it.

    `dedupe_key` is unique: the same logical message (say, "case 12 reached the street") can
    be written only once, whatever retries or races happen upstream.
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    chat_id: Mapped[int] = mapped_column(ChatId)
    kind: Mapped[str] = mapped_column(String(8), default="send")  # send | edit | photo
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    force_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_to_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    edit_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    case_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    platform_message_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Bundling (a burst into one chat becomes one message listing the cases; see
    # bot/outbox_sender.py). A row with a `bundle_line` may be delivered as that line of a
    # bundle instead of on its own; `bundle_button` keeps it actionable there.
    bundle_line: Mapped[str | None] = mapped_column(Text, nullable=True)
    bundle_button: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    # What a bundle line stands for, for the bundle's header: "call" (a card), "alert" (a
    # leader's escalation alert) or "receipt" (a resident's 已受理 in a residents' group).
    bundle_kind: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # A member (status "bundled") points at its bundle, itself an outbox row of kind
    # "bundle" whose text is rebuilt from its members at each delivery.
    bundle_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # On a bundle: bumped by every change, so a delivery knows whether it showed the latest.
    bundle_rev: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # On a bundle: rows may still be appended (it is the newest message the bot sent there).
    bundle_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A photo (kind "photo": a chart for /stats); `text` is its caption.
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_chat", "chat_id", "status"),
        Index("ix_outbox_bundle", "bundle_id"),
    )


class Counter(Base):
    """Yearly case-number sequences, incremented inside the filing transaction."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class ProcessedUpdate(Base):
    """Platform updates already handled, so a redelivered update changes nothing."""

    __tablename__ = "processed_updates"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Conversation(Base):
    """What the bot is waiting for from one person in one chat (a note, a reason, a place).

    Kept in the database, not in memory, so that a restart between the bot's question and
    the person's answer loses nothing.
    """

    __tablename__ = "conversations"
    chat_id: Mapped[int] = mapped_column(ChatId, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(ChatId, primary_key=True, autoincrement=False)
    action: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Subscription(Base):
    """What a leader wants to hear about (订阅): escalations matching every non-empty filter.

    Within one filter any value matches (levels street or leadership); across filters all
    must (a street-level escalation *and* in 海幢街道). An empty filter matches everything.
    `chat_id` is where the messages go: the leader's private chat, or a group or channel
    they administer.
    """

    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ChatId, index=True)  # telegram id of the owner
    chat_id: Mapped[int] = mapped_column(ChatId)
    levels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    unit_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)  # streets, communities
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    priorities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Order(Base):
    """A top-down order (令): a leader's instruction to units, with a deadline."""

    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    text: Mapped[str] = mapped_column(Text)
    issuer_id: Mapped[int] = mapped_column(ChatId)
    issuer_name: Mapped[str] = mapped_column(String(200))
    chat_id: Mapped[int] = mapped_column(ChatId)  # where it was issued: the board goes there
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # How long each unit has to acknowledge (收到) before it is chased up its ladder.
    ack_span_s: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed


class OrderTarget(Base):
    """One unit an order went to. Like a case, `version` guards every transition and
    `next_due_at` is all the order scheduler's index holds."""

    __tablename__ = "order_targets"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    unit_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))  # sent | acknowledged | done
    # The rung the chase reached: the unit's own level, then up its ladder.
    level: Mapped[str] = mapped_column(String(16))
    chased_unit_id: Mapped[str] = mapped_column(String(64))
    level_since: Mapped[datetime] = mapped_column(UTCDateTime)
    ack_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reminded: Mapped[list[Any]] = mapped_column(JSON, default=list)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)


class OrderEvent(Base):
    """One step of one order target (全记录): append-only."""

    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    target_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ChatId, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class JobRun(Base):
    """A periodic job done for one period ("digest", "2026-11-30"): the insert is the claim,
    so with several workers, or after a restart, each period's job runs once."""

    __tablename__ = "job_runs"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
