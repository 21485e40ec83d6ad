"""JSON through orjson (`lti_tool.jsonio`): the same documents as the standard library's,
and whatever orjson refuses is written or read by the standard library, as before."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pytest
from flask import jsonify
from flask.json.provider import DefaultJSONProvider

from lti_tool import jsonio
from lti_tool.web.templating import SkillpathFlask


def test_a_document_round_trips_as_the_standard_library_reads_it() -> None:
    view = {"b": [1, 2.5, None, True], "a": {"é": "ünïcode", "n": 3}, 7: "seven"}
    text = jsonio.dumps_text(view)
    assert json.loads(text) == {
        "b": [1, 2.5, None, True],
        "a": {"é": "ünïcode", "n": 3},
        "7": "seven",
    }
    assert jsonio.loads(text) == json.loads(text)
    assert jsonio.loads(text.encode()) == json.loads(text)
    assert json.loads(jsonio.dumps_text({"p": np.float64(0.25), "k": np.int64(3)})) == {
        "p": 0.25,
        "k": 3,
    }


def test_what_orjson_refuses_falls_back_to_the_standard_library() -> None:
    lone = {"name": "\ud800"}  # a lone surrogate: orjson will not write it
    assert jsonio.dumps_text(lone) == json.dumps(lone)
    assert jsonio.loads(json.dumps(lone)) == lone  # nor read it
    assert jsonio.loads('{"x": NaN}')["x"] != 0.0  # NaN, as a document written before holds it
    assert jsonio.dumps_text({"big": 2**70}) == json.dumps({"big": 2**70})


@dataclass
class Point:
    x: int


@pytest.mark.parametrize("debug", [False, True])
def test_responses_hold_the_same_document_as_flasks_own(debug: bool) -> None:
    app = SkillpathFlask(__name__)
    app.debug = debug
    value = {
        "z": 1,
        "when": datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        "id": uuid.UUID(int=5),
        "point": Point(3),
        "a": ["é", 2.5],
    }
    with app.test_request_context():
        ours = jsonify(value)
        theirs = DefaultJSONProvider.response(app.json, value)  # Flask's own
    assert ours.mimetype == "application/json" and ours.status_code == 200
    assert json.loads(ours.get_data()) == json.loads(theirs.get_data())
    body = ours.get_data(as_text=True)
    assert body.index('"a"') < body.index('"z"') and body.endswith("\n")  # sorted keys
    assert ("\n  " in body) is debug  # indented in debug, as Flask does


def test_a_response_orjson_refuses_is_written_by_the_standard_library() -> None:
    app = SkillpathFlask(__name__)
    with app.test_request_context():
        response = jsonify({"name": "\ud800"})
    assert response.status_code == 200
    assert json.loads(response.get_data()) == {"name": "\ud800"}
