"""Splitting long HTML messages at Telegram's 4096-character limit.

Our templates keep tags on one line, so splitting between lines never cuts a tag; a single
line longer than the limit is cut between characters outside tags and entities.
"""

from __future__ import annotations

import re

LIMIT = 4096
_TOKEN = re.compile(r"<[^>]*>|&[#a-zA-Z0-9]+;|.", re.DOTALL)
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>")


def _cut_line(line: str, limit: int) -> list[str]:
    """Cut one over-long line at token boundaries, closing and reopening open tags."""
    pieces: list[str] = []
    current = ""
    open_tags: list[str] = []
    for token in _TOKEN.findall(line):
        closing = "".join(f"</{t.split()[0].strip('<>')}>" for t in reversed(open_tags))
        if len(current) + len(token) + len(closing) > limit:
            pieces.append(current + closing)
            current = "".join(open_tags)
        current += token
        tag = _TAG.fullmatch(token)
        if tag:
            if tag[1]:
                if open_tags:
                    open_tags.pop()
            else:
                open_tags.append(token)
    if current:
        pieces.append(current)
    return pieces


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if len(line) <= limit:
            current = line
        else:
            *full, current = _cut_line(line, limit)
            chunks.extend(full)
    if current:
        chunks.append(current)
    return chunks
