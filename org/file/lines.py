"""YAML read with the line of every key and item, so that each problem can say where it is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from org.errors import OrgIssue
from org.file.fields import Loc

# ---------------------------------------------------------------------------------------------
# YAML with line numbers
# ---------------------------------------------------------------------------------------------


def _format_loc(loc: Loc) -> str:
    """``("units", 0, "units", 1, "chat")`` -> ``units[0].units[1].chat``."""
    out = ""
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out


class _LineTrackingBuilder:
    """Turns composed YAML nodes into plain data, remembering where each key and item began.

    PyYAML's constructor forgets positions, so we walk the node graph ourselves and only
    let the loader construct scalars (which keeps YAML's usual int/bool/null typing).
    """

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[Loc, int] = {}
        self.issues: list[OrgIssue] = []
        self._active: set[int] = set()

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        line = node.start_mark.line + 1
        if id(node) in self._active:
            self.issues.append(OrgIssue(line, _format_loc(loc), "an alias refers to itself"))
            return None
        if isinstance(node, yaml.MappingNode):
            self._active.add(id(node))
            try:
                return self._mapping(node, loc)
            finally:
                self._active.discard(id(node))
        if isinstance(node, yaml.SequenceNode):
            self._active.add(id(node))
            try:
                items: list[Any] = []
                for i, item in enumerate(node.value):
                    self.lines[(*loc, i)] = item.start_mark.line + 1
                    items.append(self.build(item, (*loc, i)))
                return items
            finally:
                self._active.discard(id(node))
        return self._scalar(node, loc)

    def _scalar(self, node: yaml.Node, loc: Loc) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            self.issues.append(_yaml_issue(exc, _format_loc(loc), "YAML error"))
            return node.value

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        try:
            self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        except yaml.MarkedYAMLError as exc:
            self.issues.append(_yaml_issue(exc, _format_loc(loc), "YAML error"))
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(
                    OrgIssue(
                        line, _format_loc(loc), "a key must be a plain word, not a list or mapping"
                    )
                )
                continue
            key = self._scalar(key_node, loc)
            key_loc = (*loc, key) if isinstance(key, str | int) else (*loc, str(key))
            if key in first_line:
                self.issues.append(
                    OrgIssue(
                        line,
                        _format_loc(key_loc),
                        f"duplicate key '{key}' (first on line {first_line[key]})",
                    )
                )
                continue
            first_line[key] = line
            self.lines[key_loc] = line
            out[key] = self.build(value_node, key_loc)
        return out


def _yaml_issue(
    exc: yaml.MarkedYAMLError, field_path: str = "", prefix: str = "YAML syntax error"
) -> OrgIssue:
    """PyYAML's problem and its context ("while parsing … on line N"), on the problem's line."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    problem = exc.problem or ""
    if problem.startswith("but found another document"):
        return OrgIssue(
            line,
            field_path,
            f"{prefix}: a second document starts here; an org file is one document",
        )
    message = problem or exc.context or str(exc)
    if exc.context and problem and exc.context_mark is not None:
        message += f" ({exc.context} on line {exc.context_mark.line + 1})"
    return OrgIssue(line, field_path, f"{prefix}: {message}")


_EMPTY = object()


def _read_yaml(text: str) -> tuple[Any, dict[Loc, int], list[OrgIssue], bool]:
    """(data, lines, issues, usable): `usable` is False when there is no data to validate."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            return None, {}, [_yaml_issue(exc)], False
        except yaml.YAMLError as exc:
            return None, {}, [OrgIssue(None, "", f"YAML error: {exc}")], False
        if root is None:
            return _EMPTY, {}, [], True
        builder = _LineTrackingBuilder(loader)
        builder.lines[()] = root.start_mark.line + 1
        data = builder.build(root, ())
        return data, builder.lines, builder.issues, True
    finally:
        loader.dispose()


def _line_for(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    """The line of `loc`, or of its nearest ancestor written in the file (for missing keys)."""
    for end in range(len(loc), -1, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return line
    return None
