"""Charts: horizontal bar charts as PNG (chat) or SVG (inline in the HTML report).

matplotlib is imported on first use only (the bot's start-up should not pay for it), uses
the Agg renderer (no display), and draws Chinese with the Noto Sans CJK font shipped inside
the `mplfonts` package — never a system font, never the network. SVG text is drawn as
paths, so the report looks the same on a machine without that font.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

FONT_FILE = "NotoSansCJKsc-Regular.otf"
_LOCK = threading.Lock()  # matplotlib's font cache and rcParams are process-global


@cache
def _setup() -> str:
    """Load matplotlib with the CJK font once; returns the font's family name."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import mplfonts
    from matplotlib import font_manager

    path = Path(mplfonts.__file__).parent / "fonts" / FONT_FILE
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    matplotlib.rcParams["font.family"] = [family]
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["svg.fonttype"] = "path"
    matplotlib.rcParams["svg.hashsalt"] = "gridcall"
    return family


def bar_chart(
    title: str,
    names: Sequence[str],
    values: Sequence[float | None],
    *,
    fmt: str = "png",
    xmax: float = 100.0,
    suffix: str = "%",
) -> bytes:
    """One horizontal bar per name; a None value shows as "—" with no bar."""
    with _LOCK:
        _setup()
        from matplotlib.figure import Figure

        height = 0.9 + 0.38 * max(1, len(names))
        fig = Figure(figsize=(6.4, height), dpi=110)
        ax = fig.add_subplot()
        rows = list(range(len(names)))[::-1]
        shown = [v if v is not None else 0.0 for v in values]
        colors = ["#2e7d32" if v is not None and v >= 0.8 * xmax else "#f0a020" for v in values]
        ax.barh(rows, shown, color=colors, height=0.6)
        for row, value in zip(rows, values, strict=True):
            text = "—" if value is None else f"{value:.0f}{suffix}"
            ax.text(min(value or 0.0, xmax) + xmax * 0.01, row, text, va="center", fontsize=9)
        ax.set_yticks(rows, labels=list(names), fontsize=9)
        ax.set_xlim(0, xmax * 1.12)
        ax.set_title(title, fontsize=11)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        out = io.BytesIO()
        metadata: dict[str, Any] = (
            {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
        )
        fig.savefig(out, format=fmt, metadata=metadata)
        return out.getvalue()


_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.S)


def inline_svg(svg: bytes, prefix: str) -> str:
    """SVG markup to place inside HTML: no XML prolog or metadata, and ids prefixed so that
    several charts on one page never take each other's clip paths or glyphs."""
    text = svg.decode("utf-8")
    text = _PROLOG.sub("", text, count=1)
    text = _METADATA.sub("", text)
    text = text.replace('id="', f'id="{prefix}-')
    text = text.replace('href="#', f'href="#{prefix}-')
    return text.replace("url(#", f"url(#{prefix}-")
