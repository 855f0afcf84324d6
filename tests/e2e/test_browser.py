"""The sandbox page as a person uses it, in headless Chromium: a resident reports, the grid
worker presses 接单, both see the bot's answers."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.e2e.harness import Harness

CHROMIUM = os.environ.get("GRIDCALL_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"Chromium is required at {CHROMIUM}: `apt-get install chromium` (.ci/run does)",
            pytrace=False,
        )
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            await b.close()


async def act_as(page: Page, person: str, chat: str) -> None:
    await page.click(f"#users li:has-text('{person}')")
    await page.click(f"#chats li:has-text('{chat}')")


async def test_a_resident_reports_and_the_worker_acknowledges_in_the_page(
    sqlite_harness: Harness, browser: Browser
) -> None:
    h = sqlite_harness
    page = await browser.new_page()
    page.set_default_timeout(10_000)
    await page.goto(h.server.base_url + "/")
    await page.wait_for_selector("#users li:has-text('陈阿姨')")
    assert await page.is_hidden("#reply-bar")

    await act_as(page, "陈阿姨", "宝玉直第一网格 · 居民")
    await page.fill("#text", "@gridcall_bot 小区门口的路灯坏了三天 <b>好黑</b>")
    await page.press("#text", "Enter")
    receipt = page.locator(".messages >> text=已受理您的呼：HZ-2026-000001")
    await receipt.wait_for()
    # What the resident typed shows as typed, never as markup.
    assert await page.locator(".messages >> text=<b>好黑</b>").count() >= 1

    await act_as(page, "张三", "宝玉直第一网格")
    await page.locator("button:has-text('接单')").click()
    await page.locator("text=已接单：HZ-2026-000001").wait_for()  # the alert toast
    await page.locator(".messages >> text=✅ 张三").wait_for()  # the card, edited in place
    assert await page.locator("button:has-text('接单')").count() == 0

    await act_as(page, "陈阿姨", "宝玉直第一网格 · 居民")
    await page.locator(".messages >> text=已由宝玉直第一网格 张三 接单").wait_for()
    assert [m.plain_text.split("\n")[0] for m in h.server.bot_messages(-1002001)] == [
        "已受理您的呼：HZ-2026-000001",
        "您的呼 HZ-2026-000001 已由宝玉直第一网格 张三 接单，正在处理。",
    ]
