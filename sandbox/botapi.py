"""The Telegram Bot API over HTTP: ``/bot{token}/{method}``, answered from the sandbox world.

aiogram (and any other client) talks to this exactly as to api.telegram.org: it sends every
call as ``multipart/form-data`` with nested objects as JSON strings, and parses the replies
into its types and exceptions. Replies therefore use Telegram's shapes, status codes and
wording, so the bot's error handling is exercised for real.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox.errors import ApiError
from sandbox.faults import FaultInjector, FloodLimiter
from sandbox.formatting import EntityParseError, parse_html
from sandbox.state import (
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    SandboxChat,
    SandboxState,
    SentMessage,
)
from sandbox.webhook import is_local_url

JSONDict = dict[str, Any]

TOKEN_RE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")

#: Parameters that are strings even when they look like numbers or JSON.
STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "photo",
        "url",
        "secret_token",
        "language_code",
        "action",
        "business_connection_id",
        "message_effect_id",
        "ip_address",
        "emoji",
    }
)

MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_BUTTON_URL_RE = re.compile(r"^(https?://|tg://)\S+$", re.IGNORECASE)
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _webhook_active() -> ApiError:
    return ApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
        "delete the webhook first",
    )


@dataclass
class ApiRequest:
    """One Bot API call as the sandbox received it, for tests that count or inspect calls."""

    method: str
    params: JSONDict
    status: int = 200
    description: str | None = None
    files: dict[str, int] = field(default_factory=dict)  # form field → size in bytes


class Params:
    """Typed access to request parameters, whatever encoding they arrived in."""

    def __init__(self, values: JSONDict, files: dict[str, bytes] | None = None) -> None:
        self.values = values
        self.files = files or {}

    def get(self, name: str) -> Any:
        value = self.values.get(name)
        return None if value == "" else value

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.get(name)
        if value is None:
            if required:
                raise ApiError.bad_request(f"{name} is empty")
            return None
        if isinstance(value, bool):
            raise ApiError.bad_request(f'field "{name}" must be of type Integer')
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ApiError.bad_request(f'field "{name}" must be of type Integer')

    def number(self, name: str, *, required: bool = False) -> float | None:
        value = self.get(name)
        if value is None:
            if required:
                raise ApiError.bad_request(f"{name} is empty")
            return None
        if isinstance(value, bool):
            raise ApiError.bad_request(f'field "{name}" must be of type Float')
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ApiError.bad_request(f'field "{name}" must be of type Float') from None

    def string(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise ApiError.bad_request(f'field "{name}" must be of type String')

    def boolean(self, name: str) -> bool:
        value = self.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, name: str, what: str) -> Any:
        """A nested object: a JSON string in form encodings, an object in a JSON body."""
        value = self.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError.bad_request(f"can't parse {what} JSON object") from None
        return value


def _decode_form_value(name: str, value: str) -> Any:
    """Form fields are strings; numbers, booleans and nested objects arrive JSON-encoded."""
    if name in STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_params(request: web.Request) -> tuple[JSONDict, dict[str, bytes]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    values: JSONDict = {k: _decode_form_value(k, v) for k, v in request.query.items()}
    files: dict[str, bytes] = {}
    if request.method != "POST" or not request.body_exists:
        return values, files
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError.bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise ApiError.bad_request("request body must be a JSON object")
        values.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
                values[key] = f"attach://{key}"
            else:
                values[key] = _decode_form_value(key, str(value))
    else:
        body_text = await request.text()
        if body_text.strip():
            raise ApiError.bad_request(f"unsupported Content-Type {content_type!r}")
    return values, files


def _inline_keyboard(markup: JSONDict | None) -> Any:
    return (markup or {}).get("inline_keyboard") or None


Handler = Callable[[Params], Awaitable[Any]]


class BotApi:
    """Serves Bot API methods against a :class:`SandboxState`."""

    def __init__(
        self,
        state: SandboxState,
        *,
        faults: FaultInjector,
        limiter: FloodLimiter,
        enforce_limits: bool = False,
    ) -> None:
        self.state = state
        self.faults = faults
        self.limiter = limiter
        self.enforce_limits = enforce_limits
        self.requests: list[ApiRequest] = []
        methods: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "logOut": self.ok,
            "close": self.ok,
            "setMyCommands": self.set_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "getMyCommands": self.get_my_commands,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "sendChatAction": self.send_chat_action,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendLocation": self.send_location,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "getFile": self.get_file,
        }
        # Telegram method names are case-insensitive.
        self.methods = {name.lower(): (name, handler) for name, handler in methods.items()}

    def register(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self.handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self.download)

    # -- HTTP plumbing ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        match = TOKEN_RE.match(token)
        if match is None:
            return web.json_response(ApiError(401, "Unauthorized").to_json(), status=401)
        self.state.bot_id = int(match.group(1))
        self.state.tokens.add(token)
        name = request.match_info["method"]
        canonical, handler = self.methods.get(name.lower(), (name, None))
        record = ApiRequest(method=canonical, params={})
        self.requests.append(record)
        try:
            values, files = await read_params(request)
            record.params = values
            record.files = {k: len(v) for k, v in files.items()}
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            fault = self.faults.take(canonical)
            if fault is not None:
                raise fault
            result = await handler(Params(values, files))
        except ApiError as error:
            record.status, record.description = error.status, error.description
            self.state.touch(visible=False)
            return web.json_response(error.to_json(), status=error.status)
        self.state.touch(visible=False)
        return web.json_response({"ok": True, "result": result})

    async def download(self, request: web.Request) -> web.Response:
        """File downloads (``/file/bot{token}/{file_path}``) for ``bot.download(...)``."""
        path = request.match_info["path"]
        record = next((f for f in self.state.files.values() if f.file_path == path), None)
        if record is None:
            return web.json_response(ApiError(404, "Not Found").to_json(), status=404)
        data = record.data if record.data is not None else f"sandbox file {record.file_id}".encode()
        return web.Response(body=data, content_type="image/jpeg")

    # -- helpers ------------------------------------------------------------------------------

    def _chat(self, params: Params) -> SandboxChat:
        raw = params.get("chat_id")
        if raw is None:
            raise ApiError.bad_request("chat_id is empty")
        chat_id: int | str
        if isinstance(raw, str) and raw.startswith("@"):
            chat_id = raw
        else:
            chat_id = params.integer("chat_id", required=True) or 0
        chat = self.state.find_chat(chat_id)
        if chat is None:
            raise ApiError.bad_request("chat not found")
        return chat

    def _writable_chat(self, params: Params) -> SandboxChat:
        """The target chat of a send, with Telegram's 403s for chats the bot cannot write to."""
        chat = self._chat(params)
        if chat.type == "private":
            user = self.state.users[chat.id]
            if user.blocked_bot:
                raise ApiError.forbidden("bot was blocked by the user")
            if not user.started_bot:
                raise ApiError.forbidden("bot can't initiate conversation with a user")
        elif not chat.bot_is_member:
            if chat.type == "channel":
                raise ApiError.forbidden("bot is not a member of the channel chat")
            raise ApiError.forbidden(f"bot was kicked from the {chat.type} chat")
        return chat

    def _check_flood(self, chat: SandboxChat) -> None:
        if not self.enforce_limits:
            return
        wait = self.limiter.check(chat.id, chat.type)
        if wait is not None:
            raise ApiError.too_many_requests(wait)

    def _record_sent(self, chat: SandboxChat) -> None:
        if self.enforce_limits:
            self.limiter.record(chat.id)

    def _format(
        self, text: str, parse_mode: str | None, entities: Any, *, what: str = "message text"
    ) -> tuple[str, list[JSONDict]]:
        """Plain text and entities of what the bot sent, validated like Telegram does.

        Markdown modes are stored verbatim (not parsed): gridcall sends HTML.
        """
        mode = (parse_mode or "").strip().lower()
        if mode == "html":
            try:
                return parse_html(text)
            except EntityParseError as error:
                raise ApiError.bad_request(f"can't parse entities: {error}") from None
        if mode in ("", "markdown", "markdownv2"):
            if entities is not None and not isinstance(entities, list):
                raise ApiError.bad_request(f"can't parse {what} entities JSON object")
            return text, [e for e in entities or [] if isinstance(e, dict)]
        raise ApiError.bad_request(f"unsupported parse_mode {parse_mode!r}")

    def _markup(self, params: Params) -> JSONDict | None:
        markup = params.json("reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise ApiError.bad_request(
                    'can\'t parse inline keyboard button: field "inline_keyboard" must be an '
                    "Array of Arrays"
                )
            for row in rows:
                for button in row:
                    self._check_button(button)
        elif not any(k in markup for k in ("force_reply", "keyboard", "remove_keyboard")):
            raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def _check_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise ApiError.bad_request("can't parse inline keyboard button: must be an Object")
        if not isinstance(button.get("text"), str) or not button["text"].strip():
            raise ApiError.bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise ApiError.bad_request("BUTTON_DATA_INVALID")
        elif "url" in button:
            if not isinstance(button["url"], str) or not _BUTTON_URL_RE.match(button["url"]):
                raise ApiError.bad_request("BUTTON_URL_INVALID")
        elif not any(
            k in button
            for k in (
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "copy_text",
                "web_app",
                "login_url",
                "pay",
                "callback_game",
            )
        ):
            raise ApiError.bad_request("text buttons are unallowed in the inline keyboard")

    def _reply_to(self, params: Params, chat: SandboxChat) -> int | None:
        reply = params.json("reply_parameters", "reply parameters")
        allow_missing = params.boolean("allow_sending_without_reply")
        message_id: int | None
        if isinstance(reply, dict):
            message_id = Params(reply).integer("message_id", required=True)
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
            other_chat = reply.get("chat_id")
            if other_chat is not None and str(other_chat) != str(chat.id):
                raise ApiError.bad_request("replies to other chats are not supported by sandbox")
        elif reply is not None:
            raise ApiError.bad_request("can't parse reply parameters JSON object")
        else:
            message_id = params.integer("reply_to_message_id")
        if message_id is None:
            return None
        target = self.state.message(chat.id, message_id)
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise ApiError.bad_request("message to be replied not found")
        return message_id

    def _new_message(self, chat: SandboxChat, params: Params, **fields: Any) -> SentMessage:
        return SentMessage(
            message_id=0,
            chat_id=chat.id,
            sender_id=self.state.bot_id,
            from_bot=True,
            date=int(self.state.clock()),
            disable_notification=params.boolean("disable_notification"),
            **fields,
        )

    def _bot_message(self, params: Params, *, action: str) -> SentMessage:
        if params.get("inline_message_id") is not None:
            raise ApiError.bad_request("inline messages are not supported by the sandbox")
        chat = self._chat(params)
        message_id = params.integer("message_id", required=True)
        assert message_id is not None
        message = self.state.message(chat.id, message_id)
        if message is None or message.deleted:
            raise ApiError.bad_request(f"message to {action} not found")
        if action == "edit" and not message.from_bot:
            raise ApiError.bad_request("message can't be edited")
        return message

    @staticmethod
    def _not_modified() -> ApiError:
        return ApiError.bad_request(
            "message is not modified: specified new message content and reply markup are "
            "exactly the same as a current content and reply markup of the message"
        )

    # -- methods ------------------------------------------------------------------------------

    async def ok(self, params: Params) -> bool:
        return True

    async def get_me(self, params: Params) -> JSONDict:
        return {
            **self.state.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.state.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def get_updates(self, params: Params) -> list[JSONDict]:
        """Long poll: hold the request until an update is pending or ``timeout`` passes."""
        state = self.state
        if state.webhook_url:
            raise _webhook_active()
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        allowed = params.json("allowed_updates", "allowed updates")
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)
        ):
            raise ApiError.bad_request("can't parse allowed updates JSON object")
        state.poll_generation += 1
        generation = state.poll_generation
        state.touch(visible=False)  # ends an older poll with 409, as Telegram does
        state.active_polls += 1
        state.last_poll_at = time.monotonic()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if state.poll_generation != generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                if state.webhook_url:
                    raise _webhook_active()
                updates = state.take_updates(offset, limit, allowed)
                allowed = None  # given once; it persists in the state
                if updates or state.closing:
                    return updates
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await state.signal.wait(remaining)
        finally:
            state.active_polls -= 1
            state.last_poll_at = time.monotonic()

    async def set_webhook(self, params: Params) -> bool:
        """Set (or, with an empty URL, remove) the webhook the sandbox delivers updates to.

        Like Telegram it wants HTTPS, except for local addresses (see
        :func:`sandbox.webhook.is_local_url`), the only ones the sandbox delivers to.
        """
        state = self.state
        url = params.string("url") or ""
        if url and not (url.lower().startswith("https://") or is_local_url(url)):
            raise ApiError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.string("secret_token") or ""
        if secret and not _SECRET_TOKEN_RE.match(secret):
            raise ApiError.bad_request("secret token contains unallowed characters")
        allowed = params.json("allowed_updates", "allowed updates")
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)
        ):
            raise ApiError.bad_request("can't parse allowed updates JSON object")
        if url != state.webhook_url:
            state.webhook_last_error_date = state.webhook_last_error_message = None
        state.webhook_url = url
        state.webhook_secret = secret if url else ""
        if allowed is not None:
            state.set_allowed_updates(allowed)
        if params.boolean("drop_pending_updates"):
            self._drop_pending()
        state.touch(visible=False)  # wakes the deliverer, and ends a waiting getUpdates
        return True

    async def delete_webhook(self, params: Params) -> bool:
        self.state.webhook_url = ""
        self.state.webhook_secret = ""
        if params.boolean("drop_pending_updates"):
            self._drop_pending()
        self.state.touch(visible=False)
        return True

    def _drop_pending(self) -> None:
        state = self.state
        if state.updates:
            state.confirmed_offset = max(u["update_id"] for u in state.updates) + 1
            state.updates.clear()
            state.touch(visible=False)

    async def get_webhook_info(self, params: Params) -> JSONDict:
        state = self.state
        info: JSONDict = {
            "url": state.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": state.pending_update_count(),
        }
        if state.webhook_url:
            info["max_connections"] = 1
            if state.allowed_updates is not None:
                info["allowed_updates"] = sorted(state.allowed_updates)
        if state.webhook_last_error_message is not None:
            info["last_error_date"] = state.webhook_last_error_date or int(state.clock())
            info["last_error_message"] = state.webhook_last_error_message
        return info

    @staticmethod
    def _commands_key(params: Params) -> str:
        scope = params.json("scope", "bot command scope") or {"type": "default"}
        return json.dumps([scope, params.string("language_code") or ""], sort_keys=True)

    async def set_my_commands(self, params: Params) -> bool:
        commands = params.json("commands", "bot commands")
        if not isinstance(commands, list):
            raise ApiError.bad_request("can't parse bot commands JSON object")
        if len(commands) > 100:
            raise ApiError.bad_request("too many commands specified")
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError.bad_request("can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not _COMMAND_NAME_RE.match(name):
                raise ApiError.bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise ApiError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.state.commands[self._commands_key(params)] = commands
        return True

    async def delete_my_commands(self, params: Params) -> bool:
        self.state.commands.pop(self._commands_key(params), None)
        return True

    async def get_my_commands(self, params: Params) -> list[JSONDict]:
        return self.state.commands.get(self._commands_key(params), [])

    async def get_chat(self, params: Params) -> JSONDict:
        chat = self._chat(params)
        return {
            **chat.to_telegram(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _administrator(self, user: JSONDict) -> JSONDict:
        rights = (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_send_welcome_messages",
            "can_pin_messages",
        )
        member: JSONDict = {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_promote_members": False,
        }
        member.update(dict.fromkeys(rights, True))
        return member

    async def get_chat_member(self, params: Params) -> JSONDict:
        chat = self._chat(params)
        user_id = params.integer("user_id", required=True)
        if user_id == self.state.bot_id:
            bot = self.state.bot_user()
            if not chat.bot_is_member:
                return {"status": "kicked", "user": bot, "until_date": 0}
            if chat.bot_is_admin and chat.type != "private":
                return self._administrator(bot)
            return {"status": "member", "user": bot}
        user = self.state.users.get(user_id or 0)
        if user is None:
            raise ApiError.bad_request("user not found")
        if chat.type != "private" and user.id in chat.admins:
            return self._administrator(user.to_telegram())
        if user.id in chat.members:
            return {"status": "member", "user": user.to_telegram()}
        return {"status": "left", "user": user.to_telegram()}

    async def get_chat_administrators(self, params: Params) -> list[JSONDict]:
        chat = self._chat(params)
        if chat.type == "private":
            raise ApiError.bad_request("there are no administrators in the private chat")
        admins = [
            self._administrator(self.state.users[uid].to_telegram())
            for uid in sorted(chat.admins)
            if uid in self.state.users
        ]
        if chat.bot_is_admin:
            admins.append(self._administrator(self.state.bot_user()))
        return admins

    async def send_chat_action(self, params: Params) -> bool:
        self._writable_chat(params)
        return True

    async def send_message(self, params: Params) -> JSONDict:
        chat = self._writable_chat(params)
        text = params.string("text")
        if not text:
            raise ApiError.bad_request("message text is empty")
        parse_mode = params.string("parse_mode")
        plain, entities = self._format(text, parse_mode, params.json("entities", "entities"))
        if not plain.strip():
            raise ApiError.bad_request("message text is empty")
        if len(plain) > MAX_TEXT_LENGTH:
            raise ApiError.bad_request("message is too long")
        markup = self._markup(params)
        reply_to = self._reply_to(params, chat)
        self._check_flood(chat)
        message = self._new_message(
            chat,
            params,
            text=text,
            plain_text=plain,
            entities=entities,
            parse_mode=parse_mode,
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        self.state.bot_sends(chat, message)
        self._record_sent(chat)
        return self.state.message_dict(message)

    def _photo(self, params: Params) -> list[JSONDict]:
        photo = params.string("photo")
        if not photo:
            raise ApiError.bad_request("there is no photo in the request")
        if photo.startswith("attach://"):
            data = params.files.get(photo.removeprefix("attach://"))
            if data is None:
                raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
            file_id = f"AgACAgSandbox{len(self.state.files):06d}"
            return self.state.photo_sizes(file_id, data)
        if photo in self.state.files or photo.lower().startswith(("http://", "https://")):
            return self.state.photo_sizes(photo)
        raise ApiError.bad_request("wrong file identifier/HTTP URL specified")

    async def send_photo(self, params: Params) -> JSONDict:
        chat = self._writable_chat(params)
        caption = params.string("caption") or ""
        parse_mode = params.string("parse_mode")
        plain, entities = self._format(
            caption, parse_mode, params.json("caption_entities", "caption entities"), what="caption"
        )
        if len(plain) > MAX_CAPTION_LENGTH:
            raise ApiError.bad_request("message caption is too long")
        photo = self._photo(params)
        markup = self._markup(params)
        reply_to = self._reply_to(params, chat)
        self._check_flood(chat)
        message = self._new_message(
            chat,
            params,
            text=caption,
            plain_text=plain,
            entities=entities,
            parse_mode=parse_mode,
            reply_markup=markup,
            reply_to_message_id=reply_to,
            photo=photo,
        )
        self.state.bot_sends(chat, message)
        self._record_sent(chat)
        return self.state.message_dict(message)

    async def send_location(self, params: Params) -> JSONDict:
        chat = self._writable_chat(params)
        latitude = params.number("latitude", required=True)
        longitude = params.number("longitude", required=True)
        assert latitude is not None and longitude is not None
        if not -90.0 <= latitude <= 90.0 or not -180.0 <= longitude <= 180.0:
            raise ApiError.bad_request("wrong location specified")
        markup = self._markup(params)
        reply_to = self._reply_to(params, chat)
        self._check_flood(chat)
        message = self._new_message(
            chat,
            params,
            text="",
            plain_text="",
            reply_markup=markup,
            reply_to_message_id=reply_to,
            location=(longitude, latitude),
        )
        self.state.bot_sends(chat, message)
        self._record_sent(chat)
        return self.state.message_dict(message)

    async def edit_message_text(self, params: Params) -> JSONDict:
        message = self._bot_message(params, action="edit")
        if message.kind != "text":
            raise ApiError.bad_request("there is no text in the message to edit")
        text = params.string("text")
        if not text:
            raise ApiError.bad_request("message text is empty")
        parse_mode = params.string("parse_mode")
        plain, entities = self._format(text, parse_mode, params.json("entities", "entities"))
        if not plain.strip():
            raise ApiError.bad_request("message text is empty")
        if len(plain) > MAX_TEXT_LENGTH:
            raise ApiError.bad_request("message is too long")
        markup = self._markup(params)  # absent: the inline keyboard is removed, like Telegram
        return self._apply_edit(message, text, plain, entities, parse_mode, markup)

    async def edit_message_caption(self, params: Params) -> JSONDict:
        message = self._bot_message(params, action="edit")
        if message.kind != "photo":
            raise ApiError.bad_request("there is no caption in the message to edit")
        caption = params.string("caption") or ""
        parse_mode = params.string("parse_mode")
        plain, entities = self._format(
            caption, parse_mode, params.json("caption_entities", "caption entities"), what="caption"
        )
        if len(plain) > MAX_CAPTION_LENGTH:
            raise ApiError.bad_request("message caption is too long")
        return self._apply_edit(message, caption, plain, entities, parse_mode, self._markup(params))

    def _apply_edit(
        self,
        message: SentMessage,
        text: str,
        plain: str,
        entities: list[JSONDict],
        parse_mode: str | None,
        markup: JSONDict | None,
    ) -> JSONDict:
        if (
            plain == message.plain_text
            and entities == message.entities
            and _inline_keyboard(markup) == _inline_keyboard(message.reply_markup)
        ):
            raise self._not_modified()
        message.edits.append(message.text)
        message.text, message.plain_text, message.entities = text, plain, entities
        message.parse_mode = parse_mode
        message.reply_markup = markup
        message.edit_date = int(self.state.clock())
        self.state.changed(message)
        return self.state.message_dict(message)

    async def edit_message_reply_markup(self, params: Params) -> JSONDict:
        message = self._bot_message(params, action="edit")
        markup = self._markup(params)
        if _inline_keyboard(markup) == _inline_keyboard(message.reply_markup):
            raise self._not_modified()
        message.reply_markup = markup
        self.state.changed(message)
        return self.state.message_dict(message)

    async def delete_message(self, params: Params) -> bool:
        message = self._bot_message(params, action="delete")
        chat = self.state.chats[message.chat_id]
        if not message.from_bot and chat.is_group and not chat.bot_is_admin:
            raise ApiError.bad_request("message can't be deleted")
        message.deleted = True
        self.state.changed(message)
        return True

    async def answer_callback_query(self, params: Params) -> bool:
        query_id = params.string("callback_query_id")
        if not query_id:
            raise ApiError.bad_request("callback_query_id is empty")
        text = params.string("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise ApiError.bad_request("MESSAGE_TOO_LONG")
        self.state.answer_callback(query_id, text, params.boolean("show_alert"))
        return True

    async def get_file(self, params: Params) -> JSONDict:
        file_id = params.string("file_id")
        record = self.state.files.get(file_id or "")
        if record is None:
            raise ApiError.bad_request("invalid file_id")
        return record.to_telegram()
