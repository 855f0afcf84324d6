"""The optional language-model backend against a fake OpenAI-compatible server started by
the test: used when it answers well, the local classifier whenever it does not."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from triage.categories import Category, Priority
from triage.classifier import classify
from triage.llm import LLMConfig, LLMTriager


@dataclass
class FakeModel:
    """Answers /v1/chat/completions with whatever the test sets."""

    content: str = '{"category": "traffic", "priority": "normal", "confidence": 0.87}'
    status: int = 200
    hang: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[str | None] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        self.headers.append(request.headers.get("Authorization"))
        if self.hang:
            await self.released.wait()  # no answer until teardown: the client's timeout acts
        if self.status != 200:
            return web.json_response({"error": "boom"}, status=self.status)
        return web.json_response({"choices": [{"message": {"content": self.content}}]})


@pytest.fixture
async def model() -> AsyncIterator[tuple[FakeModel, str]]:
    fake = FakeModel()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield fake, f"http://127.0.0.1:{port}/v1"
    finally:
        fake.released.set()
        await runner.cleanup()


def triager(url: str, timeout: float = 2.0) -> LLMTriager:
    return LLMTriager(LLMConfig(url, "district-qwen", "s3cret", timeout), classify)


async def test_the_model_decides_the_category_of_a_report(model: tuple[FakeModel, str]) -> None:
    fake, url = model
    t = triager(url)
    try:
        result = await t.classify("门口那辆车停了十年，电话13800001234", addressed=True)
    finally:
        await t.close()
    assert (result.category, result.priority, result.confidence) == (
        Category.TRAFFIC,
        Priority.NORMAL,
        0.87,
    )
    [request] = fake.requests
    assert request["model"] == "district-qwen" and fake.headers == ["Bearer s3cret"]
    assert "13800001234" not in json.dumps(request, ensure_ascii=False)  # phone stays here
    assert t.answered == 1 and t.fallbacks == 0


async def test_chatter_is_never_sent_to_the_model(model: tuple[FakeModel, str]) -> None:
    fake, url = model
    t = triager(url)
    try:
        result = await t.classify("大家早上好", addressed=False)
    finally:
        await t.close()
    assert not result.is_report and fake.requests == []


async def test_the_model_cannot_downgrade_an_emergency(model: tuple[FakeModel, str]) -> None:
    fake, url = model
    fake.content = '{"category": "safety", "priority": "low", "confidence": 0.9}'
    t = triager(url)
    try:
        result = await t.classify("楼道里闻到很浓的煤气味", addressed=True)
    finally:
        await t.close()
    assert result.priority is Priority.URGENT and "119" in result.emergency_numbers


@pytest.mark.parametrize(
    "breakage",
    ["slow", "500", "not json", "unknown code", "not an object"],
)
async def test_any_failure_falls_back_to_the_local_classifier(
    model: tuple[FakeModel, str], breakage: str
) -> None:
    fake, url = model
    if breakage == "slow":
        fake.hang = True
    elif breakage == "500":
        fake.status = 500
    elif breakage == "not json":
        fake.content = "I think it is traffic"
    elif breakage == "unknown code":
        fake.content = '{"category": "aliens", "priority": "normal"}'
    else:
        fake.content = '["traffic"]'
    t = triager(url, timeout=0.05 if breakage == "slow" else 2.0)
    try:
        result = await t.classify("小区门口的路灯坏了三天", addressed=True)
    finally:
        await t.close()
    assert result == classify("小区门口的路灯坏了三天", addressed=True)
    assert t.fallbacks == 1 and t.answered == 0
