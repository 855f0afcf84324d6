"""Telegram's HTML rules, entity detection and safe rendering, without a server."""

from __future__ import annotations

import pytest

from sandbox.formatting import (
    EntityParseError,
    detect_entities,
    parse_html,
    render_html,
    strip_html,
    utf16_len,
)


def test_supported_tags_become_entities_with_utf16_offsets() -> None:
    text, entities = parse_html("🚨 <b>紧急</b> <i>x</i><u>u</u><s>s</s><tg-spoiler>p</tg-spoiler>")
    assert text == "🚨 紧急 xusp"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 3, 2),  # the emoji counts as two UTF-16 units
        ("italic", 6, 1),
        ("underline", 7, 1),
        ("strikethrough", 8, 1),
        ("spoiler", 9, 1),
    ]


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("strong", "bold"),
        ("em", "italic"),
        ("ins", "underline"),
        ("strike", "strikethrough"),
        ("del", "strikethrough"),
        ("code", "code"),
        ("pre", "pre"),
        ("blockquote", "blockquote"),
        ("B", "bold"),
    ],
)
def test_tag_aliases(tag: str, kind: str) -> None:
    _, entities = parse_html(f"<{tag}>x</{tag}>")
    assert [e["type"] for e in entities] == [kind]


def test_links_spoiler_spans_and_pre_with_language() -> None:
    text, entities = parse_html(
        '<a href="https://example.org/?a=1&amp;b=2">链接</a> <span class="tg-spoiler">秘</span> '
        '<pre><code class="language-python">x = 1</code></pre> <a>no href</a>'
    )
    assert text == "链接 秘 x = 1 no href"
    assert entities == [
        {"offset": 0, "length": 2, "type": "text_link", "url": "https://example.org/?a=1&b=2"},
        {"offset": 3, "length": 1, "type": "spoiler"},
        {"offset": 5, "length": 5, "type": "pre", "language": "python"},
    ]


def test_html_entities_decode_like_telegram() -> None:
    text, _ = parse_html("&lt;a&gt; &amp; &quot; &#20013; &#x6587; &nbsp; &lt no-semicolon")
    assert text == '<a> & " 中 文 &nbsp; < no-semicolon'


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("中<x>", 'Unsupported start tag "x" at byte offset 3'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ('<a href="x>y</a>', 'Unclosed start tag "a" at byte offset 0'),
        ("<b =x>y</b>", 'Empty attribute name in the tag "b" at byte offset 0'),
        (
            "<a href>y</a>",
            'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0',
        ),
    ],
)
def test_errors_match_telegram(html: str, message: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(html)
    assert str(caught.value) == message


def test_strip_html_falls_back_to_the_text() -> None:
    assert strip_html("<b>a</b> &amp; b") == "a & b"
    assert strip_html("<b>unclosed") == "<b>unclosed"


def test_detect_entities_in_what_people_type() -> None:
    text = "/report@gridcall_bot 看 @gridcall_bot #路灯 https://example.org/x. and/or @ab"
    found = [
        (e["type"], text[e["offset"] : e["offset"] + e["length"]]) for e in detect_entities(text)
    ]
    assert found == [
        ("bot_command", "/report@gridcall_bot"),
        ("mention", "@gridcall_bot"),
        ("hashtag", "#路灯"),
        ("url", "https://example.org/x"),
    ]


def test_detect_entities_counts_utf16() -> None:
    (entity,) = detect_entities("😀 /start")
    assert (entity["offset"], entity["length"]) == (3, 6)
    assert utf16_len("😀") == 2


def test_render_html_escapes_everything_but_entities() -> None:
    text, entities = parse_html(
        "<b>粗 &lt;i&gt;</b> <a href='javascript:alert(1)'>x</a> 😀<i>斜</i>"
    )
    rendered = render_html(text, entities)
    assert rendered == "<b>粗 &lt;i&gt;</b> x 😀<i>斜</i>"


def test_render_html_clips_overlapping_entities() -> None:
    entities = [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 2, "length": 4},
        {"type": "unknown", "offset": 0, "length": 1},
        {"type": "code", "offset": 50, "length": 1},
    ]
    assert render_html("abcdef", entities) == "<b>ab<i>cd</i></b>ef"


def test_render_html_links_are_escaped() -> None:
    entities = [{"type": "text_link", "offset": 0, "length": 1, "url": 'https://x.org/"><b>'}]
    rendered = render_html("x", entities)
    assert rendered.startswith('<a href="https://x.org/&quot;&gt;&lt;b&gt;"')
