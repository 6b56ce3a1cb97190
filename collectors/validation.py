"""Pydantic validation errors as short messages a person can act on.

`problem(error)` says what is wrong with one value ("expected an integer, got "smtp""),
without saying where: archive records and config files name locations differently.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable
from typing import Any

from pydantic_core import ErrorDetails

_EXPECTED = {
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "string_type": "expected text (a quoted string)",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
}
MAX_SHOWN = 40


def show(value: Any) -> str:
    """A value as the user wrote it (TOML/JSON spelling), cut to a readable length."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and not math.isfinite(value):
        text = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    elif isinstance(value, int) and value.bit_length() > 200:
        text = "a huge number"
    elif isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, list):
        return "a list"
    elif isinstance(value, dict):
        return "a table"
    elif value is None:
        return "null"
    else:
        text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def problem(error: ErrorDetails) -> str:
    """What is wrong with the value, e.g. 'expected a list, got "HKMA"'."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind in _EXPECTED:
        text = f"{_EXPECTED[kind]}, got {show(value)}"
        if kind == "list_type" and isinstance(value, str):
            text += f" (write [{show(value)}])"
        return text
    if kind == "missing":
        return "missing (required)"
    if kind in ("too_short", "string_too_short"):
        if isinstance(value, str) or kind == "string_too_short":
            return "must not be empty"
        return "must not be an empty list"
    if kind in ("too_long", "string_too_long"):
        return f"is too long (at most {ctx.get('max_length')})"
    bounds = {
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("greater than", "gt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}, got {show(value)}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {show(value)}"
    if kind == "union_tag_invalid":
        return (
            f"unknown {ctx.get('discriminator', '').strip(chr(39))} {show(ctx.get('tag'))}; "
            f"expected one of {ctx.get('expected_tags')}"
            + did_you_mean(str(ctx.get("tag")), _tags(ctx.get("expected_tags", "")), '"{}"')
        )
    if kind == "union_tag_not_found":
        return f"needs a {ctx.get('discriminator', '').strip(chr(39))}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return "is not a known key"
    return f"{error['msg']}, got {show(value)}"


def did_you_mean(word: str, choices: Iterable[str], wrap: str = "{}") -> str:
    """' (did you mean X?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {wrap.format(close[0])}?" if close else ""


def _tags(expected: str) -> list[str]:
    return [t.strip().strip("'") for t in expected.split(",") if t.strip()]
