"""What the learner does on their page (htmx posts, Bearer token in the header): choose a
format, a time budget and a pace, answer or skip the pre-assessment, acknowledge a
recognition, come back from a lesson. Each calls one use case and answers the re-rendered
page body (`#learner-main`)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from lti_tool.errors import InvalidBody
from lti_tool.storage import LaunchRecord
from lti_tool.usecases.learner_path import (
    acknowledge_recognitions,
    answer_pre_assessment,
    returned_from_lesson,
    set_preferences,
)
from lti_tool.web.auth import container, learner_launch
from lti_tool.web.pages import learner_context, page_response

bp = Blueprint("learner_pages", __name__)


def _main(launch: LaunchRecord, view: dict[str, object]) -> Response:
    return page_response(render_template("_learner_main.html", **learner_context(launch, view)))


def _number(name: str) -> int | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidBody(f"{name}: a whole number of minutes") from None


@bp.post("/launch/<launch_id>/preferences")
def preferences(launch_id: str) -> Response:
    launch = learner_launch(launch_id)
    view = set_preferences(
        container(),
        launch,
        format=request.form.get("format") or None,
        minutes=_number("minutes"),
        minutes_per_day=_number("minutes_per_day"),
    )
    return _main(launch, view)


@bp.post("/launch/<launch_id>/pre-assessment")
def pre_assessment(launch_id: str) -> Response:
    launch = learner_launch(launch_id)
    if request.form.get("action") == "skip":
        answers = None
    else:
        answers = {}
        for key, value in request.form.items():
            if key != "action" and value.isdigit():
                answers[key] = int(value)
    return _main(launch, answer_pre_assessment(container(), launch, answers))


@bp.post("/launch/<launch_id>/recognitions/seen")
def seen(launch_id: str) -> Response:
    launch = learner_launch(launch_id)
    return _main(launch, acknowledge_recognitions(container(), launch))


@bp.post("/launch/<launch_id>/returned")
def returned(launch_id: str) -> Response:
    launch = learner_launch(launch_id)
    return _main(launch, returned_from_lesson(container(), launch))
