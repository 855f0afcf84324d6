"""The escalation policy: how long each level has, and the ladder it climbs.

A policy is copied onto every case when it is filed (as JSON), so a later change to the org
file never rewrites the deadlines of cases already running. Category overrides are resolved
at filing too: the case carries the deadlines that apply to it, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any

from org.levels import LEVELS
from org.worktime import WorkingHours, add_working_time

PRIORITIES: tuple[str, ...] = ("urgent", "normal", "low")


@dataclass(frozen=True)
class DuplicateRule:
    """How a new report is matched to an open case (see org.file.DuplicatesConfig)."""

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
    # 催办: the current level is reminded once this fraction of a deadline's span has passed
    # (None: no reminders).
    remind_at: float | None = 0.75
    # Non-urgent deadlines count working time when set; urgent ones always count the clock.
    working_hours: WorkingHours | None = None
    timezone: str = "Asia/Shanghai"
    # After this many 回退 the community decides: it cannot send the case back again.
    max_returns: int = 2
    # 回访: how long residents have to judge a resolved case before it closes by itself.
    feedback_window: timedelta = timedelta(days=3)
    # Per-category overrides of `ack` / `resolve` (only some priorities need be given).
    categories: dict[str, dict[str, dict[str, timedelta]]] = field(default_factory=dict)

    # --- deadlines -----------------------------------------------------------------------
    def _after(self, priority: str, start: datetime, span: timedelta) -> datetime:
        if self.working_hours is None or priority == "urgent":
            return start + span
        return add_working_time(start, span, self.timezone, self.working_hours)

    def ack_deadline(self, priority: str, start: datetime) -> datetime:
        return self._after(priority, start, self.ack[priority])

    def resolve_deadline(self, priority: str, start: datetime) -> datetime:
        return self._after(priority, start, self.resolve[priority])

    def reminder(self, start: datetime, due: datetime) -> datetime | None:
        """When to remind the level of a deadline that runs from `start` to `due`."""
        if self.remind_at is None or due <= start:
            return None
        return start + (due - start) * self.remind_at

    def for_category(self, category: str) -> Policy:
        """This policy with the category's overrides applied (what a case carries)."""
        override = self.categories.get(category)
        if not override:
            return replace(self, categories={})
        return replace(
            self,
            ack={**self.ack, **override.get("ack", {})},
            resolve={**self.resolve, **override.get("resolve", {})},
            categories={},
        )

    # --- the ladder ----------------------------------------------------------------------
    def levels_above(self, level: str) -> tuple[str, ...]:
        """The rungs after `level`, in climbing order; empty at the top."""
        if level not in self.ladder:
            return ()
        return self.ladder[self.ladder.index(level) + 1 :]

    def raised(self, priority: str) -> str:
        """One step more urgent: low → normal → urgent."""
        order = ("low", "normal", "urgent")
        return order[min(order.index(priority) + 1, 2)] if priority in order else priority

    # --- JSON, as stored on each case ----------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        def secs(d: dict[str, timedelta]) -> dict[str, int]:
            return {p: int(t.total_seconds()) for p, t in d.items()}

        return {
            "ack": secs(self.ack),
            "resolve": secs(self.resolve),
            "ladder": list(self.ladder),
            "duplicates": {
                "window": int(self.duplicates.window.total_seconds()),
                "radius_m": self.duplicates.radius_m,
                "similarity": self.duplicates.similarity,
                "raise_priority_at": self.duplicates.raise_priority_at,
            },
            "remind_at": self.remind_at,
            "working_hours": (
                [self.working_hours.start.isoformat(), self.working_hours.end.isoformat()]
                if self.working_hours
                else None
            ),
            "timezone": self.timezone,
            "max_returns": self.max_returns,
            "feedback_window": int(self.feedback_window.total_seconds()),
            "categories": {
                cat: {kind: secs(d) for kind, d in o.items()} for cat, o in self.categories.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        def spans(d: dict[str, Any]) -> dict[str, timedelta]:
            return {p: timedelta(seconds=int(s)) for p, s in d.items()}

        dup = data.get("duplicates")
        hours = data.get("working_hours")
        return cls(
            ack=spans(data["ack"]),
            resolve=spans(data["resolve"]),
            ladder=tuple(data["ladder"]),
            duplicates=DuplicateRule(
                window=timedelta(seconds=int(dup["window"])),
                radius_m=int(dup["radius_m"]),
                similarity=float(dup["similarity"]),
                raise_priority_at=int(dup["raise_priority_at"]),
            )
            if dup
            else DuplicateRule(),
            remind_at=data.get("remind_at", 0.75),
            working_hours=(
                WorkingHours(time.fromisoformat(hours[0]), time.fromisoformat(hours[1]))
                if hours
                else None
            ),
            timezone=data.get("timezone", "Asia/Shanghai"),
            max_returns=int(data.get("max_returns", 2)),
            feedback_window=timedelta(seconds=int(data.get("feedback_window", 3 * 86400))),
            categories={
                cat: {kind: spans(d) for kind, d in o.items()}
                for cat, o in (data.get("categories") or {}).items()
            },
        )


DEFAULT_POLICY = Policy(
    ack={"urgent": timedelta(minutes=10), "normal": timedelta(hours=2), "low": timedelta(days=1)},
    resolve={"urgent": timedelta(hours=4), "normal": timedelta(days=3), "low": timedelta(days=7)},
)
