"""Leaders subscribe (订阅) to escalations: `/subscribe`, `/subscriptions`, `/unsubscribe`.

`/subscribe 街道 海幢街道 交通出行 紧急` — each word is a ladder level, a street or community
(id or name), a category (code, or its Chinese or English name) or a priority; `key=value`
says which (`level=street`, `unit=haizhuang`, `category=traffic`, `priority=urgent`). No
words: everything. A word that is none of these is refused, with the closest known word
offered, and nothing is saved; a grid or a department is refused with the reason.

Where the messages go: the private chat the command came from; sent in a group, that group
(only if the sender administers it); or, from the private chat, `to=CHAT_ID` — a group or
channel the sender administers. Whether someone administers a chat only the platform knows:
`ask_admins` asks it (through `Services.chats`) before the transaction opens, so a slow
answer never holds a database lock, and the handler reads the answer from `Tx.admins`.

Only people with the leader or admin role may subscribe; anyone may list and remove their
own subscriptions (a leader who lost the role can still clean up).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from handlers.context import Services, Tx
from handlers.events import InboundEvent
from handlers.intake import reply
from org.file import LADDER_LEVELS, PRIORITIES
from org.view import OrgView
from storage.models import Subscription
from storage.subscriptions import (
    Filters,
    add_subscription,
    deactivate,
    find_same,
    subscriptions_of,
)
from templates.render import LANGUAGES, Renderer
from triage.categories import CATEGORY_INFO, Category, Priority

#: `key=value` keys, in both languages, and the kind of word each names.
KEYS: dict[str, str] = {
    **dict.fromkeys(("level", "levels", "层级", "级别"), "level"),
    **dict.fromkeys(
        ("unit", "units", "street", "community", "单位", "街道", "社区", "地区"), "unit"
    ),
    **dict.fromkeys(("category", "categories", "cat", "类别", "分类", "类型"), "category"),
    **dict.fromkeys(("priority", "priorities", "优先级", "紧急程度"), "priority"),
    **dict.fromkeys(("to", "chat", "channel", "频道", "群", "发到"), "to"),
}
SEPARATORS = re.compile(r"[\s,，、;；]+")
#: The longest name, in words, matched as one ("Public health & emergencies").
MAX_WORDS = 4
CHAT_ID = re.compile(r"-?[0-9]{1,16}")
POSITION = re.compile(r"[0-9]{1,6}")
#: Units that are known words but cannot be subscribed to (said so, with the reason).
_REFUSED_UNITS = ("grid", "department")


@dataclass(frozen=True)
class Term:
    """What a known word means: ("level", "street"), ("unit", "haizhuang"), ("category",
    "traffic"), ("priority", "urgent"), or a unit that cannot be subscribed to ("grid" or
    "department", its id)."""

    kind: str
    value: str
    shown: str  # the word as it is offered in "did you mean"


@dataclass
class Request:
    """A parsed `/subscribe`: the filters and `to=`, or the first problem found."""

    levels: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    priorities: set[str] = field(default_factory=set)
    to_chat: int | None = None
    problem: tuple[str, dict[str, Any]] | None = None

    @property
    def filters(self) -> Filters:
        return Filters.of(self.levels, self.units, self.categories, self.priorities)


def _norm(word: str) -> str:
    return " ".join(word.split()).casefold()


def vocabulary(org: OrgView) -> dict[str, Term]:
    """Every word `/subscribe` understands, normalised. Later entries win, so a level's
    name ("领导") beats a unit of the same name."""
    words: dict[str, Term] = {}

    def add(word: str, kind: str, value: str) -> None:
        if word.strip():
            words[_norm(word)] = Term(kind, value, word.strip())

    for unit in sorted(org.units.values(), key=lambda u: u.id):
        kind = {"street": "unit", "community": "unit", "leadership": "level"}.get(
            unit.level, unit.level
        )
        value = "leadership" if unit.level == "leadership" else unit.id
        add(unit.id, kind, value)
        add(unit.name, kind, value)
    renderers = [Renderer(language) for language in LANGUAGES]
    for category in Category:
        info = CATEGORY_INFO[category]
        for word in (str(category), info.name_zh, info.name_en):
            add(word, "category", str(category))
        for r in renderers:
            add(r.label("category", category), "category", str(category))
    for priority in Priority:
        add(str(priority), "priority", str(priority))
        for r in renderers:
            add(r.label("priority", priority), "priority", str(priority))
    for level in LADDER_LEVELS:
        add(level, "level", level)
        for r in renderers:
            add(r.label("level", level), "level", level)
    return words


def _suggest(word: str, words: dict[str, Term], kind: str | None = None) -> str | None:
    """The closest known word (of one kind, after `key=`), to offer as "did you mean"."""
    candidates = {k: t for k, t in words.items() if kind is None or t.kind == kind}
    close = difflib.get_close_matches(_norm(word), list(candidates), n=1, cutoff=0.6)
    return candidates[close[0]].shown if close else None


def _tokens(args: str) -> list[str]:
    return [t for t in SEPARATORS.split(args.replace("＝", "=")) if t]


def requested_chat(event: InboundEvent) -> int | None:
    """The chat a `/subscribe` wants its messages in, other than the sender's private chat:
    `to=CHAT_ID` from a private chat, or the group it was sent in. Read before the
    transaction, to ask the platform who administers it."""
    if not event.is_private:
        return event.chat_id
    for token in _tokens(event.command_args):
        key, sep, value = token.partition("=")
        if sep and KEYS.get(_norm(key)) == "to" and CHAT_ID.fullmatch(value):
            return int(value)
    return None


async def ask_admins(services: Services, event: InboundEvent) -> dict[tuple[int, int], bool]:
    """Before the transaction: does the sender of a `/subscribe` administer the chat it
    names? Only asked for leaders (nobody else may subscribe anyway)."""
    if event.command != "subscribe" or event.is_button or event.user_id is None:
        return {}
    person = services.org.person(event.user_id)
    chat = requested_chat(event)
    if person is None or not person.is_leader or chat is None or chat == event.user_id:
        return {}
    directory = services.chats
    answer = await directory.is_admin(chat, event.user_id) if directory is not None else False
    return {(chat, event.user_id): answer}


def parse(org: OrgView, args: str) -> Request:
    """The filters of `/subscribe ARGS`; stops at the first word it cannot use."""
    words = vocabulary(org)
    request = Request()
    tokens = _tokens(args)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        key, sep, value = token.partition("=")
        if sep:
            i += 1
            kind = KEYS.get(_norm(key))
            if kind is None:
                request.problem = ("subscribe_unknown_key", {"word": key, "token": token})
                return request
            if kind == "to":
                if not CHAT_ID.fullmatch(value):
                    request.problem = ("subscribe_bad_chat", {"token": token})
                    return request
                request.to_chat = int(value)
                continue
            term = words.get(_norm(value))
            accepted = {kind, *_REFUSED_UNITS} if kind == "unit" else {kind}
            if term is None or term.kind not in accepted:
                suggestion = _suggest(value, words, kind)
                request.problem = (
                    "subscribe_unknown",
                    {"word": value, "suggestion": suggestion, "expected": kind},
                )
                return request
        else:
            term, used = _longest(tokens, i, words)
            if term is None:
                suggestion = _suggest(token, words)
                request.problem = (
                    "subscribe_unknown",
                    {"word": token, "suggestion": suggestion, "expected": None},
                )
                return request
            i += used
        problem = _apply(org, request, term)
        if problem is not None:
            request.problem = problem
            return request
    return request


def _longest(tokens: list[str], start: int, words: dict[str, Term]) -> tuple[Term | None, int]:
    """The longest run of words from `start` that is one known name."""
    for length in range(min(MAX_WORDS, len(tokens) - start), 0, -1):
        phrase = " ".join(tokens[start : start + length])
        if "=" in phrase:
            continue
        term = words.get(_norm(phrase))
        if term is not None:
            return term, length
    return None, 1


def _apply(org: OrgView, request: Request, term: Term) -> tuple[str, dict[str, Any]] | None:
    if term.kind == "level":
        request.levels.add(term.value)
    elif term.kind == "unit":
        request.units.add(term.value)
    elif term.kind == "category":
        request.categories.add(term.value)
    elif term.kind == "priority":
        request.priorities.add(term.value)
    elif term.kind == "grid":
        unit = org.units[term.value]
        community = org.ancestor(unit.id, "community")
        parent = community.name if community is not None else None
        return ("subscribe_grid_refused", {"unit_name": unit.name, "parent": parent})
    else:  # a department: subscribe to its categories instead
        unit = org.units[term.value]
        return (
            "subscribe_department_refused",
            {"unit_name": unit.name, "categories_of": unit.categories},
        )
    return None


# --- what people see ---------------------------------------------------------------------


def _in_order(values: list[str], order: tuple[str, ...]) -> list[str]:
    return sorted(values, key=lambda v: order.index(v) if v in order else len(order))


def describe(org: OrgView, r: Renderer, row: Subscription, position: int) -> dict[str, Any]:
    """One subscription as the templates show it: its non-empty filters named in the org's
    language, and where it delivers."""
    # Stored sorted by code (so equal filters compare equal); shown in the ladder's and the
    # priorities' own order.
    named = {
        "level": [r.label("level", x) for x in _in_order(row.levels, LADDER_LEVELS)],
        "unit": [org.units[u].name if u in org.units else u for u in row.unit_ids],
        "category": [r.label("category", x) for x in row.categories],
        "priority": [r.label("priority", x) for x in _in_order(row.priorities, PRIORITIES)],
    }
    chat_unit = org.units.get(org.staff_chats.get(row.chat_id, ""))
    return {
        "n": position,
        "filters": [(key, values) for key, values in named.items() if values],
        "private": row.chat_id == row.person_id,
        "chat_id": row.chat_id,
        "chat_name": chat_unit.name if chat_unit is not None else None,
    }


async def subscribe(tx: Tx, event: InboundEvent) -> None:
    """`/subscribe FILTERS [to=CHAT_ID]`."""
    assert event.user_id is not None  # the core answers anonymous senders (see `anonymous`)
    person = tx.org.person(event.user_id)
    if person is None or not person.is_leader:
        await reply(tx, event, "subscribe_not_allowed")
        return
    request = parse(tx.org, event.command_args)
    if request.problem is not None:
        template, context = request.problem
        await reply(tx, event, template, **context)
        return
    chat = event.chat_id
    if request.to_chat is not None:
        if not event.is_private:
            await reply(tx, event, "subscribe_to_private_only")
            return
        chat = request.to_chat
    if chat != event.user_id:
        if chat in tx.org.resident_chats:
            # Escalations of every grid must never land where residents read.
            await reply(tx, event, "subscribe_residents_chat", chat_id=chat)
            return
        if not tx.admins.get((chat, event.user_id), False):
            await reply(tx, event, "subscribe_not_admin", chat_id=chat, here=chat == event.chat_id)
            return
    filters = request.filters
    mine = await subscriptions_of(tx.session, event.user_id)
    same = find_same(mine, chat, filters)
    if same is not None:
        position, row = same
        await reply(tx, event, "subscribe_duplicate", sub=describe(tx.org, tx.r, row, position))
        return
    row = add_subscription(tx.session, event.user_id, chat, filters, tx.now)
    await reply(tx, event, "subscribed", sub=describe(tx.org, tx.r, row, len(mine) + 1))


async def list_subscriptions(tx: Tx, event: InboundEvent) -> None:
    """`/subscriptions`: the sender's own, numbered as `/unsubscribe N` takes them."""
    assert event.user_id is not None
    mine = await subscriptions_of(tx.session, event.user_id)
    subs = [describe(tx.org, tx.r, row, n) for n, row in enumerate(mine, start=1)]
    await reply(tx, event, "subscriptions_list", subs=subs)


async def unsubscribe(tx: Tx, event: InboundEvent) -> None:
    """`/unsubscribe N`: remove one of the sender's own subscriptions."""
    assert event.user_id is not None
    mine = await subscriptions_of(tx.session, event.user_id)
    arg = event.command_args.strip()
    if not POSITION.fullmatch(arg):
        await reply(tx, event, "unsubscribe_usage", word=arg, count=len(mine))
        return
    position = int(arg)
    if not 1 <= position <= len(mine):
        await reply(tx, event, "unsubscribe_not_found", position=position, count=len(mine))
        return
    row = mine[position - 1]
    if not await deactivate(tx.session, row):  # removed meanwhile (a second command)
        await reply(tx, event, "unsubscribe_not_found", position=position, count=len(mine) - 1)
        return
    await reply(tx, event, "unsubscribed", sub=describe(tx.org, tx.r, row, position))


async def anonymous(tx: Tx, event: InboundEvent) -> None:
    """`/subscribe` posted in a channel (or by an anonymous group admin): nobody to check
    the role of, so say how to do it instead."""
    await reply(
        tx, event, "subscribe_channel_howto", chat_id=event.chat_id, bot=tx.services.bot_username
    )
