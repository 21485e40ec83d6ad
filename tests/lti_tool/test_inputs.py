"""The one rule for untrusted text and JSON (`lti_tool/inputs.py`)."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.inputs import JsonLimits, json_problems, key_path, printable, text_problem


@pytest.mark.parametrize(
    ("value", "limit", "problem"),
    [
        ("plain", None, None),
        ("caf\u00e9 \U0001f600", 7, None),  # an astral character is one character
        ("a\x00b", None, "holds a NUL character"),
        ("a\ud800b", None, "holds a lone surrogate (text that is not valid Unicode)"),
        ("\udfff", None, "holds a lone surrogate (text that is not valid Unicode)"),
        ("x" * 501, 500, "is longer than 500 characters"),
        ("x" * 500, 500, None),
    ],
)
def test_text_problem(value: str, limit: int | None, problem: str | None) -> None:
    assert text_problem(value, limit) == problem


def test_json_problems_name_the_path_of_each() -> None:
    document: Any = {
        "lessons": [{"title": "ok"}, {"title": "bad\x00", "n": float("inf")}],
        "a b\n": {"deep": [[[1]]]},
        "big": 10**400,
        "k\ud800": 1,
    }
    problems = dict(json_problems(document, JsonLimits(max_depth=3)))
    assert problems == {
        "lessons[1].title": "holds a NUL character",
        "lessons[1].n": "is not a number Skillpath can use (at most 1e+15)",
        '["a b\\n"].deep[0]': "is nested more than 3 levels deep",
        "big": "is not a number Skillpath can use (at most 1e+15)",
        "(top)": "has a key that holds a lone surrogate (text that is not valid Unicode)",
    }


def test_no_document_is_too_deep_or_too_large_to_look_at() -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    assert list(json_problems(deep, JsonLimits()))[0][1] == "is nested more than 32 levels deep"
    wide = list(range(20))
    assert list(json_problems(wide, JsonLimits(max_values=10))) == [
        ("", "holds more than 10 values")
    ]


def test_printable_keeps_a_message_on_one_safe_line() -> None:
    assert printable("a\nb\x00c\ud800") == "a\\nb\\x00c\\ud800"
    assert printable("x" * 400).endswith("...") and len(printable("x" * 400)) == 303
    assert key_path("", "https://purl.imsglobal.org/spec/lti/claim/context") == (
        "https://purl.imsglobal.org/spec/lti/claim/context"
    )
    assert key_path("lessons[0]", "title") == "lessons[0].title"
