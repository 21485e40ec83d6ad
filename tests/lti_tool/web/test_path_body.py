"""`GET /api/v1/me/path` sends the stored view projected onto `LearnerPathSchema`'s fields
instead of dumping it field by field. That holds only while the view is built in the
schema's shape: here real views, from a new learner with a pre-assessment to one with
mastery changes, milestones reached and recognitions, dump to exactly their projection, and
the GET answers what the schema-dumped POST answered for the same state."""

from __future__ import annotations

import uuid
from typing import Any

from lti_tool.usecases.learner_path import read_path
from lti_tool.web.api import path_body
from lti_tool.web.schemas import LearnerPathSchema
from peers.browser import LaunchBrowser
from peers.lti_platform import PlatformPeer
from peers.tool_server import ToolServer
from tests.lti_tool.usecases.test_pages_usecases import RIGHT, Session, launch, sample


def stored_view(tool: ToolServer, me: Session) -> dict[str, Any]:
    container = tool.app.extensions["skillpath"]
    return read_path(container, container.launches.launch_of(me.token))


def assert_in_the_schemas_shape(view: dict[str, Any]) -> None:
    assert LearnerPathSchema().dump(view) == path_body(view)
    assert "version" not in path_body(view) and "catalog" not in path_body(view)


def test_the_stored_view_is_what_the_schema_would_send(
    tool: ToolServer, platform: PlatformPeer, client_id: str, browser: LaunchBrowser
) -> None:
    sample(tool)
    me = launch(browser, platform, client_id, user="learner-" + uuid.uuid4().hex[:8])
    fresh = stored_view(tool, me)
    assert fresh["pre_assessment"]["form"]["questions"]  # a new learner, asked first
    assert_in_the_schemas_shape(fresh)
    assert me.get("/me/path").json() == LearnerPathSchema().dump(fresh)

    dumped = me.post("/me/pre-assessment", {"answers": RIGHT})
    assert dumped.status_code == 200, dumped.text
    assert dumped.json()["recognitions"] and dumped.json()["milestones"]
    assert me.get("/me/path").json() == dumped.json()
    assert_in_the_schemas_shape(stored_view(tool, me))

    chosen = me.post("/me/preferences", {"format": "video", "minutes": 15})
    assert chosen.status_code == 200, chosen.text
    assert me.get("/me/path").json() == chosen.json()
    assert_in_the_schemas_shape(stored_view(tool, me))
