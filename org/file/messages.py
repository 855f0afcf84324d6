"""Pydantic's errors, said in the admin's words with the field path and line."""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    BaseModel,
)
from pydantic_core import ErrorDetails

from org.file.checks import Problem
from org.file.fields import Loc, _suggest
from org.file.models import OrgConfig

# ---------------------------------------------------------------------------------------------
# Pydantic errors, in the admin's words
# ---------------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return str(value)


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin is Union or origin is types.UnionType:
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at `loc`, for "did you mean" suggestions."""
    tp: Any = OrgConfig
    for step in loc:
        tp = _unwrap(tp)
        if isinstance(step, str) and isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(step)
            if info is None:
                return None
            tp = info.annotation
        elif isinstance(step, int) and get_origin(tp) is list:
            tp = get_args(tp)[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _from_pydantic(error: ErrorDetails) -> Problem:
    loc: Loc = tuple(step for step in error["loc"] if step != "[key]")
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return loc, "required, but missing"
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        model = _model_at(loc[:-1])
        allowed = list(model.model_fields) if model is not None else []
        hint = _suggest(key, allowed)
        if not hint and allowed:
            hint = f" (allowed here: {', '.join(allowed)})"
        return loc, f"unknown field '{key}'{hint}"
    if kind in ("value_error", "assertion_error"):
        return loc, str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        hint = _suggest(value, re.findall(r"'([^']*)'", expected)) if isinstance(value, str) else ""
        return loc, f"{_show(value)} is not allowed here{hint}; use {expected}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return loc, f"expected a whole number, got {_show(value)}"
    if kind in ("float_type", "float_parsing"):
        return loc, f"expected a number, got {_show(value)}"
    if kind == "string_type":
        return loc, f"expected text, got {_show(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return loc, f"expected true or false, got {_show(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"expected a mapping (key: value lines), got {_show(value)}"
    if kind in ("list_type", "tuple_type"):
        return loc, f"expected a list, got {_show(value)}"
    if kind == "invalid_key":
        return loc, f"{_show(value)} is not a field name"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return loc, "must not be empty"
    return loc, error["msg"]
