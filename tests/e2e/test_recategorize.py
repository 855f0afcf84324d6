"""Staff correct the category: the case is re-routed, the timeline shows it, and the
correction is kept as a labelled example."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import timedelta

from tests.e2e.harness import Harness
from triage.categories import Category, Priority
from triage.classifier import Triage

RESIDENTS_CHAT, GRID, COMMUNITY, STREET = -1002001, -1001003, -1001002, -1001001
POWER, TRAFFIC_POLICE = -1001904, -1001902
CHEN, ZHANG, WANG, HUANG = 7001, 5001, 5002, 5004


def misfiled_as(category: str) -> object:
    """A classifier that gets it wrong in a known way, so the test does not depend on the
    model's mistakes."""

    def classify(text: str, *, addressed: bool = False) -> Triage:
        return Triage(Category(category), 0.62, True, Priority.NORMAL, ())

    return classify


async def test_recategorize_by_button_reroutes_at_the_department(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    h.app.services.classify = misfiled_as("municipal")  # type: ignore[assignment]
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 路边那辆车的灯坏了，停了十年没人管")
    for _ in range(3):
        await h.advance(timedelta(hours=2))
    assert len(h.texts(POWER)) == 1 and h.texts(TRAFFIC_POLICE) == []

    # The street corrects it from its own card: the traffic police get the case now.
    street_card = h.server.bot_messages(STREET)[0]
    await h.press(HUANG, STREET, street_card.message_id, "c:1:recat")
    choices = h.server.bot_messages(STREET)[-1]
    labels = {label: data for row in choices.buttons for label, data in row}
    assert len(labels) == 11 and labels["交通出行"] == "r:1:traffic"
    await h.press(HUANG, STREET, choices.message_id, labels["交通出行"])
    assert h.alerts()[-1] == "已改类：HZ-2026-000001"
    assert h.texts(STREET)[-1] == (
        "HZ-2026-000001 已由「市政设施」改为「交通出行」，已转交交警大队。"
    )
    [handed] = h.texts(TRAFFIC_POLICE)
    assert "改类转交" in handed and "交通出行" in handed
    assert len(h.texts(POWER)) == 1

    await h.say(HUANG, STREET, "/case HZ-2026-000001")
    assert "改类 · 黄街道：市政设施 → 交通出行" in h.texts(STREET)[-1]


async def test_recategorize_command_and_export(harness: Harness, database_url: str) -> None:
    h = harness
    assert h.app is not None
    h.app.services.classify = misfiled_as("city_management")  # type: ignore[assignment]
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 楼下那家店的招牌松了，风一吹就晃")
    await h.say(ZHANG, GRID, "/recategorize HZ-2026-000001 nonsense")
    assert h.texts(GRID)[-1].startswith("用法：/recategorize HZ-2026-000123 类别")
    await h.say(WANG, WANG, "/recategorize HZ-2026-000001 safety")
    assert h.texts(WANG)[-1] == "找不到 HZ-2026-000001，或您无权查看。"
    await h.say(ZHANG, GRID, "/recategorize HZ-2026-000001 安全生产与消防")
    assert "改为「安全生产与消防」" in h.texts(GRID)[-1]
    assert "已转交" not in h.texts(GRID)[-1]  # the grid still owns it at grid level
    await h.say(ZHANG, GRID, "/recategorize HZ-2026-000001 safety")
    assert h.texts(GRID)[-1] == "HZ-2026-000001 已经是「安全生产与消防」类。"

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "triage",
        "export-corrections",
        env={**os.environ, "GRIDCALL_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert err.decode().strip().endswith("1 correction(s) exported")
    [line] = out.decode().strip().splitlines()
    row = json.loads(line)
    assert row["text"] == "楼下那家店的招牌松了，风一吹就晃"
    assert row["label"] == "safety" and row["case"] == "HZ-2026-000001"
    assert row["previous"] == "city_management"
