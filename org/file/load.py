"""Reading an org file: YAML with lines, the models, the cross-checks, all problems at once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from org.errors import OrgFileError, OrgIssue
from org.file.checks import Problem, _cross_check
from org.file.fields import Loc
from org.file.lines import _EMPTY, _format_loc, _line_for, _read_yaml
from org.file.messages import _from_pydantic, _show
from org.file.models import _SKIP_CROSS_CHECK, OrgConfig

# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def parse_org(text: str, source: str = "<org>") -> OrgConfig:
    """Validate org-file text; raise `OrgFileError` listing every problem with its line.

    `source` is only used in the error's text (``SOURCE:LINE: FIELD: MESSAGE``).
    """
    data, lines, issues, usable = _read_yaml(text)
    if not usable:
        raise OrgFileError(issues, source)
    if data is _EMPTY or data is None:
        raise OrgFileError(
            [
                OrgIssue(
                    None,
                    "",
                    "the file is empty: an org file needs at least name: and units: "
                    "(see examples/haizhu.yaml)",
                )
            ],
            source,
        )
    if not isinstance(data, dict):
        raise OrgFileError(
            [
                *issues,
                OrgIssue(
                    lines.get(()),
                    "",
                    f"the top level must be a mapping of settings (name:, timezone:, units: …), "
                    f"not {_show(data)}",
                ),
            ],
            source,
        )

    problems: list[Problem] = []
    model: OrgConfig | None = None
    try:
        model = OrgConfig.model_validate(data, context={_SKIP_CROSS_CHECK: True})
    except ValidationError as exc:
        problems += [_from_pydantic(e) for e in exc.errors()]

    def where(loc: Loc) -> str:
        line = _line_for(lines, loc)
        return f"line {line}" if line is not None else _format_loc(loc)

    # A validated model has the cleanest data (ints coerced, defaults filled in); when
    # validation failed, check the raw data anyway so the cross-reference problems are
    # reported in the same run.
    checked: Mapping[str, Any] = model.model_dump() if model is not None else data
    problems += _cross_check(checked, where)

    issues += [OrgIssue(_line_for(lines, loc), _format_loc(loc), msg) for loc, msg in problems]
    if issues or model is None:
        issues.sort(key=lambda issue: issue.line if issue.line is not None else 0)
        raise OrgFileError(issues, source)
    return model


def load_org(path: str | Path) -> OrgConfig:
    """Read and validate an org file; unreadable files raise `OrgFileError` too."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OrgFileError(
            [OrgIssue(None, "", f"cannot read the file: {reason}")], source
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OrgFileError(
            [
                OrgIssue(
                    None, "", f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8"
                )
            ],
            source,
        ) from None
    return parse_org(text, source)
