"""JSON written and read by orjson where the documents are large: the stored learner views
and states (the database's JSON columns) and the API's responses. A learner's stored view is
about 30 KB; the standard library took about half a millisecond to write one and a fifth of
a millisecond to read it, a fifth of the server's time on `GET /api/v1/me/path`.

The documents are the same: keys sorted where the standard library sorted them, dates and
dataclasses through the same conversions. What orjson refuses (a string holding a lone
surrogate, an integer beyond 64 bits, `NaN` in a stored document written before) falls back
to the standard library, so nothing that worked before fails now."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

# Non-string keys as the standard library writes them (as strings); numpy values as numbers.
_STORE = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def dumps_text(value: Any) -> str:
    """A JSON document as text, for the database's JSON columns."""
    try:
        return orjson.dumps(value, option=_STORE).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value)


def loads(text: str | bytes) -> Any:
    """A JSON document read from the database."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dumps_bytes(
    value: Any, default: Callable[[Any], Any], *, sort_keys: bool, indent: bool
) -> bytes:
    """A response body: `default` converts what JSON has no type for (dates, dataclasses as
    the caller's own conversion, not orjson's); raises TypeError or ValueError as `json.dumps`
    would on what cannot be written."""
    option = (
        _STORE
        | orjson.OPT_PASSTHROUGH_DATETIME
        | orjson.OPT_PASSTHROUGH_DATACLASS
        | orjson.OPT_APPEND_NEWLINE
    )
    if sort_keys:
        option |= orjson.OPT_SORT_KEYS
    if indent:
        option |= orjson.OPT_INDENT_2
    return orjson.dumps(value, default=default, option=option)
