"""The report's own font: the CJK glyphs a page uses, embedded in the page.

A report is read on whatever machine the district's office has; one without a Chinese font
would show boxes. So the HTML carries a subset of the Noto Sans CJK font that `mplfonts`
ships (the one the charts use) holding exactly the characters of the page — tens of
kilobytes instead of sixteen megabytes — as a WOFF data URI. Nothing is fetched.
"""

from __future__ import annotations

import base64
import io
from functools import cache
from pathlib import Path

FAMILY = "gridcall-cjk"


@cache
def _font_path() -> Path:
    import mplfonts

    from reports.charts import FONT_FILE

    return Path(mplfonts.__file__).parent / "fonts" / FONT_FILE


def subset_woff(text: str) -> bytes:
    """A WOFF font with the glyphs of `text` (and nothing else) from the CJK font."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"  # zlib: no extra dependency (WOFF2 would need brotli)
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(_font_path()), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()


def font_face_css(text: str) -> str:
    """An `@font-face` rule for the characters of `text`, to put in the page's style."""
    chars = "".join(sorted({c for c in text if not c.isspace()}))
    data = base64.b64encode(subset_woff(chars)).decode("ascii")
    return (
        f'@font-face {{ font-family: "{FAMILY}"; '
        f'src: url(data:font/woff;base64,{data}) format("woff"); }}'
    )
