"""The org file: the district's tree of units, chats, people and deadlines, as YAML.

An admin writes this file by hand, so every mistake must come back as *where* (line and field
path) and *what to do*, and all of them at once. That is why parsing is done in three layers:

1. YAML is composed into nodes and rebuilt into plain data while recording the line of every
   mapping key and sequence item, keyed by its path (``("units", 0, "chat")``).
2. The data is validated by the pydantic models below (frozen, ``extra="forbid"`` so a typo
   such as ``chta:`` is an error instead of a silently ignored key). Each pydantic error's
   ``loc`` is the same kind of path, so it maps straight to a line.
3. Cross-reference checks that no single field can make (unknown parent, duplicate ids, a
   grid without a chat, chats bound twice, …) run on the same data, even when step 2 failed,
   so one run of ``gridcall check-config`` lists everything.

Constructing `OrgConfig` directly in Python runs the cross-reference checks too (they raise
a pydantic ``ValidationError``), so a hand-built org in a test cannot be inconsistent either.

The modules, in the order they build on each other: `fields` (vocabulary and field types),
`lines` (YAML with line numbers), `checks` (cross-references), `models` (the pydantic
models), `messages` (pydantic's errors in the admin's words), `load` (the entry points).
"""

from __future__ import annotations

from org.errors import OrgFileError, OrgIssue
from org.file.fields import CATEGORY_CODES, LADDER_LEVELS, PRIORITIES, ROLES, UNIT_LEVELS
from org.file.load import load_org, parse_org
from org.file.models import (
    DemoConfig,
    DemoResident,
    DepartmentConfig,
    DigestConfig,
    FlatUnit,
    LeadershipConfig,
    OrdersConfig,
    OrgConfig,
    PersonConfig,
    PolicyConfig,
    UnitConfig,
)

__all__ = [
    "CATEGORY_CODES",
    "LADDER_LEVELS",
    "PRIORITIES",
    "ROLES",
    "UNIT_LEVELS",
    "DemoConfig",
    "DemoResident",
    "DepartmentConfig",
    "DigestConfig",
    "FlatUnit",
    "LeadershipConfig",
    "OrdersConfig",
    "OrgConfig",
    "OrgFileError",
    "OrgIssue",
    "PersonConfig",
    "PolicyConfig",
    "UnitConfig",
    "load_org",
    "parse_org",
]
