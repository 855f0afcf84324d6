"""Rendering bot messages from Jinja2 templates, in the org's language.

Templates are autoescaped for Telegram's HTML mode: anything a person typed (a report, a
name, a note) is data and can never open a tag, so `<b>`, `&` or `</a>` in a report shows as
typed and never breaks a message.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

ROOT = Path(__file__).parent / "messages"
LANGUAGES = ("zh", "en")


@cache
def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(ROOT / language),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    return env


@cache
def _labels(language: str) -> dict[str, Any]:
    with (ROOT / language / "labels.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"templates/messages/{language}/labels.yaml must be a mapping")
    return data


class Renderer:
    """Renders messages and short labels in one language and one time zone."""

    def __init__(self, language: str, timezone: str = "Asia/Shanghai") -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}: use one of {LANGUAGES}")
        self.language = language
        self.tz = ZoneInfo(timezone)

    def label(self, group: str, key: str) -> str:
        """A short label (a button, a level, a status); unknown keys show the key itself."""
        value = _labels(self.language).get(group, {}).get(key)
        return str(value) if value is not None else key

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return moment.astimezone(self.tz).strftime("%m-%d %H:%M")

    def render(self, template_name: str, /, **context: Any) -> str:
        template = _environment(self.language).get_template(f"{template_name}.html.j2")
        return template.render(label=self.label, when=self.when, **context).strip()


def template_names(language: str) -> set[str]:
    return {p.name.removesuffix(".html.j2") for p in (ROOT / language).glob("*.html.j2")}
