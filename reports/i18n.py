"""Words of the written report and the charts, in the org's language.

Chat messages live in `templates/messages/`; these are the headings and indicator names
of the report page and the labels drawn inside chart images, which are not chat messages.
"""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "ack_in_time_rate": "及时签收率",
        "resolved_in_time_rate": "按期办结率",
        "closure_rate": "结案率",
        "reopen_rate": "返工率",
        "return_rate": "回退率",
        "satisfaction_rate": "满意率",
        "mtta_s": "平均签收用时",
        "mttr_s": "平均办结用时",
        "mtta_p90_s": "签收用时P90",
        "mttr_p90_s": "办结用时P90",
        "cases": "案件数",
        "score": "综合评价",
        "title": "考核报告",
        "period": "统计期",
        "generated": "生成时间",
        "scope": "范围",
        "whole_org": "全区",
        "indicators": "指标",
        "value": "数值",
        "numerator": "分子",
        "denominator": "分母",
        "trace": "案件",
        "ranking": "综合评价排名",
        "rank": "名次",
        "unit": "单位",
        "level": "层级",
        "units": "各单位指标",
        "categories": "各类别指标",
        "category": "类别",
        "overdue": "超期未办案件",
        "none_overdue": "没有超期案件。",
        "case": "案件",
        "deadline": "超期环节",
        "late": "超期",
        "since": "应完成于",
        "ack": "签收",
        "resolve": "办结",
        "definitions": "口径说明",
        "rates_chart": "主要指标",
        "scores_chart": "综合评价",
    },
    "en": {
        "ack_in_time_rate": "Acknowledged in time",
        "resolved_in_time_rate": "Resolved in time",
        "closure_rate": "Closure rate",
        "reopen_rate": "Reopen rate",
        "return_rate": "Return rate",
        "satisfaction_rate": "Satisfaction",
        "mtta_s": "Mean time to acknowledge",
        "mttr_s": "Mean time to resolve",
        "mtta_p90_s": "P90 time to acknowledge",
        "mttr_p90_s": "P90 time to resolve",
        "cases": "Cases",
        "score": "Score",
        "title": "Performance report",
        "period": "Period",
        "generated": "Generated",
        "scope": "Scope",
        "whole_org": "Whole org",
        "indicators": "Indicator",
        "value": "Value",
        "numerator": "Numerator",
        "denominator": "Denominator",
        "trace": "Cases",
        "ranking": "Ranking of units",
        "rank": "Rank",
        "unit": "Unit",
        "level": "Level",
        "units": "Indicators by unit",
        "categories": "Indicators by category",
        "category": "Category",
        "overdue": "Overdue open cases",
        "none_overdue": "No case is overdue.",
        "case": "Case",
        "deadline": "Deadline missed",
        "late": "Late by",
        "since": "Was due",
        "ack": "acknowledge",
        "resolve": "resolve",
        "definitions": "Definitions",
        "rates_chart": "Main indicators",
        "scores_chart": "Score",
    },
}


def text(language: str) -> dict[str, str]:
    return TEXT["zh" if language.lower().startswith("zh") else "en"]


def duration(seconds: float | None, language: str) -> str:
    """A span for people: ``1d 2h``, ``35m``, ``1天2小时``; "—" when there is none."""
    if seconds is None:
        return "—"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    zh = language.lower().startswith("zh")
    units = ("天", "小时", "分钟") if zh else ("d", "h", "m")
    parts = [f"{n}{u}" for n, u in zip((days, hours, minutes), units, strict=True) if n]
    if not parts:
        return f"{total}秒" if zh else f"{total}s"
    return ("" if zh else " ").join(parts[:2])


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"
