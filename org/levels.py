"""The ladder's rungs, lowest first: the one place they are spelled out.

grid → community → street follow the place (each unit has one parent); department is
chosen by the case's category; leadership is the top. Everything that walks or lists the
ladder reads it from here.
"""

from __future__ import annotations

from typing import Literal, get_args

Level = Literal["grid", "community", "street", "department", "leadership"]
LEVELS: tuple[Level, ...] = get_args(Level)
#: The rungs that follow the place: a grid's own chain, one unit each.
GEOGRAPHIC: tuple[Level, ...] = ("grid", "community", "street")
