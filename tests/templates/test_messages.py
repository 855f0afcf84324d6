"""Every message exists in Chinese and English, renders, and escapes what people typed."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from templates.render import LANGUAGES, ROOT, Renderer, template_names

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
EVIL = '<b>三天</b> & </a> "x"'


def sample_context() -> dict[str, Any]:
    case = SimpleNamespace(
        id=1,
        number="HZ-2026-000001",
        text=EVIL,
        photos=["f1"],
        lat=23.115,
        lon=113.285,
        level="grid",
        status="dispatched",
        ack_due_at=NOW,
        resolve_due_at=NOW,
        duplicate_hint="HZ-2026-000002",
        reporter_count=3,
    )
    event = SimpleNamespace(
        at=NOW, kind="escalated", to_level="community", actor_name=EVIL, note="manual"
    )
    person = SimpleNamespace(name=EVIL, telegram_id=5001)
    return {
        "case": case,
        "category": "市政设施",
        "priority": "一般",
        "level": "社区",
        "unit_name": EVIL,
        "place": EVIL,
        "reporter": EVIL,
        "reason": EVIL,
        "workers": [person],
        "status_line": None,
        "emergency": ["119"],
        "who": EVIL,
        "note": EVIL,
        "at": NOW,
        "user_id": 5001,
        "name": EVIL,
        "number": "HZ-2026-000001",
        "status": "resolved",
        "length": 4000,
        "limit": 2000,
        "outside": True,
        "org_name": EVIL,
        "bot": "gridcall_bot",
        "person": person,
        "roles": ["网格员"],
        "units": [EVIL],
        "events": [event],
        "command": "<x>",
        "chat_id": -1009999,
        "count": 3,
        "due": NOW,
        "current": EVIL,
        "codes": "traffic 交通出行",
        "old": EVIL,
        "new": "交通出行",
        "moved": True,
        "chat_name": EVIL,
        "error": EVIL,
        "kind": "ack",
        "rating": "满意",
        "cases": [],
        # merged reports, full text and receipts: handlers/merge.py, full_text.py, intake.py
        "summary": EVIL,
        "full_length": 4000,
        "extra_reports": [{"name": EVIL, "text": EVIL}],
        "more_reports": 2,
        "reports": [SimpleNamespace(at=NOW, name=EVIL, text=EVIL)],
        "case_into": SimpleNamespace(number="HZ-2026-000002"),
        "target": "HZ-2026-000002",
        "text": EVIL,
        "raised": True,
        "why": "count",
        "merged": True,
        "receipts": 3,
        # /stats: handlers/stats.py
        "scope": EVIL,
        "period": EVIL,
        "code": "unknown",
        "start": "2026-11-18 09:00",
        "end": "2026-11-25 09:00",
        "rows": {
            key: "50.0% (1/2)"
            for key in (
                "ack_in_time_rate",
                "resolved_in_time_rate",
                "closure_rate",
                "reopen_rate",
                "return_rate",
                "satisfaction_rate",
            )
        },
        "mtta": "1h",
        "mtta_p90": "2h",
        "mttr": "1d",
        "mttr_p90": "2d",
        # subscriptions (订阅) and the digest: handlers/subscriptions.py, alerts.py, digest.py
        "sub": {
            "n": 1,
            "filters": [("level", ["街道"]), ("unit", [EVIL])],
            "private": False,
            "chat_id": -1009999,
            "chat_name": EVIL,
        },
        "subs": [{"n": 1, "filters": [], "private": True, "chat_id": 5009, "chat_name": None}],
        "switched_off": 2,
        "calls": 2,  # bot/outbox_sender.py: a bundle of case cards and escalation alerts
        "alerts": 1,  # handlers/delivery.py: subscriptions of an unreachable chat
        "word": EVIL,
        "token": EVIL,
        "expected": "unit",
        "parent": EVIL,
        "categories_of": ["traffic"],
        "here": False,
        "position": 99,
        "link": "https://t.me/gridcall_bot?start=case-HZ-2026-000001",
        "report": EVIL,
        "day": "2026-11-26",
        "total": 1,
        "stuck_hours": 24,
        "sections": [
            {
                "name": name,
                "count": 21,
                "more": 1,
                "lines": [
                    {
                        "number": "HZ-2026-000001",
                        "link": "https://t.me/gridcall_bot?start=case-HZ-2026-000001",
                        "category": "市政设施",
                        "priority": "一般",
                        "level": "街道",
                        "unit_name": EVIL,
                        "place": EVIL,
                        "status": "已派遣",
                        "report": EVIL,
                    }
                ],
            }
            for name in ("new", "overdue", "stuck")
        ],
        # orders (令): handlers/orders/
        "order": SimpleNamespace(number="HZ-L-2026-0001", text=EVIL, issuer_name=EVIL, due_at=NOW),
        "target_name": EVIL,
        "ack_due": NOW,
        "closed": True,
        "typed": EVIL,
        "suggestion": EVIL,
        "late": [SimpleNamespace(name=EVIL, state="sent")],
        "board": [
            SimpleNamespace(
                number="HZ-L-2026-0001",
                due_at=NOW,
                excerpt=EVIL,
                targets=[
                    SimpleNamespace(
                        name=EVIL, state=state, acknowledged=True, who=EVIL, at=NOW, rung=EVIL
                    )
                    for state in ("done", "overdue", "acknowledged", "sent")
                ],
            )
        ],
    }


def test_both_languages_have_the_same_messages() -> None:
    assert template_names("zh") == template_names("en")
    assert len(template_names("zh")) >= 40


def test_both_languages_have_the_same_labels() -> None:
    def keys(language: str) -> set[str]:
        data = yaml.safe_load((ROOT / language / "labels.yaml").read_text(encoding="utf-8"))
        return {f"{group}.{key}" for group, values in data.items() for key in values}

    assert keys("zh") == keys("en")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_renders_and_escapes_user_text(language: str) -> None:
    r = Renderer(language)
    for name in sorted(template_names(language)):
        text = r.render(name, **sample_context())
        assert text.strip(), name
        assert "<b>三天</b>" not in text, f"{name} let user HTML through"
        assert "</a> &quot;" not in text.replace("&lt;/a&gt; &quot;", ""), name


def test_times_are_shown_in_the_org_timezone() -> None:
    assert Renderer("zh", "Asia/Shanghai").when(NOW) == "11-25 09:00"
    assert Renderer("en", "UTC").when(NOW) == "11-25 01:00"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        Renderer("fr")
