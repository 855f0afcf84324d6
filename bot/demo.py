"""`gridcall demo`: the bot and a local Telegram-compatible chat server in one process.

The bot talks to the sandbox through the same aiogram adapter it uses for Telegram; only
the API address differs. The people and chats of the org file become sandbox users and
groups, so a person can act as a resident, a grid worker or a leader in the browser.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from bot.app import AppConfig, GridcallApp
from bot.outbox_sender import SendLimits
from org.file import OrgConfig
from sandbox import SandboxServer
from templates.render import Renderer

log = logging.getLogger(__name__)

DEMO_TOKEN = "100000:gridcall-demo"


def build_world(
    server: SandboxServer, org: OrgConfig, residents: Iterable[tuple[int, str, list[int]]] = ()
) -> None:
    """Create the org's people and chats in the sandbox.

    Staff sit in their units' chats, leaders in the leadership chat; `residents` are
    (telegram id, name, residents' chats) of pretend residents.
    """
    r = Renderer(org.language, org.timezone)
    for person in org.people:
        roles = "、".join(r.label("role", role) for role in person.roles)
        server.add_user(person.telegram, person.name, role_label=roles)
    resident_list = list(residents)
    for user_id, name, _ in resident_list:
        server.add_user(user_id, name, role_label=r.label("role", "resident"))
    members_of: dict[str, list[int]] = {}
    for person in org.people:
        for unit_id in person.units:
            members_of.setdefault(unit_id, []).append(person.telegram)
    residents_of: dict[int, list[int]] = {}
    for user_id, _, chats in resident_list:
        for chat_id in chats:
            residents_of.setdefault(chat_id, []).append(user_id)
    for unit in org.all_units():
        if unit.chat is not None:
            server.add_chat(unit.chat, unit.name, "supergroup", members=members_of.get(unit.id, []))
        for chat_id in unit.resident_chats:
            title = f"{unit.name} · {r.label('role', 'resident')}"
            server.add_chat(chat_id, title, "supergroup", members=residents_of.get(chat_id, []))
    for dept in org.departments:
        if dept.chat is not None:
            server.add_chat(dept.chat, dept.name, "supergroup", members=members_of.get(dept.id, []))
    if org.leadership is not None and org.leadership.chat is not None:
        leaders = [p.telegram for p in org.people if "leader" in p.roles]
        server.add_chat(org.leadership.chat, org.leadership.name, "supergroup", members=leaders)


def demo_residents(org: OrgConfig) -> list[tuple[int, str, list[int]]]:
    if org.demo is None:
        return []
    return [(r.telegram, r.name, list(r.chats)) for r in org.demo.residents]


async def run_demo(org: OrgConfig, *, host: str, port: int, database_url: str) -> None:
    server = SandboxServer(host=host, port=port)
    await server.start()
    build_world(server, org, demo_residents(org))
    app = GridcallApp(
        AppConfig(
            token=DEMO_TOKEN,
            api_url=server.api_url,
            database_url=database_url,
            # The sandbox does not throttle; keep Telegram's per-chat pacing anyway so the
            # demo behaves like production.
            limits=SendLimits(),
            poll_timeout=10,
        )
    )
    try:
        await app.start(org)
        print(f"\n  gridcall demo is running: open {server.base_url}/ in your browser\n")
        print(f"  database: {database_url}  (Ctrl-C stops)\n", flush=True)
        await app.run_forever()
    finally:
        await app.stop()
        await server.stop()


def main() -> None:  # pragma: no cover - convenience for `python -m bot.demo`
    from bot.cli import DEMO_ORG
    from org.file import load_org

    asyncio.run(
        run_demo(
            load_org(DEMO_ORG),
            host="127.0.0.1",
            port=8080,
            database_url="sqlite+aiosqlite:///gridcall-demo.db",
        )
    )
