"""The statuses a case can be in, and the named sets the rest of the code asks about.

Stored as plain text in ``cases.status``; `Status` is a ``StrEnum`` so a value read from the
database compares equal to its member. These are the only statuses any code sets:

    new ──dispatch──▶ dispatched ──acknowledge──▶ acknowledged
                         ▲  │ escalate, return, reroute  │ escalate, return, reroute
                         │  ▼                             ▼
                         └──────── (a rung up) ◀──────────┘
    dispatched | acknowledged ──resolve──▶ resolved ──close──▶ closed
                                            └──reopen──▶ dispatched (a rung up)
    dispatched | acknowledged ──merge by hand──▶ duplicate
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"  # filed, not yet on a rung (within the filing transaction only)
    DISPATCHED = "dispatched"  # on a rung, waiting to be taken (接单)
    ACKNOWLEDGED = "acknowledged"  # taken by someone on its rung
    RESOLVED = "resolved"  # 办结, waiting for the resident's judgement
    CLOSED = "closed"  # 结案: judged, or the feedback window passed
    DUPLICATE = "duplicate"  # merged by hand into another case


# On a rung of the ladder: can be taken, resolved, climb, be returned, merged into.
ACTIVE: tuple[Status, ...] = (Status.DISPATCHED, Status.ACKNOWLEDGED)
# Someone still owes the resident an answer.
OPEN: tuple[Status, ...] = (Status.NEW, *ACTIVE)
# No longer a case of its own (counted nowhere as work).
NOT_A_CASE: tuple[Status, ...] = (Status.DUPLICATE,)
# Finished, as Open311 and the exports call it.
FINISHED: tuple[Status, ...] = (Status.CLOSED, Status.DUPLICATE)
