"""The sandbox's in-memory Telegram world: people, chats, messages and the bot's update queue.

Both the Bot API layer (what the bot sees) and the web page / test API (what people do) act
on one :class:`SandboxState`, so a message typed in the browser and a message sent by the bot
land in the same chat history, with Telegram's ids, shapes and rules. Nothing here does I/O;
waiting is done on :class:`ChangeSignal`, which every mutation notifies.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, cast, get_args

from sandbox.errors import ApiError, NotAMemberError, SandboxInputError
from sandbox.formatting import detect_entities

JSONDict = dict[str, Any]
ChatType = Literal["private", "group", "supergroup", "channel"]
CHAT_TYPES: tuple[str, ...] = get_args(ChatType)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
DEFAULT_TOKEN = "123456789:SANDBOX-gridcall-token"
DEFAULT_BOT_ID = 123456789
#: Seconds after a getUpdates ended during which the bot still counts as polling.
POLL_GAP_S = 10.0

#: Update kinds Telegram knows; ``allowed_updates`` filters only these (raw test updates of an
#: unknown shape are always delivered).
KNOWN_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
#: Telegram's default when ``allowed_updates`` is empty: everything but these.
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class ChangeSignal:
    """Broadcast "something changed" to every coroutine waiting for it.

    It plays the role of an ``asyncio.Condition`` whose ``notify_all`` can be called from plain
    synchronous code (a test calling ``user_sends``): each waiter holds the current event, and
    :meth:`notify` sets it and starts a new one. Checking a predicate and taking the event
    happen without an ``await`` in between, so no notification can be lost.
    """

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self.changes = 0

    def notify(self) -> None:
        self.changes += 1
        event, self._event = self._event, None
        if event is not None:
            event.set()

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - a deadline, not a scope
        """Wait for the next :meth:`notify`; False if ``timeout`` seconds passed first."""
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        if timeout <= 0:
            return False
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        return True


@dataclass
class SandboxUser:
    """A person in the sandbox (resident, grid worker, leader…)."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    role_label: str = ""
    language_code: str | None = None
    #: False: the person never pressed Start, so the bot cannot message them first (403).
    started_bot: bool = True
    #: True: the person blocked the bot; private messages fail with 403.
    blocked_bot: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_telegram(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class SandboxChat:
    """A chat: a group/supergroup/channel with members, or a person's private chat with the bot."""

    id: int
    type: ChatType
    title: str | None = None
    members: set[int] = field(default_factory=set)
    admins: set[int] = field(default_factory=set)
    username: str | None = None
    #: The person on the other side of a private chat.
    peer: SandboxUser | None = None
    #: False after the bot was removed: sending fails with 403 "bot was kicked".
    bot_is_member: bool = True
    bot_is_admin: bool = True

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def to_telegram(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "type": self.type}
        if self.type == "private" and self.peer is not None:
            data["first_name"] = self.peer.first_name
            if self.peer.last_name:
                data["last_name"] = self.peer.last_name
            if self.peer.username:
                data["username"] = self.peer.username
        else:
            data["title"] = self.title or str(self.id)
            if self.username:
                data["username"] = self.username
        return data


@dataclass
class SentMessage:
    """A message in a sandbox chat, sent by the bot or by a person.

    ``text`` is what the sender wrote (the HTML source for the bot's ``parse_mode=HTML``
    messages; the caption for photos); ``plain_text`` is what a reader sees.
    """

    message_id: int
    chat_id: int
    text: str
    plain_text: str
    sender_id: int
    from_bot: bool
    date: int
    entities: list[JSONDict] = field(default_factory=list)
    parse_mode: str | None = None
    reply_markup: JSONDict | None = None
    reply_to_message_id: int | None = None
    #: Earlier texts, oldest first: one entry per text edit.
    edits: list[str] = field(default_factory=list)
    edit_date: int | None = None
    photo: list[JSONDict] | None = None
    #: (longitude, latitude)
    location: tuple[float, float] | None = None
    deleted: bool = False
    disable_notification: bool = False
    #: ``SandboxState.data_version`` at the last change, for the web page's incremental polling.
    version: int = 0

    @property
    def kind(self) -> Literal["text", "photo", "location"]:
        if self.photo is not None:
            return "photo"
        if self.location is not None:
            return "location"
        return "text"

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Inline keyboard as (text, callback_data) rows; URL buttons give their URL instead."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            [
                (str(b.get("text", "")), str(b.get("callback_data") or b.get("url") or ""))
                for b in row
            ]
            for row in rows
        ]

    @property
    def force_reply(self) -> bool:
        return bool((self.reply_markup or {}).get("force_reply"))

    @property
    def photo_file_id(self) -> str | None:
        return str(self.photo[-1]["file_id"]) if self.photo else None


class CallbackAnswer(NamedTuple):
    """What the bot said when answering a button press."""

    callback_query_id: str
    text: str | None
    show_alert: bool


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: CallbackAnswer | None = None
    answer_version: int = 0


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    file_path: str
    file_size: int
    data: bytes | None = None

    def to_telegram(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


def _update_kind(update: JSONDict) -> str | None:
    return next((key for key in update if key != "update_id"), None)


class SandboxState:
    """Everything the sandbox knows, and the operations that change it."""

    def __init__(
        self,
        *,
        bot_username: str = "gridcall_bot",
        bot_first_name: str = "gridcall",
        clock: Callable[[], float] = time.time,
        privacy_mode: bool = False,
    ) -> None:
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.bot_id = DEFAULT_BOT_ID
        self.tokens: set[str] = set()
        self.clock = clock
        self.privacy_mode = privacy_mode
        self.users: dict[int, SandboxUser] = {}
        self.chats: dict[int, SandboxChat] = {}
        self._messages: dict[int, dict[int, SentMessage]] = {}
        self._all_messages: list[SentMessage] = []
        self._next_message_id: dict[int, int] = {}
        self.updates: list[JSONDict] = []
        self._next_update_id = 1
        self.confirmed_offset = 0
        self.allowed_updates: frozenset[str] | None = None
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: list[CallbackAnswer] = []
        self._next_callback_id = 1
        self.files: dict[str, FileRecord] = {}
        self.commands: dict[str, list[JSONDict]] = {}
        self.webhook_url = ""
        #: Sent as ``X-Telegram-Bot-Api-Secret-Token`` with every webhook delivery.
        self.webhook_secret = ""
        self.webhook_last_error_date: int | None = None
        self.webhook_last_error_message: str | None = None
        self.signal = ChangeSignal()
        #: Bumped on every change a person could see (messages, chats, people, answers).
        self.data_version = 0
        #: Bumped by every getUpdates; a waiting older poll then ends with 409 like Telegram.
        self.poll_generation = 0
        self.active_polls = 0
        #: Browser long polls (``/sandbox/api/state``) waiting right now.
        self.active_page_polls = 0
        self.last_poll_at: float | None = None
        self.closing = False

    def bot_polling(self, now: float) -> bool:
        """Whether the bot is taking updates: a getUpdates is waiting, or one ended moments
        ago (between two calls the bot is handling what it got — often the very moment its
        answers reach the page, which must not then say "not connected")."""
        recent = self.last_poll_at is not None and now - self.last_poll_at < POLL_GAP_S
        return self.active_polls > 0 or recent

    # -- change notification ------------------------------------------------------------------

    def touch(self, *, visible: bool = True) -> int:
        """Record a change and wake every waiter; returns the new data version."""
        if visible:
            self.data_version += 1
        self.signal.notify()
        return self.data_version

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109 - callers report what they waited for
    ) -> bool:
        """Wait until ``predicate()`` is true (re-checked on every change) or ``timeout`` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await self.signal.wait(remaining)
        return True

    # -- people and chats ---------------------------------------------------------------------

    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def add_user(self, user: SandboxUser) -> SandboxUser:
        if user.id <= 0:
            raise SandboxInputError(f"user ids are positive, got {user.id}")
        self.users[user.id] = user
        chat = self.chats.get(user.id)
        if chat is not None and chat.type == "private":
            chat.peer = user
        self.touch()
        return user

    def add_chat(self, chat: SandboxChat) -> SandboxChat:
        if chat.type not in CHAT_TYPES:
            raise SandboxInputError(f"chat type must be one of {CHAT_TYPES}, got {chat.type!r}")
        if chat.type == "private":
            if chat.id not in self.users:
                raise SandboxInputError(f"a private chat's id is its user's id; no user {chat.id}")
            chat.peer = self.users[chat.id]
            chat.members = {chat.id}
        elif chat.id in self.users:
            raise SandboxInputError(f"chat id {chat.id} is a user's id; groups need another id")
        self.chats[chat.id] = chat
        self.touch()
        return chat

    def find_chat(self, chat_id: int | str) -> SandboxChat | None:
        """A chat by id or ``@username``; a known user's private chat is created on demand."""
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@").lower()
            return next(
                (c for c in self.chats.values() if c.username and c.username.lower() == name),
                None,
            )
        chat = self.chats.get(chat_id)
        if chat is None and chat_id in self.users:
            chat = SandboxChat(chat_id, "private", members={chat_id}, peer=self.users[chat_id])
            self.chats[chat_id] = chat
        return chat

    def user(self, user_id: int) -> SandboxUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise SandboxInputError(f"unknown user {user_id}") from None

    def chat_for(self, user_id: int, chat_id: int) -> SandboxChat:
        """The chat ``user_id`` acts in; raises if either is unknown or they are not a member."""
        user = self.user(user_id)
        chat = self.find_chat(chat_id)
        if chat is None:
            raise SandboxInputError(f"unknown chat {chat_id}")
        if chat.type == "private":
            if chat.id != user.id:
                raise NotAMemberError(f"chat {chat_id} is another person's private chat")
        elif chat.type == "channel":
            if user.id not in chat.admins:
                raise NotAMemberError(f"user {user_id} is not an admin of channel {chat_id}")
        elif user.id not in chat.members and user.id not in chat.admins:
            raise NotAMemberError(f"user {user_id} is not a member of chat {chat_id}")
        return chat

    def chats_of(self, user_id: int) -> list[SandboxChat]:
        """Chats a person can open: their groups and channels, then their chat with the bot."""
        self.user(user_id)
        shared = [
            c
            for c in self.chats.values()
            if c.type != "private" and (user_id in c.members or user_id in c.admins)
        ]
        private = self.find_chat(user_id)
        assert private is not None
        return [*shared, private]

    # -- messages -----------------------------------------------------------------------------

    def message(self, chat_id: int, message_id: int) -> SentMessage | None:
        return self._messages.get(chat_id, {}).get(message_id)

    def messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages in send order, of one chat or of all chats."""
        if chat_id is None:
            return list(self._all_messages)
        return list(self._messages.get(chat_id, {}).values())

    def _store(self, message: SentMessage) -> SentMessage:
        self._messages.setdefault(message.chat_id, {})[message.message_id] = message
        self._all_messages.append(message)
        message.version = self.touch()
        return message

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def message_dict(self, message: SentMessage, *, with_reply: bool = True) -> JSONDict:
        """The message as the Bot API returns it (``Message`` object)."""
        chat = self.chats[message.chat_id]
        data: JSONDict = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat.to_telegram(),
        }
        if message.from_bot:
            data["from"] = self.bot_user()
        elif chat.type == "channel":
            data["sender_chat"] = chat.to_telegram()
        else:
            data["from"] = self.users[message.sender_id].to_telegram()
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if with_reply and message.reply_to_message_id is not None:
            replied = self.message(message.chat_id, message.reply_to_message_id)
            if replied is not None and not replied.deleted:
                data["reply_to_message"] = self.message_dict(replied, with_reply=False)
        if message.photo is not None:
            data["photo"] = message.photo
            if message.plain_text:
                data["caption"] = message.plain_text
                if message.entities:
                    data["caption_entities"] = message.entities
        elif message.location is not None:
            data["location"] = {"longitude": message.location[0], "latitude": message.location[1]}
        else:
            data["text"] = message.plain_text
            if message.entities:
                data["entities"] = message.entities
        markup = message.reply_markup or {}
        if "inline_keyboard" in markup:
            data["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        return data

    def photo_sizes(self, file_id: str, data: bytes | None = None) -> list[JSONDict]:
        """Telegram's ``photo`` array (small → large); the largest size has ``file_id``."""
        sizes: list[JSONDict] = []
        for suffix, width, height in (("-s", 90, 68), ("-m", 320, 240), ("", 1280, 960)):
            record = self.register_file(f"{file_id}{suffix}", data=data if not suffix else None)
            sizes.append(
                {
                    "file_id": record.file_id,
                    "file_unique_id": record.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": record.file_size,
                }
            )
        return sizes

    def register_file(self, file_id: str, *, data: bytes | None = None) -> FileRecord:
        record = self.files.get(file_id)
        if record is None:
            unique = f"AQAD{zlib.crc32(file_id.encode()):08x}"
            record = FileRecord(
                file_id=file_id,
                file_unique_id=unique,
                file_path=f"photos/file_{len(self.files)}.jpg",
                file_size=len(data) if data is not None else 1024 + len(file_id),
                data=data,
            )
            self.files[file_id] = record
        return record

    def user_sends(
        self,
        user_id: int,
        chat_id: int,
        text: str | None = None,
        *,
        reply_to: int | None = None,
        photo: str | None = None,
        caption: str | None = None,
        location: tuple[float, float] | None = None,
    ) -> SentMessage:
        """A person posts in a chat; the bot gets a ``message`` (or ``channel_post``) update.

        Text is plain (people do not type HTML); Telegram's entities (commands, mentions,
        hashtags, URLs) are attached. With privacy mode on, a group message reaches the bot
        only if it is a command, mentions the bot or replies to the bot, like in Telegram.
        """
        chat = self.chat_for(user_id, chat_id)
        if photo is not None and caption is None:
            caption, text = text, None
        if location is not None and (text or photo or caption):
            raise SandboxInputError("a location message carries no text, caption or photo")
        if photo is not None and not photo.strip():
            raise SandboxInputError("photo must be a non-empty file id")
        if text is not None and caption is not None:
            raise SandboxInputError("text and caption are exclusive; use caption with photo")
        body = (caption if photo is not None else text) or ""
        if photo is None and location is None and not body.strip():
            raise SandboxInputError("message text is empty")
        limit = MAX_CAPTION_LENGTH if photo is not None else MAX_TEXT_LENGTH
        if len(body) > limit:
            raise SandboxInputError(f"message is too long ({len(body)} > {limit} characters)")
        if location is not None:
            lon, lat = float(location[0]), float(location[1])
            if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
                raise SandboxInputError(f"location (lon, lat) out of range: {location!r}")
            location = (lon, lat)
        if reply_to is not None:
            replied = self.message(chat.id, reply_to)
            if replied is None or replied.deleted:
                raise SandboxInputError(f"no message {reply_to} in chat {chat.id} to reply to")
        message = SentMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            text=body,
            plain_text=body,
            entities=detect_entities(body) if body else [],
            sender_id=user_id,
            from_bot=False,
            date=int(self.clock()),
            reply_to_message_id=reply_to,
            photo=self.photo_sizes(photo) if photo is not None else None,
            location=location,
        )
        if chat.type == "private":
            self.users[user_id].started_bot = True
        self._store(message)
        if self._bot_sees(chat, message):
            kind = "channel_post" if chat.type == "channel" else "message"
            self.enqueue_update({kind: self.message_dict(message)})
        return message

    def _bot_sees(self, chat: SandboxChat, message: SentMessage) -> bool:
        if not chat.bot_is_member:
            return False
        if not (self.privacy_mode and chat.is_group) or chat.bot_is_admin:
            return True
        if message.reply_to_message_id is not None:
            replied = self.message(chat.id, message.reply_to_message_id)
            if replied is not None and replied.from_bot:
                return True
        handle = f"@{self.bot_username}".lower()
        for entity in message.entities:
            piece = message.plain_text[entity["offset"] : entity["offset"] + entity["length"]]
            if entity["type"] == "mention" and piece.lower() == handle:
                return True
            if entity["type"] == "bot_command" and (
                "@" not in piece or piece.lower().endswith(handle)
            ):
                return True
        return False

    def bot_sends(self, chat: SandboxChat, message: SentMessage) -> SentMessage:
        """Store a message the Bot API layer has validated for the bot."""
        message.message_id = self._new_message_id(chat.id)
        return self._store(message)

    def changed(self, message: SentMessage) -> None:
        """Mark an edited/deleted message so pollers see it again."""
        message.version = self.touch()

    def duplicates(self) -> list[tuple[int, str]]:
        """(chat_id, text) pairs the bot sent more than once, one entry per extra copy.

        Messages the bot deleted, and photos or locations without text, do not count: a
        deliberate re-post or two pictures are not the double delivery this looks for.
        """
        counts = Counter(
            (m.chat_id, m.text)
            for m in self._all_messages
            if m.from_bot and m.text and not m.deleted
        )
        return [key for key, n in counts.items() for _ in range(n - 1)]

    # -- button presses -----------------------------------------------------------------------

    def user_presses(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """A person presses an inline button; the bot gets a ``callback_query`` update.

        ``data`` is not checked against the buttons: tests forge data the way a modified
        client could, to prove that button data carries no authority by itself.
        """
        chat = self.chat_for(user_id, chat_id)
        message = self.message(chat.id, message_id)
        if message is None or message.deleted:
            raise SandboxInputError(f"no message {message_id} in chat {chat.id}")
        query_id = f"{self.bot_id % 100000}{self._next_callback_id:012d}"
        self._next_callback_id += 1
        self.callback_queries[query_id] = CallbackQueryRecord(
            query_id, user_id, chat.id, message_id, data
        )
        self.enqueue_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.users[user_id].to_telegram(),
                    "message": self.message_dict(message),
                    "chat_instance": str(zlib.crc32(f"{self.bot_id}:{chat.id}".encode())),
                    "data": data,
                }
            }
        )
        return query_id

    def answer_callback(self, query_id: str, text: str | None, show_alert: bool) -> None:
        record = self.callback_queries.get(query_id)
        if record is None or record.answer is not None:
            raise ApiError.bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        record.answer = CallbackAnswer(query_id, text, show_alert)
        self.callback_answers.append(record.answer)
        record.answer_version = self.touch()

    def answers_since(self, version: int) -> list[CallbackQueryRecord]:
        return [
            r
            for r in self.callback_queries.values()
            if r.answer is not None and r.answer_version > version
        ]

    # -- the update queue ---------------------------------------------------------------------

    def enqueue_update(self, payload: JSONDict) -> int:
        """Queue an update for the bot; ``update_id`` is assigned unless given as an int."""
        given = payload.get("update_id")
        if isinstance(given, int) and not isinstance(given, bool):
            update_id = given
        else:
            update_id = self._next_update_id
        self._next_update_id = max(self._next_update_id, update_id + 1)
        update = {"update_id": update_id, **{k: v for k, v in payload.items() if k != "update_id"}}
        self.updates.append(update)
        self.touch(visible=False)
        return update_id

    def take_updates(
        self, offset: int | None, limit: int, allowed_updates: Iterable[str] | None
    ) -> list[JSONDict]:
        """Serve getUpdates: confirm by ``offset`` and return up to ``limit`` pending updates.

        Like Telegram, updates with ``update_id < offset`` are forgotten for good, a negative
        offset keeps only the last ``-offset`` updates, and ``allowed_updates`` persists until
        it is given again (an empty list means Telegram's default set).
        """
        changed = False
        if offset is not None and offset < 0:
            kept = self.updates[offset:]
            changed = len(kept) != len(self.updates)
            self.updates = kept
            first = self.updates[0]["update_id"] if self.updates else self._next_update_id
            self.confirmed_offset = max(self.confirmed_offset, first)
        elif offset and offset > self.confirmed_offset:
            self.confirmed_offset = offset
            # ids keep growing past what was confirmed, so new updates are never pre-confirmed
            self._next_update_id = max(self._next_update_id, offset)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            changed = True
        if allowed_updates is not None:
            allowed = frozenset(allowed_updates)
            self.allowed_updates = allowed or (KNOWN_UPDATE_TYPES - _NOT_DEFAULT_UPDATES)
        result: list[JSONDict] = []
        for update in list(self.updates):
            kind = _update_kind(update)
            if (
                self.allowed_updates is not None
                and kind in KNOWN_UPDATE_TYPES
                and kind not in self.allowed_updates
            ):
                self.updates.remove(update)
                changed = True
                continue
            if len(result) < limit:
                result.append(update)
        if changed:
            self.touch(visible=False)
        return result

    def pending_update_count(self) -> int:
        """Updates the bot has not confirmed yet (delivered or not)."""
        return sum(1 for u in self.updates if u["update_id"] >= self.confirmed_offset)

    def next_update(self) -> JSONDict | None:
        """The oldest pending update the bot wants, for webhook delivery.

        Updates of kinds ``allowed_updates`` excludes are forgotten on the way, as
        :meth:`take_updates` does for long polling.
        """
        changed = False
        found: JSONDict | None = None
        for update in list(self.updates):
            kind = _update_kind(update)
            if (
                self.allowed_updates is not None
                and kind in KNOWN_UPDATE_TYPES
                and kind not in self.allowed_updates
            ):
                self.updates.remove(update)
                changed = True
                continue
            found = update
            break
        if changed:
            self.touch(visible=False)
        return found

    def confirm_update(self, update_id: int) -> None:
        """Forget one update for good: the bot acknowledged its webhook delivery (or the
        sandbox gave up on it)."""
        self.updates = [u for u in self.updates if u["update_id"] != update_id]
        self.confirmed_offset = max(self.confirmed_offset, update_id + 1)
        self._next_update_id = max(self._next_update_id, self.confirmed_offset)
        self.touch(visible=False)

    def set_allowed_updates(self, allowed_updates: Iterable[str]) -> None:
        """Persist ``allowed_updates`` (an empty list means Telegram's default set)."""
        allowed = frozenset(allowed_updates)
        self.allowed_updates = allowed or (KNOWN_UPDATE_TYPES - _NOT_DEFAULT_UPDATES)

    # -- reporting ----------------------------------------------------------------------------

    def describe(self, limit: int = 50) -> str:
        """Human-readable dump of the bot's messages, for test failure messages."""
        bot = [m for m in self._all_messages if m.from_bot]
        if not bot:
            return "the bot has sent no messages"
        lines = [f"the bot sent {len(bot)} message(s):"]
        for m in bot[-limit:]:
            flags = "".join(
                [" [deleted]" if m.deleted else "", f" [edited x{len(m.edits)}]" if m.edits else ""]
            )
            buttons = " | ".join(f"[{t} → {d}]" for row in m.buttons for t, d in row)
            lines.append(
                f"  chat {m.chat_id} #{m.message_id}{flags}: {m.plain_text!r}"
                + (f"  buttons: {buttons}" if buttons else "")
            )
        return "\n".join(lines)


def as_chat_type(value: str) -> ChatType:
    """Check a chat type given as a plain string (tests and demo config pass strings)."""
    if value not in CHAT_TYPES:
        raise SandboxInputError(f"chat type must be one of {CHAT_TYPES}, got {value!r}")
    return cast(ChatType, value)
