"""The escalation policy: how long each level has, and the ladder it climbs.

A policy is copied onto every case when it is filed (as JSON), so a later change to the org
file never rewrites the deadlines of cases already running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

LEVELS: tuple[str, ...] = ("grid", "community", "street", "department", "leadership")
PRIORITIES: tuple[str, ...] = ("urgent", "normal", "low")


@dataclass(frozen=True)
class DuplicateRule:
    """How a new report is matched to an open case (see storage.orgfile.DuplicatesConfig)."""

    window: timedelta = timedelta(days=3)
    radius_m: int = 150
    similarity: float = 0.4
    raise_priority_at: int = 3


@dataclass(frozen=True)
class Policy:
    ack: dict[str, timedelta]
    resolve: dict[str, timedelta]
    ladder: tuple[str, ...] = LEVELS
    duplicates: DuplicateRule = DuplicateRule()

    def ack_deadline(self, priority: str, start: datetime) -> datetime:
        return start + self.ack[priority]

    def resolve_deadline(self, priority: str, start: datetime) -> datetime:
        return start + self.resolve[priority]

    def levels_above(self, level: str) -> tuple[str, ...]:
        """The rungs after `level`, in climbing order; empty at the top."""
        if level not in self.ladder:
            return ()
        return self.ladder[self.ladder.index(level) + 1 :]

    def to_json(self) -> dict[str, Any]:
        return {
            "ack": {p: int(d.total_seconds()) for p, d in self.ack.items()},
            "resolve": {p: int(d.total_seconds()) for p, d in self.resolve.items()},
            "ladder": list(self.ladder),
            "duplicates": {
                "window": int(self.duplicates.window.total_seconds()),
                "radius_m": self.duplicates.radius_m,
                "similarity": self.duplicates.similarity,
                "raise_priority_at": self.duplicates.raise_priority_at,
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        return cls(
            ack={p: timedelta(seconds=int(s)) for p, s in data["ack"].items()},
            resolve={p: timedelta(seconds=int(s)) for p, s in data["resolve"].items()},
            ladder=tuple(data["ladder"]),
            duplicates=DuplicateRule(
                window=timedelta(seconds=int(dup["window"])),
                radius_m=int(dup["radius_m"]),
                similarity=float(dup["similarity"]),
                raise_priority_at=int(dup["raise_priority_at"]),
            )
            if (dup := data.get("duplicates"))
            else DuplicateRule(),
        )

    def raised(self, priority: str) -> str:
        """One step more urgent: low → normal → urgent."""
        order = ("low", "normal", "urgent")
        return order[min(order.index(priority) + 1, 2)] if priority in order else priority


DEFAULT_POLICY = Policy(
    ack={"urgent": timedelta(minutes=10), "normal": timedelta(hours=2), "low": timedelta(days=1)},
    resolve={"urgent": timedelta(hours=4), "normal": timedelta(days=3), "low": timedelta(days=7)},
)
