"""The platform peer's pages a browser sees, written from the specifications (no installable
platform implements these): a course page that shows a launch in a frame, the platform's side
of LTI Client Side postMessage Storage, and an admin page that registers a tool by URL.

- `GET /course?<launch parameters>&storage=parent|canvas|none` embeds `/launch` in a frame
  named `tool`. With `storage=parent` the course page itself answers `lti.capabilities`,
  `lti.put_data` and `lti.get_data` (lti_storage_target `_parent`); with `storage=canvas` a
  hidden frame named `post_message_forwarding` does, as Canvas's does; `none` offers no
  storage. Values are kept per sending origin, as the storage spec requires, in the page's
  memory (the storage lives as long as the course page).
- `GET /register-tool?url=<tool registration URL>` opens the tool's Dynamic Registration in a
  frame and waits for its `org.imsglobal.lti.close` message.

Every message the storage answered is kept in `window.lti_storage_log`, for tests to read.
It must not import Skillpath.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Flask, Response, request

if TYPE_CHECKING:
    from peers.lti_platform import PlatformPeer

STORAGE_FRAME = "post_message_forwarding"

# The platform's storage: answers the three messages of the spec to the window that sent
# them, at its origin; keys are kept per sender origin.
STORAGE_SCRIPT = """
(function () {
  var store = {};
  window.lti_storage_log = [];
  window.addEventListener("message", function (event) {
    var m = event.data;
    if (!m || typeof m.subject !== "string" || !event.source) { return; }
    var answer = { subject: m.subject + ".response", message_id: m.message_id };
    var space = store[event.origin] = store[event.origin] || {};
    if (m.subject === "lti.capabilities") {
      answer.supported_messages = [
        { subject: "lti.capabilities" },
        { subject: "lti.put_data", frame: FRAME },
        { subject: "lti.get_data", frame: FRAME }
      ];
    } else if (m.subject === "lti.put_data") {
      if (typeof m.key !== "string" || typeof m.value !== "string") {
        answer.error = { code: "bad_request", message: "key and value must be strings" };
      } else { space[m.key] = m.value; answer.key = m.key; answer.value = m.value; }
    } else if (m.subject === "lti.get_data") {
      if (!(m.key in space)) {
        answer.error = { code: "bad_request", message: "no value for this key" };
      } else { answer.key = m.key; answer.value = space[m.key]; }
    } else {
      return;
    }
    window.lti_storage_log.push({ subject: m.subject, origin: event.origin, key: m.key || null, ok: !answer.error });
    event.source.postMessage(answer, event.origin);
  });
}());
"""


def _page(title: str, body: str, script: str = "") -> Response:
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{body}"
        + (f"<script>{script}</script>" if script else "")
        + "</body></html>"
    )
    return Response(document, 200, mimetype="text/html")


def install(app: Flask, peer: PlatformPeer) -> None:
    @app.get("/course")
    def course() -> Response:
        params = request.args.to_dict()
        storage = params.pop("storage", "parent")
        if storage == "parent":
            params["storage_target"] = "_parent"
        elif storage == "canvas":
            params["storage_target"] = STORAGE_FRAME
        launch = "/launch?" + urlencode(params)
        frames = f'<iframe name="tool" title="Skillpath" src="{html.escape(launch)}" width="100%" height="700"></iframe>'
        script = ""
        if storage == "parent":
            script = STORAGE_SCRIPT.replace("FRAME", json.dumps("_parent"))
        elif storage == "canvas":
            frames = (
                f'<iframe name="{STORAGE_FRAME}" title="storage" src="/storage-frame" hidden></iframe>'
                + frames
            )
        return _page("Course", f"<h1>Course</h1>{frames}", script)

    @app.get("/storage-frame")
    def storage_frame() -> Response:
        return _page("Storage", "", STORAGE_SCRIPT.replace("FRAME", json.dumps(STORAGE_FRAME)))

    @app.get("/register-tool")
    def register_tool() -> Response:
        tool_url = request.args.get("url", "")
        initiation = peer.registration_initiation_url(tool_url)
        body = (
            "<h1>Register a tool by URL</h1>"
            f'<p id="status">Registering {html.escape(tool_url)}…</p>'
            f'<iframe name="registration" title="Tool registration" src="{html.escape(initiation)}" '
            'width="100%" height="700"></iframe>'
        )
        script = (
            'window.addEventListener("message", function (event) {'
            '  if (event.data && event.data.subject === "org.imsglobal.lti.close") {'
            '    document.body.setAttribute("data-closed", event.origin);'
            '    document.getElementById("status").textContent = "The tool closed the registration.";'
            '    var frame = document.querySelector("iframe[name=registration]");'
            "    if (frame) { frame.remove(); }"
            "  }"
            "});"
        )
        return _page("Register a tool", body, script)
