"""The sandbox's browser UI and its JSON API under ``/sandbox/api/``.

``gridcall demo`` lets one person play every role: pick who you are, open one of that
person's chats, type, reply, share a location or a photo, press the bot's buttons. The page
is static (no CDN, works offline) and only ever inserts HTML that :func:`render_html` built
from Telegram entities, so nothing typed by a "resident" can inject markup.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from sandbox.errors import SandboxInputError
from sandbox.formatting import render_html
from sandbox.state import SandboxChat, SandboxState, SandboxUser, SentMessage

JSONDict = dict[str, Any]

STATIC_DIR = Path(__file__).parent / "static"
MAX_STATE_WAIT = 30.0
BOT_ROLE_LABEL = "机器人 bot"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _int_field(value: Any, name: str) -> int:
    """An integer from JSON or a query string; bools and fractions are refused."""
    if isinstance(value, bool) or value is None:
        raise SandboxInputError(f"{name} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise SandboxInputError(f"{name} must be an integer, got {value!r}")


def _float_field(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SandboxInputError(f"{name} must be a number")
    try:
        return float(value)
    except ValueError:
        raise SandboxInputError(f"{name} must be a number, got {value!r}") from None


def user_view(user: SandboxUser) -> JSONDict:
    return {
        "id": user.id,
        "first_name": user.first_name,
        "username": user.username,
        "name": user.display_name,
        "role_label": user.role_label,
    }


def chat_view(state: SandboxState, chat: SandboxChat) -> JSONDict:
    if chat.type == "private":
        title = f"与机器人私聊 · Private chat with @{state.bot_username}"
    else:
        title = chat.title or str(chat.id)
    return {"id": chat.id, "type": chat.type, "title": title, "members": len(chat.members)}


def message_view(state: SandboxState, message: SentMessage) -> JSONDict:
    """Everything the page needs to draw one message; ``html`` is safe to insert as HTML."""
    chat = state.chats[message.chat_id]
    if message.from_bot:
        sender_name, sender_role = f"{state.bot_first_name} (@{state.bot_username})", BOT_ROLE_LABEL
    elif chat.type == "channel":
        sender_name, sender_role = chat.title or str(chat.id), "频道 channel"
    else:
        user = state.users[message.sender_id]
        sender_name, sender_role = user.display_name, user.role_label
    reply: JSONDict | None = None
    if message.reply_to_message_id is not None:
        replied = state.message(message.chat_id, message.reply_to_message_id)
        if replied is not None:
            reply = {
                "message_id": replied.message_id,
                "sender_name": (
                    state.bot_first_name
                    if replied.from_bot
                    else state.users[replied.sender_id].display_name
                    if replied.sender_id in state.users
                    else str(replied.sender_id)
                ),
                "snippet": (replied.plain_text or f"[{replied.kind}]")[:80],
            }
    markup = message.reply_markup or {}
    buttons = [
        [
            {
                "text": str(b.get("text", "")),
                "data": b.get("callback_data"),
                "url": b.get("url"),
            }
            for b in row
            if isinstance(b, dict)
        ]
        for row in markup.get("inline_keyboard") or []
        if isinstance(row, list)
    ]
    keyboard = [
        [str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in row]
        for row in markup.get("keyboard") or []
        if isinstance(row, list)
    ]
    location = (
        {"longitude": message.location[0], "latitude": message.location[1]}
        if message.location is not None
        else None
    )
    return {
        "chat_id": message.chat_id,
        "message_id": message.message_id,
        "date": message.date,
        "from_bot": message.from_bot,
        "sender_id": message.sender_id,
        "sender_name": sender_name,
        "sender_role": sender_role,
        "kind": message.kind,
        "text": message.plain_text,
        "html": render_html(message.plain_text, message.entities),
        "photo": message.photo_file_id,
        # Pictures the bot uploaded (a /stats chart) can be shown; made-up ids cannot.
        "photo_url": (
            f"/sandbox/api/file?id={quote(message.photo_file_id)}"
            if message.photo_file_id is not None
            and (record := state.files.get(message.photo_file_id)) is not None
            and record.data is not None
            else None
        ),
        "location": location,
        "reply_to": reply,
        "buttons": buttons,
        "keyboard": keyboard,
        "force_reply": message.force_reply,
        "edited": bool(message.edits) or message.edit_date is not None,
        "deleted": message.deleted,
        "version": message.version,
    }


class SandboxWeb:
    """Routes of the page and its JSON API, acting on a :class:`SandboxState`."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._photo_counter = 0

    def register(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_static("/sandbox/static/", STATIC_DIR, show_index=False)
        app.router.add_get("/sandbox/api/users", self.users)
        app.router.add_get("/sandbox/api/chats", self.chats)
        app.router.add_get("/sandbox/api/messages", self.messages)
        app.router.add_get("/sandbox/api/state", self.poll_state)
        app.router.add_post("/sandbox/api/send", self.send)
        app.router.add_post("/sandbox/api/press", self.press)
        app.router.add_get("/sandbox/api/file", self.file)

    @staticmethod
    async def index(request: web.Request) -> web.Response:
        html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def users(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "users": [user_view(u) for u in self.state.users.values()],
                "bot": {"username": self.state.bot_username, "name": self.state.bot_first_name},
                "version": self.state.data_version,
            }
        )

    async def chats(self, request: web.Request) -> web.Response:
        try:
            user_id = _int_field(request.query.get("user"), "user")
            chats = self.state.chats_of(user_id)
        except SandboxInputError as error:
            return _error(error.status, str(error))
        return web.json_response({"chats": [chat_view(self.state, c) for c in chats]})

    async def messages(self, request: web.Request) -> web.Response:
        try:
            chat_id = _int_field(request.query.get("chat"), "chat")
            if "user" in request.query:
                chat = self.state.chat_for(_int_field(request.query["user"], "user"), chat_id)
            else:
                found = self.state.find_chat(chat_id)
                if found is None:
                    raise SandboxInputError(f"unknown chat {chat_id}")
                chat = found
        except SandboxInputError as error:
            return _error(error.status, str(error))
        return web.json_response(
            {
                "chat": chat_view(self.state, chat),
                "messages": [message_view(self.state, m) for m in self.state.messages(chat.id)],
                "version": self.state.data_version,
            }
        )

    async def file(self, request: web.Request) -> web.Response:
        """A picture the bot uploaded, for the page to show."""
        record = self.state.files.get(request.query.get("id", ""))
        if record is None or record.data is None:
            return _error(404, "no such file")
        kind = "image/png" if record.data.startswith(b"\x89PNG") else "image/jpeg"
        return web.Response(body=record.data, content_type=kind)

    async def poll_state(self, request: web.Request) -> web.Response:
        """Long poll for changes after version ``since`` (messages, answers, chats)."""
        state = self.state
        try:
            since = _int_field(request.query.get("since", "0"), "since")
            timeout = min(
                max(_float_field(request.query.get("timeout", "0"), "timeout"), 0.0), MAX_STATE_WAIT
            )
            user_id = _int_field(request.query["user"], "user") if "user" in request.query else None
            visible = {c.id for c in state.chats_of(user_id)} if user_id is not None else None
        except SandboxInputError as error:
            return _error(error.status, str(error))
        state.active_page_polls += 1
        state.touch(visible=False)  # lets tests (and wait_for) see that a page is waiting
        try:
            await state.wait_until(lambda: state.data_version > since or state.closing, timeout)
        finally:
            state.active_page_polls -= 1
        messages = [
            message_view(state, m)
            for m in state.messages()
            if m.version > since and (visible is None or m.chat_id in visible)
        ]
        answers = [
            {
                "callback_query_id": r.id,
                "user": r.user_id,
                "chat_id": r.chat_id,
                "message_id": r.message_id,
                "text": r.answer.text if r.answer else None,
                "show_alert": r.answer.show_alert if r.answer else False,
            }
            for r in state.answers_since(since)
            if user_id is None or r.user_id == user_id
        ]
        body: JSONDict = {
            "version": state.data_version,
            "messages": messages,
            "answers": answers,
            "bot": {
                "polling": state.bot_polling(time.monotonic()),
                "webhook": bool(state.webhook_url),
                "username": state.bot_username,
            },
        }
        if user_id is not None:
            body["chats"] = [chat_view(state, c) for c in state.chats_of(user_id)]
        return web.json_response(body)

    @staticmethod
    async def _json_body(request: web.Request) -> JSONDict:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise SandboxInputError("the request body must be JSON") from None
        if not isinstance(body, dict):
            raise SandboxInputError("the request body must be a JSON object")
        return body

    async def send(self, request: web.Request) -> web.Response:
        """POST {user, chat, text?, reply_to?, location?: {latitude, longitude}, photo?,
        caption?}; ``photo: true`` makes up a file id."""
        try:
            body = await self._json_body(request)
            user_id = _int_field(body.get("user"), "user")
            chat_id = _int_field(body.get("chat"), "chat")
            text = body.get("text")
            if text is not None and not isinstance(text, str):
                raise SandboxInputError("text must be a string")
            caption = body.get("caption")
            if caption is not None and not isinstance(caption, str):
                raise SandboxInputError("caption must be a string")
            reply_to = body.get("reply_to")
            reply_id = None if reply_to in (None, "") else _int_field(reply_to, "reply_to")
            location = self._location(body.get("location"))
            photo = self._photo(body.get("photo"))
            message = self.state.user_sends(
                user_id,
                chat_id,
                text or None,
                reply_to=reply_id,
                photo=photo,
                caption=caption or None,
                location=location,
            )
        except SandboxInputError as error:
            return _error(error.status, str(error))
        return web.json_response(
            {"message": message_view(self.state, message), "version": self.state.data_version}
        )

    @staticmethod
    def _location(value: Any) -> tuple[float, float] | None:
        if value is None:
            return None
        if isinstance(value, dict):
            return (
                _float_field(value.get("longitude"), "location.longitude"),
                _float_field(value.get("latitude"), "location.latitude"),
            )
        if isinstance(value, list) and len(value) == 2:
            return _float_field(value[0], "longitude"), _float_field(value[1], "latitude")
        raise SandboxInputError("location must be {latitude, longitude} or [longitude, latitude]")

    def _photo(self, value: Any) -> str | None:
        if value in (None, False, ""):
            return None
        if value is True:
            self._photo_counter += 1
            return f"AgACAgSandboxWeb{self._photo_counter:06d}"
        if isinstance(value, str):
            return value
        raise SandboxInputError("photo must be true or a file id")

    async def press(self, request: web.Request) -> web.Response:
        """POST {user, chat, message_id, data}: the data must be on one of the message's buttons."""
        try:
            body = await self._json_body(request)
            user_id = _int_field(body.get("user"), "user")
            chat_id = _int_field(body.get("chat"), "chat")
            message_id = _int_field(body.get("message_id"), "message_id")
            data = body.get("data")
            if not isinstance(data, str) or not data:
                raise SandboxInputError("data must be a non-empty string")
            chat = self.state.chat_for(user_id, chat_id)
            message = self.state.message(chat.id, message_id)
            if message is None or message.deleted:
                raise SandboxInputError(f"no message {message_id} in chat {chat_id}")
            if data not in {d for row in message.buttons for _, d in row}:
                raise SandboxInputError("that message has no button with this data")
            query_id = self.state.user_presses(user_id, chat.id, message_id, data)
        except SandboxInputError as error:
            return _error(error.status, str(error))
        return web.json_response({"callback_query_id": query_id})
