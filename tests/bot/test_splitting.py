"""Messages over Telegram's 4096-character limit are split without breaking HTML."""

from __future__ import annotations

import re

from bot.splitting import LIMIT, split_html


def balanced(chunk: str) -> bool:
    stack: list[str] = []
    for closing, tag in re.findall(r"<(/?)([a-z-]+)[^>]*>", chunk):
        if closing:
            if not stack or stack.pop() != tag:
                return False
        else:
            stack.append(tag)
    return not stack


def test_short_text_is_one_message() -> None:
    assert split_html("<b>HZ</b> 路灯") == ["<b>HZ</b> 路灯"]


def test_long_text_splits_between_lines() -> None:
    lines = [f"<b>{i:04d}</b> 路灯坏了三天 &amp; 没人管" for i in range(400)]
    chunks = split_html("\n".join(lines))
    assert len(chunks) > 1
    assert all(len(c) <= LIMIT and balanced(c) for c in chunks)
    assert "\n".join(chunks) == "\n".join(lines)


def test_one_huge_line_is_cut_outside_tags_and_entities() -> None:
    line = "<b>" + "路灯&amp;" * 3000 + "</b>"
    chunks = split_html(line)
    assert len(chunks) >= 4
    assert all(len(c) <= LIMIT and balanced(c) for c in chunks)
    assert all("&am" not in c.replace("&amp;", "") for c in chunks)

    def strip(text: str) -> str:
        return re.sub(r"<[^>]+>", "", text)

    assert strip("".join(chunks)) == strip(line)  # nothing lost, nothing repeated
