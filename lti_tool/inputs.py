"""What untrusted text and JSON must be before Skillpath keeps or shows it: the one rule for
every edge (launch claims, login parameters, API bodies and paths, catalogs, command-line
arguments).

PostgreSQL refuses NUL in text; Python refuses to encode a lone surrogate (`"\\ud800"` is
valid JSON, and undecodable command-line bytes arrive as surrogates); a value longer than
its column fails on PostgreSQL and not on SQLite. Each is refused here, naming the field, so
that nothing downstream meets it. Pure: imports only the standard library and our errors.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# The columns that hold identifiers and names of people, courses and links
# (`lti_tool/storage/models.py`).
IDENTIFIER_LENGTH = 500
TITLE_LENGTH = 1000


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_:/.@$-]+")


def printable(text: str, limit: int = 300) -> str:
    """`text` as one safe line: control characters and lone surrogates escaped, cut at
    `limit` characters (for messages that quote what was sent)."""
    escaped = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )
    escaped = escaped.encode("utf-8", "backslashreplace").decode("utf-8")
    return escaped if len(escaped) <= limit else escaped[:limit] + "..."


def key_path(path: str, key: str) -> str:
    """The JSON path of `key` under `path`: `lessons.title`, or `lessons["a b"]` when the
    key is not plain (so a path is always one printable line)."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)[:100]}]"


def text_problem(value: str, max_length: int | None = None) -> str | None:
    """What is wrong with `value` as text Skillpath may keep, or None."""
    if max_length is not None and len(value) > max_length:
        return f"is longer than {max_length} characters"
    if "\x00" in value:
        return "holds a NUL character"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a lone surrogate (text that is not valid Unicode)"
    return None


@dataclass(frozen=True)
class JsonLimits:
    """Bounds on a parsed JSON document: how deep, how many values, how long a string."""

    max_depth: int = 32
    max_values: int = 1_000_000
    max_string: int = 10_000
    # Numbers beyond this are not measurements of anything Skillpath knows.
    max_number: float = 1e15


def json_problems(document: Any, limits: JsonLimits, root: str = "") -> Iterator[tuple[str, str]]:
    """Every `(json_path, message)` problem of `document`: text that cannot be kept (in keys
    or values), strings over `max_string`, numbers that are not finite or too large, nesting
    deeper than `max_depth`, more than `max_values` values. Paths read `lessons[3].title`.
    Iterative, so no document is too deep to be looked at."""
    stack: list[tuple[str, Any, int]] = [(root, document, 0)]
    seen = 0
    while stack:
        path, value, depth = stack.pop()
        seen += 1
        if seen > limits.max_values:
            yield root, f"holds more than {limits.max_values} values"
            return
        if isinstance(value, str):
            problem = text_problem(value, limits.max_string)
            if problem:
                yield path, problem
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int | float):
            finite = isinstance(value, int) or math.isfinite(value)
            if not finite or abs(value) > limits.max_number:
                yield path, f"is not a number Skillpath can use (at most {limits.max_number:g})"
        elif isinstance(value, dict | list):
            if depth >= limits.max_depth:
                yield path, f"is nested more than {limits.max_depth} levels deep"
                continue
            if isinstance(value, dict):
                children = list(value.items())
                for key, child in reversed(children):
                    if not isinstance(key, str):
                        yield (path or "(top)"), "has a key that is not a string"
                        continue
                    problem = text_problem(key, limits.max_string)
                    if problem:
                        yield (path or "(top)"), f"has a key that {problem}"
                        continue
                    stack.append((key_path(path, key), child, depth + 1))
            else:
                for index in range(len(value) - 1, -1, -1):
                    stack.append((f"{path}[{index}]", value[index], depth + 1))
        else:
            yield path, "is not a JSON value"
