"""Fixtures: a sandbox server on a free port, the real aiogram client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from sandbox import SandboxServer

TOKEN = "424242:SANDBOX-test-token"
BOT_ID = 424242
RESIDENT = 7001  # 陈阿姨, a resident
WORKER = 5001  # 张三, a grid worker
LEADER = 5009  # 李书记, a leader
OUTSIDER = 7999  # in no group
RESIDENTS_CHAT = -1002001
STAFF_CHAT = -1001003


class FakeNow:
    """A monotonic clock that tests move by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


def populate(server: SandboxServer) -> None:
    server.add_user(RESIDENT, "陈阿姨", "chen_ayi", role_label="居民 resident")
    server.add_user(WORKER, "张三", "zhangsan", role_label="网格员 grid worker")
    server.add_user(LEADER, "李书记", role_label="领导 leader")
    server.add_user(OUTSIDER, "Outsider", role_label="路人 passer-by")
    server.add_chat(RESIDENTS_CHAT, "宝玉直居民群", "supergroup", members=[RESIDENT, WORKER])
    server.add_chat(STAFF_CHAT, "宝玉直第一网格", "supergroup", members=[WORKER], admins=[LEADER])


@pytest.fixture
def fake_now() -> FakeNow:
    return FakeNow()


@pytest.fixture
async def server(fake_now: FakeNow) -> AsyncIterator[SandboxServer]:
    sandbox = SandboxServer(port=0, now=fake_now)
    await sandbox.start()
    populate(sandbox)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


def make_bot(server: SandboxServer) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.api_url))
    return Bot(TOKEN, session=session)


@pytest.fixture
async def bot(server: SandboxServer) -> AsyncIterator[Bot]:
    client = make_bot(server)
    try:
        yield client
    finally:
        await client.session.close()
