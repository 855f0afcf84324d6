"""Durations as people write them in the org file: ``90s``, ``15m``, ``2h``, ``3d``.

Deadlines are the part of the config an admin edits most, so the syntax is the one a person
would type in a chat (``1h30m``), not ISO 8601 (``PT1H30M``). A bare number means seconds,
because YAML turns ``90`` into an int before we ever see it.

Units are lower case on purpose: ``1M`` could mean a month to a reader, so it is rejected
instead of being silently read as one minute.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_UNIT_SECONDS: dict[str, int] = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}

# Components must come largest first and at most once each ("1h30m", not "30m1h" or "1h1h"):
# anything else is more likely a typo than a deliberate spelling.
_DURATION_RE = re.compile(
    r"""
    ^\s*
    (?:(?P<d>\d+)\s*d\s*)?
    (?:(?P<h>\d+)\s*h\s*)?
    (?:(?P<m>\d+)\s*m\s*)?
    (?:(?P<s>\d+)\s*s\s*)?
    $
    """,
    re.VERBOSE,
)
_BARE_SECONDS_RE = re.compile(r"^\s*\+?\d+\s*$")


def _bad(text: object) -> ValueError:
    """The one error message for every bad duration, so the admin always sees the fix."""
    return ValueError(
        f"bad duration '{text}': use a number followed by s, m, h or d, e.g. 90s, 15m, 2h, 3d"
    )


def parse_duration(text: str | int | float) -> timedelta:
    """Turn ``90s`` / ``15m`` / ``2h`` / ``3d`` / ``1h30m`` / ``90`` into a positive timedelta.

    Zero and negative durations are rejected: a deadline of zero would escalate every case the
    moment it is filed, which is never what the admin meant.
    """
    # bool is an int subclass; `ack: yes` is a mistake, not one second.
    if isinstance(text, bool):
        raise _bad(text)
    seconds: int
    if isinstance(text, int):
        seconds = text
    elif isinstance(text, float):
        if not math.isfinite(text) or not text.is_integer():
            raise _bad(text)
        seconds = int(text)
    elif isinstance(text, str):
        if _BARE_SECONDS_RE.match(text):
            seconds = int(text)
        else:
            match = _DURATION_RE.match(text)
            if match is None or not any(match.groupdict().values()):
                raise _bad(text)
            seconds = sum(
                int(value) * _UNIT_SECONDS[unit]
                for unit, value in match.groupdict().items()
                if value is not None
            )
    else:
        raise _bad(text)
    if seconds <= 0:
        raise _bad(text)
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise _bad(text) from None


def format_duration(td: timedelta) -> str:
    """The compact spelling of `td` that `parse_duration` reads back: ``1d2h``, ``1h30m``.

    Used in messages ("due in 1h30m") and when writing config back out, so it is rounded to
    whole seconds; zero is ``0s`` and a negative duration (an overdue deadline) gets a ``-``.
    """
    total = round(td.total_seconds())
    if total == 0:
        return "0s"
    sign = "-" if total < 0 else ""
    rest = abs(total)
    parts: list[str] = []
    for unit, size in _UNIT_SECONDS.items():
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)
