"""Follow one resident's report through the code and count what a reader must cross.

From the Telegram update (parsed by aiogram, turned into an event by the adapter) through
the core, triage, filing and dispatch to the outbox sender putting the grid worker's card on
the wire. Every call into a project file is recorded; the figures are the files and packages
entered, the package boundaries crossed (a call from a file of one package into another)
and how many of those go upward (from a lower floor to a higher one). Used for issue 11's
before/after figures: `.venv/bin/python scripts/trip.py [--files]`.
"""

from __future__ import annotations

import asyncio
import collections
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Floors, lowest first; a call from a lower floor into a higher one goes upward.
FLOORS = [
    "triage",
    "org",
    "templates",
    "storage",
    "cases",
    "escalation",
    "reports",
    "handlers",
    "bot",
]


def package_of(path: str) -> str | None:
    try:
        rel = Path(path).resolve().relative_to(ROOT)
    except ValueError:
        return None
    if rel.parts[0] in FLOORS and rel.suffix == ".py":
        return rel.parts[0]
    return None


class Tracer:
    def __init__(self) -> None:
        self.files: collections.Counter[str] = collections.Counter()
        self.crossings: collections.Counter[tuple[str, str]] = collections.Counter()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        callee = frame.f_code.co_filename
        package = package_of(callee)
        if package is None or frame.f_code.co_name.startswith("<"):
            return
        caller_frame = frame.f_back
        while caller_frame is not None and package_of(caller_frame.f_code.co_filename) is None:
            caller_frame = caller_frame.f_back
        caller = caller_frame.f_code.co_filename if caller_frame else None
        if caller == callee:
            return
        self.files[str(Path(callee).resolve().relative_to(ROOT))] += 1
        if caller is not None:
            from_package = package_of(caller)
            if from_package is not None and from_package != package:
                self.crossings[(from_package, package)] += 1


async def trip(tracer: Tracer) -> None:
    from aiogram.types import Update

    from bot.outbox_sender import OutboxSender
    from bot.telegram.events import message_event
    from escalation.clock import FakeClock
    from handlers.context import Services
    from handlers.core import Core
    from storage.db import create_engine, migrate, sessionmaker
    from storage.org_import import import_org, load_view
    from tests.fakes import FakeTransport
    from triage.classifier import classify

    try:
        from org.file import load_org  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        from org.file import load_org  # type: ignore[import-not-found, no-redef, unused-ignore]

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/trip.db"
        engine = create_engine(url)
        await migrate(engine)
        sessions = sessionmaker(engine)
        clock = FakeClock()
        config = load_org(ROOT / "tests" / "fixtures" / "org.yaml")
        async with sessions() as session, session.begin():
            await import_org(session, config)
        async with sessions() as session:
            view = await load_view(session)
        assert view is not None
        classify("预热")  # the model loads outside the trip
        transport = FakeTransport()
        core = Core(Services(sessions=sessions, clock=clock, org=view, classify=classify))
        sender = OutboxSender(sessions, transport, clock)
        chat_id = next(iter(view.resident_chats))
        update = Update.model_validate(
            {
                "update_id": 1,
                "message": {
                    "message_id": 10,
                    "date": 1764806400,
                    "chat": {"id": chat_id, "type": "supergroup", "title": "居民群"},
                    "from": {"id": 7001, "is_bot": False, "first_name": "陈阿姨"},
                    "text": "@gridcall_bot 3栋门口的路灯坏了三天",
                    "entities": [{"type": "mention", "offset": 0, "length": 13}],
                },
            }
        )
        sys.setprofile(tracer)
        try:
            assert update.message is not None
            await core.handle(message_event(update.message, update.update_id, 1, "gridcall_bot"))
            await sender.drain()
        finally:
            sys.setprofile(None)
        assert any("路灯" in sent.text for sent in transport.sent), transport.sent
        await engine.dispose()


def main() -> None:
    tracer = Tracer()
    asyncio.run(trip(tracer))
    packages = {path.split("/")[0] for path in tracer.files}
    upward = sum(
        count for (a, b), count in tracer.crossings.items() if FLOORS.index(a) < FLOORS.index(b)
    )
    print(f"files entered: {len(tracer.files)} in {len(packages)} packages")
    print(
        f"package boundaries: {len(tracer.crossings)} distinct, "
        f"{sum(1 for a, b in tracer.crossings if FLOORS.index(a) < FLOORS.index(b))} upward; "
        f"calls across them {sum(tracer.crossings.values())}, upward {upward}"
    )
    if "--files" in sys.argv:
        for path, count in tracer.files.most_common():
            print(f"  {count:5}  {path}")
        for (a, b), count in sorted(tracer.crossings.items()):
            mark = "  UP" if FLOORS.index(a) < FLOORS.index(b) else ""
            print(f"  {a} -> {b}: {count}{mark}")


if __name__ == "__main__":
    main()
