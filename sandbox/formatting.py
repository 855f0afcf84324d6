"""Telegram text formatting as the real Bot API does it: HTML parsing, entity detection, rendering.

The sandbox must reject exactly the messages Telegram would reject, otherwise a bug in a
template (an unescaped ``<`` in a resident's text, an unclosed ``<b>``) would pass every test
and fail in production. The HTML parser below follows the algorithm of TDLib's
``parse_html`` (the code behind the Bot API), including its error messages, byte offsets and
lenient handling of unknown ``&entities;``.

Offsets of entities are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

JSONDict = dict[str, Any]

#: Tags TDLib accepts in ``parse_mode=HTML``; anything else is "Unsupported start tag".
SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class EntityParseError(ValueError):
    """Text Telegram would refuse; ``str(error)`` is its wording after "can't parse entities"."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units: the unit Telegram measures entities in."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _is_space(ch: str) -> bool:
    # TDLib's is_space: ' ', '\t', '\r', '\n', '\0', '\v'
    return ch in " \t\r\n\0\v"


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode an HTML entity at ``text[pos] == '&'``; return (char, next position) or None.

    Mirrors TDLib: only ``&lt; &gt; &amp; &quot;`` and numeric references are decoded, the
    closing ``;`` is optional, and anything else is left as literal text.
    """
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        if end < n and text[end] in "xX":
            end += 1
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
        else:
            while end < n and text[end].isascii() and text[end].isdigit():
                value = value * 10 + int(text[end])
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        char = _NAMED_ENTITIES[name]
    if end < n and text[end] == ";":
        end += 1
    return char, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the plain text where the entity starts


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into (plain text, entities).

    Raises :class:`EntityParseError` with TDLib's message for unsupported or unbalanced tags.
    """
    out: list[str] = []
    offset = 0  # UTF-16 length of ``out``
    entities: list[JSONDict] = []
    stack: list[_OpenTag] = []
    n = len(text)
    i = 0

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                char, i = decoded
                out.append(char)
                offset += utf16_len(char)
                continue
        if ch != "<":
            out.append(ch)
            offset += utf16_len(ch)
            i += 1
            continue
        begin = i
        i += 1
        if at(i) != "/":
            name_begin = i
            while i < n and not _is_space(text[i]) and text[i] != ">":
                i += 1
            if i >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                )
            tag = text[name_begin:i].lower()
            if tag not in SUPPORTED_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            argument = ""
            while at(i) != ">":
                while i < n and _is_space(text[i]):
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while i < n and not _is_space(text[i]) and text[i] != "=":
                    i += 1
                attr_name = text[attr_begin:i]
                if not attr_name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{_byte_offset(text, begin)}"
                    )
                while i < n and _is_space(text[i]):
                    i += 1
                if at(i) != "=":
                    raise EntityParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                        f"at byte offset {_byte_offset(text, begin)}"
                    )
                i += 1
                while i < n and _is_space(text[i]):
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                if text[i] not in "'\"":
                    token_begin = i
                    while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if not _is_space(at(i)) and at(i) != ">":
                        raise EntityParseError(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if i < n:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                attr = attr_name.lower()
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            stack.append(_OpenTag(tag, argument, offset))
            i += 1  # skip '>'
            continue
        # an end tag
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        i += 1  # skip '/'
        name_begin = i
        while i < n and not _is_space(text[i]) and text[i] != ">":
            i += 1
        end_name = text[name_begin:i].lower()
        while i < n and _is_space(text[i]):
            i += 1
        if at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        i += 1
        open_tag = stack.pop()
        if end_name and end_name != open_tag.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{open_tag.name}>", found "</{end_name}>"'
            )
        _close_entity(open_tag, offset, entities)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_entity(tag: _OpenTag, offset: int, entities: list[JSONDict]) -> None:
    length = offset - tag.offset
    if length <= 0:
        return
    entity: JSONDict = {"offset": tag.offset, "length": length}
    if tag.name in _SIMPLE_ENTITY_TYPES:
        entity["type"] = _SIMPLE_ENTITY_TYPES[tag.name]
        if tag.name == "pre":
            # <pre><code class="language-x">…</code></pre> is one pre entity with a language
            inner = entities[-1] if entities else None
            if (
                inner is not None
                and inner["type"] == "code"
                and inner["offset"] == tag.offset
                and inner["length"] == length
            ):
                entities.pop()
                if "language" in inner:
                    entity["language"] = inner["language"]
        elif tag.name == "code" and tag.argument:
            entity["language"] = tag.argument
    elif tag.name == "a":
        if not tag.argument:
            return
        entity["type"] = "text_link"
        entity["url"] = tag.argument
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
    elif tag.name == "tg-emoji":
        if not tag.argument:
            return
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = tag.argument
    else:  # pragma: no cover - SUPPORTED_TAGS and the branches above agree
        return
    entities.append(entity)


def strip_html(text: str) -> str:
    """Plain text of Telegram HTML; text that does not parse is returned unchanged."""
    try:
        return parse_html(text)[0]
    except EntityParseError:
        return text


_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?![\w@])")
_HASHTAG_RE = re.compile(r"(?<![\w#])#\w+")
_URL_RE = re.compile(r"(?<![\w/])https?://[^\s<>\"']+")


def detect_entities(text: str) -> list[JSONDict]:
    """Entities a Telegram client attaches to what a person typed.

    Telegram marks ``/commands``, ``@mentions``, ``#hashtags`` and URLs; aiogram's filters (for
    example mention detection) rely on these entities, so user messages must carry them.
    """
    found: list[tuple[int, int, str]] = []  # python start, end, type
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for regex, kind in (
        (_URL_RE, "url"),
        (_COMMAND_RE, "bot_command"),
        (_MENTION_RE, "mention"),
        (_HASHTAG_RE, "hashtag"),
    ):
        for match in regex.finditer(text):
            start, end = match.span()
            if kind == "url":
                while end > start and text[end - 1] in ".,;:!?)]}。，；：！？）":
                    end -= 1
            if free(start, end):
                found.append((start, end, kind))
                taken.append((start, end))
    found.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in found
    ]


def _utf16_to_index(text: str) -> list[int]:
    """Map every UTF-16 offset 0..utf16_len(text) to a Python string index."""
    mapping: list[int] = []
    for index, ch in enumerate(text):
        mapping.append(index)
        if ord(ch) > 0xFFFF:
            mapping.append(index + 1)  # an offset inside a surrogate pair rounds up
    mapping.append(len(text))
    return mapping


_SAFE_URL_RE = re.compile(r"^(https?://|tg://|mailto:)", re.IGNORECASE)


def _open_tag(entity: JSONDict, text: str) -> tuple[str, str] | None:
    kind = entity.get("type")
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "code": "code",
        "pre": "pre",
        "blockquote": "blockquote",
        "expandable_blockquote": "blockquote",
    }
    if kind in simple:
        tag = simple[kind]
        return f"<{tag}>", f"</{tag}>"
    if kind == "spoiler":
        return '<span class="tg-spoiler">', "</span>"
    if kind in ("mention", "bot_command", "hashtag", "cashtag"):
        return f'<span class="tg-{kind.replace("_", "-")}">', "</span>"
    if kind in ("text_link", "url"):
        url = str(entity.get("url") or text)
        if not _SAFE_URL_RE.match(url):
            return None
        return (
            f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer" target="_blank">',
            "</a>",
        )
    return None


def render_html(text: str, entities: list[JSONDict] | None) -> str:
    """Render plain text + entities as safe HTML for the sandbox web page.

    Everything is escaped and only the tags standing for Telegram entities are produced, so no
    text from a user (or a buggy bot) can inject markup into the page. Overlapping entities
    are clipped to their enclosing entity instead of producing broken HTML.
    """
    if not entities:
        return html.escape(text, quote=False)
    index = _utf16_to_index(text)
    total = len(index) - 1
    spans: list[tuple[int, int, str, str]] = []
    for entity in entities:
        try:
            off = int(entity["offset"])
            length = int(entity["length"])
        except (KeyError, TypeError, ValueError):
            continue
        if length <= 0 or off < 0 or off >= total:
            continue
        start, end = index[off], index[min(off + length, total)]
        tags = _open_tag(entity, text[start:end])
        if tags is not None and end > start:
            spans.append((start, end, tags[0], tags[1]))
    spans.sort(key=lambda s: (s[0], -s[1]))
    parts: list[str] = []
    stack: list[tuple[int, str]] = []  # (end, closing tag)
    pos = 0
    for start, end, opening, closing in spans:
        while stack and stack[-1][0] <= start:
            close_at, close_tag = stack.pop()
            parts.append(html.escape(text[pos:close_at], quote=False))
            parts.append(close_tag)
            pos = close_at
        if stack:
            end = min(end, stack[-1][0])
        parts.append(html.escape(text[pos:start], quote=False))
        parts.append(opening)
        pos = start
        stack.append((end, closing))
    while stack:
        close_at, close_tag = stack.pop()
        parts.append(html.escape(text[pos:close_at], quote=False))
        parts.append(close_tag)
        pos = close_at
    parts.append(html.escape(text[pos:], quote=False))
    return "".join(parts)
